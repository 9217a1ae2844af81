//! Place hold: lock seats all-or-nothing, then record the hold and its seat
//! claims in the durable store, which decides (I7).
//!
//! A hold is carried through steps 1–4 by one placement (`placement`): the
//! hold, the `now` it counts from and a record of whether it took seat
//! locks. A failed placement releases what that record says was taken; a
//! recorded hold that steps back (step 5) releases every lock of the hold.
//!
//! 1. `now` is read once, before anything is locked: the hold's expiry, its
//!    claims and its locks all count from the same instant (`placement`).
//! 2. The seat locks (Redis) are the fast filter (`seat_locks`): most losers
//!    are refused there without a durable write. The locks are taken for a
//!    short placement lease only, so a crash before step 3 frees them in
//!    seconds. A lock refusal is checked against the claims (a read).
//!    - A lock the claims do not back, minted less than a placement lease
//!      ago, is a hold still being placed: taken.
//!    - An older one is a leftover of a release or crash Redis never heard
//!      of: cleared, and the request goes on.
//!
//!    So Redis never causes a 409 of its own beyond a placement lease.
//! 3. The hold and one claim per seat are written in one atomic step. Only
//!    then are the locks extended to the hold's lifetime plus grace
//!    (`placement`).
//! 4. On any non-201 after the locks were taken, they are released
//!    (best effort) and an ambiguous durable write is compensated (I5,
//!    `undo`).
//!
//! 5. I9 (`event_changes`): the event's change marks are read after the
//!    claims are written. A replacement that could break the hold (removed
//!    seat, other currency) that landed or is being checked meanwhile sends
//!    the hold back to read the event again (see put_event for the other
//!    side).
//!
//! 6. An event with a seat limit per customer (`customer_tally`): the
//!    customer's tally is read before locking, so a customer at the limit is
//!    refused without touching the locks. The claims write adds the hold to
//!    the tally only if nobody changed it meanwhile. Concurrent holds of one
//!    customer on any number of instances thus pass one at a time (re-read,
//!    re-check, bounded).
//!
//! 7. Best available (ADR 15, `best_available`): the seats are picked on the
//!    event as read, from the live claims, then placed as above. A lost race
//!    (seats taken meanwhile) excludes the seats it lost and picks again, a
//!    bounded number of times; nothing partial is ever kept.
//!
//! With the seat locks down or slow (I8), step 2 is skipped: the claims alone
//! decide, which is slower (every loser costs a durable write) but never
//! wrong. Claims found that the locks lacked are written back (convergence).

mod best_available;
mod customer_tally;
mod event_changes;
mod placement;
mod seat_locks;
mod undo;

use std::time::Duration;

use domain::hold::{Hold, HoldRequest, HoldRequestError, extension_ttl};
use domain::identity::Identity;
use domain::ids::{EventId, SeatId};
use domain::seat_map::BestAvailable;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::BackendError;
use crate::store_admission::Work;

/// How long the seat locks are taken before the durable write succeeded:
/// longer than that write can take (2 s, ADR 12), short enough that a crash
/// between the two blocks the seats for seconds, not for the hold's TTL.
pub const PLACEMENT_LEASE: Duration = Duration::from_secs(5);

/// How long an availability index rebuilt from the claims is trusted
/// before the next pick rebuilds it. It bounds how long a lock change Redis
/// missed (a failed call, a script of the previous release) can mislead
/// picks, at one full read of the claims per event per minute.
pub const INDEX_FRESH_FOR: Duration = Duration::from_secs(60);

/// How often a hold steps back for an event being changed before giving up (503).
const EVENT_CHANGE_ATTEMPTS: u32 = 3;

/// How the seats of a hold are chosen.
enum Selection {
    /// The buyer named them.
    Named(HoldRequest),
    /// The service picks the best that fit.
    Best {
        best: BestAvailable,
        ttl_seconds: Option<u64>,
    },
}

