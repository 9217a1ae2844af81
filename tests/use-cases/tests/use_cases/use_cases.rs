//! Use-case tests over the in-memory backend with a manual clock and
//! sequential ids: no network, no wall-clock time, no sleeps.

// Test helpers panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use application::ports::{BackendError, Clock, CommitError, OrderCommit, OrderStore, SeatLock, SeatLocks};
use application::use_cases::{InvalidReason, PutEventOutcome, StoredOutcome};
use application::{Rejection, UseCaseError};
use async_trait::async_trait;
use domain::event::SeatStatus::{Available, Held, Sold};
use domain::event::{EventConflict, SeatStatus};
use domain::hold::{HoldRequestError, HoldStatus};
use domain::idempotency::Fingerprint;
use domain::ids::{OrderId, SeatId};
use domain::money::Cents;
use domain::order::Order;
use test_doubles::{Delegating, OrderStoreDouble};

// ---- place hold -------------------------------------------------------------

#[tokio::test]
async fn a_hold_covers_every_requested_seat_at_todays_prices_and_locks_them() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A2", "A1"]).await.unwrap();
    assert_eq!(h.recorded_status, HoldStatus::Active);
    assert_eq!(h.seat_ids(), seats(&["A2", "A1"]));
    assert_eq!(
        h.seats.iter().map(|s| s.price).collect::<Vec<_>>(),
        [Cents(1500), Cents(1000)]
    );
    assert_eq!(h.expires_at, h.created_at.plus(Duration::from_secs(600)));
    assert_eq!(statuses(&w).await, [Held, Held, Available, Available]);
}

#[tokio::test]
async fn a_hold_on_an_unknown_event_is_event_not_found() {
    let w = world();
    assert_eq!(rejection(hold(&w, &alice(), &["A1"]).await), Rejection::EventNotFound);
}

#[tokio::test]
async fn another_tenants_event_is_not_found() {
    let w = world();
    with_event(&w).await;
    let mallory = caller("evil", "mallory", &[]);
    assert_eq!(rejection(hold(&w, &mallory, &["A1"]).await), Rejection::EventNotFound);
}

#[tokio::test]
async fn unknown_seats_are_listed_in_request_order_and_nothing_is_locked() {
    let w = world();
    with_event(&w).await;
    assert_eq!(
        rejection(hold(&w, &alice(), &["Z9", "A1", "Q1"]).await),
        Rejection::UnknownSeats(seats(&["Z9", "Q1"]))
    );
    assert!(statuses(&w).await.iter().all(|s| *s == SeatStatus::Available));
}

#[tokio::test]
async fn a_malformed_request_is_rejected_before_any_backend_is_asked() {
    let w = world();
    assert_eq!(
        rejection(
            w.use_cases
                .place_hold(&alice(), &gig(), seats(&["A1", "A1"]), Some(5))
                .await
        ),
        Rejection::InvalidHoldRequest(vec![
            HoldRequestError::DuplicateSeat {
                seat: SeatId::parse("A1").unwrap(),
                index: 1
            },
            HoldRequestError::TtlOutOfRange,
        ])
    );
}

#[tokio::test]
async fn a_conflicting_hold_lists_exactly_the_taken_seats_and_takes_none() {
    let w = world();
    with_event(&w).await;
    hold(&w, &alice(), &["A2", "A3"]).await.unwrap();
    assert_eq!(
        rejection(hold(&w, &bob(), &["A3", "A4", "A2"]).await),
        Rejection::SeatsUnavailable(seats(&["A3", "A2"]))
    );
    // All-or-nothing (I2): A4 was not locked by the failed request.
    hold(&w, &bob(), &["A4"]).await.unwrap();
}

#[tokio::test]
async fn the_same_customer_cannot_hold_a_seat_twice() {
    let w = world();
    with_event(&w).await;
    hold(&w, &alice(), &["A1"]).await.unwrap();
    assert_eq!(
        rejection(hold(&w, &alice(), &["A1"]).await),
        Rejection::SeatsUnavailable(seats(&["A1"]))
    );
}

