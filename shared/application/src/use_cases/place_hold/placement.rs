//! The placement context: one hold on its way from seat locks to claims,
//! and what a way out that is not a 201 must undo.
//!
//! A placement reads `now` once and carries it with the hold, so the
//! expiry, the claims and the locks count from one instant. It records
//! whether this request took seat locks ([`Locks`]), and each failure
//! releases exactly what that record says. The release is an explicit
//! call, not a `Drop`: it is a network call, and there is no async drop.

use domain::customer_limit::SeatLimit;
use domain::event::Event;
use domain::hold::{Hold, HoldRequest};
use domain::identity::Identity;
use domain::time::Timestamp;

use crate::errors::{Rejection, UseCaseError};
use crate::ports::{CustomerTally, PlaceHoldError};
use crate::use_cases::UseCases;

/// Whether this request holds seat locks for its hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Locks {
    /// None: not yet, or the seat locks were down, slow or kept changing,
    /// and the claims alone decide (I8).
    NotTaken,
    /// The placement lease on every seat, extended to the hold's lifetime
    /// once the hold is recorded.
    Taken,
}

/// One hold this request is placing.
pub(super) struct Placement<'a> {
    pub(super) use_cases: &'a UseCases,
    pub(super) hold: Hold,
    /// Read once, before anything is locked.
    pub(super) now: Timestamp,
    pub(super) locks: Locks,
}

/// How the durable write of a placement ended.
pub(super) enum Recording {
    /// The hold and its claims are written.
    Written,
    /// The store refused the write, or failed it with the write perhaps
    /// applied ([`PlaceHoldError::Backend`]).
    Failed(PlaceHoldError),
    /// The customer's tally, read again after another of their writes moved
    /// it, refuses the hold or could not be read. Nothing was written.
    Refused(UseCaseError),
}

impl From<Result<(), PlaceHoldError>> for Recording {
    fn from(written: Result<(), PlaceHoldError>) -> Self {
        match written {
            Ok(()) => Self::Written,
            Err(error) => Self::Failed(error),
        }
    }
}

impl UseCases {
    /// Places one hold on the event as read: locks, claims, lock extension.
    /// An error leaves nothing of it locked or claimed (I5).
    pub(super) async fn place_on(
        &self,
        caller: &Identity,
        event: &Event,
        request: &HoldRequest,
    ) -> Result<Placement<'_>, UseCaseError> {
        let ports = &self.ports;
        let priced = event.price_seats(request.seats()).map_err(Rejection::UnknownSeats)?;
        let now = ports.clock.now();
        let mut hold = Hold::place(
            ports.ids.hold_id(),
            caller.tenant.clone(),
            event.id.clone(),
            caller.customer.clone(),
            priced,
            event.currency,
            now,
            request.ttl(),
        );
        if event.max_seats_per_customer.is_some() {
            hold = hold.counted_toward_limit();
        }
        let mut placement = Placement {
            use_cases: self,
            hold,
            now,
            locks: Locks::NotTaken,
        };
        let counted = match event.max_seats_per_customer {
            Some(limit) => Some((limit, placement.tally_admitting(limit).await?)),
            None => None,
        };
        placement.lock().await?;
        match placement.record(counted).await {
            Recording::Written => {
                placement.extend_locks().await;
                Ok(placement)
            }
            Recording::Refused(refused) => {
                placement.unlock().await;
                Err(refused)
            }
            Recording::Failed(error) => Err(placement.answer_failed_write(error).await),
        }
    }
}

impl Placement<'_> {
    /// Writes the hold and its claims, and for a hold that counts toward a
    /// limit its tally entry (see `customer_tally`).
    async fn record(&self, counted: Option<(SeatLimit, CustomerTally)>) -> Recording {
        match counted {
            None => self.use_cases.ports.holds.place(&self.hold, self.now).await.into(),
            Some((limit, tally)) => self.record_counted(limit, tally).await,
        }
    }

    /// The answer to a durable write that did not succeed. The locks go
    /// back; a write that may have been applied is undone first.
    async fn answer_failed_write(&self, error: PlaceHoldError) -> UseCaseError {
        let hold = &self.hold;
        match error {
            PlaceHoldError::SeatsTaken(taken) => {
                self.unlock().await;
                self.use_cases
                    .mirror_claims(&hold.tenant, &hold.event, &taken, self.now)
                    .await;
                Rejection::SeatsUnavailable(taken.into_iter().map(|(seat, _)| seat).collect()).into()
            }
            PlaceHoldError::TallyChanged => {
                // Only `place_counted` reports it, and `record_counted` re-reads.
                self.unlock().await;
                UseCaseError::Internal("a tally change escaped its retries".to_owned())
            }
            PlaceHoldError::Contended(seats) => {
                // Cancelled, so nothing was written: another placement is
                // writing these seats right now, as a fresh lock would say.
                self.unlock().await;
                Rejection::SeatsUnavailable(seats).into()
            }
            PlaceHoldError::Backend(error) => {
                // The write may have been applied with its reply lost: undo it,
                // so no claim outlives a request that did not answer 201.
                self.undo().await;
                error.into()
            }
        }
    }
}
