//! A placement's seat locks: the fast filter that refuses most losers
//! without a durable write, and never decides on its own (I7, I8).
//!
//! A lock is a hint the claims can overrule, so a refusal is checked before
//! it refuses anyone. A lock no claim backs is either a hold still being
//! placed (taken) or a leftover Redis never heard the end of (cleared, then
//! the lock is tried once more). With the locks down, slow or changing
//! under us, the placement goes on without them and the claims decide.

use domain::hold::{CLAIM_GRACE, HoldStatus, SeatClaim};
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;

use super::PLACEMENT_LEASE;
use super::placement::{Locks, Placement};
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{LockError, MirroredLock, SOLD_MARKER_TTL, SeatLock};
use crate::use_cases::UseCases;

/// Locks to clear: each seat's lock, owned by a hold nothing backs.
type StaleLocks = Vec<(SeatId, MirroredLock)>;

/// What one try at the locks came to, short of refusing the hold.
enum LockAttempt {
    /// Locked, or given up on so that the claims alone decide.
    Settled(Locks),
    /// Refused only by locks no claim or live hold backs (perhaps none: the
    /// refusing locks may have gone meanwhile).
    Stale(StaleLocks),
}

/// Whether a lock's hold may still be between its lock and its durable
/// write: minted less than a placement lease (plus the grace, for clocks
/// that disagree) ago. Such a lock counts as taken even without a claim.
fn may_still_be_placing(owner: HoldId, now: Timestamp) -> bool {
    owner.minted_at().plus(PLACEMENT_LEASE).plus(CLAIM_GRACE) > now
}

