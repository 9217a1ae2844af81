//! Verify hold: is this hold still good for checkout?
//!
//! Advisory (I6): the answer can change the next millisecond, and create-order
//! re-checks atomically. It exists so a checkout page can warn early.
//!
//! The durable claims decide (I7). The fast path reads the hold and its seat
//! locks; only when the locks do not all confirm it (Redis forgot, failed
//! over, or is down) are the claims read, and the locks they back are
//! written back (I8 convergence), so `lock-lost` no longer follows from
//! Redis losing data.

use std::time::Duration;

use domain::hold::{Hold, HoldStatus, SeatClaim};
use domain::identity::Identity;
use domain::ids::HoldId;
use domain::time::Timestamp;

use super::UseCases;
use crate::errors::UseCaseError;
use crate::ports::SeatLock;

/// Why a hold is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    Expired,
    Released,
    Converted,
    /// ACTIVE, but some seat's claim is no longer this hold's (another hold
    /// took it after a clock disagreement longer than the grace).
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
                let confirmed = match self
                    .ports
                    .seat_locks
                    .inspect(&hold.tenant, &hold.event, &hold.seat_ids())
                    .await
                {
                    Ok(locks) => locks.iter().all(|lock| *lock == SeatLock::HeldBy(hold.id)),
                    Err(_) => false,
                };
                if confirmed {
                    None
                } else {
                    self.claims_still_ours(&hold, now).await?
                }
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

    /// Reads the hold's claims: all its own → valid, and the locks are
    /// written back; otherwise `lock-lost`.
    async fn claims_still_ours(&self, hold: &Hold, now: Timestamp) -> Result<Option<InvalidReason>, UseCaseError> {
        let seats = hold.seat_ids();
        let claims = self.ports.holds.claims_of(&hold.tenant, &hold.event, &seats).await?;
        let ours = |claim: &Option<SeatClaim>| matches!(claim, Some(SeatClaim::HeldBy { hold: owner, .. }) if *owner == hold.id);
        if claims.iter().all(ours) {
            let mirrored: Vec<_> = seats.into_iter().map(|seat| (seat, hold.claim())).collect();
            self.mirror_claims(&hold.tenant, &hold.event, &mirrored, now).await;
            Ok(None)
        } else {
            Ok(Some(InvalidReason::LockLost))
        }
    }
}
