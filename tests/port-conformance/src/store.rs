//! The durable-store contracts (`EventCatalog`, `HoldStore`,
//! `IdempotencyStore`, `OrderStore`), case by case.

use std::sync::LazyLock;
use std::time::Duration;

use application::ports::{
    CancelError, ChangeMarks, Claim, ClaimRequest, CommitError, CustomerTally, ExtendHoldError, IdempotencyRecord,
    LeaseError, OrderCancellation, OrderCommit, PlaceHoldError, PutEventError, RecordState, StoredResponse,
};
use domain::event::{Event, Seat};
use domain::hold::{CLAIM_GRACE, HeldSeat, Hold, HoldStatus, SeatClaim};
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, OrderSeed};
use domain::ids::{CustomerId, HoldId, OrderId, TenantId};
use domain::money::{Cents, Currency};
use domain::order::{Buyer, Order};
use domain::time::Timestamp;

use test_doubles::ManualClock;

use crate::{StoreFixture, event_id, seats, unique_tenant};

const NOW: Timestamp = test_doubles::EPOCH;
const SECOND: Duration = Duration::from_secs(1);

fn event(tenant: &TenantId, seat_count: usize, price: u64) -> Event {
    let seats = (0..seat_count)
        .map(|i| Seat::new(domain::ids::SeatId::parse(&format!("S{i}")).unwrap(), Cents(price)))
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

/// The gig, starting a day after `NOW`, stored if it is not yet.
async fn ensure_gig(f: &StoreFixture, tenant: &TenantId) {
    let mut gig = event(tenant, 3, 100);
    gig.starts_at = NOW.plus(Duration::from_secs(24 * 3600));
    match f.events.put(&gig, None, None, &[]).await {
        Ok(_) | Err(PutEventError::VersionMismatch) => {}
        Err(error) => panic!("{error}"),
    }
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

/// The clock of the instance committing: a second after [`NOW`].
static COMMIT_CLOCK: LazyLock<ManualClock> = LazyLock::new(|| ManualClock::starting_at(NOW.plus(SECOND)));

async fn sold(f: &StoreFixture, tenant: &TenantId) -> Vec<String> {
    let claims = f.holds.seat_claims(tenant, &event_id("gig"), NOW).await.unwrap();
    let mut sold: Vec<String> = claims
        .iter()
        .filter(|(_, claim)| **claim == SeatClaim::Sold)
        .map(|(seat, _)| seat.to_string())
        .collect();
    sold.sort();
    sold
}

/// The seats with a live claim at `now`, sorted.
async fn claimed(f: &StoreFixture, tenant: &TenantId, now: Timestamp) -> Vec<String> {
    let mut claimed: Vec<String> = f
        .holds
        .seat_claims(tenant, &event_id("gig"), now)
        .await
        .unwrap()
        .keys()
        .map(ToString::to_string)
        .collect();
    claimed.sort();
    claimed
}

async fn record(f: &StoreFixture, scope: &IdempotencyScope, now: Timestamp) -> IdempotencyRecord {
    // A lease id nobody else uses and another fingerprint: never claims.
    let mut request = claim_at(scope, 999_999, now);
    request.fingerprint = Fingerprint([9; 32]);
    match f.idempotency.claim(request).await.unwrap() {
        Claim::Existing(record) => record,
        Claim::Claimed { .. } => panic!("expected an existing record"),
    }
}

fn claimed_fresh(claim: &Claim) -> Option<OrderSeed> {
    match claim {
        Claim::Claimed { seed } => *seed,
        Claim::Existing(record) => panic!("expected a claim, found {record:?}"),
    }
}

pub async fn an_event_round_trips_with_a_version_and_writes_are_optimistic(f: &StoreFixture) {
    let tenant = unique_tenant();
    let first = event(&tenant, 3, 100);
    assert_eq!(f.events.put(&first, None, None, &[]).await.unwrap(), 1);
    let stored = f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap();
    assert_eq!((stored.event, stored.version), (first.clone(), 1));
    assert!(matches!(
        f.events.put(&first, None, None, &[]).await,
        Err(PutEventError::VersionMismatch)
    ));
    let second = event(&tenant, 2, 250);
    assert_eq!(f.events.put(&second, Some(1), None, &[]).await.unwrap(), 2);
    assert!(matches!(
        f.events.put(&second, Some(1), None, &[]).await,
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

pub async fn change_marks_record_breaking_versions_and_a_freeze_is_exclusive_until_a_put_ends_it(f: &StoreFixture) {
    let tenant = unique_tenant();
    let gig = event_id("gig");
    assert_eq!(f.events.change_marks(&tenant, &gig).await.unwrap(), None);
    f.events.put(&event(&tenant, 3, 100), None, None, &[]).await.unwrap();
    let marks = |version, breaking_version, frozen_until| ChangeMarks {
        version,
        breaking_version,
        frozen_until,
        starts_at: NOW,
    };
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, None))
    );
    let until = NOW.plus(10 * SECOND);
    assert!(
        !f.events.freeze(&tenant, &gig, 2, until, NOW).await.unwrap(),
        "only at the version read"
    );
    assert!(f.events.freeze(&tenant, &gig, 1, until, NOW).await.unwrap());
    assert!(
        !f.events
            .freeze(&tenant, &gig, 1, until.plus(SECOND), NOW)
            .await
            .unwrap(),
        "one freeze at a time"
    );
    assert!(
        f.events.freeze(&tenant, &gig, 1, until, NOW).await.unwrap(),
        "a resend of this very freeze (its first reply lost) is ours"
    );
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, Some(until)))
    );
    assert!(
        f.events
            .freeze(&tenant, &gig, 1, until.plus(SECOND), until)
            .await
            .unwrap(),
        "a run-out freeze is no freeze"
    );
    f.events.unfreeze(&tenant, &gig, until).await.unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, Some(until.plus(SECOND)))),
        "an unfreeze leaves another replacement's freeze alone"
    );
    f.events.unfreeze(&tenant, &gig, until.plus(SECOND)).await.unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, None))
    );

    f.events.freeze(&tenant, &gig, 1, until, NOW).await.unwrap();
    assert!(
        matches!(
            f.events
                .put(&event(&tenant, 2, 100), Some(1), Some(until.plus(SECOND)), &[])
                .await,
            Err(PutEventError::VersionMismatch)
        ),
        "a breaking put needs its own freeze"
    );
    f.events
        .put(&event(&tenant, 2, 100), Some(1), Some(until), &[])
        .await
        .unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(2, 2, None)),
        "the put ends the freeze"
    );
    f.events.put(&event(&tenant, 4, 100), Some(2), None, &[]).await.unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(3, 2, None)),
        "a harmless change keeps the last breaking version"
    );
}

