//! The durable-store ports in memory, with DynamoDB's conditional semantics.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use application::ports::{
    BackendError, CancelError, ChangeMarks, Claim, ClaimRequest, CommitError, CustomerTally, EventCatalog,
    ExtendHoldError, HoldStore, IdempotencyRecord, IdempotencyStore, LeaseError, OrderCancellation, OrderCommit,
    OrderStore, PlaceHoldError, PutEventError, ReadinessProbe, RecordState, StoredEvent, StoredResponse,
};
use async_trait::async_trait;
use domain::event::Event;
use domain::hold::{Hold, HoldStatus, SeatClaim};
use domain::idempotency::{IdempotencyScope, LeaseId, OrderSeed, RecordPhase, may_claim};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

#[derive(Default)]
struct Tables {
    events: HashMap<(TenantId, EventId), (StoredEvent, ChangeMarks)>,
    holds: HashMap<(TenantId, HoldId), Hold>,
    orders: HashMap<(TenantId, OrderId), Order>,
    claims: HashMap<(TenantId, EventId), HashMap<SeatId, SeatClaim>>,
    /// The order each SOLD claim names, as DynamoDB's claim items do.
    sold_by: HashMap<(TenantId, EventId), HashMap<SeatId, OrderId>>,
    tallies: HashMap<(TenantId, EventId, CustomerId), CustomerTally>,
    idempotency: HashMap<IdempotencyScope, SeededRecord>,
    writes_since_sweep: usize,
}

/// An idempotency record and the order seed it was created with.
#[derive(Clone)]
struct SeededRecord {
    record: IdempotencyRecord,
    seed: OrderSeed,
}