#[tokio::test]
async fn seats_of_an_expired_hold_can_be_held_again() {
    let w = world();
    with_event(&w).await;
    w.use_cases
        .place_hold(&alice(), &gig(), seats(&["A1"]), Some(60))
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(59));
    assert!(hold(&w, &bob(), &["A1"]).await.is_err());
    w.clock.advance(Duration::from_secs(1));
    assert!(
        hold(&w, &bob(), &["A1"]).await.is_err(),
        "claimed for the grace after expiry"
    );
    w.clock.advance(domain::hold::CLAIM_GRACE);
    hold(&w, &bob(), &["A1"]).await.unwrap();
}

// ---- verify hold ------------------------------------------------------------

#[tokio::test]
async fn a_fresh_hold_verifies_valid_with_its_remaining_time() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.clock.advance(Duration::from_secs(100));
    let v = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(
        (v.status, v.invalid_reason, v.remaining),
        (HoldStatus::Active, None, Duration::from_secs(500))
    );
}

#[tokio::test]
async fn a_hold_past_its_expiry_verifies_expired() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(Duration::from_secs(600));
    let v = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(
        (v.status, v.invalid_reason, v.remaining),
        (HoldStatus::Expired, Some(InvalidReason::Expired), Duration::ZERO)
    );
}

#[tokio::test]
async fn a_hold_whose_claim_another_hold_took_verifies_lock_lost() {
    // An instance whose clock runs far ahead saw the claim run out and gave
    // the seat to another hold; Redis forgot both.
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let mut thief = h.clone();
    thief.id = domain::ids::HoldId::parse("01890a5d-ac96-7fff-bcce-b302099a8057").unwrap();
    thief.expires_at = h.claim_until().plus(Duration::from_secs(600));
    w.use_cases.ports().holds.place(&thief, h.claim_until()).await.unwrap();
    w.locks.forget_everything();
    let v = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(
        (v.status, v.invalid_reason),
        (HoldStatus::Active, Some(InvalidReason::LockLost))
    );
}

#[tokio::test]
async fn someone_elses_hold_is_not_found_for_verify_release_and_order() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let other_tenant = caller("evil", "alice", &[]);
    for who in [bob(), other_tenant] {
        assert_eq!(
            rejection(w.use_cases.verify_hold(&who, h.id).await),
            Rejection::HoldNotFound
        );
        assert_eq!(
            rejection(w.use_cases.release_hold(&who, h.id).await),
            Rejection::HoldNotFound
        );
        let answer = fresh(order(&w, &who, "k", 1, h.id).await);
        assert_eq!(body(&answer), "HoldNotFound");
    }
    // Nothing of alice's hold changed.
    assert!(
        w.use_cases
            .verify_hold(&alice(), h.id)
            .await
            .unwrap()
            .invalid_reason
            .is_none()
    );
}

// ---- release hold -----------------------------------------------------------

#[tokio::test]
async fn releasing_frees_the_seats_at_once_and_releasing_again_is_harmless() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.use_cases.release_hold(&alice(), h.id).await.unwrap();
    w.use_cases.release_hold(&alice(), h.id).await.unwrap();
    assert!(statuses(&w).await.iter().all(|s| *s == SeatStatus::Available));
    let v = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(
        (v.status, v.invalid_reason),
        (HoldStatus::Released, Some(InvalidReason::Released))
    );
    assert_eq!(body(&fresh(order(&w, &alice(), "k", 1, h.id).await)), "HoldNotActive");
}

#[tokio::test]
async fn a_converted_hold_cannot_be_released() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    fresh(order(&w, &alice(), "k", 1, h.id).await);
    assert_eq!(
        rejection(w.use_cases.release_hold(&alice(), h.id).await),
        Rejection::HoldNotActive
    );
}