impl UseCases {
    /// # Errors
    /// `InvalidHoldRequest` (shape rules), `EventNotFound`, `UnknownSeats`,
    /// `SeatsUnavailable` (every conflicting seat, request order), `Unavailable`.
    pub async fn place_hold(
        &self,
        caller: &Identity,
        event_id: &EventId,
        seats: Vec<SeatId>,
        ttl_seconds: Option<u64>,
    ) -> Result<Hold, UseCaseError> {
        let request =
            HoldRequest::new(seats, ttl_seconds, self.settings.hold_policy).map_err(Rejection::InvalidHoldRequest)?;
        self.place_selected(caller, event_id, &Selection::Named(request)).await
    }

    /// Holds the best seats that fit `best` (see [`domain::seat_map`]).
    ///
    /// # Errors
    /// `InvalidHoldRequest` (quantity or ttl out of range), `EventNotFound`,
    /// `NoSeatsFit` (nothing fits now, or every pick lost its race),
    /// `Unavailable`.
    pub async fn place_best_available_hold(
        &self,
        caller: &Identity,
        event_id: &EventId,
        best: BestAvailable,
        ttl_seconds: Option<u64>,
    ) -> Result<Hold, UseCaseError> {
        // The shape rules of a hold of `quantity` seats, checked on the
        // number itself (any u64 arrives here) before anything is read.
        let policy = self.settings.hold_policy;
        if best.quantity == 0 {
            return Err(Rejection::InvalidHoldRequest(vec![HoldRequestError::NoSeats]).into());
        }
        if best.quantity > policy.max_seats {
            let max = policy.max_seats;
            return Err(Rejection::InvalidHoldRequest(vec![HoldRequestError::TooManySeats { max }]).into());
        }
        // The ttl range is a named hold's (and an extension's): 60–1800 s.
        if let Some(ttl) = ttl_seconds {
            extension_ttl(ttl).map_err(|error| Rejection::InvalidHoldRequest(vec![error]))?;
        }
        self.place_selected(caller, event_id, &Selection::Best { best, ttl_seconds })
            .await
    }

    /// The I9 loop shared by both ways of choosing seats.
    async fn place_selected(
        &self,
        caller: &Identity,
        event_id: &EventId,
        selection: &Selection,
    ) -> Result<Hold, UseCaseError> {
        let named: &[SeatId] = match selection {
            Selection::Named(request) => request.seats(),
            Selection::Best { .. } => &[],
        };
        self.admitted(Work::New, async {
            self.finish_pending_undos(event_id, named).await;
            self.place_under_event_changes(caller, event_id, selection).await
        })
        .await
    }

    async fn place_under_event_changes(
        &self,
        caller: &Identity,
        event_id: &EventId,
        selection: &Selection,
    ) -> Result<Hold, UseCaseError> {
        for attempt in 1..=EVENT_CHANGE_ATTEMPTS {
            let stored = self
                .ports
                .events
                .get(&caller.tenant, event_id)
                .await?
                .ok_or(Rejection::EventNotFound)?;
            let placement = match selection {
                Selection::Named(request) => self.place_on(caller, &stored.event, request).await?,
                Selection::Best { best, ttl_seconds } => {
                    self.place_best_on(caller, &stored.event, best, *ttl_seconds).await?
                }
            };
            // I9: a replacement that could break this hold froze the event or
            // landed since we read it? Then step back and read it again. Any
            // failure from here on undoes the hold before answering (I5).
            match placement.still_stands(stored.version).await {
                Ok(true) => return Ok(placement.hold),
                Ok(false) => {
                    tracing::info!(event = "hold.event_changed", hold_id = %placement.hold.id, attempt, "the event is being changed; the hold steps back");
                }
                Err(error) => {
                    placement.undo().await;
                    return Err(error);
                }
            }
            // No sleep: reading the event again takes about as long as a
            // replacement's check, and a freeze whose writer died is a 503.
            // An undo that failed ends the request: a new hold on the same
            // seats would meet this one's claims (409 on the buyer's own seats).
            if !placement.undo().await {
                return Err(BackendError::new("dynamodb", "a hold that stepped back could not be undone").into());
            }
        }
        Err(BackendError::contended("dynamodb", "the event kept changing while a hold was placed").into())
    }
}
