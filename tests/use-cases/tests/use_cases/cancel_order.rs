//! Cancel order against the in-memory backend, a manual clock and sequential ids.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::time::Duration;

use crate::support::*;
use application::ports::{Clock, SOLD_MARKER_TTL, SeatLock, SeatLocks};
use application::use_cases::CANCEL_ORDER_OPERATION;
use application::use_cases::StoredOutcome;
use application::{UseCaseError, UseCases};
use domain::event::SeatStatus;
use domain::idempotency::IdempotencyScope;
use domain::identity::Identity;
use domain::ids::OrderId;

/// Alice's order of `seats`, placed and bought; returns its id.
async fn sold(w: &World, seats_wanted: &[&str], key: &str) -> OrderId {
    let h = hold(w, &alice(), seats_wanted).await.unwrap();
    let created = fresh(order(w, &alice(), key, 1, h.id).await);
    assert_eq!(created.status, 201, "{}", body(&created));
    let id = body(&created).split_whitespace().nth(1).unwrap().to_owned();
    OrderId::parse(&id).unwrap()
}

async fn cancel(
    use_cases: &UseCases,
    who: &Identity,
    key: &str,
    order: OrderId,
) -> Result<StoredOutcome, UseCaseError> {
    use_cases
        .cancel_order(who, cancel_request(key, order), &TextResponses)
        .await
}

#[tokio::test]
async fn a_cancelled_order_frees_its_seats_at_once_for_a_new_hold_and_sale() {
    let w = world();
    with_event(&w).await;
    let bought = sold(&w, &["A1", "A2"], "buy").await;
    let answer = fresh(cancel(&w.use_cases, &alice(), "undo", bought).await);
    assert_eq!(
        (answer.status, body(&answer)),
        (200, format!("order {bought} cancelled"))
    );
    let stored = w.use_cases.get_order(&alice(), bought).await.unwrap();
    assert_eq!(stored.cancelled_at, Some(w.clock.now()));
    assert_eq!(statuses(&w).await[..2], [SeatStatus::Available, SeatStatus::Available]);
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::Free, SeatLock::Free],
        "the sold markers are gone"
    );
    let again = hold(&w, &bob(), &["A2", "A1"])
        .await
        .expect("cancelled seats can be held again");
    assert_eq!(fresh(order(&w, &bob(), "bobs", 1, again.id).await).status, 201);
    assert_eq!(sold_seats(&w).await, seats(&["A1", "A2"]));
}

#[tokio::test]
async fn a_retry_replays_and_another_key_answers_with_the_cancelled_order() {
    let w = world();
    with_event(&w).await;
    let order = sold(&w, &["A1"], "buy").await;
    let Ok(StoredOutcome::Done(first)) = cancel(&w.use_cases, &alice(), "undo", order).await else {
        panic!("the first cancel cancels");
    };
    let replayed = cancel(&w.use_cases, &alice(), "undo", order).await.unwrap();
    assert_eq!(replayed, StoredOutcome::Replayed(first.clone()));
    w.clock.advance(Duration::from_secs(5));
    let Ok(StoredOutcome::Answered(by_state)) = cancel(&w.use_cases, &alice(), "undo-again", order).await else {
        panic!("another key answers by state and cancels nothing (not counted as a cancellation)");
    };
    assert_eq!(by_state, first, "the same cancelled order, cancelledAt unchanged");
    let other = sold(&w, &["A2"], "buy-2").await;
    assert!(matches!(
        cancel(&w.use_cases, &alice(), "undo", other).await,
        Err(UseCaseError::IdempotencyKeyReused)
    ));
    assert_eq!(
        w.use_cases.get_order(&alice(), other).await.unwrap().cancelled_at,
        None,
        "a reused key cancels nothing"
    );
}

#[tokio::test]
async fn only_the_customer_or_an_organizer_of_the_tenant_may_cancel() {
    let w = world();
    with_event(&w).await;
    let order = sold(&w, &["A1"], "buy").await;
    let outsider = caller("evil", "boss", &["organizer"]);
    for who in [bob(), outsider] {
        let refused = fresh(cancel(&w.use_cases, &who, "intrude", order).await);
        assert_eq!(body(&refused), "OrderNotFound");
    }
    assert_eq!(w.use_cases.get_order(&alice(), order).await.unwrap().cancelled_at, None);
    let by_organizer = fresh(cancel(&w.use_cases, &organizer(), "refund", order).await);
    assert_eq!(by_organizer.status, 200);
}