// ---- create order -----------------------------------------------------------

#[tokio::test]
async fn an_order_sells_the_held_seats_at_the_held_prices_even_after_a_reprice() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A3"]).await.unwrap();
    let repriced = event_with("acme", &[("A1", 9999), ("A2", 1500), ("A3", 9999), ("A4", 2500)], "EUR");
    w.use_cases.put_event(&organizer(), repriced).await.unwrap();

    let created = fresh(order(&w, &alice(), "k1", 1, h.id).await);
    assert_eq!(created.status, 201);
    assert!(body(&created).ends_with("total 3000"), "{}", body(&created));

    let order_id = OrderId::parse(created.location.as_deref().unwrap().trim_start_matches("/orders/")).unwrap();
    let stored = w.use_cases.get_order(&alice(), order_id).await.unwrap();
    assert_eq!((stored.hold, stored.total.cents), (h.id, Cents(3000)));
    assert_eq!(statuses(&w).await, [Sold, Available, Sold, Available]);
    let v = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(v.status, HoldStatus::Converted);
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_replays_the_stored_answer_byte_for_byte() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let first = fresh(order(&w, &alice(), "k1", 1, h.id).await);
    w.clock.advance(Duration::from_secs(3600));
    match order(&w, &alice(), "k1", 1, h.id).await {
        Ok(StoredOutcome::Replayed(again)) => assert_eq!(again, first),
        other => panic!("expected a replay, got {other:?}"),
    }
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_as_reused() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    fresh(order(&w, &alice(), "k1", 1, h.id).await);
    assert!(matches!(
        order(&w, &alice(), "k1", 2, h.id).await,
        Err(UseCaseError::IdempotencyKeyReused)
    ));
}

#[tokio::test]
async fn one_customers_key_never_touches_another_customers() {
    let w = world();
    with_event(&w).await;
    let ha = hold(&w, &alice(), &["A1"]).await.unwrap();
    let hb = hold(&w, &bob(), &["A2"]).await.unwrap();
    let a = fresh(order(&w, &alice(), "same-key", 1, ha.id).await);
    let b = fresh(order(&w, &bob(), "same-key", 1, hb.id).await);
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.location, b.location);
}

#[tokio::test]
async fn a_key_in_flight_answers_in_progress_with_the_remaining_lease_as_retry_after() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let scope = scope_of(&alice(), "k1");
    crashed_attempt(&w, &scope, Fingerprint([1; 32])).await;
    w.clock.advance(Duration::from_millis(10_500));
    match order(&w, &alice(), "k1", 1, h.id).await {
        Err(UseCaseError::IdempotencyInProgress { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(20));
        }
        other => panic!("expected in-progress, got {other:?}"),
    }
}

#[tokio::test]
async fn after_a_crash_a_retry_past_the_lease_takes_over_and_creates_the_one_order() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let scope = scope_of(&alice(), "k1");
    let seed = crashed_attempt(&w, &scope, Fingerprint([1; 32])).await;
    w.clock.advance(Duration::from_secs(30));
    let created = fresh(order(&w, &alice(), "k1", 1, h.id).await);
    assert_eq!(created.status, 201);
    let expected_id = w.use_cases.ports().ids.order_id(&scope, seed);
    assert_eq!(created.location, Some(format!("/orders/{expected_id}")));
}

#[tokio::test]
async fn a_second_key_on_a_converted_hold_gets_hold_not_active_stored_for_replay() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    fresh(order(&w, &alice(), "k1", 1, h.id).await);
    let second = fresh(order(&w, &alice(), "k2", 1, h.id).await);
    assert_eq!(body(&second), "HoldNotActive");
    assert!(matches!(order(&w, &alice(), "k2", 1, h.id).await, Ok(StoredOutcome::Replayed(r)) if r == second));
}

