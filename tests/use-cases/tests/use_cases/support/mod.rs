//! Shared fixtures for the use-case tests: a world on the in-memory backend
//! with a manual clock and sequential ids, and short helpers per use case.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Test helpers; each binary uses a subset.

use std::sync::Arc;
use std::time::Duration;

use application::ports::{Claim, ClaimRequest, Clock, Ports, StoredResponse};
use application::use_cases::{CreateOrder, OrderResponses, StoredOutcome};
use application::{Rejection, Settings, UseCaseError, UseCases};
use domain::event::{Event, Seat, SeatStatus};
use domain::hold::Hold;
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, OrderSeed};
use domain::identity::{Identity, Role};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::order::{Buyer, Order};
use domain::time::Timestamp;
use memory_backend::{MemorySeatLocks, memory_ports_with_handles};
use system_runtime::{ManualClock, SequentialIds};

/// When the gig starts: 100 000 000 s (about three years) after the
/// clocks' start, [`test_doubles::EPOCH`].
pub const GIG_STARTS: Timestamp = Timestamp::from_millis(1_900_000_000_000);

pub struct World {
    pub use_cases: UseCases,
    pub clock: ManualClock,
    pub locks: Arc<MemorySeatLocks>,
}

pub fn world_with(adjust: impl FnOnce(&mut Ports, &ManualClock)) -> World {
    let clock = test_doubles::clock::manual_clock();
    let (mut ports, handles) = memory_ports_with_handles(Arc::new(clock.clone()), Arc::new(SequentialIds::default()));
    let locks = handles.seat_locks;
    adjust(&mut ports, &clock);
    World {
        use_cases: UseCases::new(ports, Settings::default()),
        clock,
        locks,
    }
}

pub fn world() -> World {
    world_with(|_, _| {})
}

pub fn caller(tenant: &str, customer: &str, roles: &[&str]) -> Identity {
    Identity {
        tenant: TenantId::parse(tenant).unwrap(),
        customer: CustomerId::parse(customer).unwrap(),
        roles: roles.iter().map(|r| Role::parse(r)).collect(),
    }
}

pub fn organizer() -> Identity {
    caller("acme", "boss", &["organizer"])
}
pub fn alice() -> Identity {
    caller("acme", "alice", &[])
}
pub fn bob() -> Identity {
    caller("acme", "bob", &[])
}

pub fn seats(names: &[&str]) -> Vec<SeatId> {
    names.iter().map(|n| SeatId::parse(n).unwrap()).collect()
}

pub fn gig() -> EventId {
    EventId::parse("gig").unwrap()
}

pub fn event_with(tenant: &str, prices: &[(&str, u64)], currency: &str) -> Event {
    Event::new(
        TenantId::parse(tenant).unwrap(),
        gig(),
        "The Gig",
        GIG_STARTS,
        Currency::parse(currency).unwrap(),
        prices
            .iter()
            .map(|(id, price)| Seat::new(SeatId::parse(id).unwrap(), Cents(*price)))
            .collect(),
    )
    .unwrap()
}

pub async fn with_event(world: &World) {
    let event = event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    world.use_cases.put_event(&organizer(), event).await.unwrap();
}

pub async fn hold(world: &World, who: &Identity, names: &[&str]) -> Result<Hold, UseCaseError> {
    world.use_cases.place_hold(who, &gig(), seats(names), None).await
}

/// Renders answers as short text so tests can compare bytes.
pub struct TextResponses;

impl OrderResponses for TextResponses {
    fn created(&self, order: &Order) -> StoredResponse {
        StoredResponse {
            status: 201,
            body: format!("order {} total {}", order.id, order.total.cents.0).into_bytes(),
            location: Some(format!("/orders/{}", order.id)),
        }
    }

    fn cancelled(&self, order: &Order) -> StoredResponse {
        StoredResponse {
            status: 200,
            body: format!("order {} cancelled", order.id).into_bytes(),
            location: None,
        }
    }

    fn rejected(&self, rejection: &Rejection) -> StoredResponse {
        StoredResponse {
            status: 409,
            body: format!("{rejection:?}").into_bytes(),
            location: None,
        }
    }
}

pub fn order_request(key: &str, fingerprint: u8, hold_id: HoldId) -> CreateOrder {
    CreateOrder {
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: Fingerprint([fingerprint; 32]),
        hold_id,
        buyer: Buyer::default(),
        time_budget: None,
    }
}

pub async fn order(
    world: &World,
    who: &Identity,
    key: &str,
    fingerprint: u8,
    hold_id: HoldId,
) -> Result<StoredOutcome, UseCaseError> {
    world
        .use_cases
        .create_order(who, order_request(key, fingerprint, hold_id), &TextResponses)
        .await
}

/// The answer this attempt gave (work done or not), not a replay.
pub fn fresh(outcome: Result<StoredOutcome, UseCaseError>) -> StoredResponse {
    match outcome {
        Ok(StoredOutcome::Done(response) | StoredOutcome::Answered(response)) => response,
        other => panic!("expected a fresh answer, got {other:?}"),
    }
}

pub fn body(response: &StoredResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

pub fn rejection(result: Result<impl std::fmt::Debug, UseCaseError>) -> Rejection {
    match result {
        Err(UseCaseError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

pub async fn statuses(world: &World) -> Vec<SeatStatus> {
    world
        .use_cases
        .get_availability(&alice(), &gig())
        .await
        .unwrap()
        .statuses
}

pub fn scope_of(who: &Identity, key: &str) -> IdempotencyScope {
    IdempotencyScope {
        tenant: who.tenant.clone(),
        customer: who.customer.clone(),
        operation: application::use_cases::CREATE_ORDER_OPERATION,
        key: IdempotencyKey::parse(key).unwrap(),
    }
}

/// An attempt that claimed the scope with a 30 s lease and then died.
/// A claim whose attempt then died; returns the record's order seed.
pub async fn crashed_attempt(w: &World, scope: &IdempotencyScope, fingerprint: Fingerprint) -> Option<OrderSeed> {
    let now = w.clock.now();
    let claim = w
        .use_cases
        .ports()
        .idempotency
        .claim(ClaimRequest {
            scope,
            fingerprint,
            lease: LeaseId(u128::MAX),
            lease_expires_at: now.plus(Duration::from_secs(30)),
            record_expires_at: now.plus(Duration::from_secs(86_400)),
            now,
        })
        .await
        .unwrap();
    match claim {
        Claim::Claimed { seed } => seed,
        Claim::Existing(record) => panic!("expected a claim, found {record:?}"),
    }
}

/// The seats sold in the gig, from the durable claims.
pub async fn sold_seats(w: &World) -> Vec<SeatId> {
    let mut sold: Vec<SeatId> = w
        .use_cases
        .ports()
        .holds
        .seat_claims(&alice().tenant, &gig(), w.clock.now())
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, claim)| *claim == domain::hold::SeatClaim::Sold)
        .map(|(seat, _)| seat)
        .collect();
    sold.sort_by_key(ToString::to_string);
    sold
}

/// A cancel-order request as the function builds it: the order is the request.
pub fn cancel_request(key: &str, order: OrderId) -> application::use_cases::CancelOrder {
    application::use_cases::CancelOrder {
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: fingerprint_of(order),
        order_id: order,
        time_budget: None,
    }
}

pub fn fingerprint_of(order: OrderId) -> Fingerprint {
    let bits = order.as_u128().to_be_bytes();
    let mut fingerprint = [0; 32];
    fingerprint[..16].copy_from_slice(&bits);
    fingerprint[16..].copy_from_slice(&bits);
    Fingerprint(fingerprint)
}