/// A hold that goes on past a lapsed freeze breaks it first (ADR 12): only
/// that freeze, idempotently, and its writer's put then loses.
pub async fn a_broken_freeze_fences_its_writer_out(f: &StoreFixture) {
    let tenant = unique_tenant();
    let gig = event_id("gig");
    f.events.put(&event(&tenant, 3, 100), None, None, &[]).await.unwrap();
    let marks = |version, breaking_version, frozen_until| ChangeMarks {
        version,
        breaking_version,
        frozen_until,
        starts_at: NOW,
    };
    let until = NOW.plus(10 * SECOND);
    // A lapsed freeze broken by a hold: its writer can no longer land.
    f.events.freeze(&tenant, &gig, 1, until, NOW).await.unwrap();
    f.events.break_freeze(&tenant, &gig, until.plus(SECOND)).await.unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, Some(until))),
        "only the freeze named is broken"
    );
    f.events.break_freeze(&tenant, &gig, until).await.unwrap();
    f.events.break_freeze(&tenant, &gig, until).await.unwrap();
    assert_eq!(
        f.events.change_marks(&tenant, &gig).await.unwrap(),
        Some(marks(1, 0, None)),
        "broken, and breaking it again is a no-op"
    );
    assert!(
        matches!(
            f.events.put(&event(&tenant, 2, 100), Some(1), Some(until), &[]).await,
            Err(PutEventError::VersionMismatch)
        ),
        "the writer of a broken freeze loses, however late it arrives"
    );
}

pub async fn an_event_with_twenty_thousand_seats_round_trips(f: &StoreFixture) {
    let tenant = unique_tenant();
    let big = event(&tenant, 20_000, 123_456);
    f.events.put(&big, None, None, &[]).await.unwrap();
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        big
    );
    let small = event(&tenant, 5, 1);
    f.events.put(&small, Some(1), None, &[]).await.unwrap();
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        small
    );
}

/// The largest event the rules allow: 20 000 seats with 32-character ids,
/// the highest price and number, and labels of the most bytes (ADR 15).
pub async fn an_event_with_the_largest_seat_map_round_trips(f: &StoreFixture) {
    use domain::seat_map::{MAX_LABEL_BYTES, MAX_SEAT_NUMBER, SeatLabel, SeatPlace};
    let tenant = unique_tenant();
    let label = |tag: u32| {
        let text = format!("{tag:0>8}{}", "é".repeat((MAX_LABEL_BYTES - 8) / 2));
        Some(SeatLabel::parse(&text).unwrap())
    };
    let seats = (0..20_000_u32)
        .map(|i| {
            let mut seat = Seat::new(
                domain::ids::SeatId::parse(&format!("{i:0>32}")).unwrap(),
                Cents(domain::event::MAX_PRICE_CENTS),
            );
            seat.place = SeatPlace {
                section: label(i / 1000),
                row: label(i),
                number: Some(MAX_SEAT_NUMBER - i % 1000),
                category: label(i % 7),
            };
            seat
        })
        .collect();
    let big = Event::new(
        tenant.clone(),
        event_id("gig"),
        "Gig",
        NOW,
        Currency::parse("EUR").unwrap(),
        seats,
    )
    .unwrap();
    f.events.put(&big, None, None, &[]).await.unwrap();
    assert_eq!(
        f.events.get(&tenant, &event_id("gig")).await.unwrap().unwrap().event,
        big
    );
}

pub async fn a_hold_round_trips_and_is_invisible_to_other_tenants(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.place(&hold, NOW).await.unwrap();
    assert_eq!(f.holds.get(&tenant, hold.id).await.unwrap(), Some(hold.clone()));
    f.holds
        .place(&hold, NOW)
        .await
        .expect("a retried place of the same hold succeeds");
    let mut impostor = new_hold(&tenant, 1, &["C"]);
    impostor.id = hold.id;
    assert!(
        f.holds.place(&impostor, NOW).await.is_err(),
        "hold ids are never reused"
    );
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap(),
        Some(hold.clone()),
        "the first hold stays"
    );
    assert_eq!(
        claimed(f, &tenant, NOW).await,
        ["A", "B"],
        "the impostor claimed nothing"
    );
    assert_eq!(f.holds.get(&unique_tenant(), hold.id).await.unwrap(), None);
    assert!(claimed(f, &unique_tenant(), NOW).await.is_empty());
}

