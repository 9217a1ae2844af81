//! The circuit breaker in front of the seat locks (I8): after a failure it
//! answers at once for its open period without touching Redis, a refusal
//! counts as Redis working, and the first call after the period is a trial
//! that closes it again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use application::degraded_seat_locks::CircuitBreakerSeatLocks;
use application::ports::{BackendError, LockError, MirroredLock, SeatLock, SeatLocks};
use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};

/// Seat locks that fail while `down`, and count every call that reached them.
#[derive(Default)]
struct Flaky {
    down: AtomicBool,
    refuse: AtomicBool,
    calls: AtomicUsize,
}

impl Flaky {
    fn answer(&self) -> Result<(), BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(BackendError::new("redis", "timed out"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SeatLocks for Flaky {
    async fn lock(&self, _: &TenantId, _: &EventId, seats: &[SeatId], _: HoldId, _: Duration) -> Result<(), LockError> {
        self.answer()?;
        if self.refuse.load(Ordering::SeqCst) {
            return Err(LockError::Unavailable(seats.to_vec()));
        }
        Ok(())
    }
    async fn release(&self, _: &TenantId, _: &EventId, _: &[SeatId], _: HoldId) -> Result<(), BackendError> {
        self.answer()
    }
    async fn inspect(&self, _: &TenantId, _: &EventId, seats: &[SeatId]) -> Result<Vec<SeatLock>, BackendError> {
        self.answer().map(|()| vec![SeatLock::Free; seats.len()])
    }
    async fn mark_sold(&self, _: &TenantId, _: &EventId, _: &[SeatId], _: Duration) -> Result<(), BackendError> {
        self.answer()
    }
    async fn extend(
        &self,
        _: &TenantId,
        _: &EventId,
        _: &[SeatId],
        _: HoldId,
        _: Duration,
    ) -> Result<(), BackendError> {
        self.answer()
    }
    async fn mirror(&self, _: &TenantId, _: &EventId, _: &[(SeatId, MirroredLock)]) -> Result<(), BackendError> {
        self.answer()
    }
}

fn ids() -> (TenantId, EventId, Vec<SeatId>, HoldId) {
    (
        TenantId::parse("acme").unwrap(),
        EventId::parse("gig").unwrap(),
        vec![SeatId::parse("A1").unwrap()],
        HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
    )
}

#[tokio::test]
async fn after_a_failure_calls_fail_at_once_for_the_open_period_then_a_trial_closes_it() {
    let clock = test_doubles::clock::manual_clock();
    let inner = Arc::new(Flaky::default());
    let breaker = CircuitBreakerSeatLocks::new(inner.clone(), Arc::new(clock.clone()), Duration::from_secs(5));
    let (tenant, event, seats, hold) = ids();

    inner.down.store(true, Ordering::SeqCst);
    assert!(breaker.inspect(&tenant, &event, &seats).await.is_err());
    assert!(breaker.is_open());
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);

    // Redis is back, but the breaker does not ask it during the open period.
    inner.down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_millis(4_999));
    assert!(matches!(
        breaker
            .lock(&tenant, &event, &seats, hold, Duration::from_secs(5))
            .await,
        Err(LockError::Backend(_))
    ));
    assert!(breaker.release(&tenant, &event, &seats, hold).await.is_err());
    assert!(
        breaker
            .mark_sold(&tenant, &event, &seats, Duration::from_secs(60))
            .await
            .is_err()
    );
    assert!(
        breaker
            .extend(&tenant, &event, &seats, hold, Duration::from_secs(1))
            .await
            .is_err()
    );
    assert!(breaker.mirror(&tenant, &event, &[]).await.is_err());
    assert_eq!(
        inner.calls.load(Ordering::SeqCst),
        1,
        "nothing reached Redis while open"
    );

    clock.advance(Duration::from_millis(1));
    breaker
        .inspect(&tenant, &event, &seats)
        .await
        .expect("the trial call goes through");
    assert!(!breaker.is_open());
    breaker.release(&tenant, &event, &seats, hold).await.unwrap();
    assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refusal_is_an_answer_and_a_failed_trial_opens_the_breaker_again() {
    let clock = test_doubles::clock::manual_clock();
    let inner = Arc::new(Flaky::default());
    let breaker = CircuitBreakerSeatLocks::new(inner.clone(), Arc::new(clock.clone()), Duration::from_secs(5));
    let (tenant, event, seats, hold) = ids();

    inner.refuse.store(true, Ordering::SeqCst);
    assert!(matches!(
        breaker
            .lock(&tenant, &event, &seats, hold, Duration::from_secs(5))
            .await,
        Err(LockError::Unavailable(_))
    ));
    assert!(!breaker.is_open(), "seats taken is Redis working");

    inner.down.store(true, Ordering::SeqCst);
    assert!(
        breaker
            .mark_sold(&tenant, &event, &seats, Duration::from_secs(60))
            .await
            .is_err()
    );
    clock.advance(Duration::from_secs(5));
    assert!(
        breaker
            .extend(&tenant, &event, &seats, hold, Duration::from_secs(1))
            .await
            .is_err()
    );
    assert!(breaker.is_open(), "a failed trial opens it for another period");
    assert!(format!("{breaker:?}").contains("open: true"));
}