/// Writes between two sweeps of what has run out.
const SWEEP_EVERY: usize = 1024;
/// How long a released or expired hold stays readable: a week, as DynamoDB
/// keeps it (its TTL). A converted hold is kept as long as its order.
const ENDED_HOLD_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl Tables {
    /// Drops what can no longer change an answer: lapsed claims, idempotency
    /// records past retention, released or expired holds a week after they
    /// ended (as DynamoDB's TTL would). Every
    /// [`SWEEP_EVERY`] writes, so a long-running dev server stays bounded.
    fn sweep_now_and_then(&mut self, now: Timestamp) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep < SWEEP_EVERY {
            return;
        }
        self.writes_since_sweep = 0;
        for claims in self.claims.values_mut() {
            claims.retain(|_, claim| claim.is_live(now));
        }
        self.claims.retain(|_, claims| !claims.is_empty());
        self.idempotency.retain(|_, seeded| seeded.record.expires_at > now);
        for tally in self.tallies.values_mut() {
            tally.seats.holds.retain(|entry| entry.until > now);
        }
        self.tallies
            .retain(|_, tally| !tally.seats.holds.is_empty() || !tally.seats.orders.is_empty());
        self.holds.retain(|_, hold| {
            matches!(hold.status_at(now), HoldStatus::Active | HoldStatus::Converted)
                || hold.claim_until().plus(ENDED_HOLD_RETENTION) > now
        });
    }

    /// The tally a counted hold or order of this customer belongs to.
    fn tally_of(&mut self, tenant: &TenantId, event: &EventId, customer: &CustomerId) -> &mut CustomerTally {
        self.tallies
            .entry((tenant.clone(), event.clone(), customer.clone()))
            .or_default()
    }

    /// Drops a counted hold's tally entry (released, abandoned or converted).
    fn uncount_hold(&mut self, hold: &Hold) {
        if hold.counts_toward_limit {
            let tally = self.tally_of(&hold.tenant, &hold.event, &hold.customer);
            tally.seats.holds.retain(|counted| counted.hold != hold.id);
        }
    }

    /// How many entries are kept, for the soak test.
    fn entries(&self) -> usize {
        self.events.len()
            + self.holds.len()
            + self.orders.len()
            + self.claims.values().map(HashMap::len).sum::<usize>()
            + self.idempotency.len()
            + self.tallies.len()
    }
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

    /// Place, with the tally check of a counted hold when `tally` is given.
    fn place_with(&self, hold: &Hold, now: Timestamp, tally: Option<&CustomerTally>) -> Result<(), PlaceHoldError> {
        let mut tables = self.tables();
        let key = (hold.tenant.clone(), hold.id);
        match tables.holds.get(&key) {
            Some(stored) if stored == hold => return Ok(()),
            Some(_) => {
                return Err(BackendError::new("memory", format!("hold {} already exists", hold.id)).into());
            }
            None => {}
        }
        let event_key = (hold.tenant.clone(), hold.event.clone());
        let claims = tables.claims.entry(event_key).or_default();
        let taken: Vec<(SeatId, SeatClaim)> = hold
            .seats
            .iter()
            .filter_map(|seat| {
                claims
                    .get(&seat.id)
                    .filter(|claim| claim.blocks(hold.id, now))
                    .map(|claim| (seat.id.clone(), *claim))
            })
            .collect();
        if !taken.is_empty() {
            return Err(PlaceHoldError::SeatsTaken(taken));
        }
        if let Some(read) = tally {
            let current = tables.tally_of(&hold.tenant, &hold.event, &hold.customer);
            if current.version != read.version {
                return Err(PlaceHoldError::TallyChanged);
            }
            current.seats.holds.retain(|counted| counted.until > now);
            current.seats.holds.push(hold.counted());
            current.version += 1;
        }
        let claims = tables
            .claims
            .entry((hold.tenant.clone(), hold.event.clone()))
            .or_default();
        for seat in &hold.seats {
            claims.insert(seat.id.clone(), hold.claim());
        }
        tables.holds.insert(key, hold.clone());
        tables.sweep_now_and_then(now);
        Ok(())
    }

    /// How many entries (events, holds, orders, claims, records) are kept:
    /// bounded under a long soak because ended ones are swept.
    pub fn entries(&self) -> usize {
        self.tables().entries()
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

fn seat_of_hold(claim: Option<&SeatClaim>, hold: HoldId) -> bool {
    matches!(claim, Some(SeatClaim::HeldBy { hold: owner, .. }) if *owner == hold)
}

#[async_trait]
impl EventCatalog for MemoryStore {
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError> {
        Ok(self
            .tables()
            .events
            .get(&(tenant.clone(), event.clone()))
            .map(|(stored, _)| stored.clone()))
    }

    async fn put(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
    ) -> Result<u64, PutEventError> {
        let mut tables = self.tables();
        let key = (event.tenant.clone(), event.id.clone());
        let current = tables.events.get(&key).map(|(stored, marks)| (stored.version, *marks));
        if current.map(|(version, _)| version) != expected {
            return Err(PutEventError::VersionMismatch);
        }
        if under_freeze.is_some() && current.map(|(_, marks)| marks.frozen_until) != Some(under_freeze) {
            return Err(PutEventError::VersionMismatch);
        }
        let sold: Vec<SeatId> = held_repriced
            .iter()
            .filter(|seat| {
                tables
                    .claims
                    .get(&key)
                    .and_then(|claims| claims.get(*seat))
                    .is_some_and(|claim| *claim == SeatClaim::Sold)
            })
            .cloned()
            .collect();
        if !sold.is_empty() {
            return Err(PutEventError::SoldMeanwhile(sold));
        }
        let breaking = under_freeze.is_some();
        let version = expected.map_or(1, |v| v + 1);
        let breaking_version = match current {
            Some((_, marks)) if !breaking => marks.breaking_version,
            _ if breaking => version,
            _ => 0,
        };
        tables.events.insert(
            key,
            (
                StoredEvent {
                    event: event.clone(),
                    version,
                },
                ChangeMarks {
                    version,
                    breaking_version,
                    frozen_until: None,
                    starts_at: event.starts_at,
                },
            ),
        );
        Ok(version)
    }

    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError> {
        Ok(self
            .tables()
            .events
            .get(&(tenant.clone(), event.clone()))
            .map(|(_, marks)| *marks))
    }

    async fn freeze(
        &self,
        tenant: &TenantId,
        event: &EventId,
        version: u64,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, BackendError> {
        let mut tables = self.tables();
        match tables.events.get_mut(&(tenant.clone(), event.clone())) {
            Some((_, marks)) if marks.version == version && marks.frozen_until.is_none_or(|f| f <= now) => {
                marks.frozen_until = Some(until);
                Ok(true)
            }
            // Our own freeze, already in place (a resend).
            Some((_, marks)) => Ok(marks.version == version && marks.frozen_until == Some(until)),
            None => Ok(false),
        }
    }

    async fn unfreeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        self.break_freeze(tenant, event, until).await
    }

    async fn break_freeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        if let Some((_, marks)) = self.tables().events.get_mut(&(tenant.clone(), event.clone()))
            && marks.frozen_until == Some(until)
        {
            marks.frozen_until = None;
        }
        Ok(())
    }
}