pub async fn placing_claims_every_seat_or_none_and_names_what_claims_them(f: &StoreFixture) {
    let tenant = unique_tenant();
    let first = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.place(&first, NOW).await.unwrap();
    let overlapping = new_hold(&tenant, 2, &["C", "B", "D", "A"]);
    let refused = f.holds.place(&overlapping, NOW.plus(SECOND)).await;
    match refused {
        Err(PlaceHoldError::SeatsTaken(taken)) => assert_eq!(
            taken,
            vec![
                (seats(&["B"])[0].clone(), first.claim()),
                (seats(&["A"])[0].clone(), first.claim())
            ]
        ),
        other => panic!("expected SeatsTaken, got {other:?}"),
    }
    assert_eq!(
        f.holds.get(&tenant, overlapping.id).await.unwrap(),
        None,
        "no hold written"
    );
    assert_eq!(claimed(f, &tenant, NOW).await, ["A", "B"], "C and D stay free");
    assert_eq!(
        f.holds
            .claims_of(&tenant, &event_id("gig"), &seats(&["B", "C"]))
            .await
            .unwrap(),
        vec![Some(first.claim()), None]
    );

    // The first hold's claims count until its expiry plus the grace.
    let lapsed = first.claim_until();
    let late = new_hold(&tenant, 3, &["A"]);
    assert!(matches!(
        f.holds.place(&late, first.expires_at).await,
        Err(PlaceHoldError::SeatsTaken(_))
    ));
    assert_eq!(first.claim_until(), first.expires_at.plus(CLAIM_GRACE));
    let mut after = new_hold(&tenant, 4, &["A", "C"]);
    after.expires_at = lapsed.plus(Duration::from_secs(600));
    f.holds.place(&after, lapsed).await.expect("a run-out claim is free");
    assert_eq!(
        f.holds
            .claims_of(&tenant, &event_id("gig"), &seats(&["A"]))
            .await
            .unwrap(),
        vec![Some(after.claim())]
    );
}

pub async fn an_abandoned_placement_never_leaves_an_active_hold_whether_or_not_it_had_landed(f: &StoreFixture) {
    let tenant = unique_tenant();
    // Landed (its reply was lost): released, claims freed.
    let landed = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&landed, NOW).await.unwrap();
    f.holds.abandon_placement(&landed, NOW).await.unwrap();
    assert_eq!(
        f.holds.get(&tenant, landed.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Released
    );
    // Not landed yet: a tombstone, so the placement in flight can never land.
    let in_flight = new_hold(&tenant, 2, &["B"]);
    f.holds.abandon_placement(&in_flight, NOW).await.unwrap();
    assert!(
        f.holds.place(&in_flight, NOW).await.is_err(),
        "the late placement is refused"
    );
    assert_eq!(
        f.holds
            .get(&tenant, in_flight.id)
            .await
            .unwrap()
            .unwrap()
            .recorded_status,
        HoldStatus::Released
    );
    assert!(claimed(f, &tenant, NOW).await.is_empty(), "nothing stays claimed");
}

pub async fn releasing_is_conditional_on_an_active_unexpired_hold_and_frees_its_claims(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&hold, NOW).await.unwrap();
    assert!(f.holds.release(&hold, NOW).await.unwrap());
    assert!(claimed(f, &tenant, NOW).await.is_empty(), "free at once");
    assert!(!f.holds.release(&hold, NOW).await.unwrap());
    assert_eq!(
        f.holds.get(&tenant, hold.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Released
    );
    let next = new_hold(&tenant, 5, &["A"]);
    f.holds
        .place(&next, NOW)
        .await
        .expect("a released seat can be held again");
    f.holds.free_claims(&hold).await.unwrap();
    assert_eq!(claimed(f, &tenant, NOW).await, ["A"], "another hold's claim stays");

    let expired = new_hold(&tenant, 2, &["B"]);
    f.holds.place(&expired, NOW).await.unwrap();
    assert!(!f.holds.release(&expired, expired.expires_at).await.unwrap());
    assert!(!f.holds.release(&new_hold(&tenant, 3, &["C"]), NOW).await.unwrap());
}

pub async fn a_claim_is_exclusive_until_its_lease_or_retention_runs_out(f: &StoreFixture) {
    let tenant = unique_tenant();
    let scope = scope(&tenant, "key:1#x{y}");
    let seed = claimed_fresh(&f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap());
    assert!(seed.is_some(), "a fresh record gets a seed");
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
    let mut other_body = claim_at(&scope, 4, later);
    other_body.fingerprint = Fingerprint([8; 32]);
    assert!(
        matches!(f.idempotency.claim(other_body).await.unwrap(), Claim::Existing(_)),
        "a takeover needs the same request"
    );
    assert_eq!(
        claimed_fresh(&f.idempotency.claim(claim_at(&scope, 2, later)).await.unwrap()),
        seed,
        "takeover after the lease keeps the seed"
    );
    f.idempotency
        .complete(&scope, LeaseId(2), &response("x"), later.plus(60 * SECOND))
        .await
        .unwrap();
    assert!(matches!(
        record(f, &scope, later.plus(59 * SECOND)).await.state,
        RecordState::Completed(_)
    ));
    let reborn = claimed_fresh(
        &f.idempotency
            .claim(claim_at(&scope, 3, later.plus(60 * SECOND)))
            .await
            .unwrap(),
    );
    assert!(
        reborn.is_some() && reborn != seed,
        "retention over: a new life, a new seed"
    );
}