#[tokio::test]
async fn an_order_cannot_be_cancelled_once_its_event_has_started() {
    let w = world();
    with_event(&w).await;
    let kept = sold(&w, &["A1"], "buy").await;
    let cancelled = sold(&w, &["A2"], "buy-2").await;
    fresh(cancel(&w.use_cases, &alice(), "undo", cancelled).await);
    // The gig starts 100 000 000 s after the clock started (support::GIG_STARTS).
    w.clock.advance(Duration::from_millis(100_000_000_000));
    let refused = fresh(cancel(&w.use_cases, &alice(), "late", kept).await);
    assert_eq!(body(&refused), "OrderNotCancellable");
    assert_eq!(w.use_cases.get_order(&alice(), kept).await.unwrap().cancelled_at, None);
    let still = fresh(cancel(&w.use_cases, &alice(), "late-2", cancelled).await);
    assert_eq!(still.status, 200, "a cancelled order stays cancelled");
}

#[tokio::test]
async fn a_sold_marker_the_cancelled_sale_writes_late_does_not_refuse_the_freed_seat() {
    let w = world();
    with_event(&w).await;
    let bought = sold(&w, &["A1"], "buy").await;
    fresh(cancel(&w.use_cases, &alice(), "undo", bought).await);
    // The sale's own mark_sold, or a refusal's write-back that read the
    // claims before the cancel, lands only now.
    assert_eq!(mark_a1_sold(&w).await, SeatLock::Free);
    let again = hold(&w, &bob(), &["A1"]).await.expect("the freed seat can be held");
    assert_eq!(fresh(order(&w, &bob(), "bobs", 1, again.id).await).status, 201);
    assert_eq!(sold_seats(&w).await, seats(&["A1"]));
}

#[tokio::test]
async fn a_cancel_in_flight_answers_in_progress_and_its_key_is_apart_from_create_orders() {
    let w = world();
    with_event(&w).await;
    // The same key already created an order: the cancel scope is its own.
    let bought = sold(&w, &["A1"], "same-key").await;
    let scope = IdempotencyScope {
        operation: CANCEL_ORDER_OPERATION,
        ..scope_of(&alice(), "in-flight")
    };
    crashed_attempt(&w, &scope, fingerprint_of(bought)).await;
    w.clock.advance(Duration::from_secs(10));
    match cancel(&w.use_cases, &alice(), "in-flight", bought).await {
        Err(UseCaseError::IdempotencyInProgress { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(20));
        }
        other => panic!("expected in-progress, got {other:?}"),
    }
    let answer = fresh(cancel(&w.use_cases, &alice(), "same-key", bought).await);
    assert_eq!(answer.status, 200, "{}", body(&answer));
}

#[tokio::test]
async fn retried_cancels_never_stretch_the_window_in_which_the_seats_ignore_sold_markers() {
    let w = world();
    with_event(&w).await;
    let bought = sold(&w, &["A1"], "buy").await;
    fresh(cancel(&w.use_cases, &alice(), "undo", bought).await);
    w.clock.advance(Duration::from_secs(240));
    fresh(cancel(&w.use_cases, &alice(), "undo-again", bought).await);
    w.clock.advance(Duration::from_secs(61));
    // Five minutes and a second after the cancel: a new sale's marker is
    // written again, however recently someone retried the cancel.
    assert_eq!(mark_a1_sold(&w).await, SeatLock::Sold);
}

/// Marks A1 sold in the seat locks (as a sale or a write-back would) and
/// answers what the locks then say of it.
async fn mark_a1_sold(w: &World) -> SeatLock {
    let tenant = alice().tenant;
    w.locks
        .mark_sold(&tenant, &gig(), &seats(&["A1"]), SOLD_MARKER_TTL)
        .await
        .unwrap();
    w.locks.inspect(&tenant, &gig(), &seats(&["A1"])).await.unwrap()[0]
}
