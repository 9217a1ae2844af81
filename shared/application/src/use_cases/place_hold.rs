//! Place hold: lock seats all-or-nothing, then record the hold.
//!
//! Order matters for I5: the seat locks are taken first (the contention
//! filter), and if recording the hold fails they are released again, so a
//! request that does not succeed leaves no seat locked.

use domain::hold::{Hold, HoldRequest};
use domain::identity::Identity;
use domain::ids::{EventId, SeatId};

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};

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
        let ports = &self.ports;
        let event = self.tenant_event(caller, event_id).await?;
        let priced = event.price_seats(request.seats()).map_err(Rejection::UnknownSeats)?;

        let hold_id = ports.ids.hold_id();
        ports
            .seat_locks
            .lock(&caller.tenant, event_id, request.seats(), hold_id, request.ttl())
            .await?;

        let hold = Hold::place(
            hold_id,
            caller.tenant.clone(),
            event_id.clone(),
            caller.customer.clone(),
            priced,
            event.currency,
            ports.clock.now(),
            request.ttl(),
        );
        if let Err(error) = ports.holds.insert(&hold).await {
            if let Err(unlock) = ports
                .seat_locks
                .release(&caller.tenant, event_id, request.seats(), hold_id)
                .await
            {
                tracing::warn!(event = "hold.unlock_failed", error = %unlock, "seat locks left to expire with their TTL");
            }
            return Err(error.into());
        }
        Ok(hold)
    }
}
