//! The durable-store contracts (`EventCatalog`, `HoldStore`,
//! `IdempotencyStore`, `OrderStore`), case by case.

use std::time::Duration;

use application::ports::{
    Claim, ClaimRequest, CommitError, IdempotencyRecord, LeaseError, OrderCommit, PutEventError, RecordState,
    StoredResponse,
};
use domain::event::{Event, Seat};
use domain::hold::{HeldSeat, Hold, HoldStatus};
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId};
use domain::ids::{CustomerId, HoldId, OrderId, TenantId};
use domain::money::{Cents, Currency};
use domain::order::{Buyer, Order};
use domain::time::Timestamp;

use crate::{StoreFixture, event_id, seats, unique_tenant};

const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);
const SECOND: Duration = Duration::from_secs(1);

fn event(tenant: &TenantId, seat_count: usize, price: u64) -> Event {
    let seats = (0..seat_count)
        .map(|i| Seat {
            id: domain::ids::SeatId::parse(&format!("S{i}")).unwrap(),
            price: Cents(price),
        })
        .collect();
    Event::new(
        tenant.clone(),
        event_id("gig"),
        "Gig",
        NOW,
        Currency::parse("EUR").unwrap(),
        seats,
    )
    .unwrap()
}

fn customer(name: &str) -> CustomerId {
    CustomerId::parse(name).unwrap()
}

fn new_hold(tenant: &TenantId, n: u64, seat_names: &[&str]) -> Hold {
    Hold::place(
        HoldId::parse(&format!("01890a5d-ac96-7{n:03x}-bcce-b302099a8057")).unwrap(),
        tenant.clone(),
        event_id("gig"),
        customer("alice"),
        seats(seat_names)
            .into_iter()
            .map(|id| HeldSeat { id, price: Cents(100) })
            .collect(),
        Currency::parse("EUR").unwrap(),
        NOW,
        Duration::from_secs(600),
    )
}

fn scope(tenant: &TenantId, key: &str) -> IdempotencyScope {
    IdempotencyScope {
        tenant: tenant.clone(),
        customer: customer("alice"),
        operation: "POST /orders",
        key: IdempotencyKey::parse(key).unwrap(),
    }
}

fn claim_at(scope: &IdempotencyScope, lease: u128, now: Timestamp) -> ClaimRequest<'_> {
    ClaimRequest {
        scope,
        fingerprint: Fingerprint([7; 32]),
        lease: LeaseId(lease),
        lease_expires_at: now.plus(30 * SECOND),
        record_expires_at: now.plus(3600 * SECOND),
        now,
    }
}

fn response(text: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        body: format!("{{\"answer\":\"{text}\",\"unicode\":\"é€\"}}").into_bytes(),
        location: Some(format!("/orders/{text}")),
    }
}

fn order_for(hold: &Hold, id: u128) -> Order {
    Order::from_hold(
        OrderId::from_u128(id),
        hold,
        Buyer {
            email: Some("a@example.com".into()),
            name: None,
        },
        NOW,
    )
    .unwrap()
}

async fn sold(f: &StoreFixture, tenant: &TenantId) -> Vec<String> {
    let mut sold: Vec<String> = f
        .orders
        .sold_seats(tenant, &event_id("gig"))
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    sold.sort();
    sold
}

async fn record(f: &StoreFixture, scope: &IdempotencyScope, now: Timestamp) -> IdempotencyRecord {
    match f.idempotency.claim(claim_at(scope, 999_999, now)).await.unwrap() {
        Claim::Existing(record) => record,
        Claim::Claimed => panic!("expected an existing record"),
    }
}

