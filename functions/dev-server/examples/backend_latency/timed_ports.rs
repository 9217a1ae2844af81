//! The floor of each request, measured inside it: every backend port wrapped
//! so the time spent in the adapters' own calls (the Redis scripts and
//! commands, the DynamoDB requests, with their client-side encoding) is
//! summed per request. What a request costs beyond that sum is ours: routing,
//! JSON, validation, the use case, logs and metrics.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use application::ports::{
    BackendError, CancelError, ChangeMarks, Claim, ClaimRequest, CommitError, CustomerTally, EventCatalog,
    ExtendHoldError, HoldStore, IdempotencyStore, LeaseError, LockError, MirroredLock, OrderCancellation, OrderCommit,
    OrderStore, PlaceHoldError, Ports, PutEventError, SeatLock, SeatLocks, StoredEvent, StoredResponse, TakenSeats,
};
use async_trait::async_trait;
use domain::event::Event;
use domain::hold::{Hold, SeatClaim};
use domain::idempotency::{IdempotencyScope, LeaseId};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

/// Nanoseconds spent in backend calls since the last [`BackendTime::take`].
#[derive(Clone, Default)]
pub struct BackendTime(Arc<AtomicU64>);

impl BackendTime {
    async fn time<T>(&self, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = call.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
        result
    }

    pub fn take(&self) -> Duration {
        Duration::from_nanos(self.0.swap(0, Ordering::Relaxed))
    }
}

struct Timed<T: ?Sized> {
    inner: Arc<T>,
    clock: BackendTime,
}

/// The same ports, each call timed into `clock`.
pub fn timed(ports: Ports, clock: &BackendTime) -> Ports {
    let wrap = |clock: &BackendTime| clock.clone();
    Ports {
        seat_locks: Arc::new(Timed {
            inner: ports.seat_locks,
            clock: wrap(clock),
        }),
        events: Arc::new(Timed {
            inner: ports.events,
            clock: wrap(clock),
        }),
        holds: Arc::new(Timed {
            inner: ports.holds,
            clock: wrap(clock),
        }),
        orders: Arc::new(Timed {
            inner: ports.orders,
            clock: wrap(clock),
        }),
        idempotency: Arc::new(Timed {
            inner: ports.idempotency,
            clock: wrap(clock),
        }),
        ..ports
    }
}

#[async_trait]
impl SeatLocks for Timed<dyn SeatLocks> {
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError> {
        self.clock.time(self.inner.lock(tenant, event, seats, hold, ttl)).await
    }
    async fn release(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
    ) -> Result<(), BackendError> {
        self.clock.time(self.inner.release(tenant, event, seats, hold)).await
    }
    async fn inspect(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<SeatLock>, BackendError> {
        self.clock.time(self.inner.inspect(tenant, event, seats)).await
    }
    async fn mark_sold(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        ttl: Duration,
    ) -> Result<(), BackendError> {
        self.clock.time(self.inner.mark_sold(tenant, event, seats, ttl)).await
    }
    async fn extend(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        self.clock
            .time(self.inner.extend(tenant, event, seats, hold, ttl))
            .await
    }
    async fn mirror(
        &self,
        tenant: &TenantId,
        event: &EventId,
        locks: &[(SeatId, MirroredLock)],
    ) -> Result<(), BackendError> {
        self.clock.time(self.inner.mirror(tenant, event, locks)).await
    }
    async fn taken(&self, tenant: &TenantId, event: &EventId) -> Result<TakenSeats, BackendError> {
        self.clock.time(self.inner.taken(tenant, event)).await
    }
    async fn rebuild_taken(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        fresh_for: Duration,
    ) -> Result<(), BackendError> {
        self.clock
            .time(self.inner.rebuild_taken(tenant, event, claims, fresh_for))
            .await
    }
}

#[async_trait]
impl EventCatalog for Timed<dyn EventCatalog> {
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError> {
        self.clock.time(self.inner.get(tenant, event)).await
    }
    async fn put(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
    ) -> Result<u64, PutEventError> {
        self.clock
            .time(self.inner.put(event, expected, under_freeze, held_repriced))
            .await
    }
    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError> {
        self.clock.time(self.inner.change_marks(tenant, event)).await
    }
    async fn freeze(
        &self,
        tenant: &TenantId,
        event: &EventId,
        version: u64,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, BackendError> {
        self.clock
            .time(self.inner.freeze(tenant, event, version, until, now))
            .await
    }
    async fn unfreeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        self.clock.time(self.inner.unfreeze(tenant, event, until)).await
    }
    async fn break_freeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        self.clock.time(self.inner.break_freeze(tenant, event, until)).await
    }
}

#[async_trait]
impl HoldStore for Timed<dyn HoldStore> {
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        self.clock.time(self.inner.place(hold, now)).await
    }
    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        self.clock.time(self.inner.place_counted(hold, now, tally)).await
    }
    async fn customer_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> Result<CustomerTally, BackendError> {
        self.clock
            .time(self.inner.customer_tally(tenant, event, customer))
            .await
    }
    async fn forget_in_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError> {
        self.clock
            .time(self.inner.forget_in_tally(tenant, event, customer, holds, orders))
            .await
    }
    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError> {
        self.clock.time(self.inner.get(tenant, hold)).await
    }
    async fn release(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError> {
        self.clock.time(self.inner.release(hold, now)).await
    }
    async fn extend(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<(), ExtendHoldError> {
        self.clock.time(self.inner.extend(hold, expires_at, now)).await
    }
    async fn free_claims(&self, hold: &Hold) -> Result<(), BackendError> {
        self.clock.time(self.inner.free_claims(hold)).await
    }
    async fn claims_of(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<Option<SeatClaim>>, BackendError> {
        self.clock.time(self.inner.claims_of(tenant, event, seats)).await
    }
    async fn seat_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError> {
        self.clock.time(self.inner.seat_claims(tenant, event, now)).await
    }
}

#[async_trait]
impl IdempotencyStore for Timed<dyn IdempotencyStore> {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        self.clock.time(self.inner.claim(request)).await
    }
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError> {
        self.clock
            .time(self.inner.complete(scope, lease, response, record_expires_at))
            .await
    }
    async fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError> {
        self.clock.time(self.inner.abandon(scope, lease)).await
    }
}

#[async_trait]
impl OrderStore for Timed<dyn OrderStore> {
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        self.clock.time(self.inner.commit(commit)).await
    }
    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<Order>, BackendError> {
        self.clock.time(self.inner.get(tenant, order)).await
    }
    async fn cancel(&self, cancellation: OrderCancellation<'_>) -> Result<(), CancelError> {
        self.clock.time(self.inner.cancel(cancellation)).await
    }
}
