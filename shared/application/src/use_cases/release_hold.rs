//! Release hold: the customer gives the seats back.
//!
//! The durable store decides first: ACTIVE → RELEASED and the seat claims
//! freed, in one atomic step. Then the seat locks are removed by
//! compare-and-delete, best effort: with Redis down the release still
//! answers 204 (I8), and a lock Redis kept is cleared by the next place-hold
//! that meets it (its claim is gone). A release whose reply was lost is
//! retried by the client: the hold is RELEASED already, so its claims are
//! freed again (harmless) and 204 again.

use domain::hold::HoldStatus;
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
            let hold = self.owned_hold(caller, hold_id).await?;
            let now = self.ports.clock.now();
            match hold.status_at(now) {
                HoldStatus::Converted => return Err(Rejection::HoldNotActive.into()),
                HoldStatus::Active => {
                    if !self.ports.holds.release(&hold, now).await? {
                        continue;
                    }
                }
                HoldStatus::Released => self.ports.holds.free_claims(&hold).await?,
                // Its claims lapse with the grace; an order in flight may still use them.
                HoldStatus::Expired => {}
            }
            if let Err(error) = self
                .ports
                .seat_locks
                .release(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id)
                .await
            {
                tracing::warn!(event = "hold.unlock_failed", error = %error, "the claims are freed; the next hold on these seats clears the locks");
            }
            return Ok(());
        }
        Err(UseCaseError::Internal(format!(
            "hold {hold_id} kept changing during release"
        )))
    }
}
