//! Items written by the release before seat claims (ADR 12, expand step),
//! written here exactly as that release wrote them, then used by this one:
//! a live hold without claims can still be released or bought exactly once,
//! a seat it sold (`SOLD#<seat>` in the event partition) stays sold, and an
//! idempotency record without an order seed keeps the order id that release
//! derived.

use std::collections::HashMap;
use std::time::Duration;

use application::ports::{
    Claim, ClaimRequest, CommitError, HoldStore, IdempotencyStore, OrderCommit, OrderStore, PlaceHoldError,
    StoredResponse,
};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::hold::{HeldSeat, Hold, HoldStatus, SeatClaim};
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::order::{Buyer, Order};
use domain::time::Timestamp;
use dynamodb_store::DynamoStore;
use test_doubles::ManualClock;

const NOW: Timestamp = test_doubles::EPOCH;

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: i64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn seat(name: &str) -> SeatId {
    SeatId::parse(name).unwrap()
}

fn legacy_hold(tenant: &TenantId, n: u64, seats: &[&str]) -> Hold {
    Hold::place(
        HoldId::parse(&format!("01890a5d-ac96-7{n:03x}-bcce-b302099a8057")).unwrap(),
        tenant.clone(),
        EventId::parse("gig").unwrap(),
        CustomerId::parse("alice").unwrap(),
        seats
            .iter()
            .map(|id| HeldSeat {
                id: seat(id),
                price: Cents(100),
            })
            .collect(),
        Currency::parse("EUR").unwrap(),
        NOW,
        Duration::from_secs(600),
    )
}

/// The hold item as the previous release's `HoldStore::insert` wrote it: one
/// `PutItem`, no claims.
async fn write_legacy_hold(client: &aws_sdk_dynamodb::Client, table: &str, hold: &Hold) {
    let seats = AttributeValue::L(
        hold.seats
            .iter()
            .map(|held| {
                AttributeValue::M(HashMap::from([
                    ("id".to_owned(), s(held.id.as_ref())),
                    ("priceCents".to_owned(), n(i64::try_from(held.price.0).unwrap())),
                ]))
            })
            .collect(),
    );
    client
        .put_item()
        .table_name(table)
        .item("pk", s(&format!("T#{}#HOLD#{}", hold.tenant, hold.id)))
        .item("sk", s("HOLD"))
        .item("holdId", s(&hold.id.to_string()))
        .item("tenant", s(hold.tenant.as_ref()))
        .item("eventId", s("gig"))
        .item("customer", s("alice"))
        .item("seats", seats)
        .item("currency", s("EUR"))
        .item("status", s("ACTIVE"))
        .item("createdAt", n(hold.created_at.as_millis()))
        .item("expiresAtMs", n(hold.expires_at.as_millis()))
        .item("expiresAt", n(hold.expires_at.as_millis() / 1000 + 7 * 24 * 3600))
        .send()
        .await
        .unwrap();
}

/// A sold seat as the previous release's commit wrote it.
async fn write_legacy_sold(client: &aws_sdk_dynamodb::Client, table: &str, tenant: &TenantId, seat: &str) {
    client
        .put_item()
        .table_name(table)
        .item("pk", s(&format!("T#{tenant}#EVENT#gig")))
        .item("sk", s(&format!("SOLD#{seat}")))
        .item("orderId", s("00000000-0000-4000-8000-000000000001"))
        .send()
        .await
        .unwrap();
}

async fn store() -> (DynamoStore, aws_sdk_dynamodb::Client, String, test_backends::KeepAlive) {
    let (endpoint, emulator) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    (DynamoStore::new(client.clone(), table.clone()), client, table, emulator)
}

fn tenant() -> TenantId {
    TenantId::parse(&format!("t{}", uuid::Uuid::new_v4().simple())).unwrap()
}

fn scope(tenant: &TenantId, key: &str) -> IdempotencyScope {
    IdempotencyScope {
        tenant: tenant.clone(),
        customer: CustomerId::parse("alice").unwrap(),
        operation: "POST /orders",
        key: IdempotencyKey::parse(key).unwrap(),
    }
}