pub async fn a_write_retried_after_it_was_applied_is_recognised_as_ours(f: &StoreFixture) {
    let tenant = unique_tenant();
    let scope = scope(&tenant, "k");
    let seed = claimed_fresh(&f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap());
    assert_eq!(
        claimed_fresh(
            &f.idempotency
                .claim(claim_at(&scope, 1, NOW.plus(SECOND)))
                .await
                .unwrap()
        ),
        seed,
        "a claim that finds its own lease is ours"
    );
    let answer = response("404");
    f.idempotency
        .complete(&scope, LeaseId(1), &answer, NOW.plus(3600 * SECOND))
        .await
        .unwrap();
    f.idempotency
        .complete(&scope, LeaseId(1), &answer, NOW.plus(3600 * SECOND))
        .await
        .expect("completing again with the same answer succeeds");
    assert!(matches!(
        f.idempotency
            .complete(&scope, LeaseId(1), &response("other"), NOW.plus(3600 * SECOND))
            .await,
        Err(LeaseError::LeaseLost)
    ));

    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&hold, NOW).await.unwrap();
    let order_scope = self::scope(&tenant, "order");
    f.idempotency.claim(claim_at(&order_scope, 2, NOW)).await.unwrap();
    let order = order_for(&hold, 7);
    let created = response("7");
    f.orders
        .commit(commit(&order, &order_scope, 2, &created))
        .await
        .unwrap();
    f.orders
        .commit(commit(&order, &order_scope, 2, &created))
        .await
        .expect("a commit sent again after it was applied succeeds");
    assert_eq!(sold(f, &tenant).await, ["A"]);
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
    assert!(
        matches!(
            f.idempotency.claim(claim_at(&scope, 3, NOW)).await.unwrap(),
            Claim::Claimed { .. }
        ),
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
        clock: &*COMMIT_CLOCK,
    }
}

pub async fn a_commit_writes_order_sold_seats_hold_and_record_together(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.place(&hold, NOW).await.unwrap();
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
    let far_future = NOW.plus(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(claimed(f, &tenant, far_future).await, ["A", "B"], "sold is forever");
    assert!(matches!(
        f.holds.place(&new_hold(&tenant, 9, &["B"]), far_future).await,
        Err(PlaceHoldError::SeatsTaken(taken)) if taken == vec![(seats(&["B"])[0].clone(), SeatClaim::Sold)]
    ));
}

pub async fn extending_moves_the_hold_and_its_claims_together_and_a_retried_move_succeeds(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A", "B"]);
    f.holds.place(&hold, NOW).await.unwrap();
    let later = hold.expires_at.plus(600 * SECOND);
    let now = NOW.plus(SECOND);
    f.holds.extend(&hold, later, now).await.unwrap();
    let stored = f.holds.get(&tenant, hold.id).await.unwrap().unwrap();
    assert_eq!(stored.expires_at, later);
    assert_eq!(stored.recorded_status, HoldStatus::Active);
    let moved = SeatClaim::HeldBy {
        hold: hold.id,
        until: later.plus(CLAIM_GRACE),
    };
    assert_eq!(
        f.holds
            .claims_of(&tenant, &event_id("gig"), &seats(&["A", "B"]))
            .await
            .unwrap(),
        vec![Some(moved), Some(moved)]
    );
    // The same move again, from the hold as first read: its reply was lost.
    f.holds
        .extend(&hold, later, now)
        .await
        .expect("a retried move that was applied succeeds");
    assert_eq!(f.holds.get(&tenant, hold.id).await.unwrap().unwrap().expires_at, later);
    // A move to the expiry it already has re-checks and keeps everything.
    let moved_hold = f.holds.get(&tenant, hold.id).await.unwrap().unwrap();
    f.holds
        .extend(&moved_hold, later, now)
        .await
        .expect("a move to the same expiry succeeds");
    // The seats stay claimed past the old expiry, until the new one's grace.
    assert_eq!(claimed(f, &tenant, hold.claim_until()).await, ["A", "B"]);
    assert!(claimed(f, &tenant, later.plus(CLAIM_GRACE)).await.is_empty());
}

pub async fn extending_an_ended_or_changed_hold_or_one_that_lost_a_seat_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let later = NOW.plus(1200 * SECOND);
    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&hold, NOW).await.unwrap();
    f.holds.extend(&hold, later, NOW).await.unwrap();
    let stale = f.holds.extend(&hold, later.plus(SECOND), NOW).await;
    assert!(
        matches!(stale, Err(ExtendHoldError::HoldChanged)),
        "another request moved it first: {stale:?}"
    );
    let moved = f.holds.get(&tenant, hold.id).await.unwrap().unwrap();
    assert_eq!(moved.expires_at, later);
    let expired = f.holds.extend(&moved, later.plus(SECOND), later).await;
    assert!(matches!(expired, Err(ExtendHoldError::HoldChanged)), "{expired:?}");
    assert!(f.holds.release(&moved, NOW).await.unwrap());
    let released = f.holds.extend(&moved, later.plus(SECOND), NOW).await;
    assert!(matches!(released, Err(ExtendHoldError::HoldChanged)), "{released:?}");
    assert!(
        claimed(f, &tenant, NOW).await.is_empty(),
        "a released hold claims nothing"
    );
    let absent = f.holds.extend(&new_hold(&tenant, 9, &["C"]), later, NOW).await;
    assert!(matches!(absent, Err(ExtendHoldError::HoldChanged)), "{absent:?}");

    // An instance whose clock runs ahead gave seat A of `first` to `second`.
    let first = new_hold(&tenant, 2, &["B", "A"]);
    f.holds.place(&first, NOW).await.unwrap();
    let mut second = new_hold(&tenant, 3, &["A"]);
    second.expires_at = first.claim_until().plus(600 * SECOND);
    f.holds.place(&second, first.claim_until()).await.unwrap();
    let lost = f.holds.extend(&first, later, NOW).await;
    assert!(
        matches!(&lost, Err(ExtendHoldError::SeatsTaken(s)) if *s == seats(&["A"])),
        "{lost:?}"
    );
    assert_eq!(
        f.holds.get(&tenant, first.id).await.unwrap().unwrap().expires_at,
        first.expires_at
    );
    assert_eq!(
        f.holds
            .claims_of(&tenant, &event_id("gig"), &seats(&["B", "A"]))
            .await
            .unwrap(),
        vec![Some(first.claim()), Some(second.claim())]
    );
}