pub async fn an_event_round_trips_with_a_version_and_writes_are_optimistic(f: &StoreFixture) {
    let tenant = unique_tenant();
    let first = event(&tenant, 3, 100);
    assert_eq!(f.events.put(&first, None).await.unwrap(), 1);
    let stored = f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap();
    assert_eq!((stored.event, stored.version), (first.clone(), 1));
    assert!(matches!(
        f.events.put(&first, None).await,
        Err(PutEventError::VersionMismatch)
    ));
    let second = event(&tenant, 2, 250);
    assert_eq!(f.events.put(&second, Some(1)).await.unwrap(), 2);
    assert!(matches!(
        f.events.put(&second, Some(1)).await,
        Err(PutEventError::VersionMismatch)
    ));
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        second
    );
    assert!(
        f.events
            .get(&unique_tenant(), &event_id("gig"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn an_event_with_twenty_thousand_seats_round_trips(f: &StoreFixture) {
    let tenant = unique_tenant();
    let big = event(&tenant, 20_000, 123_456);
    f.events.put(&big, None).await.unwrap();
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        big
    );
    let small = event(&tenant, 5, 1);
    f.events.put(&small, Some(1)).await.unwrap();
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        small
    );
}

pub async fn a_hold_round_trips_and_is_invisible_to_other_tenants(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.insert(&hold).await.unwrap();
    assert_eq!(f.holds.get(&tenant, hold.id).await.unwrap(), Some(hold.clone()));
    f.holds
        .insert(&hold)
        .await
        .expect("a retried insert of the same hold succeeds");
    let mut impostor = new_hold(&tenant, 1, &["C"]);
    impostor.id = hold.id;
    assert!(f.holds.insert(&impostor).await.is_err(), "hold ids are never reused");
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap(),
        Some(hold.clone()),
        "the first hold stays"
    );
    assert_eq!(f.holds.get(&unique_tenant(), hold.id).await.unwrap(), None);
}

pub async fn releasing_is_conditional_on_an_active_unexpired_hold(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.insert(&hold).await.unwrap();
    assert!(f.holds.mark_released(&tenant, hold.id, NOW).await.unwrap());
    assert!(!f.holds.mark_released(&tenant, hold.id, NOW).await.unwrap());
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Released
    );
    let expired = new_hold(&tenant, 2, &["B"]);
    f.holds.insert(&expired).await.unwrap();
    assert!(
        !f.holds
            .mark_released(&tenant, expired.id, expired.expires_at)
            .await
            .unwrap()
    );
    assert!(
        !f.holds
            .mark_released(&tenant, new_hold(&tenant, 3, &["C"]).id, NOW)
            .await
            .unwrap()
    );
}

pub async fn a_claim_is_exclusive_until_its_lease_or_retention_runs_out(f: &StoreFixture) {
    let tenant = unique_tenant();
    let scope = scope(&tenant, "key:1#x{y}");
    assert_eq!(
        f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap(),
        Claim::Claimed
    );
    let existing = record(f, &scope, NOW.plus(29 * SECOND)).await;
    assert_eq!(existing.fingerprint, Fingerprint([7; 32]));
    assert_eq!(
        existing.state,
        RecordState::InProgress {
            lease: LeaseId(1),
            lease_expires_at: NOW.plus(30 * SECOND)
        }
    );
    let later = NOW.plus(30 * SECOND);
    assert_eq!(
        f.idempotency.claim(claim_at(&scope, 2, later)).await.unwrap(),
        Claim::Claimed,
        "takeover after the lease"
    );
    f.idempotency
        .complete(&scope, LeaseId(2), &response("x"), later.plus(60 * SECOND))
        .await
        .unwrap();
    assert!(matches!(
        record(f, &scope, later.plus(59 * SECOND)).await.state,
        RecordState::Completed(_)
    ));
    assert_eq!(
        f.idempotency
            .claim(claim_at(&scope, 3, later.plus(60 * SECOND)))
            .await
            .unwrap(),
        Claim::Claimed,
        "retention over"
    );
}

pub async fn a_completed_record_replays_its_exact_answer(f: &StoreFixture) {
    let tenant = unique_tenant();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let mut no_location = response("y");
    no_location.location = None;
    no_location.status = 404;
    f.idempotency
        .complete(&scope, LeaseId(1), &no_location, NOW.plus(3600 * SECOND))
        .await
        .unwrap();
    let replay = record(f, &scope, NOW.plus(SECOND)).await;
    assert_eq!(replay.state, RecordState::Completed(no_location));
    assert_eq!(replay.expires_at, NOW.plus(3600 * SECOND));
}

pub async fn completing_or_abandoning_needs_the_current_lease(f: &StoreFixture) {
    let tenant = unique_tenant();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let lost = f
        .idempotency
        .complete(&scope, LeaseId(2), &response("x"), NOW.plus(SECOND))
        .await;
    assert!(matches!(lost, Err(LeaseError::LeaseLost)), "{lost:?}");
    f.idempotency.abandon(&scope, LeaseId(2)).await.unwrap();
    assert!(
        matches!(record(f, &scope, NOW).await.state, RecordState::InProgress { .. }),
        "a foreign abandon is ignored"
    );
    f.idempotency.abandon(&scope, LeaseId(1)).await.unwrap();
    assert_eq!(
        f.idempotency.claim(claim_at(&scope, 3, NOW)).await.unwrap(),
        Claim::Claimed,
        "abandoned: free at once"
    );
    let unknown = scope_for_nobody(&tenant);
    assert!(matches!(
        f.idempotency.complete(&unknown, LeaseId(1), &response("x"), NOW).await,
        Err(LeaseError::LeaseLost)
    ));
}

