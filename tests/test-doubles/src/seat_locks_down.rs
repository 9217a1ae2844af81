//! Seat locks whose server is down: every call fails at once, as Redis
//! refusing connections does. The use cases must then decide from the
//! durable store alone (I8).

use std::time::Duration;

use application::ports::{BackendError, LockError, MirroredLock, SeatLock, SeatLocks, TakenSeats};
use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;

/// A backend that refuses connections.
pub fn unreachable(backend: &'static str) -> BackendError {
    BackendError::new(backend, "connection refused")
}

/// Seat locks whose server is down.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeatLocksDown;

fn down() -> BackendError {
    unreachable("redis")
}

#[async_trait]
impl SeatLocks for SeatLocksDown {
    async fn lock(&self, _: &TenantId, _: &EventId, _: &[SeatId], _: HoldId, _: Duration) -> Result<(), LockError> {
        Err(LockError::Backend(down()))
    }
    async fn release(&self, _: &TenantId, _: &EventId, _: &[SeatId], _: HoldId) -> Result<(), BackendError> {
        Err(down())
    }
    async fn inspect(&self, _: &TenantId, _: &EventId, _: &[SeatId]) -> Result<Vec<SeatLock>, BackendError> {
        Err(down())
    }
    async fn mark_sold(&self, _: &TenantId, _: &EventId, _: &[SeatId], _: Duration) -> Result<(), BackendError> {
        Err(down())
    }
    async fn extend(
        &self,
        _: &TenantId,
        _: &EventId,
        _: &[SeatId],
        _: HoldId,
        _: Duration,
    ) -> Result<(), BackendError> {
        Err(down())
    }
    async fn mirror(&self, _: &TenantId, _: &EventId, _: &[(SeatId, MirroredLock)]) -> Result<(), BackendError> {
        Err(down())
    }
    async fn taken(&self, _: &TenantId, _: &EventId) -> Result<TakenSeats, BackendError> {
        Err(down())
    }
    async fn rebuild_taken(
        &self,
        _: &TenantId,
        _: &EventId,
        _: &[(SeatId, Option<Timestamp>)],
        _: Duration,
    ) -> Result<(), BackendError> {
        Err(down())
    }
}