pub async fn a_commit_on_a_seat_its_hold_lost_names_it_and_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    // An instance whose clock runs ahead saw the first hold's claims run out
    // and gave seat A to a second hold; the first hold still thinks itself
    // active. Its commit must not sell A.
    let first = new_hold(&tenant, 1, &["B", "A"]);
    f.holds.place(&first, NOW).await.unwrap();
    let mut second = new_hold(&tenant, 2, &["A"]);
    second.expires_at = first.claim_until().plus(Duration::from_secs(600));
    f.holds.place(&second, first.claim_until()).await.unwrap();
    let s1 = scope(&tenant, "k1");
    f.idempotency.claim(claim_at(&s1, 1, NOW)).await.unwrap();
    let answer = response("a");
    let refused = f.orders.commit(commit(&order_for(&first, 1), &s1, 1, &answer)).await;
    assert!(
        matches!(&refused, Err(CommitError::SeatsTaken(s)) if *s == seats(&["A"])),
        "{refused:?}"
    );
    assert!(sold(f, &tenant).await.is_empty());
    assert_eq!(
        f.holds.get(&tenant, first.id).await.unwrap().unwrap().recorded_status,
        HoldStatus::Active
    );
    assert_eq!(f.orders.get(&tenant, OrderId::from_u128(1)).await.unwrap(), None);
    assert!(matches!(
        record(f, &s1, NOW).await.state,
        RecordState::InProgress { .. }
    ));
    assert_eq!(
        f.holds
            .claims_of(&tenant, &event_id("gig"), &seats(&["B", "A"]))
            .await
            .unwrap(),
        vec![Some(first.claim()), Some(second.claim())]
    );
}

pub async fn a_commit_on_an_inactive_or_foreign_hold_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let released = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&released, NOW).await.unwrap();
    f.holds.release(&released, NOW).await.unwrap();
    let scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&scope, 1, NOW)).await.unwrap();
    let answer = response("a");
    let refused = f
        .orders
        .commit(commit(&order_for(&released, 1), &scope, 1, &answer))
        .await;
    assert!(matches!(refused, Err(CommitError::HoldNotActive)), "{refused:?}");

    let mut foreign = order_for(&new_hold(&tenant, 2, &["B"]), 2);
    f.holds.place(&new_hold(&tenant, 2, &["B"]), NOW).await.unwrap();
    foreign.customer = customer("mallory");
    let refused = f.orders.commit(commit(&foreign, &scope, 1, &answer)).await;
    assert!(matches!(refused, Err(CommitError::HoldNotActive)), "{refused:?}");

    let expired = new_hold(&tenant, 3, &["C"]);
    f.holds.place(&expired, NOW).await.unwrap();
    let late_order = order_for(&expired, 3);
    let mut late = commit(&late_order, &scope, 1, &answer);
    let at_expiry = ManualClock::starting_at(expired.expires_at);
    late.clock = &at_expiry;
    assert!(matches!(f.orders.commit(late).await, Err(CommitError::HoldNotActive)));
    assert!(sold(f, &tenant).await.is_empty());
}

pub async fn a_commit_without_the_lease_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let hold = new_hold(&tenant, 1, &["A"]);
    f.holds.place(&hold, NOW).await.unwrap();
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

/// A sold order of `hold` (id `id`, committed under key `k<id>`).
async fn sold_order(f: &StoreFixture, hold: &Hold, id: u128) -> Order {
    ensure_gig(f, &hold.tenant).await;
    if hold.counts_toward_limit {
        let tally = tally_of(f, &hold.tenant).await;
        f.holds.place_counted(hold, NOW, &tally).await.unwrap();
    } else {
        f.holds.place(hold, NOW).await.unwrap();
    }
    let scope = scope(&hold.tenant, &format!("k{id}"));
    f.idempotency.claim(claim_at(&scope, id, NOW)).await.unwrap();
    let order = order_for(hold, id);
    f.orders
        .commit(commit(&order, &scope, id, &response("sold")))
        .await
        .unwrap();
    order
}

fn cancellation<'a>(
    order: &'a Order,
    scope: &'a IdempotencyScope,
    lease: u128,
    answer: &'a StoredResponse,
) -> OrderCancellation<'a> {
    OrderCancellation {
        order,
        cancelled_at: NOW.plus(5 * SECOND),
        scope,
        lease: LeaseId(lease),
        response: answer,
        record_expires_at: NOW.plus(3600 * SECOND),
    }
}

