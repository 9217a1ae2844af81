//! Release hold: the customer gives the seats back.
//!
//! The durable store decides first (ACTIVE → RELEASED, conditional), then the
//! seat locks are removed by compare-and-delete. If unlocking fails the
//! caller gets a 503 and a retry unlocks again: the release is idempotent and
//! unlocking is attempted whenever the hold has ended without an order.

use domain::hold::{HoldConverted, HoldStatus, ReleaseOutcome};
use domain::identity::Identity;
use domain::ids::HoldId;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};

/// How often to re-read a hold that changed under us before giving up.
const RELEASE_ATTEMPTS: usize = 3;

impl UseCases {
    /// # Errors
    /// `HoldNotFound`, `HoldNotActive` (converted into an order), `Unavailable`.
    pub async fn release_hold(&self, caller: &Identity, hold_id: HoldId) -> Result<(), UseCaseError> {
        for _ in 0..RELEASE_ATTEMPTS {
            let mut hold = self.owned_hold(caller, hold_id).await?;
            let now = self.ports.clock.now();
            let outcome = hold.release(now).map_err(|HoldConverted| Rejection::HoldNotActive)?;
            if outcome == ReleaseOutcome::Released
                && !self.ports.holds.mark_released(&hold.tenant, hold.id, now).await?
            {
                continue;
            }
            debug_assert_ne!(hold.status_at(now), HoldStatus::Converted);
            self.ports
                .seat_locks
                .release(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id)
                .await?;
            return Ok(());
        }
        Err(UseCaseError::Internal(format!(
            "hold {hold_id} kept changing during release"
        )))
    }
}
