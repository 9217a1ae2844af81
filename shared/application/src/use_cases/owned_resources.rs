//! Reads that give a caller only what is theirs (I4): the caller's own hold,
//! the caller's tenant's event. Someone else's is the same 404 as a missing
//! one, so no answer tells whether it exists. Every use case that starts from
//! a hold or an event id starts here.

use domain::event::Event;
use domain::hold::Hold;
use domain::identity::Identity;
use domain::ids::{EventId, HoldId};

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};

impl UseCases {
    /// The hold if it exists and is the caller's; otherwise not found (I4:
    /// someone else's hold is indistinguishable from a missing one).
    pub(crate) async fn owned_hold(&self, caller: &Identity, hold_id: HoldId) -> Result<Hold, UseCaseError> {
        match self.ports.holds.get(&caller.tenant, hold_id).await? {
            Some(hold) if hold.is_owned_by(&caller.tenant, &caller.customer) => Ok(hold),
            _ => Err(Rejection::HoldNotFound.into()),
        }
    }

    /// The caller's tenant's event; another tenant's is the same 404 as a missing one (I4).
    pub(crate) async fn tenant_event(&self, caller: &Identity, event_id: &EventId) -> Result<Event, UseCaseError> {
        Ok(self
            .ports
            .events
            .get(&caller.tenant, event_id)
            .await?
            .ok_or(Rejection::EventNotFound)?
            .event)
    }
}
