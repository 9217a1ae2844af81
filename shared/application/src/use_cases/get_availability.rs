//! Get availability: every seat of an event with its price and status.
//!
//! From the durable seat claims alone (I7): SOLD and HELD are what the claims
//! say now (`seat_status`, asked without locks), so availability and
//! place-hold always agree, with or without Redis. Any customer of the tenant
//! may read it.

use domain::event::{Event, SeatStatus};
use domain::identity::Identity;
use domain::ids::EventId;

use super::UseCases;
use super::seat_status::seat_status;
use crate::errors::UseCaseError;

/// The event and the status of each of its seats, in the event's seat order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub event: Event,
    pub statuses: Vec<SeatStatus>,
}

impl UseCases {
    /// # Errors
    /// `EventNotFound` (absent, or another tenant's), `Unavailable`.
    pub async fn get_availability(&self, caller: &Identity, event_id: &EventId) -> Result<Availability, UseCaseError> {
        let ports = &self.ports;
        let event = self.tenant_event(caller, event_id).await?;
        let claims = ports
            .holds
            .seat_claims(&caller.tenant, event_id, ports.clock.now())
            .await?;
        let statuses = event
            .seats()
            .iter()
            .map(|seat| seat_status(claims.get(&seat.id), None))
            .collect();
        Ok(Availability { event, statuses })
    }
}