pub async fn a_cancel_frees_the_seats_and_completes_the_record_together_and_a_resend_succeeds(f: &StoreFixture) {
    let tenant = unique_tenant();
    let order = sold_order(f, &new_hold(&tenant, 1, &["A", "B"]), 1).await;
    let cancel_scope = scope(&tenant, "cancel-1");
    f.idempotency
        .claim(claim_at(&cancel_scope, 7, NOW.plus(SECOND)))
        .await
        .unwrap();
    let answer = response("cancelled");
    f.orders
        .cancel(cancellation(&order, &cancel_scope, 7, &answer))
        .await
        .unwrap();
    let stored = f.orders.get(&tenant, order.id).await.unwrap().unwrap();
    assert_eq!(stored.cancelled_at, Some(NOW.plus(5 * SECOND)));
    assert!(sold(f, &tenant).await.is_empty(), "the seats are free at once");
    assert_eq!(
        record(f, &cancel_scope, NOW.plus(6 * SECOND)).await.state,
        RecordState::Completed(answer.clone())
    );
    // The same step sent again (its reply was lost) succeeds.
    f.orders
        .cancel(cancellation(&order, &cancel_scope, 7, &answer))
        .await
        .expect("a resent cancel that was applied succeeds");
    // The seats sell again, to another hold and order (I1 per order).
    let again = sold_order(f, &new_hold(&tenant, 2, &["B", "A"]), 2).await;
    assert_eq!(sold(f, &tenant).await, ["A", "B"]);
    assert_eq!(
        f.orders.get(&tenant, again.id).await.unwrap().unwrap().cancelled_at,
        None
    );
}

pub async fn a_cancel_of_a_cancelled_order_or_without_the_lease_writes_nothing(f: &StoreFixture) {
    let tenant = unique_tenant();
    let order = sold_order(f, &new_hold(&tenant, 1, &["A"]), 1).await;
    let stranger = scope(&tenant, "cancel-unclaimed");
    let refused = f
        .orders
        .cancel(cancellation(&order, &stranger, 3, &response("x")))
        .await;
    assert!(matches!(refused, Err(CancelError::LeaseLost)), "{refused:?}");
    assert_eq!(
        f.orders.get(&tenant, order.id).await.unwrap().unwrap().cancelled_at,
        None
    );
    assert_eq!(sold(f, &tenant).await, ["A"]);

    let first = scope(&tenant, "cancel-1");
    f.idempotency.claim(claim_at(&first, 4, NOW)).await.unwrap();
    f.orders
        .cancel(cancellation(&order, &first, 4, &response("c1")))
        .await
        .unwrap();
    let second = scope(&tenant, "cancel-2");
    f.idempotency.claim(claim_at(&second, 5, NOW)).await.unwrap();
    let twice = f.orders.cancel(cancellation(&order, &second, 5, &response("c2"))).await;
    assert!(matches!(twice, Err(CancelError::AlreadyCancelled)), "{twice:?}");
    assert!(matches!(
        record(f, &second, NOW).await.state,
        RecordState::InProgress { .. }
    ));
    let absent = order_for(&new_hold(&tenant, 9, &["C"]), 99);
    let missing = f
        .orders
        .cancel(cancellation(&absent, &second, 5, &response("c3")))
        .await;
    assert!(matches!(missing, Err(CancelError::AlreadyCancelled)), "{missing:?}");
}

/// A cancel step trusts the store, not the order it is handed: a seat
/// another order sold is never freed by it, and nothing else is written.
pub async fn a_cancel_never_frees_a_seat_another_order_sold(f: &StoreFixture) {
    let tenant = unique_tenant();
    let mine = sold_order(f, &new_hold(&tenant, 1, &["A"]), 1).await;
    let theirs = sold_order(f, &new_hold(&tenant, 2, &["B"]), 2).await;
    let cancel_scope = scope(&tenant, "cancel-wrong");
    f.idempotency.claim(claim_at(&cancel_scope, 7, NOW)).await.unwrap();
    // My order, handed over with seats it does not own.
    let cancel_mine_with = |seats: Vec<HeldSeat>| {
        let wrong = Order { seats, ..mine.clone() };
        let cancel_scope = &cancel_scope;
        async move {
            let refused = f
                .orders
                .cancel(cancellation(&wrong, cancel_scope, 7, &response("x")))
                .await;
            assert!(matches!(refused, Err(CancelError::Backend(_))), "{refused:?}");
        }
    };
    cancel_mine_with(theirs.seats.clone()).await;
    assert_eq!(sold(f, &tenant).await, ["A", "B"], "neither seat was freed");
    assert_eq!(
        f.orders.get(&tenant, mine.id).await.unwrap().unwrap().cancelled_at,
        None
    );
    assert!(matches!(
        record(f, &cancel_scope, NOW).await.state,
        RecordState::InProgress { .. }
    ));
    // Nor a seat a live hold claims.
    let held = new_hold(&tenant, 3, &["C"]);
    f.holds.place(&held, NOW).await.unwrap();
    cancel_mine_with(held.seats.clone()).await;
    assert_eq!(
        claimed(f, &tenant, NOW).await,
        ["A", "B", "C"],
        "the hold keeps its seat"
    );
    assert_eq!(
        f.orders.get(&tenant, mine.id).await.unwrap().unwrap().cancelled_at,
        None
    );
}

