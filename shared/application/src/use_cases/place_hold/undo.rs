//! Undoing a placement that must not stand, so that a request which does
//! not answer 201 leaves nothing claimed or locked (I5).
//!
//! The durable undo is tried a few times. One that still fails is owed to
//! the instance's [`PendingUndos`], and the next place-hold here finishes
//! it before its own work: the seats are free again once the store answers,
//! not only when the hold expires.
//!
//! [`PendingUndos`]: crate::use_cases::pending_undos::PendingUndos

use domain::ids::{EventId, SeatId};

use super::placement::Placement;
use crate::use_cases::UseCases;

/// How often a request tries to undo an ambiguous placement before it
/// answers and leaves the undo to the instance's next request.
const UNDO_ATTEMPTS: u32 = 3;

impl Placement<'_> {
    /// Abandons a hold whose durable write may have been applied, or that
    /// was recorded but may not stand (I9), and releases every lock it owns;
    /// whether the durable undo is done. Releases them whether or not this
    /// request took any: its claims may have been written, and a request
    /// that read them may have mirrored them into locks of this hold.
    pub(super) async fn undo(&self) -> bool {
        let undone = self.abandon_or_owe().await;
        self.release_locks().await;
        undone
    }

    /// Abandons the hold; one not abandoned is owed to the instance's
    /// pending undos.
    async fn abandon_or_owe(&self) -> bool {
        let undone = self.abandon().await;
        if !undone {
            self.use_cases.pending_undos.push(self.hold.clone());
        }
        undone
    }

    /// [`HoldStore::abandon_placement`], tried [`UNDO_ATTEMPTS`] times (it is
    /// idempotent: a tombstone or a release that was applied is a no-op the
    /// second time).
    ///
    /// [`HoldStore::abandon_placement`]: crate::ports::HoldStore::abandon_placement
    async fn abandon(&self) -> bool {
        let ports = &self.use_cases.ports;
        for attempt in 1..=UNDO_ATTEMPTS {
            match ports.holds.abandon_placement(&self.hold, ports.clock.now()).await {
                Ok(()) => return true,
                Err(undo) => {
                    tracing::warn!(event = "hold.compensation_failed", hold_id = %self.hold.id, attempt, error = %undo, "the hold may still claim its seats");
                }
            }
        }
        false
    }
}

impl UseCases {
    /// Retries the undos an earlier request on this instance could not
    /// finish: those sharing a seat with this request (a buyer's retry),
    /// then the oldest, [`PendingUndos::PER_REQUEST`] in all.
    /// Those still failing stay for the next request; those past their
    /// claims' lifetime are dropped (nothing is left to free).
    ///
    /// [`PendingUndos::PER_REQUEST`]: crate::use_cases::pending_undos::PendingUndos::PER_REQUEST
    pub(super) async fn finish_pending_undos(&self, event: &EventId, seats: &[SeatId]) {
        let now = self.ports.clock.now();
        for hold in self.pending_undos.take(now, event, seats) {
            match self.ports.holds.abandon_placement(&hold, now).await {
                Ok(()) => {
                    tracing::info!(event = "hold.compensation_done", hold_id = %hold.id, "a failed undo finished on a later request");
                }
                Err(error) => {
                    tracing::warn!(event = "hold.compensation_failed", hold_id = %hold.id, error = %error, "retried on the next request");
                    self.pending_undos.push(hold);
                }
            }
        }
    }
}
