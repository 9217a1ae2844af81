//! The durable-store ports in memory, with DynamoDB's conditional semantics.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use application::ports::{
    BackendError, Claim, ClaimRequest, CommitError, EventCatalog, HoldStore, IdempotencyRecord, IdempotencyStore,
    LeaseError, OrderCommit, OrderStore, PutEventError, ReadinessProbe, RecordState, StoredEvent, StoredResponse,
};
use async_trait::async_trait;
use domain::event::Event;
use domain::hold::{Hold, HoldStatus};
use domain::idempotency::{IdempotencyScope, LeaseId, RecordPhase, may_claim};
use domain::ids::{EventId, HoldId, OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

#[derive(Default)]
struct Tables {
    events: HashMap<(TenantId, EventId), StoredEvent>,
    holds: HashMap<(TenantId, HoldId), Hold>,
    orders: HashMap<(TenantId, OrderId), Order>,
    sold: HashMap<(TenantId, EventId), HashSet<SeatId>>,
    idempotency: HashMap<IdempotencyScope, IdempotencyRecord>,
}

/// Events, holds, orders, sold seats and idempotency records in one place.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // Every critical section checks all conditions before its first
        // write, so a poisoned lock never guards half-applied state.
        self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records whose retention ran out, as DynamoDB TTL would eventually
    /// delete them. Logic never relies on this: it compares timestamps.
    fn live_record<'a>(tables: &'a Tables, scope: &IdempotencyScope, now: Timestamp) -> Option<&'a IdempotencyRecord> {
        tables.idempotency.get(scope).filter(|record| record.expires_at > now)
    }
}

fn phase(record: &IdempotencyRecord) -> RecordPhase {
    match record.state {
        RecordState::InProgress { lease_expires_at, .. } => RecordPhase::InProgress { lease_expires_at },
        RecordState::Completed(_) => RecordPhase::Completed,
    }
}

fn carries_lease(record: Option<&IdempotencyRecord>, lease: LeaseId) -> bool {
    matches!(record, Some(IdempotencyRecord { state: RecordState::InProgress { lease: held, .. }, .. }) if *held == lease)
}

#[async_trait]
impl EventCatalog for MemoryStore {
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError> {
        Ok(self.tables().events.get(&(tenant.clone(), event.clone())).cloned())
    }

    async fn put(&self, event: &Event, expected: Option<u64>) -> Result<u64, PutEventError> {
        let mut tables = self.tables();
        let key = (event.tenant.clone(), event.id.clone());
        let current = tables.events.get(&key).map(|stored| stored.version);
        if current != expected {
            return Err(PutEventError::VersionMismatch);
        }
        let version = current.map_or(1, |v| v + 1);
        tables.events.insert(
            key,
            StoredEvent {
                event: event.clone(),
                version,
            },
        );
        Ok(version)
    }
}

#[async_trait]
impl HoldStore for MemoryStore {
    async fn insert(&self, hold: &Hold) -> Result<(), BackendError> {
        let mut tables = self.tables();
        let key = (hold.tenant.clone(), hold.id);
        match tables.holds.get(&key) {
            Some(stored) if stored == hold => return Ok(()),
            Some(_) => return Err(BackendError::new("memory", format!("hold {} already exists", hold.id))),
            None => {}
        }
        tables.holds.insert(key, hold.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError> {
        Ok(self.tables().holds.get(&(tenant.clone(), hold)).cloned())
    }

    async fn mark_released(&self, tenant: &TenantId, hold: HoldId, now: Timestamp) -> Result<bool, BackendError> {
        let mut tables = self.tables();
        match tables.holds.get_mut(&(tenant.clone(), hold)) {
            Some(stored) if stored.status_at(now) == HoldStatus::Active => {
                stored.recorded_status = HoldStatus::Released;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        let mut tables = self.tables();
        let existing = tables.idempotency.get(request.scope);
        if !may_claim(existing.map(|r| (phase(r), r.expires_at)), request.now) {
            return Ok(Claim::Existing(existing.cloned().ok_or_else(|| {
                BackendError::new("memory", "a record that may not be claimed must exist")
            })?));
        }
        tables.idempotency.insert(
            request.scope.clone(),
            IdempotencyRecord {
                fingerprint: request.fingerprint,
                state: RecordState::InProgress {
                    lease: request.lease,
                    lease_expires_at: request.lease_expires_at,
                },
                expires_at: request.record_expires_at,
            },
        );
        Ok(Claim::Claimed)
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError> {
        let mut tables = self.tables();
        let record = tables.idempotency.get_mut(scope);
        if !carries_lease(record.as_deref(), lease) {
            return Err(LeaseError::LeaseLost);
        }
        if let Some(record) = record {
            record.state = RecordState::Completed(response.clone());
            record.expires_at = record_expires_at;
        }
        Ok(())
    }

    async fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError> {
        let mut tables = self.tables();
        if carries_lease(tables.idempotency.get(scope), lease) {
            tables.idempotency.remove(scope);
        }
        Ok(())
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        let order = commit.order;
        let mut tables = self.tables();
        let event_key = (order.tenant.clone(), order.event.clone());
        let order_key = (order.tenant.clone(), order.id);

        let already_sold: Vec<SeatId> = tables.sold.get(&event_key).map_or_else(Vec::new, |sold| {
            order
                .seats
                .iter()
                .filter(|s| sold.contains(&s.id))
                .map(|s| s.id.clone())
                .collect()
        });
        if !already_sold.is_empty() {
            return Err(CommitError::SeatsSold(already_sold));
        }
        let hold_ok = tables
            .holds
            .get(&(order.tenant.clone(), order.hold))
            .is_some_and(|hold| {
                hold.is_owned_by(&order.tenant, &order.customer) && hold.status_at(commit.now) == HoldStatus::Active
            });
        if !hold_ok || tables.orders.contains_key(&order_key) {
            return Err(CommitError::HoldNotActive);
        }
        let record = Self::live_record(&tables, commit.scope, commit.now);
        if !carries_lease(record, commit.lease) {
            return Err(CommitError::LeaseLost);
        }

        // Every condition holds: apply all writes together.
        tables
            .sold
            .entry(event_key)
            .or_default()
            .extend(order.seats.iter().map(|s| s.id.clone()));
        if let Some(hold) = tables.holds.get_mut(&(order.tenant.clone(), order.hold)) {
            hold.recorded_status = HoldStatus::Converted;
        }
        tables.orders.insert(order_key, order.clone());
        if let Some(record) = tables.idempotency.get_mut(commit.scope) {
            record.state = RecordState::Completed(commit.response.clone());
            record.expires_at = commit.record_expires_at;
        }
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<Order>, BackendError> {
        Ok(self.tables().orders.get(&(tenant.clone(), order)).cloned())
    }

    async fn sold_seats(&self, tenant: &TenantId, event: &EventId) -> Result<HashSet<SeatId>, BackendError> {
        Ok(self
            .tables()
            .sold
            .get(&(tenant.clone(), event.clone()))
            .cloned()
            .unwrap_or_default())
    }
}

#[async_trait]
impl ReadinessProbe for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn check(&self) -> Result<(), BackendError> {
        drop(self.tables());
        Ok(())
    }
}
