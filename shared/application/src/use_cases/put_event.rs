//! Put event: an organizer creates or replaces an event.
//!
//! A replacement is checked against the seats' current status (held, sold,
//! from the durable claims and, for holds of the previous release, the seat
//! locks: `seat_status`) and written with an optimistic version check, so
//! two organizers editing at once cannot silently overwrite each other.
//!
//! I9: a replacement that removes seats or changes the currency freezes the
//! event first, then reads the claims, then writes (which ends the freeze).
//! A hold re-reads the event's change marks after writing its claims: if it
//! wrote them before the freeze, this check sees them (409
//! `event-conflict`); if after, the hold sees the freeze or the new version
//! and steps back. Either way no hold outlives a change that breaks it.

use std::collections::HashMap;
use std::time::Duration;

use domain::event::{Event, EventConflict};
use domain::identity::Identity;
use domain::ids::SeatId;
use domain::time::Timestamp;

use super::UseCases;
use super::seat_status::seat_status;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{PutEventError, SeatLock, StoredEvent};

/// The longest a replacement that could break holds keeps the event frozen
/// if its writer dies between freezing and writing; holds placed meanwhile
/// step back and retry.
pub const EVENT_FREEZE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutEventOutcome {
    Created,
    Replaced,
}

impl UseCases {
    /// The seat locks of the event's seats: holds of the release before
    /// claims (ADR 12, until the backfill) are known only there. Best effort:
    /// with Redis down, none.
    async fn seat_locks_of(&self, stored: &StoredEvent) -> HashMap<SeatId, SeatLock> {
        let seats: Vec<SeatId> = stored.event.seats().iter().map(|seat| seat.id.clone()).collect();
        match self
            .ports
            .seat_locks
            .inspect(&stored.event.tenant, &stored.event.id, &seats)
            .await
        {
            Ok(locks) => seats.into_iter().zip(locks).collect(),
            Err(_) => HashMap::new(),
        }
    }

    /// `event` must belong to the caller's tenant (the interface builds it so).
    ///
    /// # Errors
    /// `Forbidden` (not an organizer), `EventConflict`, `EventChangedConcurrently`, `Unavailable`.
    pub async fn put_event(&self, caller: &Identity, event: Event) -> Result<PutEventOutcome, UseCaseError> {
        if !caller.is_organizer() {
            return Err(Rejection::Forbidden.into());
        }
        if event.tenant != caller.tenant {
            return Err(UseCaseError::Internal("event built for another tenant".to_owned()));
        }
        let ports = &self.ports;
        let current = ports.events.get(&event.tenant, &event.id).await?;
        let checked_write = match &current {
            None => (None, None, Vec::new()),
            Some(stored) => {
                // A replacement that could break holds is checked under a
                // freeze, so no hold can slip in between the check and the
                // write unseen (I9; the hold side is in place_hold).
                let breaking = stored.event.replacement_can_break_holds(&event);
                let now = ports.clock.now();
                // The freeze is known by its `until` (a resend after a lost
                // reply finds its own): a few random milliseconds keep two
                // replacements in the same millisecond apart. Two that still
                // met would only share one freeze; the version check lets
                // one of them land.
                let jitter = Duration::from_millis(u64::try_from(ports.ids.lease_id().0 % 997).unwrap_or(0));
                let until = now.plus(EVENT_FREEZE).plus(jitter);
                if breaking {
                    match ports
                        .events
                        .freeze(&event.tenant, &event.id, stored.version, until, now)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => return Err(Rejection::EventChangedConcurrently.into()),
                        Err(error) => {
                            // Applied, its replies lost? Lift it, or every hold
                            // on the event waits it out.
                            self.unfreeze_best_effort(&event, until).await;
                            return Err(error.into());
                        }
                    }
                }
                let locks = if breaking {
                    self.seat_locks_of(stored).await
                } else {
                    HashMap::new()
                };
                let checked = match ports.holds.seat_claims(&event.tenant, &event.id, now).await {
                    Ok(claims) => stored
                        .event
                        .check_replacement(&event, |seat| seat_status(claims.get(seat), locks.get(seat)))
                        .map(|()| {
                            // A held seat may be sold before the write lands:
                            // a repricing of it is written only if it is not.
                            stored
                                .event
                                .repriced_seats(&event)
                                .into_iter()
                                .filter(|seat| claims.contains_key(seat))
                                .collect::<Vec<_>>()
                        })
                        .map_err(|conflicts: Vec<EventConflict>| {
                            UseCaseError::from(Rejection::EventConflict(conflicts))
                        }),
                    Err(error) => Err(error.into()),
                };
                match checked {
                    Ok(held_repriced) => (Some(stored.version), breaking.then_some(until), held_repriced),
                    Err(refused) => {
                        if breaking {
                            self.unfreeze_best_effort(&event, until).await;
                        }
                        return Err(refused);
                    }
                }
            }
        };
        let (expected, under_freeze, held_repriced) = checked_write;
        let outcome = if expected.is_none() {
            PutEventOutcome::Created
        } else {
            PutEventOutcome::Replaced
        };
        let written = self
            .write_event(&event, expected, under_freeze, &held_repriced, outcome)
            .await;
        // A write that failed leaves its freeze to be lifted (a no-op if the
        // write landed after all: it removed the freeze, and this names it).
        if written.is_err()
            && let Some(until) = under_freeze
        {
            self.unfreeze_best_effort(&event, until).await;
        }
        written
    }

    async fn unfreeze_best_effort(&self, event: &Event, until: Timestamp) {
        if let Err(error) = self.ports.events.unfreeze(&event.tenant, &event.id, until).await {
            tracing::warn!(event = "event.unfreeze_failed", error = %error, "holds on this event wait out the freeze");
        }
    }

    /// The put, with a version mismatch read back (our own write whose reply
    /// was lost is success).
    async fn write_event(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
        outcome: PutEventOutcome,
    ) -> Result<PutEventOutcome, UseCaseError> {
        let ports = &self.ports;
        match ports.events.put(event, expected, under_freeze, held_repriced).await {
            Ok(_) => Ok(outcome),
            Err(PutEventError::VersionMismatch) => {
                // Ours, applied by a send whose reply was lost? Then the
                // event is exactly ours at the version we wrote.
                let ours = expected.map_or(1, |version| version + 1);
                match ports.events.get(&event.tenant, &event.id).await? {
                    Some(now_stored) if now_stored.version == ours && now_stored.event == *event => Ok(outcome),
                    _ => Err(Rejection::EventChangedConcurrently.into()),
                }
            }
            Err(PutEventError::SoldMeanwhile(seats)) => {
                Err(Rejection::EventConflict(seats.into_iter().map(EventConflict::RepricesSoldSeat).collect()).into())
            }
            Err(PutEventError::Backend(error)) => Err(error.into()),
        }
    }
}
