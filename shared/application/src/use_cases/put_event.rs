//! Put event: an organizer creates or replaces an event.
//!
//! A replacement is checked against the seats' current status (held, sold,
//! from the durable claims) and written with an optimistic version check, so
//! two organizers editing at once cannot silently overwrite each other.

use domain::event::{Event, EventConflict};
use domain::identity::Identity;

use super::UseCases;
use super::get_availability::seat_status;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::PutEventError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutEventOutcome {
    Created,
    Replaced,
}

impl UseCases {
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
        let expected = match &current {
            None => None,
            Some(stored) => {
                let claims = ports
                    .holds
                    .seat_claims(&event.tenant, &event.id, ports.clock.now())
                    .await?;
                stored
                    .event
                    .check_replacement(&event, |seat| seat_status(claims.get(seat)))
                    .map_err(|conflicts: Vec<EventConflict>| Rejection::EventConflict(conflicts))?;
                Some(stored.version)
            }
        };
        match ports.events.put(&event, expected).await {
            Ok(_) if expected.is_none() => Ok(PutEventOutcome::Created),
            Ok(_) => Ok(PutEventOutcome::Replaced),
            Err(PutEventError::VersionMismatch) => Err(Rejection::EventChangedConcurrently.into()),
            Err(PutEventError::Backend(error)) => Err(error.into()),
        }
    }
}