#[tokio::test]
async fn ordering_an_expired_hold_is_hold_expired() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(Duration::from_secs(601));
    assert_eq!(body(&fresh(order(&w, &alice(), "k1", 1, h.id).await)), "HoldExpired");
}

#[tokio::test]
async fn after_the_retention_period_a_key_counts_as_new() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    fresh(order(&w, &alice(), "k1", 1, h.id).await);
    w.clock.advance(Duration::from_secs(24 * 3600));
    // Not "reused": the old record no longer counts. The hold is converted, so
    // the new attempt is told so, and no second order is possible.
    assert_eq!(body(&fresh(order(&w, &alice(), "k1", 2, h.id).await)), "HoldNotActive");
}

#[tokio::test]
async fn when_the_locks_are_lost_a_live_hold_and_a_sold_seat_are_still_refused_to_others() {
    let w = world();
    with_event(&w).await;
    let first = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.locks.forget_everything();
    let refused = hold(&w, &bob(), &["A3", "A2"]).await;
    assert_eq!(
        rejection(refused),
        Rejection::SeatsUnavailable(seats(&["A2"])),
        "I7: the hold is a promise"
    );
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A2", "A3"]))
            .await
            .unwrap(),
        [SeatLock::HeldBy(first.id), SeatLock::Free],
        "the refusal wrote the claim back into the locks; A3 was not left locked"
    );
    assert_eq!(fresh(order(&w, &alice(), "ka", 1, first.id).await).status, 201);
    w.locks.forget_everything();
    let refused = hold(&w, &bob(), &["A1"]).await;
    assert_eq!(
        rejection(refused),
        Rejection::SeatsUnavailable(seats(&["A1"])),
        "I7: sold is sold"
    );
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap(),
        [SeatLock::Sold]
    );
}

#[tokio::test]
async fn a_lock_the_claims_do_not_back_is_cleared_instead_of_refusing_the_seat() {
    // A release whose unlock never reached Redis leaves a lock behind.
    let w = world();
    with_event(&w).await;
    let ghost = domain::ids::HoldId::parse("01890a5d-ac96-7fff-bcce-b302099a8057").unwrap();
    w.locks
        .lock(
            &alice().tenant,
            &gig(),
            &seats(&["A1"]),
            ghost,
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let placed = hold(&w, &bob(), &["A1"]).await.unwrap();
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap(),
        [SeatLock::HeldBy(placed.id)]
    );
}

#[tokio::test]
async fn verify_trusts_the_claims_and_writes_lost_locks_back() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.locks.forget_everything();
    let verified = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(verified.invalid_reason, None, "the claims still say it is ours");
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::HeldBy(h.id); 2]
    );
}

#[tokio::test]
async fn the_seat_locks_expire_with_the_claims_one_grace_after_the_hold() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(Duration::from_secs(600));
    assert_eq!(
        statuses(&w).await[0],
        SeatStatus::Held,
        "still claimed during the grace"
    );
    assert_eq!(
        rejection(hold(&w, &bob(), &["A1"]).await),
        Rejection::SeatsUnavailable(seats(&["A1"])),
        "availability and place-hold agree"
    );
    w.clock.advance(domain::hold::CLAIM_GRACE);
    assert_eq!(statuses(&w).await[0], SeatStatus::Available);
    let next = hold(&w, &bob(), &["A1"]).await.unwrap();
    assert_ne!(next.id, h.id);
}

/// An order store whose commits fail as if DynamoDB were unreachable.
struct UnreachableOrders(Arc<dyn OrderStore>);

#[async_trait]
impl OrderStoreDouble for UnreachableOrders {
    fn inner(&self) -> &dyn OrderStore {
        &*self.0
    }
    async fn commit(&self, _: OrderCommit<'_>) -> Result<(), CommitError> {
        Err(CommitError::Backend(BackendError::new(
            "dynamodb",
            "connection refused",
        )))
    }
}