impl Placement<'_> {
    /// Takes the placement lease on every seat, or records that the claims
    /// alone decide.
    ///
    /// # Errors
    /// `SeatsUnavailable` (request order) for seats a sale, a claim, a live
    /// hold or a hold still being placed has; a failed read of the claims.
    pub(super) async fn lock(&mut self) -> Result<(), UseCaseError> {
        self.locks = self.take_locks().await?;
        Ok(())
    }

    /// At most two tries: stale locks are cleared once, and a second refusal
    /// means the locks keep changing under us.
    async fn take_locks(&self) -> Result<Locks, UseCaseError> {
        let stale = match self.try_lock().await? {
            LockAttempt::Settled(locks) => return Ok(locks),
            LockAttempt::Stale(stale) => stale,
        };
        if !self.clear_stale(&stale).await {
            return Ok(Locks::NotTaken);
        }
        match self.try_lock().await? {
            LockAttempt::Settled(locks) => Ok(locks),
            LockAttempt::Stale(_) => Ok(Locks::NotTaken),
        }
    }

    async fn try_lock(&self) -> Result<LockAttempt, UseCaseError> {
        let hold = &self.hold;
        let seat_locks = &self.use_cases.ports.seat_locks;
        let refused = match seat_locks
            .lock(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id, PLACEMENT_LEASE)
            .await
        {
            Ok(()) => return Ok(LockAttempt::Settled(Locks::Taken)),
            Err(LockError::Backend(error)) => {
                tracing::debug!(event = "seat_locks.skipped", error = %error, "placing the hold on the claims alone");
                return Ok(LockAttempt::Settled(Locks::NotTaken));
            }
            Err(LockError::Unavailable(refused)) => refused,
        };
        // Who holds them? A sold marker or a lock minted within a placement
        // lease is taken without asking the claims; an older lock is checked
        // against them (one read), because Redis may have missed a release.
        let Ok(locks) = seat_locks.inspect(&hold.tenant, &hold.event, &refused).await else {
            return Ok(LockAttempt::Settled(Locks::NotTaken));
        };
        let mut taken = Vec::new();
        let mut to_check = Vec::new();
        for (seat, lock) in refused.into_iter().zip(locks) {
            match lock {
                SeatLock::Sold => taken.push(seat),
                SeatLock::HeldBy(owner) if may_still_be_placing(owner, self.now) => taken.push(seat),
                SeatLock::HeldBy(owner) => to_check.push((seat, owner)),
                SeatLock::Free => {}
            }
        }
        let (claimed, stale) = self.check_against_claims(to_check).await?;
        taken.extend(claimed);
        if taken.is_empty() {
            return Ok(LockAttempt::Stale(stale));
        }
        let order = hold.seat_ids();
        taken.sort_by_key(|seat| order.iter().position(|s| s == seat));
        Err(Rejection::SeatsUnavailable(taken).into())
    }

    /// Splits locks older than a placement lease into seats taken and stale
    /// locks, by their claims (one read) and, where a claim is missing, by
    /// the lock's own hold.
    async fn check_against_claims(
        &self,
        to_check: Vec<(SeatId, HoldId)>,
    ) -> Result<(Vec<SeatId>, StaleLocks), UseCaseError> {
        let (mut taken, mut stale) = (Vec::new(), Vec::new());
        if to_check.is_empty() {
            return Ok((taken, stale));
        }
        let (hold, now) = (&self.hold, self.now);
        let checked: Vec<SeatId> = to_check.iter().map(|(seat, _)| seat.clone()).collect();
        let claims = self
            .use_cases
            .ports
            .holds
            .claims_of(&hold.tenant, &hold.event, &checked)
            .await?;
        let mut confirmed = Vec::new();
        for ((seat, owner), claim) in to_check.into_iter().zip(claims) {
            match claim {
                Some(claim) if claim.blocks(hold.id, now) => {
                    confirmed.push((seat.clone(), claim));
                    taken.push(seat);
                }
                // No claim: a stale lock, or a hold of the release before
                // claims (ADR 12), which only its lock protects: ask the
                // hold itself.
                _ if self.lock_owner_is_live(owner).await? => taken.push(seat),
                _ => stale.push((seat, MirroredLock::Free { owner })),
            }
        }
        // A sold seat Redis knew only as held: say so, so the next loser
        // stops at the sold marker.
        self.use_cases
            .mirror_claims(&hold.tenant, &hold.event, &confirmed, now)
            .await;
        Ok((taken, stale))
    }

    /// Removes locks no claim backs; whether the seat locks took it.
    async fn clear_stale(&self, stale: &[(SeatId, MirroredLock)]) -> bool {
        if stale.is_empty() {
            return true;
        }
        tracing::info!(
            event = "seat_locks.stale_cleared",
            seats = stale.len(),
            "locks without a claim removed"
        );
        let hold = &self.hold;
        self.use_cases
            .ports
            .seat_locks
            .mirror(&hold.tenant, &hold.event, stale)
            .await
            .is_ok()
    }

    /// Whether the hold that owns a lock is still ACTIVE and unexpired.
    async fn lock_owner_is_live(&self, owner: HoldId) -> Result<bool, UseCaseError> {
        Ok(self
            .use_cases
            .ports
            .holds
            .get(&self.hold.tenant, owner)
            .await?
            .is_some_and(|owner| owner.status_at(self.now) == HoldStatus::Active))
    }

    /// Extends the locks this request took to the hold's lifetime plus
    /// grace, once the hold is recorded.
    pub(super) async fn extend_locks(&self) {
        if self.locks == Locks::NotTaken {
            return;
        }
        let (hold, ports) = (&self.hold, &self.use_cases.ports);
        let ttl = hold.claim_until().remaining_after(ports.clock.now());
        if let Err(error) = ports
            .seat_locks
            .extend(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id, ttl)
            .await
        {
            tracing::warn!(event = "seat_locks.extend_failed", error = %error, "the claims keep the hold; the locks lapse after the placement lease");
        }
    }

    /// Releases the locks this request took, if it took any.
    pub(super) async fn unlock(&self) {
        if self.locks == Locks::Taken {
            self.release_locks().await;
        }
    }

    /// Releases every lock the hold owns, whoever wrote it (best effort).
    pub(super) async fn release_locks(&self) {
        let hold = &self.hold;
        if let Err(unlock) = self
            .use_cases
            .ports
            .seat_locks
            .release(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id)
            .await
        {
            tracing::warn!(event = "hold.unlock_failed", error = %unlock, "seat locks left to lapse after the placement lease");
        }
    }
}

impl UseCases {
    /// Writes claims the seat locks lacked back into them (best effort).
    pub(crate) async fn mirror_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, SeatClaim)],
        now: Timestamp,
    ) {
        let locks: Vec<(SeatId, MirroredLock)> = claims
            .iter()
            .filter(|(_, claim)| claim.is_live(now))
            .map(|(seat, claim)| {
                let lock = match *claim {
                    SeatClaim::Sold => MirroredLock::Sold { ttl: SOLD_MARKER_TTL },
                    SeatClaim::HeldBy { hold, until } => MirroredLock::Held {
                        hold,
                        ttl: until.remaining_after(now),
                    },
                };
                (seat.clone(), lock)
            })
            .collect();
        if locks.is_empty() {
            return;
        }
        if let Err(error) = self.ports.seat_locks.mirror(tenant, event, &locks).await {
            tracing::debug!(event = "seat_locks.mirror_failed", error = %error, "locks converge on a later request");
        }
    }
}
