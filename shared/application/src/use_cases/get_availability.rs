//! Get availability: every seat of an event with its price and status.
//!
//! SOLD comes from the durable sold-seat records (or a sold marker), HELD from
//! live seat locks. Any customer of the tenant may read it.

use domain::event::{Event, SeatStatus};
use domain::identity::Identity;
use domain::ids::EventId;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::SeatLock;

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
        let seat_ids: Vec<_> = event.seats().iter().map(|s| s.id.clone()).collect();
        let sold = ports.orders.sold_seats(&caller.tenant, event_id).await?;
        let locks = ports.seat_locks.inspect(&caller.tenant, event_id, &seat_ids).await?;
        let statuses = seat_ids
            .iter()
            .zip(locks)
            .map(|(id, lock)| match lock {
                _ if sold.contains(id) => SeatStatus::Sold,
                SeatLock::Sold => SeatStatus::Sold,
                SeatLock::HeldBy(_) => SeatStatus::Held,
                SeatLock::Free => SeatStatus::Available,
            })
            .collect();
        Ok(Availability { event, statuses })
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