#[async_trait]
impl HoldStore for MemoryStore {
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        self.place_with(hold, now, None)
    }

    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        self.place_with(hold, now, Some(tally))
    }

    async fn customer_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> Result<CustomerTally, BackendError> {
        Ok(self
            .tables()
            .tallies
            .get(&(tenant.clone(), event.clone(), customer.clone()))
            .cloned()
            .unwrap_or_default())
    }

    async fn forget_in_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError> {
        if let Some(tally) = self
            .tables()
            .tallies
            .get_mut(&(tenant.clone(), event.clone(), customer.clone()))
        {
            tally.seats.holds.retain(|entry| !holds.contains(&entry.hold));
            tally.seats.orders.retain(|entry| !orders.contains(&entry.order));
        }
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError> {
        Ok(self.tables().holds.get(&(tenant.clone(), hold)).cloned())
    }

    async fn release(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError> {
        let mut tables = self.tables();
        match tables.holds.get_mut(&(hold.tenant.clone(), hold.id)) {
            Some(stored) if stored.status_at(now) == HoldStatus::Active => {
                stored.recorded_status = HoldStatus::Released;
            }
            _ => return Ok(false),
        }
        free_claims_of(&mut tables, hold);
        tables.uncount_hold(hold);
        Ok(true)
    }

    async fn abandon_placement(&self, hold: &Hold, now: Timestamp) -> Result<(), BackendError> {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            self.tables().holds.entry((hold.tenant.clone(), hold.id))
        {
            let mut tombstone = hold.clone();
            tombstone.recorded_status = HoldStatus::Released;
            slot.insert(tombstone);
            return Ok(());
        }
        self.release(hold, now).await.map(drop)
    }

    async fn extend(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<(), ExtendHoldError> {
        let mut tables = self.tables();
        let Tables {
            holds, claims, tallies, ..
        } = &mut *tables;
        let Some(stored) = holds.get_mut(&(hold.tenant.clone(), hold.id)) else {
            return Err(ExtendHoldError::HoldChanged);
        };
        if stored.status_at(now) != HoldStatus::Active
            || (stored.expires_at != hold.expires_at && stored.expires_at != expires_at)
        {
            return Err(ExtendHoldError::HoldChanged);
        }
        let claims = claims.entry((hold.tenant.clone(), hold.event.clone())).or_default();
        let taken: Vec<SeatId> = hold
            .seats
            .iter()
            .filter(|seat| claims.get(&seat.id).is_some_and(|claim| claim.blocks(hold.id, now)))
            .map(|seat| seat.id.clone())
            .collect();
        if !taken.is_empty() {
            return Err(ExtendHoldError::SeatsTaken(taken));
        }
        if stored.counts_toward_limit
            && tallies
                .get(&(hold.tenant.clone(), hold.event.clone(), hold.customer.clone()))
                .is_none_or(|tally| tally.seats.holds.iter().all(|entry| entry.hold != hold.id))
        {
            return Err(BackendError::new("memory", "the hold was counted out of its customer's tally").into());
        }
        stored.expires_at = expires_at;
        let claim = stored.claim();
        let counted = stored.counts_toward_limit.then(|| stored.counted());
        for seat in &hold.seats {
            claims.insert(seat.id.clone(), claim);
        }
        if let Some(counted) = counted {
            let tally = tables.tally_of(&hold.tenant, &hold.event, &hold.customer);
            tally.seats.holds.retain(|entry| entry.hold != hold.id);
            tally.seats.holds.push(counted);
            tally.version += 1;
        }
        Ok(())
    }

    async fn free_claims(&self, hold: &Hold) -> Result<(), BackendError> {
        free_claims_of(&mut self.tables(), hold);
        Ok(())
    }

    async fn claims_of(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<Option<SeatClaim>>, BackendError> {
        let tables = self.tables();
        let claims = tables.claims.get(&(tenant.clone(), event.clone()));
        Ok(seats
            .iter()
            .map(|seat| claims.and_then(|c| c.get(seat)).copied())
            .collect())
    }

    async fn seat_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError> {
        let tables = self.tables();
        Ok(tables
            .claims
            .get(&(tenant.clone(), event.clone()))
            .map(|claims| {
                claims
                    .iter()
                    .filter(|(_, claim)| claim.is_live(now))
                    .map(|(seat, claim)| (seat.clone(), *claim))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Removes the claims that still name `hold` (not sold ones).
fn free_claims_of(tables: &mut Tables, hold: &Hold) {
    if let Some(claims) = tables.claims.get_mut(&(hold.tenant.clone(), hold.event.clone())) {
        for seat in &hold.seats {
            if seat_of_hold(claims.get(&seat.id), hold.id) {
                claims.remove(&seat.id);
            }
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        let mut tables = self.tables();
        let existing = tables.idempotency.get(request.scope).cloned();
        let seed = match existing {
            None => OrderSeed(request.lease.0),
            Some(seeded) if carries_lease(Some(&seeded.record), request.lease) => {
                return Ok(Claim::Claimed {
                    seed: Some(seeded.seed),
                });
            }
            Some(seeded) => {
                let record = &seeded.record;
                if !may_claim(Some((phase(record), record.expires_at)), request.now) {
                    return Ok(Claim::Existing(seeded.record));
                }
                if record.expires_at <= request.now {
                    // Retention over: the key starts a new life with a new seed.
                    OrderSeed(request.lease.0)
                } else if record.fingerprint == request.fingerprint {
                    // A lapsed lease of the same request: take over its seed.
                    seeded.seed
                } else {
                    return Ok(Claim::Existing(seeded.record));
                }
            }
        };
        tables.idempotency.insert(
            request.scope.clone(),
            SeededRecord {
                record: IdempotencyRecord {
                    fingerprint: request.fingerprint,
                    state: RecordState::InProgress {
                        lease: request.lease,
                        lease_expires_at: request.lease_expires_at,
                    },
                    expires_at: request.record_expires_at,
                },
                seed,
            },
        );
        tables.sweep_now_and_then(request.now);
        Ok(Claim::Claimed { seed: Some(seed) })
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError> {
        let mut tables = self.tables();
        let Some(seeded) = tables.idempotency.get_mut(scope) else {
            return Err(LeaseError::LeaseLost);
        };
        if matches!(&seeded.record.state, RecordState::Completed(stored) if stored == response) {
            return Ok(());
        }
        if !carries_lease(Some(&seeded.record), lease) {
            return Err(LeaseError::LeaseLost);
        }
        seeded.record.state = RecordState::Completed(response.clone());
        seeded.record.expires_at = record_expires_at;
        Ok(())
    }

    async fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError> {
        let mut tables = self.tables();
        if carries_lease(tables.idempotency.get(scope).map(|s| &s.record), lease) {
            tables.idempotency.remove(scope);
        }
        Ok(())
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        let order = commit.order;
        let now = commit.clock.now();
        let mut tables = self.tables();
        let event_key = (order.tenant.clone(), order.event.clone());
        let order_key = (order.tenant.clone(), order.id);

        let record = tables.idempotency.get(commit.scope).map(|s| &s.record);
        if matches!(record, Some(IdempotencyRecord { state: RecordState::Completed(stored), .. }) if stored == commit.response)
        {
            return Ok(());
        }
        let claims = tables.claims.get(&event_key);
        let taken: Vec<SeatId> = order
            .seats
            .iter()
            .filter(|seat| {
                // No claim at all: a hold placed before claims existed (ADR 12).
                let claim = claims.and_then(|c| c.get(&seat.id));
                claim.is_some() && !seat_of_hold(claim, order.hold)
            })
            .map(|seat| seat.id.clone())
            .collect();
        if !taken.is_empty() {
            return Err(CommitError::SeatsTaken(taken));
        }
        let hold_ok = tables
            .holds
            .get(&(order.tenant.clone(), order.hold))
            .is_some_and(|hold| {
                hold.is_owned_by(&order.tenant, &order.customer) && hold.status_at(now) == HoldStatus::Active
            });
        // A counted hold whose tally entry is gone was counted out: not active.
        let counted_out = order.counts_toward_limit
            && tables
                .tallies
                .get(&(order.tenant.clone(), order.event.clone(), order.customer.clone()))
                .is_none_or(|tally| tally.seats.holds.iter().all(|entry| entry.hold != order.hold));
        if !hold_ok || counted_out || tables.orders.contains_key(&order_key) {
            return Err(CommitError::HoldNotActive);
        }
        let live = record.filter(|record| record.expires_at > now);
        if !carries_lease(live, commit.lease) {
            return Err(CommitError::LeaseLost);
        }

        // Every condition holds: apply all writes together.
        let claims = tables.claims.entry(event_key.clone()).or_default();
        for seat in &order.seats {
            claims.insert(seat.id.clone(), SeatClaim::Sold);
        }
        let sold_by = tables.sold_by.entry(event_key).or_default();
        for seat in &order.seats {
            sold_by.insert(seat.id.clone(), order.id);
        }
        if let Some(hold) = tables.holds.get_mut(&(order.tenant.clone(), order.hold)) {
            hold.recorded_status = HoldStatus::Converted;
        }
        if order.counts_toward_limit {
            let tally = tables.tally_of(&order.tenant, &order.event, &order.customer);
            tally.seats.holds.retain(|entry| entry.hold != order.hold);
            tally.seats.orders.push(order.counted());
            tally.version += 1;
        }
        tables.orders.insert(order_key, order.clone());
        if let Some(seeded) = tables.idempotency.get_mut(commit.scope) {
            seeded.record.state = RecordState::Completed(commit.response.clone());
            seeded.record.expires_at = commit.record_expires_at;
        }
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<Order>, BackendError> {
        Ok(self.tables().orders.get(&(tenant.clone(), order)).cloned())
    }

    async fn cancel(&self, cancellation: OrderCancellation<'_>) -> Result<(), CancelError> {
        let order = cancellation.order;
        let mut tables = self.tables();
        let record = tables.idempotency.get(cancellation.scope).map(|s| &s.record);
        if matches!(record, Some(IdempotencyRecord { state: RecordState::Completed(stored), .. }) if stored == cancellation.response)
        {
            return Ok(());
        }
        let order_key = (order.tenant.clone(), order.id);
        if tables.orders.get(&order_key).is_none_or(|o| o.cancelled_at.is_some()) {
            return Err(CancelError::AlreadyCancelled);
        }
        let live = record.filter(|record| record.expires_at > cancellation.cancelled_at);
        if !carries_lease(live, cancellation.lease) {
            return Err(CancelError::LeaseLost);
        }

        // Each seat is unclaimed or sold by this very order (DynamoDB's
        // condition on the claim's orderId); anything else is corruption.
        let event_key = (order.tenant.clone(), order.event.clone());
        let claims = tables.claims.get(&event_key);
        let sold_by = tables.sold_by.get(&event_key);
        let foreign = order
            .seats
            .iter()
            .any(|seat| match claims.and_then(|c| c.get(&seat.id)) {
                None => false,
                Some(SeatClaim::Sold) => sold_by.and_then(|s| s.get(&seat.id)) != Some(&order.id),
                Some(_) => true,
            });
        if foreign {
            return Err(CancelError::Backend(BackendError::new(
                "memory",
                "a seat of a confirmed order is claimed or recorded sold by something else",
            )));
        }

        // Every condition holds: apply all writes together.
        if let Some(claims) = tables.claims.get_mut(&event_key) {
            for seat in &order.seats {
                claims.remove(&seat.id);
            }
        }
        if let Some(sold_by) = tables.sold_by.get_mut(&event_key) {
            for seat in &order.seats {
                sold_by.remove(&seat.id);
            }
        }
        if let Some(stored) = tables.orders.get_mut(&order_key) {
            stored.cancelled_at = Some(cancellation.cancelled_at);
        }
        if order.counts_toward_limit {
            let tally = tables.tally_of(&order.tenant, &order.event, &order.customer);
            tally.seats.orders.retain(|entry| entry.order != order.id);
        }
        if let Some(seeded) = tables.idempotency.get_mut(cancellation.scope) {
            seeded.record.state = RecordState::Completed(cancellation.response.clone());
            seeded.record.expires_at = cancellation.record_expires_at;
        }
        Ok(())
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
