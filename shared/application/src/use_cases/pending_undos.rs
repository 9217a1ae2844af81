//! Undos of ambiguous placements that failed: kept by the instance so its
//! next place-hold finishes them (I5).
//!
//! A place-hold that answers anything but 201 after its durable write may
//! have been applied abandons the hold (`HoldStore::abandon_placement`).
//! When the store fails that too (down, throttling, replies lost), the hold
//! may claim its seats until it expires: the buyer's retry would meet its
//! own seats taken. The request cannot wait for the store to come back, so
//! the hold is remembered here and the instance's next place-hold tries the
//! undo again before its own work. Memory only, by design: what a crash
//! loses here lapses with the hold's claims (the I5 exception for a crashed
//! process), and the store being unreachable is exactly when it cannot
//! record anything itself.

use std::sync::{Mutex, PoisonError};

use domain::hold::Hold;
use domain::ids::{EventId, SeatId};
use domain::time::Timestamp;

/// The holds whose undo is still owed, oldest first.
#[derive(Debug, Default)]
pub struct PendingUndos {
    holds: Mutex<Vec<Hold>>,
}

impl PendingUndos {
    /// How many owed undos one request retries: bounds what a request pays
    /// for its predecessors while the store is still failing.
    pub const PER_REQUEST: usize = 4;
    /// The most kept: a store down for long fills this; beyond it the
    /// oldest are dropped and lapse with their claims.
    pub const MAX_KEPT: usize = 1_000;

    pub fn push(&self, hold: Hold) {
        let mut holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        if holds.len() >= Self::MAX_KEPT {
            holds.remove(0);
        }
        holds.push(hold);
    }

    /// The owed undos a request retries, taken out (push back those that
    /// fail again): every one on `event` sharing a seat with `seats` (the
    /// buyer's own retry must find its seats free, however many are owed),
    /// then the oldest, up to [`Self::PER_REQUEST`] in all unless more
    /// overlap. Those whose claims lapsed by `now` are dropped: nothing is
    /// left to free.
    pub fn take(&self, now: Timestamp, event: &EventId, seats: &[SeatId]) -> Vec<Hold> {
        let mut holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        if holds.is_empty() {
            return Vec::new();
        }
        holds.retain(|hold| hold.claim_until() > now);
        let overlaps = |hold: &Hold| &hold.event == event && hold.seat_ids().iter().any(|seat| seats.contains(seat));
        let (mut taken, kept): (Vec<Hold>, Vec<Hold>) = holds.drain(..).partition(|hold| overlaps(hold));
        let mut kept = kept.into_iter();
        taken.extend(kept.by_ref().take(Self::PER_REQUEST.saturating_sub(taken.len())));
        holds.extend(kept);
        taken
    }

    pub fn len(&self) -> usize {
        self.holds.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}
