//! A circuit breaker in front of the seat locks (I8: Redis down is degraded
//! service, not an outage).
//!
//! The use cases already go on without the seat locks when a call fails: the
//! durable store's claims decide (I7). What the breaker adds is speed: once
//! a call failed (a timeout, a refused connection), every call for the next
//! `open_for` fails at once without touching Redis, so a dead Redis does not
//! add its timeout to every request. The first call after the open period is
//! a trial: if it succeeds the breaker closes, else it opens again.
//!
//! Opening logs one WARN (`seat_locks.degraded`) and counts
//! `seat_locks_degraded_total`; closing logs `seat_locks.recovered`.
//! Time comes from the [`Clock`] port, so tests move it instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;

use crate::ports::{BackendError, Clock, LockError, MirroredLock, SeatLock, SeatLocks, TakenSeats};

/// How long a failed seat-lock call keeps the breaker open by default.
pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(5);

/// No failure is on record: the breaker is closed.
const CLOSED: i64 = i64::MIN;

/// Seat locks that fail fast for a while after a failure.
pub struct CircuitBreakerSeatLocks {
    inner: Arc<dyn SeatLocks>,
    clock: Arc<dyn Clock>,
    open_for: Duration,
    /// Until when calls fail fast (epoch millis), or [`CLOSED`].
    open_until: AtomicI64,
}

impl std::fmt::Debug for CircuitBreakerSeatLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerSeatLocks")
            .field("open_for", &self.open_for)
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

impl CircuitBreakerSeatLocks {
    pub fn new(inner: Arc<dyn SeatLocks>, clock: Arc<dyn Clock>, open_for: Duration) -> Self {
        Self {
            inner,
            clock,
            open_for,
            open_until: AtomicI64::new(CLOSED),
        }
    }

    /// Whether calls fail fast now.
    pub fn is_open(&self) -> bool {
        self.clock.now().as_millis() < self.open_until.load(Ordering::Acquire)
    }

    fn admit(&self) -> Result<(), BackendError> {
        if self.is_open() {
            metrics::counter!("seat_locks_degraded_total").increment(1);
            return Err(BackendError::new(
                "redis",
                "circuit open after a recent failure; serving from the durable store",
            ));
        }
        Ok(())
    }

    fn note_success(&self) {
        if self.open_until.swap(CLOSED, Ordering::AcqRel) != CLOSED {
            tracing::info!(event = "seat_locks.recovered", "seat locks answer again");
        }
    }

    fn note_failure(&self, error: &BackendError) {
        let until = self.clock.now().plus(self.open_for).as_millis();
        let previous = self.open_until.swap(until, Ordering::AcqRel);
        metrics::counter!("seat_locks_degraded_total").increment(1);
        if previous == CLOSED {
            tracing::warn!(
                event = "seat_locks.degraded",
                cause = %error.causes(),
                open_for_ms = u64::try_from(self.open_for.as_millis()).unwrap_or(u64::MAX),
                "seat locks failed; holds and orders go on against the durable store alone"
            );
        }
    }

    async fn guarded<T>(&self, call: impl Future<Output = Result<T, BackendError>>) -> Result<T, BackendError> {
        self.admit()?;
        let result = call.await;
        match &result {
            Ok(_) => self.note_success(),
            Err(error) => self.note_failure(error),
        }
        result
    }
}

#[async_trait]
impl SeatLocks for CircuitBreakerSeatLocks {
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError> {
        self.admit()?;
        let result = self.inner.lock(tenant, event, seats, hold, ttl).await;
        match &result {
            Err(LockError::Backend(error)) => self.note_failure(error),
            // A refusal is an answer: Redis works.
            Ok(()) | Err(LockError::Unavailable(_)) => self.note_success(),
        }
        result
    }

    async fn release(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
    ) -> Result<(), BackendError> {
        self.guarded(self.inner.release(tenant, event, seats, hold)).await
    }

    async fn inspect(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<SeatLock>, BackendError> {
        self.guarded(self.inner.inspect(tenant, event, seats)).await
    }

    async fn taken(&self, tenant: &TenantId, event: &EventId) -> Result<TakenSeats, BackendError> {
        self.guarded(self.inner.taken(tenant, event)).await
    }

    async fn rebuild_taken(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        fresh_for: Duration,
    ) -> Result<(), BackendError> {
        self.guarded(self.inner.rebuild_taken(tenant, event, claims, fresh_for))
            .await
    }

    async fn mark_sold(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        ttl: Duration,
    ) -> Result<(), BackendError> {
        self.guarded(self.inner.mark_sold(tenant, event, seats, ttl)).await
    }

    async fn extend(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        self.guarded(self.inner.extend(tenant, event, seats, hold, ttl)).await
    }

    async fn mirror(
        &self,
        tenant: &TenantId,
        event: &EventId,
        locks: &[(SeatId, MirroredLock)],
    ) -> Result<(), BackendError> {
        self.guarded(self.inner.mirror(tenant, event, locks)).await
    }
}
