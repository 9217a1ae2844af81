//! Extend hold: a checkout that runs long keeps its seats longer.
//!
//! The durable store decides first: the hold's expiry and all its seat
//! claims move together in one atomic step, conditional on the hold still
//! being ACTIVE with the expiry this request read (so two extends, or an
//! extend and a release or an order, never interleave half-way). Then the
//! seat locks' time left is set to match, in one round trip. With Redis down
//! the extend still answers 200 (I8): the claims keep the promise (I7), and a
//! lock that runs out early is written back from them by the next hold or
//! verify that meets it. A retried extend re-syncs the locks, also when it
//! finds the hold already at its cap.
//!
//! An extension runs from now (so a short one may also shorten the hold, as
//! docs/contract.md words it) and is capped at `createdAt` plus
//! `HOLD_MAX_LIFETIME_SECONDS` (ADR 13).

use std::time::Duration;

use domain::hold::{ExtendRefusal, Hold, HoldStatus, extension_ttl};
use domain::identity::Identity;
use domain::ids::HoldId;
use domain::time::Timestamp;

use super::UseCases;
use super::verify_hold::HoldVerification;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{BackendError, ExtendHoldError};

/// How often to re-read a hold that changed under us (or a write on it that
/// was in flight) before answering 503.
const EXTEND_ATTEMPTS: usize = 5;

impl UseCases {
    /// Extends the caller's hold by `ttl_seconds` from now, within its
    /// maximum lifetime, and answers it as verify does.
    ///
    /// # Errors
    /// `InvalidHoldRequest` (ttl out of range), `HoldNotFound` (absent or
    /// someone else's), `HoldExpired`, `HoldNotActive` (released or
    /// converted), `HoldLifetimeExceeded` (already at the cap),
    /// `SeatsUnavailable` (a seat's claim is no longer the hold's),
    /// `Unavailable`.
    pub async fn extend_hold(
        &self,
        caller: &Identity,
        hold_id: HoldId,
        ttl_seconds: u64,
    ) -> Result<HoldVerification, UseCaseError> {
        let ttl = extension_ttl(ttl_seconds).map_err(|rule| Rejection::InvalidHoldRequest(vec![rule]))?;
        for _ in 0..EXTEND_ATTEMPTS {
            let hold = self.owned_hold(caller, hold_id).await?;
            let now = self.ports.clock.now();
            let expires_at = match hold.extended_expiry(now, ttl, self.settings.hold_policy.max_lifetime) {
                Ok(expires_at) => expires_at,
                Err(ExtendRefusal::Expired) => return Err(Rejection::HoldExpired.into()),
                Err(ExtendRefusal::NotActive(_)) => return Err(Rejection::HoldNotActive.into()),
                Err(ExtendRefusal::LifetimeExceeded) => {
                    // Perhaps our own earlier extend, its reply lost before
                    // the locks were set: set them now.
                    self.match_locks_to(&hold, now).await;
                    return Err(Rejection::HoldLifetimeExceeded.into());
                }
            };
            // Written also when the expiry stays the same: the write
            // re-checks that every claim is still the hold's.
            match self.ports.holds.extend(&hold, expires_at, now).await {
                Ok(()) => {}
                Err(ExtendHoldError::HoldChanged) => continue,
                Err(ExtendHoldError::SeatsTaken(seats)) => return Err(Rejection::SeatsUnavailable(seats).into()),
                Err(ExtendHoldError::Backend(error)) => return Err(error.into()),
            }
            let extended = Hold { expires_at, ..hold };
            self.match_locks_to(&extended, now).await;
            return Ok(HoldVerification {
                remaining: expires_at.remaining_after(now),
                status: HoldStatus::Active,
                invalid_reason: None,
                hold: extended,
            });
        }
        Err(BackendError::contended("dynamodb", format!("hold {hold_id} kept changing during extend")).into())
    }

    /// Sets the time left of the hold's seat locks to its claims' (expiry
    /// plus grace), best effort: the claims decide (I7), so a failure only
    /// means the locks converge later.
    async fn match_locks_to(&self, hold: &Hold, now: Timestamp) {
        let ttl: Duration = hold.claim_until().remaining_after(now);
        if let Err(error) = self
            .ports
            .seat_locks
            .extend(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id, ttl)
            .await
        {
            tracing::warn!(event = "hold.extend_locks_failed", error = %error, "the claims are extended; the locks converge from them");
        }
    }
}