#[tokio::test]
async fn a_transient_failure_is_not_stored_so_the_next_retry_starts_at_once() {
    let broken = world_with(|ports, _| ports.orders = Arc::new(Delegating(UnreachableOrders(ports.orders.clone()))));
    with_event(&broken).await;
    let h = hold(&broken, &alice(), &["A1"]).await.unwrap();
    let failure = order(&broken, &alice(), "k1", 1, h.id).await;
    assert!(
        matches!(failure, Err(UseCaseError::Unavailable(ref e)) if e.backend == "dynamodb"),
        "{failure:?}"
    );
    // The claim was dropped: the same key is free again, not "in progress".
    let again = order(&broken, &alice(), "k1", 1, h.id).await;
    assert!(matches!(again, Err(UseCaseError::Unavailable(_))), "{again:?}");
}

// ---- events and availability ----------------------------------------------

#[tokio::test]
async fn putting_a_new_event_creates_it_and_putting_it_again_replaces_it() {
    let w = world();
    let event = event_with("acme", &[("A1", 1)], "EUR");
    assert_eq!(
        w.use_cases.put_event(&organizer(), event.clone()).await.unwrap(),
        PutEventOutcome::Created
    );
    assert_eq!(
        w.use_cases.put_event(&organizer(), event).await.unwrap(),
        PutEventOutcome::Replaced
    );
}

#[tokio::test]
async fn only_an_organizer_may_put_an_event() {
    let w = world();
    let event = event_with("acme", &[("A1", 1)], "EUR");
    assert_eq!(
        rejection(w.use_cases.put_event(&alice(), event).await),
        Rejection::Forbidden
    );
}

#[tokio::test]
async fn a_replacement_that_removes_a_held_seat_or_changes_currency_conflicts() {
    let w = world();
    with_event(&w).await;
    hold(&w, &alice(), &["A1"]).await.unwrap();
    let without_a1 = event_with("acme", &[("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), without_a1).await),
        Rejection::EventConflict(vec![EventConflict::RemovesHeldSeat(SeatId::parse("A1").unwrap())])
    );
    let in_usd = event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "USD");
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), in_usd).await),
        Rejection::EventConflict(vec![EventConflict::ChangesCurrency])
    );
}

#[tokio::test]
async fn a_replacement_may_not_reprice_a_sold_seat() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    fresh(order(&w, &alice(), "k", 1, h.id).await);
    let repriced = event_with("acme", &[("A1", 1), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), repriced).await),
        Rejection::EventConflict(vec![EventConflict::RepricesSoldSeat(SeatId::parse("A1").unwrap())])
    );
}

#[tokio::test]
async fn availability_of_an_unknown_event_is_event_not_found() {
    let w = world();
    assert_eq!(
        rejection(w.use_cases.get_availability(&alice(), &gig()).await),
        Rejection::EventNotFound
    );
}

#[tokio::test]
async fn an_unknown_or_someone_elses_order_is_not_found() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let created = fresh(order(&w, &alice(), "k", 1, h.id).await);
    let id = OrderId::parse(created.location.as_deref().unwrap().trim_start_matches("/orders/")).unwrap();
    assert_eq!(
        rejection(w.use_cases.get_order(&bob(), id).await),
        Rejection::OrderNotFound
    );
    assert_eq!(
        rejection(w.use_cases.get_order(&alice(), OrderId::from_u128(1)).await),
        Rejection::OrderNotFound
    );
}