/// Alice's tally of the gig.
async fn tally_of(f: &StoreFixture, tenant: &TenantId) -> CustomerTally {
    f.holds
        .customer_tally(tenant, &event_id("gig"), &customer("alice"))
        .await
        .unwrap()
}

/// The seats alice has at `now` by her tally of the gig.
async fn tally_count(f: &StoreFixture, tenant: &TenantId, now: Timestamp) -> u32 {
    tally_of(f, tenant).await.seats.count_at(now)
}

pub async fn a_counted_placement_needs_the_tally_version_it_read_and_writes_nothing_otherwise(f: &StoreFixture) {
    let tenant = unique_tenant();
    let nobody = f
        .holds
        .customer_tally(&tenant, &event_id("gig"), &customer("alice"))
        .await
        .unwrap();
    assert_eq!(
        nobody,
        CustomerTally::default(),
        "no tally before the first counted hold"
    );
    let first = new_hold(&tenant, 1, &["A", "B"]).counted_toward_limit();
    f.holds.place_counted(&first, NOW, &nobody).await.unwrap();
    assert_eq!(tally_count(f, &tenant, NOW).await, 2);
    let read = f
        .holds
        .customer_tally(&tenant, &event_id("gig"), &customer("alice"))
        .await
        .unwrap();
    assert!(read.version > nobody.version, "a placement moves the version");
    assert_eq!(read.seats.holds, vec![first.counted()]);

    // A placement that relies on the stale read writes nothing: no hold, no claim.
    let stale = new_hold(&tenant, 2, &["C"]).counted_toward_limit();
    let refused = f.holds.place_counted(&stale, NOW, &nobody).await;
    assert!(matches!(refused, Err(PlaceHoldError::TallyChanged)), "{refused:?}");
    assert_eq!(f.holds.get(&tenant, stale.id).await.unwrap(), None);
    assert_eq!(claimed(f, &tenant, NOW).await, ["A", "B"]);
    // Seats taken are reported before a moved tally.
    let on_taken = new_hold(&tenant, 3, &["B"]).counted_toward_limit();
    assert!(matches!(
        f.holds.place_counted(&on_taken, NOW, &nobody).await,
        Err(PlaceHoldError::SeatsTaken(_))
    ));
    // With the fresh read it lands, and a resend of it succeeds.
    f.holds.place_counted(&stale, NOW, &read).await.unwrap();
    f.holds
        .place_counted(&stale, NOW, &read)
        .await
        .expect("a resent placement that was applied succeeds");
    assert_eq!(tally_count(f, &tenant, NOW).await, 3);
    // Another customer's, event's or tenant's tally is untouched.
    for (tenant, event, who) in [
        (tenant.clone(), event_id("gig"), customer("bob")),
        (tenant.clone(), event_id("other"), customer("alice")),
        (unique_tenant(), event_id("gig"), customer("alice")),
    ] {
        let tally = f.holds.customer_tally(&tenant, &event, &who).await.unwrap();
        assert_eq!(tally.seats.count_at(NOW), 0, "{tenant} {event} {who}");
    }
}

pub async fn a_counted_hold_leaves_the_tally_when_released_or_lapsed_and_counts_as_its_order_until_cancelled(
    f: &StoreFixture,
) {
    let tenant = unique_tenant();
    let read = |f| tally_of(f, &tenant);
    ensure_gig(f, &tenant).await;
    let released = new_hold(&tenant, 1, &["A"]).counted_toward_limit();
    f.holds.place_counted(&released, NOW, &read(f).await).await.unwrap();
    let sold_hold = new_hold(&tenant, 2, &["B", "C"]).counted_toward_limit();
    f.holds.place_counted(&sold_hold, NOW, &read(f).await).await.unwrap();
    let lapsing = new_hold(&tenant, 3, &["D"]).counted_toward_limit();
    f.holds.place_counted(&lapsing, NOW, &read(f).await).await.unwrap();
    assert_eq!(tally_count(f, &tenant, NOW).await, 4);

    assert!(f.holds.release(&released, NOW.plus(SECOND)).await.unwrap());
    assert_eq!(tally_count(f, &tenant, NOW).await, 3, "a released hold stops counting");

    // Extending moves the entry (and the version) with the hold.
    let before = read(f).await.version;
    let later = lapsing.expires_at.plus(600 * SECOND);
    f.holds.extend(&lapsing, later, NOW.plus(SECOND)).await.unwrap();
    let after = read(f).await;
    assert!(
        after.version > before,
        "an extension makes concurrent placements re-read"
    );
    let mut extended = lapsing.clone();
    extended.expires_at = later;
    assert!(after.seats.holds.contains(&extended.counted()));
    assert_eq!(
        tally_count(f, &tenant, lapsing.claim_until()).await,
        1,
        "the extended hold counts past its old end, the other has lapsed"
    );

    // The order takes over its hold's entry, and counts until cancelled.
    let order_scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&order_scope, 1, NOW)).await.unwrap();
    let order = order_for(&sold_hold, 42);
    assert!(order.counts_toward_limit);
    let before = read(f).await.version;
    f.orders
        .commit(commit(&order, &order_scope, 1, &response("42")))
        .await
        .unwrap();
    let tally = read(f).await;
    assert!(tally.version > before, "a commit makes concurrent placements re-read");
    assert_eq!(tally.seats.orders, vec![order.counted()]);
    assert!(tally.seats.holds.iter().all(|entry| entry.hold != sold_hold.id));
    assert_eq!(
        f.orders.get(&tenant, order.id).await.unwrap().unwrap(),
        order,
        "the order keeps counting"
    );
    let far_future = NOW.plus(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(
        tally_count(f, &tenant, far_future).await,
        2,
        "orders do not lapse; holds do"
    );

    // A placement drops the entries that lapsed by its `now`.
    let next = new_hold(&tenant, 4, &["E"]).counted_toward_limit();
    let at = extended.claim_until();
    f.holds.place_counted(&next, at, &read(f).await).await.unwrap();
    let tally = read(f).await;
    assert!(
        tally.seats.holds.iter().all(|entry| entry.hold != lapsing.id),
        "{tally:?}"
    );

    let cancel_scope = scope(&tenant, "cancel");
    f.idempotency.claim(claim_at(&cancel_scope, 7, NOW)).await.unwrap();
    f.orders
        .cancel(cancellation(&order, &cancel_scope, 7, &response("c")))
        .await
        .unwrap();
    assert!(
        read(f).await.seats.orders.is_empty(),
        "a cancelled order stops counting"
    );
}