fn scope_for_nobody(tenant: &TenantId) -> IdempotencyScope {
    scope(tenant, "never-claimed")
}

fn commit<'a>(
    order: &'a Order,
    scope: &'a IdempotencyScope,
    lease: u128,
    answer: &'a StoredResponse,
) -> OrderCommit<'a> {
    OrderCommit {
        order,
        scope,
        lease: LeaseId(lease),
        response: answer,
        record_expires_at: NOW.plus(3600 * SECOND),
        now: NOW.plus(SECOND),
    }
}

pub async fn a_commit_writes_order_sold_seats_hold_and_record_together(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.insert(&hold).await.unwrap();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let order = order_for(&hold, 42);
    let answer = response("42");
    f.orders.commit(commit(&order, &scope, 1, &answer)).await.unwrap();
    assert_eq!(f.orders.get(&tenant, order.id).await.unwrap(), Some(order.clone()));
    assert_eq!(f.orders.get(&unique_tenant(), order.id).await.unwrap(), None);
    assert_eq!(sold(f, &tenant).await, ["A", "B"]);
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Converted
    );
    assert_eq!(
        record(f, &scope, NOW.plus(2 * SECOND)).await.state,
        RecordState::Completed(answer)
    );
}

pub async fn a_commit_on_a_sold_seat_names_it_and_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let first = new_hold(&tenant, 1, &["A", "B"]);
    let second = new_hold(&tenant, 2, &["C", "B", "D", "A"]);
    f.holds.insert(&first).await.unwrap();
    f.holds.insert(&second).await.unwrap();
    let (s1, s2) = (scope(&tenant, "k1"), scope(&tenant, "k2"));
    f.idempotency.claim(claim_at(&s1, 1, NOW)).await.unwrap();
    f.idempotency.claim(claim_at(&s2, 2, NOW)).await.unwrap();
    let answer = response("a");
    f.orders
        .commit(commit(&order_for(&first, 1), &s1, 1, &answer))
        .await
        .unwrap();
    let refused = f.orders.commit(commit(&order_for(&second, 2), &s2, 2, &answer)).await;
    assert!(
        matches!(&refused, Err(CommitError::SeatsSold(s)) if *s == seats(&["B", "A"])),
        "{refused:?}"
    );
    assert_eq!(sold(f, &tenant).await, ["A", "B"]);
    assert_eq!(
        f.holds.get(&tenant, second.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Active
    );
    assert_eq!(f.orders.get(&tenant, OrderId::from_u128(2)).await.unwrap(), None);
    assert!(matches!(
        record(f, &s2, NOW).await.state,
        RecordState::InProgress { .. }
    ));
}

pub async fn a_commit_on_an_inactive_or_foreign_hold_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let released = new_hold(&tenant, 1, &["A"]);
    f.holds.insert(&released).await.unwrap();
    f.holds.mark_released(&tenant, released.id, NOW).await.unwrap();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let answer = response("a");
    let refused = f
        .orders
        .commit(commit(&order_for(&released, 1), &scope, 1, &answer))
        .await;
    assert!(matches!(refused, Err(CommitError::HoldNotActive)), "{refused:?}");

    let mut foreign = order_for(&new_hold(&tenant, 2, &["B"]), 2);
    f.holds.insert(&new_hold(&tenant, 2, &["B"])).await.unwrap();
    foreign.customer = customer("mallory");
    let refused = f.orders.commit(commit(&foreign, &scope, 1, &answer)).await;
    assert!(matches!(refused, Err(CommitError::HoldNotActive)), "{refused:?}");

    let expired = new_hold(&tenant, 3, &["C"]);
    f.holds.insert(&expired).await.unwrap();
    let late_order = order_for(&expired, 3);
    let mut late = commit(&late_order, &scope, 1, &answer);
    late.now = expired.expires_at;
    assert!(matches!(f.orders.commit(late).await, Err(CommitError::HoldNotActive)));
    assert!(sold(f, &tenant).await.is_empty());
}

pub async fn a_commit_without_the_lease_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.insert(&hold).await.unwrap();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let answer = response("a");
    let refused = f.orders.commit(commit(&order_for(&hold, 1), &scope, 2, &answer)).await;
    assert!(matches!(refused, Err(CommitError::LeaseLost)), "{refused:?}");
    assert!(sold(f, &tenant).await.is_empty());
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Active
    );
}
