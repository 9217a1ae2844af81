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
        let (expected, under_freeze) = match &current {
            None => (None, None),
            Some(stored) => {
                // A replacement that could break holds is checked under a
                // freeze, so no hold can slip in between the check and the
                // write unseen (I9; the hold side is in place_hold).
                let breaking = stored.event.replacement_can_break_holds(&event);
                let now = ports.clock.now();
                let until = now.plus(EVENT_FREEZE);
                if breaking
                    && !ports
                        .events
                        .freeze(&event.tenant, &event.id, stored.version, until, now)
                        .await?
                {
                    return Err(Rejection::EventChangedConcurrently.into());
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
                        .map_err(|conflicts: Vec<EventConflict>| {
                            UseCaseError::from(Rejection::EventConflict(conflicts))
                        }),
                    Err(error) => Err(error.into()),
                };
                if let Err(refused) = checked {
                    if breaking
                        && let Err(error) = ports.events.unfreeze(&event.tenant, &event.id, stored.version).await
                    {
                        tracing::warn!(event = "event.unfreeze_failed", error = %error, "holds on this event wait out the freeze");
                    }
                    return Err(refused);
                }
                (Some(stored.version), breaking.then_some(until))
            }
        };
        match ports.events.put(&event, expected, under_freeze).await {
            Ok(_) if expected.is_none() => Ok(PutEventOutcome::Created),
            Ok(_) => Ok(PutEventOutcome::Replaced),
            Err(PutEventError::VersionMismatch) => Err(Rejection::EventChangedConcurrently.into()),
            Err(PutEventError::Backend(error)) => Err(error.into()),
        }
    }
}