pub async fn holds_and_orders_without_a_limit_leave_no_tally(f: &StoreFixture) {
    let tenant = unique_tenant();
    let order = sold_order(f, &new_hold(&tenant, 1, &["A"]), 1).await;
    assert!(!order.counts_toward_limit);
    let held = new_hold(&tenant, 2, &["B"]);
    f.holds.place(&held, NOW).await.unwrap();
    f.holds.extend(&held, held.expires_at.plus(SECOND), NOW).await.unwrap();
    let tally = f
        .holds
        .customer_tally(&tenant, &event_id("gig"), &customer("alice"))
        .await
        .unwrap();
    assert_eq!(tally, CustomerTally::default());
    assert!(
        !f.holds
            .get(&tenant, held.id)
            .await
            .unwrap()
            .unwrap()
            .counts_toward_limit
    );
}

pub async fn a_hold_counted_out_of_its_tally_is_neither_converted_nor_extended(f: &StoreFixture) {
    // A placement on a clock ahead by more than the grace dropped the
    // entry of a hold that is still active by this clock: the hold must not
    // come back into the count as an order or a longer hold.
    let tenant = unique_tenant();
    let counted_out = new_hold(&tenant, 1, &["A", "B"]).counted_toward_limit();
    f.holds
        .place_counted(&counted_out, NOW, &tally_of(f, &tenant).await)
        .await
        .unwrap();
    let ahead = counted_out.claim_until();
    let elsewhere = new_hold(&tenant, 2, &["C"]).counted_toward_limit();
    f.holds
        .place_counted(&elsewhere, ahead, &tally_of(f, &tenant).await)
        .await
        .unwrap();
    assert_eq!(tally_of(f, &tenant).await.seats.holds, vec![elsewhere.counted()]);

    let order_scope = scope(&tenant, "k");
    f.idempotency.claim(claim_at(&order_scope, 1, NOW)).await.unwrap();
    let order = order_for(&counted_out, 42);
    let refused = f.orders.commit(commit(&order, &order_scope, 1, &response("42"))).await;
    assert!(matches!(refused, Err(CommitError::HoldNotActive)), "{refused:?}");
    assert_eq!(f.orders.get(&tenant, order.id).await.unwrap(), None);
    assert!(sold(f, &tenant).await.is_empty());

    let extended = f
        .holds
        .extend(&counted_out, counted_out.expires_at.plus(60 * SECOND), NOW.plus(SECOND))
        .await;
    assert!(matches!(extended, Err(ExtendHoldError::Backend(_))), "{extended:?}");
    assert_eq!(
        f.holds.get(&tenant, counted_out.id).await.unwrap().unwrap().expires_at,
        counted_out.expires_at
    );
    assert_eq!(tally_of(f, &tenant).await.seats.holds, vec![elsewhere.counted()]);
}

pub async fn forgetting_tally_entries_removes_only_those_named_and_creates_no_tally(f: &StoreFixture) {
    let tenant = unique_tenant();
    let gig = event_id("gig");
    f.holds
        .forget_in_tally(
            &tenant,
            &gig,
            &customer("alice"),
            &[new_hold(&tenant, 9, &["Z"]).id],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        tally_of(f, &tenant).await,
        CustomerTally::default(),
        "no tally is created"
    );
    let kept = new_hold(&tenant, 1, &["A"]).counted_toward_limit();
    f.holds
        .place_counted(&kept, NOW, &tally_of(f, &tenant).await)
        .await
        .unwrap();
    let stale = new_hold(&tenant, 2, &["B"]).counted_toward_limit();
    f.holds
        .place_counted(&stale, NOW, &tally_of(f, &tenant).await)
        .await
        .unwrap();
    let order = sold_order(f, &new_hold(&tenant, 3, &["C"]).counted_toward_limit(), 3).await;
    let before = tally_of(f, &tenant).await;
    assert_eq!(before.seats.count_at(NOW), 3);
    f.holds
        .forget_in_tally(
            &tenant,
            &gig,
            &customer("alice"),
            &[stale.id],
            &[order.id, OrderId::from_u128(77)],
        )
        .await
        .unwrap();
    let after = tally_of(f, &tenant).await;
    assert_eq!(after.seats.holds, vec![kept.counted()]);
    assert!(after.seats.orders.is_empty());
    assert_eq!(
        after.version, before.version,
        "a removal never makes a placement re-read"
    );
}
