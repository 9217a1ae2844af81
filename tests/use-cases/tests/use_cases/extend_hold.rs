//! Extend hold against the in-memory backend, a manual clock and sequential ids.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::time::Duration;

use crate::support::*;
use application::Rejection;
use application::ports::{SeatLock, SeatLocks};
use domain::event::SeatStatus;
use domain::hold::{CLAIM_GRACE, HoldStatus};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_extended_hold_keeps_its_seats_claims_and_locks_past_its_first_expiry() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.clock.advance(9 * MINUTE);
    let extended = w.use_cases.extend_hold(&alice(), h.id, 600).await.unwrap();
    assert_eq!(extended.hold.expires_at, h.created_at.plus(19 * MINUTE));
    assert_eq!(extended.remaining, 10 * MINUTE);
    assert_eq!((extended.status, extended.invalid_reason), (HoldStatus::Active, None));

    // Past the first expiry and its grace: the seats are still alice's.
    w.clock.advance(MINUTE + CLAIM_GRACE + Duration::from_secs(1));
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::HeldBy(h.id), SeatLock::HeldBy(h.id)],
        "the locks moved with the claims"
    );
    assert_eq!(
        rejection(hold(&w, &bob(), &["A2"]).await),
        Rejection::SeatsUnavailable(seats(&["A2"]))
    );
    assert_eq!(statuses(&w).await[..2], [SeatStatus::Held, SeatStatus::Held]);
    let verified = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(verified.invalid_reason, None);
    assert_eq!(fresh(order(&w, &alice(), "k", 1, h.id).await).status, 201);
}

#[tokio::test]
async fn an_extension_is_capped_at_the_maximum_lifetime_and_then_refused() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(9 * MINUTE);
    let extended = w.use_cases.extend_hold(&alice(), h.id, 1800).await.unwrap();
    assert_eq!(
        extended.hold.expires_at,
        h.created_at.plus(30 * MINUTE),
        "createdAt + HOLD_MAX_LIFETIME_SECONDS (1800)"
    );
    assert_eq!(
        rejection(w.use_cases.extend_hold(&alice(), h.id, 60).await),
        Rejection::HoldLifetimeExceeded
    );
    // The hold itself is untouched by the refusal.
    let verified = w.use_cases.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(verified.hold.expires_at, h.created_at.plus(30 * MINUTE));
}

#[tokio::test]
async fn an_extension_shorter_than_the_time_left_shortens_the_hold_and_its_locks() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let shorter = w.use_cases.extend_hold(&alice(), h.id, 60).await.unwrap();
    assert_eq!(
        shorter.hold.expires_at,
        h.created_at.plus(MINUTE),
        "now + ttl (docs/contract.md, Routes)"
    );
    w.clock.advance(MINUTE + CLAIM_GRACE);
    assert_eq!(statuses(&w).await[0], SeatStatus::Available);
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap(),
        [SeatLock::Free]
    );
    hold(&w, &bob(), &["A1"]).await.expect("the seat is for sale again");
}

#[tokio::test]
async fn only_the_owners_active_hold_can_be_extended() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    for who in [bob(), caller("evil", "alice", &[])] {
        assert_eq!(
            rejection(w.use_cases.extend_hold(&who, h.id, 600).await),
            Rejection::HoldNotFound
        );
    }
    for ttl in [0, 59, 1801, u64::MAX] {
        assert!(
            matches!(
                rejection(w.use_cases.extend_hold(&alice(), h.id, ttl).await),
                Rejection::InvalidHoldRequest(_)
            ),
            "{ttl}"
        );
    }
    let released = hold(&w, &alice(), &["A2"]).await.unwrap();
    w.use_cases.release_hold(&alice(), released.id).await.unwrap();
    assert_eq!(
        rejection(w.use_cases.extend_hold(&alice(), released.id, 600).await),
        Rejection::HoldNotActive
    );
    let converted = hold(&w, &alice(), &["A3"]).await.unwrap();
    fresh(order(&w, &alice(), "k", 1, converted.id).await);
    assert_eq!(
        rejection(w.use_cases.extend_hold(&alice(), converted.id, 600).await),
        Rejection::HoldNotActive
    );
    w.clock.advance(10 * MINUTE);
    assert_eq!(
        rejection(w.use_cases.extend_hold(&alice(), h.id, 600).await),
        Rejection::HoldExpired
    );
    assert_eq!(statuses(&w).await[0], SeatStatus::Held, "within the grace");
}

#[tokio::test]
async fn a_lock_lost_after_an_extension_is_written_back_from_the_claims() {
    let w = world();
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.use_cases.extend_hold(&alice(), h.id, 1800).await.unwrap();
    w.locks.forget_everything();
    assert_eq!(
        rejection(hold(&w, &bob(), &["A1"]).await),
        Rejection::SeatsUnavailable(seats(&["A1"])),
        "I7: the claims keep the promise"
    );
    assert_eq!(
        w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap(),
        [SeatLock::HeldBy(h.id)]
    );
}
