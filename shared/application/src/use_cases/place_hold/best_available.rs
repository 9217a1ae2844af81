//! Best available (ADR 15): the service picks the seats, then places them
//! as a named hold would be placed.
//!
//! A pick reads what is taken from the seat locks' availability index, so
//! it does not read every claim of the event. The index may be wrong, and
//! the placement is what decides. A pick that loses its race excludes the
//! seats it lost and picks again from the claims, a bounded number of times.

use std::collections::HashSet;

use domain::event::Event;
use domain::hold::{HoldRequest, SeatClaim};
use domain::identity::Identity;
use domain::ids::{EventId, SeatId, TenantId};
use domain::seat_map::{BestAvailable, Pick};
use domain::time::Timestamp;

use super::INDEX_FRESH_FOR;
use super::placement::Placement;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::TakenSeats;
use crate::use_cases::UseCases;

/// How many picks a best-available hold makes before answering 409: each
/// lost race excludes the seats it lost, so a pick that loses this often
/// is in a sale where nearly every seat is being taken at once.
const BEST_AVAILABLE_ATTEMPTS: u32 = 5;

impl UseCases {
    /// Picks and places the best seats on the event as read; a lost race
    /// picks again without the seats it lost.
    pub(super) async fn place_best_on(
        &self,
        caller: &Identity,
        event: &Event,
        best: &BestAvailable,
        ttl_seconds: Option<u64>,
    ) -> Result<Placement<'_>, UseCaseError> {
        let mut lost: HashSet<SeatId> = HashSet::new();
        let mut taken = HashSet::new();
        for attempt in 1..=BEST_AVAILABLE_ATTEMPTS {
            // After a lost race the index was wrong somewhere: the claims decide the next picks.
            taken = self.taken_seats(&caller.tenant, &event.id, attempt == 1).await?;
            let picked = match event.pick_best_available(best, |seat| taken.contains(seat) || lost.contains(seat)) {
                Pick::Seats(seats) => seats,
                Pick::NoFit { available } => return Err(Rejection::NoSeatsFit { available }.into()),
            };
            let request = HoldRequest::new(picked, ttl_seconds, self.settings.hold_policy)
                .map_err(Rejection::InvalidHoldRequest)?;
            match self.place_on(caller, event, &request).await {
                Err(UseCaseError::Rejected(Rejection::SeatsUnavailable(seats))) => {
                    tracing::info!(
                        event = "hold.pick_lost",
                        attempt,
                        lost = seats.len(),
                        "picked seats were taken meanwhile; picking again"
                    );
                    lost.extend(seats);
                }
                placed => return placed,
            }
        }
        let available = event.count_available(best, |seat| taken.contains(seat) || lost.contains(seat));
        tracing::info!(event = "hold.pick_gave_up", available, "every pick lost its race");
        Err(Rejection::NoSeatsFit { available }.into())
    }

    /// The event's seats taken now, as a pick needs them (ADR 15): from the
    /// seat locks' availability index, so a pick does not read every claim
    /// of the event. The index is rebuilt from the claims when it is missing
    /// or stale (one caller at a time); with the locks down (I8), the claims
    /// alone answer.
    async fn taken_seats(
        &self,
        tenant: &TenantId,
        event: &EventId,
        use_index: bool,
    ) -> Result<HashSet<SeatId>, UseCaseError> {
        let ports = &self.ports;
        let rebuild = if use_index {
            match ports.seat_locks.taken(tenant, event).await {
                Ok(TakenSeats::Indexed(seats)) => return Ok(seats),
                Ok(TakenSeats::Unindexed) => false,
                Ok(TakenSeats::RebuildByCaller) => true,
                Err(error) => {
                    tracing::debug!(event = "seat_locks.index_unavailable", error = %error, "picking from the claims");
                    false
                }
            }
        } else {
            false
        };
        let now = ports.clock.now();
        let claims = ports.holds.seat_claims(tenant, event, now).await?;
        if rebuild {
            let entries: Vec<(SeatId, Option<Timestamp>)> = claims
                .iter()
                .map(|(seat, claim)| match claim {
                    SeatClaim::HeldBy { until, .. } => (seat.clone(), Some(*until)),
                    SeatClaim::Sold => (seat.clone(), None),
                })
                .collect();
            if let Err(error) = ports
                .seat_locks
                .rebuild_taken(tenant, event, &entries, INDEX_FRESH_FOR)
                .await
            {
                tracing::warn!(event = "seat_locks.index_rebuild_failed", error = %error, "the next pick rebuilds it");
            }
        }
        Ok(claims.into_keys().collect())
    }
}
