//! Verify hold: is this hold still good for checkout?
//!
//! Advisory (I6): the answer can change the next millisecond, and create-order
//! re-checks atomically. It exists so a checkout page can warn early.

use std::time::Duration;

use domain::hold::{Hold, HoldStatus};
use domain::identity::Identity;
use domain::ids::HoldId;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::SeatLock;

/// Why a hold is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    Expired,
    Released,
    Converted,
    /// ACTIVE, but some seat lock is gone or belongs to someone else.
    LockLost,
}

impl InvalidReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Released => "released",
            Self::Converted => "converted",
            Self::LockLost => "lock-lost",
        }
    }
}

/// The hold and what verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldVerification {
    pub hold: Hold,
    pub status: HoldStatus,
    pub remaining: Duration,
    /// `None` when valid.
    pub invalid_reason: Option<InvalidReason>,
}

impl UseCases {
    /// The caller's hold with its status now and whether every lock is still its own.
    ///
    /// # Errors
    /// `HoldNotFound` (absent or someone else's), `Unavailable`.
    pub async fn verify_hold(&self, caller: &Identity, hold_id: HoldId) -> Result<HoldVerification, UseCaseError> {
        let hold = self.owned_hold(caller, hold_id).await?;
        let now = self.ports.clock.now();
        let status = hold.status_at(now);
        let invalid_reason = match status {
            HoldStatus::Active => {
                let locks = self
                    .ports
                    .seat_locks
                    .inspect(&hold.tenant, &hold.event, &hold.seat_ids())
                    .await?;
                let all_ours = locks.iter().all(|lock| *lock == SeatLock::HeldBy(hold.id));
                (!all_ours).then_some(InvalidReason::LockLost)
            }
            HoldStatus::Expired => Some(InvalidReason::Expired),
            HoldStatus::Released => Some(InvalidReason::Released),
            HoldStatus::Converted => Some(InvalidReason::Converted),
        };
        let remaining = if status == HoldStatus::Active {
            hold.expires_at.remaining_after(now)
        } else {
            Duration::ZERO
        };
        Ok(HoldVerification {
            hold,
            status,
            remaining,
            invalid_reason,
        })
    }

    /// The hold if it exists and is the caller's; otherwise not found (I4:
    /// someone else's hold is indistinguishable from a missing one).
    pub(crate) async fn owned_hold(&self, caller: &Identity, hold_id: HoldId) -> Result<Hold, UseCaseError> {
        match self.ports.holds.get(&caller.tenant, hold_id).await? {
            Some(hold) if hold.is_owned_by(&caller.tenant, &caller.customer) => Ok(hold),
            _ => Err(Rejection::HoldNotFound.into()),
        }
    }
}