// ---- concurrency ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_multi_seat_holds_never_put_one_seat_in_two_active_holds() {
    let w = Arc::new(world());
    let prices: Vec<(String, u64)> = (0..20).map(|i| (format!("S{i}"), 100)).collect();
    let prices: Vec<(&str, u64)> = prices.iter().map(|(s, p)| (s.as_str(), *p)).collect();
    w.use_cases
        .put_event(&organizer(), event_with("acme", &prices, "EUR"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for buyer in 0..50 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let who = caller("acme", &format!("buyer{buyer}"), &[]);
            let wanted: Vec<String> = (0..3).map(|k| format!("S{}", (buyer * 7 + k * 3) % 20)).collect();
            let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            hold(&w, &who, &wanted).await
        }));
    }
    let mut held = HashSet::new();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(h) => {
                winners += 1;
                assert_eq!(h.seats.len(), 3, "all or nothing");
                for seat in h.seat_ids() {
                    assert!(held.insert(seat.clone()), "seat {seat} is in two holds");
                }
            }
            Err(UseCaseError::Rejected(Rejection::SeatsUnavailable(_))) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(winners >= 1);
    let held_now = statuses(&w).await.iter().filter(|s| **s == SeatStatus::Held).count();
    assert_eq!(held_now, held.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_identical_orders_create_one_order_and_agree_on_the_answer() {
    let w = Arc::new(world());
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match order(&w, &alice(), "same", 1, h.id).await {
                    Ok(StoredOutcome::Done(r) | StoredOutcome::Answered(r) | StoredOutcome::Replayed(r)) => return r,
                    Err(UseCaseError::IdempotencyInProgress { .. }) => tokio::task::yield_now().await,
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }));
    }
    let mut answers = HashSet::new();
    for task in tasks {
        answers.insert(task.await.unwrap().body);
    }
    assert_eq!(answers.len(), 1, "every retry got the same answer");
    assert_eq!(statuses(&w).await, [Sold, Sold, Available, Available]);
}

#[tokio::test]
async fn releasing_an_expired_hold_answers_as_released_and_changes_nothing() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(Duration::from_secs(601));
    w.use_cases.release_hold(&alice(), h.id).await.unwrap();
    let stored = w
        .use_cases
        .ports()
        .holds
        .get(&alice().tenant, h.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.recorded_status,
        HoldStatus::Active,
        "an expired hold is not rewritten"
    );
}

#[tokio::test]
async fn a_sold_marker_refuses_a_later_hold_at_the_locks_without_asking_the_claims() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    assert_eq!(fresh(order(&w, &alice(), "k", 1, h.id).await).status, 201);
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap(),
        [SeatLock::Sold]
    );
    assert_eq!(
        rejection(hold(&w, &bob(), &["A2", "A1"]).await),
        Rejection::SeatsUnavailable(seats(&["A1"]))
    );
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A2"])).await.unwrap(),
        [SeatLock::Free],
        "the refused hold left nothing locked"
    );
}

#[tokio::test]
async fn a_breaking_replacement_while_another_is_being_checked_is_told_to_retry() {
    let w = world();
    with_event(&w).await;
    let now = w.clock.now();
    let frozen = w
        .use_cases
        .ports()
        .events
        .freeze(&alice().tenant, &gig(), 1, now.plus(Duration::from_secs(10)), now)
        .await
        .unwrap();
    assert!(frozen);
    let smaller = event_with("acme", &[("A1", 1000)], "EUR");
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), smaller).await),
        Rejection::EventChangedConcurrently
    );
}

#[tokio::test]
async fn a_commit_prints_its_order_and_scope_but_never_the_stored_answer() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let order = Order::from_hold(
        OrderId::from_u128(5),
        &h,
        domain::order::Buyer::default(),
        w.clock.now(),
    )
    .unwrap();
    let scope = scope_of(&alice(), "k");
    let answer = application::ports::StoredResponse {
        status: 201,
        body: b"{\"buyer\":\"secret@example.com\"}".to_vec(),
        location: None,
    };
    let commit = OrderCommit {
        order: &order,
        scope: &scope,
        lease: domain::idempotency::LeaseId(1),
        response: &answer,
        record_expires_at: w.clock.now(),
        clock: &w.clock,
    };
    let printed = format!("{commit:?}");
    assert!(
        printed.contains("OrderCommit") && printed.contains("acme:alice"),
        "{printed}"
    );
    assert!(!printed.contains("secret@example.com"), "{printed}");
}