fn claim(scope: &IdempotencyScope, lease: u128, now: Timestamp) -> ClaimRequest<'_> {
    ClaimRequest {
        scope,
        fingerprint: Fingerprint([7; 32]),
        lease: LeaseId(lease),
        lease_expires_at: now.plus(Duration::from_secs(30)),
        record_expires_at: now.plus(Duration::from_secs(3600)),
        now,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_hold_without_claims_is_bought_exactly_once_and_its_seats_become_sold_claims() {
    let (store, client, table, _keep) = store().await;
    let tenant = tenant();
    let hold = legacy_hold(&tenant, 1, &["A1", "A2"]);
    write_legacy_hold(&client, &table, &hold).await;
    assert_eq!(
        HoldStore::get(&store, &tenant, hold.id).await.unwrap(),
        Some(hold.clone())
    );

    let scope = scope(&tenant, "k");
    store.claim(claim(&scope, 1, NOW)).await.unwrap();
    let order = Order::from_hold(OrderId::from_u128(9), &hold, Buyer::default(), NOW).unwrap();
    let answer = StoredResponse {
        status: 201,
        body: b"{}".to_vec(),
        location: None,
    };
    let at = ManualClock::starting_at(NOW.plus(Duration::from_secs(1)));
    let commit = || OrderCommit {
        order: &order,
        scope: &scope,
        lease: LeaseId(1),
        response: &answer,
        record_expires_at: NOW.plus(Duration::from_secs(3600)),
        clock: &at,
    };
    store.commit(commit()).await.unwrap();
    assert_eq!(
        HoldStore::get(&store, &tenant, hold.id)
            .await
            .unwrap()
            .unwrap()
            .recorded_status,
        HoldStatus::Converted
    );
    let claims = store.seat_claims(&tenant, &hold.event, NOW).await.unwrap();
    assert_eq!(claims.get(&seat("A1")), Some(&SeatClaim::Sold));
    assert_eq!(claims.get(&seat("A2")), Some(&SeatClaim::Sold));

    // A second hold of the previous release on the same seats cannot sell them again.
    let rival = legacy_hold(&tenant, 2, &["A2"]);
    write_legacy_hold(&client, &table, &rival).await;
    let rival_scope = self::scope(&tenant, "k2");
    store.claim(claim(&rival_scope, 2, NOW)).await.unwrap();
    let rival_order = Order::from_hold(OrderId::from_u128(10), &rival, Buyer::default(), NOW).unwrap();
    let refused = store
        .commit(OrderCommit {
            order: &rival_order,
            scope: &rival_scope,
            lease: LeaseId(2),
            response: &answer,
            record_expires_at: NOW.plus(Duration::from_secs(3600)),
            clock: &at,
        })
        .await;
    assert!(
        matches!(refused, Err(CommitError::SeatsTaken(ref s)) if *s == vec![seat("A2")]),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_without_claims_can_be_released_and_a_seat_sold_before_claims_stays_sold() {
    let (store, client, table, _keep) = store().await;
    let tenant = tenant();
    let hold = legacy_hold(&tenant, 1, &["A1"]);
    write_legacy_hold(&client, &table, &hold).await;
    assert!(
        store.release(&hold, NOW).await.unwrap(),
        "released without claims to free"
    );
    assert_eq!(
        HoldStore::get(&store, &tenant, hold.id)
            .await
            .unwrap()
            .unwrap()
            .recorded_status,
        HoldStatus::Released
    );

    write_legacy_sold(&client, &table, &tenant, "A9").await;
    let claims = store.seat_claims(&tenant, &hold.event, NOW).await.unwrap();
    assert_eq!(
        claims.get(&seat("A9")),
        Some(&SeatClaim::Sold),
        "availability says SOLD"
    );
    // A new hold on it is refused by the place transaction itself (I7), even
    // with Redis's sold marker gone.
    let mut late = legacy_hold(&tenant, 3, &["A8", "A9"]);
    late.id = HoldId::parse("01890a5d-ac96-7abc-bcce-b302099a8057").unwrap();
    let refused = store.place(&late, NOW).await;
    assert!(
        matches!(refused, Err(PlaceHoldError::SeatsTaken(ref taken)) if *taken == vec![(seat("A9"), SeatClaim::Sold)]),
        "{refused:?}"
    );
    assert_eq!(
        HoldStore::get(&store, &tenant, late.id).await.unwrap(),
        None,
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_an_order_seed_is_taken_over_with_no_seed_so_the_old_order_id_is_kept() {
    let (store, client, table, _keep) = store().await;
    let tenant = tenant();
    let scope = scope(&tenant, "crashed");
    // IN_PROGRESS, lease lapsed, as the previous release wrote it (no orderSeed).
    client
        .put_item()
        .table_name(&table)
        .item("pk", s(&format!("T#{tenant}#IDEM#alice#POST /orders#crashed")))
        .item("sk", s("IDEM"))
        .item("fingerprint", s(&Fingerprint([7; 32]).to_string()))
        .item("state", s("IN_PROGRESS"))
        .item("lease", s(&format!("{:032x}", 5_u128)))
        .item("leaseExpiresAt", n(NOW.as_millis()))
        .item("recordExpiresAt", n(NOW.plus(Duration::from_secs(3600)).as_millis()))
        .item("expiresAt", n(NOW.as_millis() / 1000 + 8 * 24 * 3600))
        .send()
        .await
        .unwrap();
    let taken = store
        .claim(claim(&scope, 6, NOW.plus(Duration::from_secs(1))))
        .await
        .unwrap();
    assert_eq!(taken, Claim::Claimed { seed: None });
}
