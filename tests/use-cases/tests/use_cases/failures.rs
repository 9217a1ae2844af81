//! What the use cases do when a backend fails or the world changes between
//! their steps: nothing half-done (I5), and the durable store decides (I6).
//! Each failure is injected by a wrapper around an in-memory adapter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use application::Rejection;
use application::UseCaseError;
use application::ports::{
    BackendError, Claim, ClaimRequest, Clock, CommitError, CustomerTally, EventCatalog, HoldStore, IdempotencyStore,
    OrderCommit, OrderStore, PlaceHoldError, PutEventError, SeatLock, SeatLocks, StoredResponse,
};
use async_trait::async_trait;
use domain::event::{Event, SeatStatus};
use domain::hold::Hold;
use domain::idempotency::{IdempotencyScope, LeaseId};
use domain::ids::{HoldId, OrderId, SeatId};
use domain::order::Order;
use domain::time::Timestamp;
use system_runtime::ManualClock;
use test_doubles::{
    Delegating, EventCatalogDouble, HoldStoreDouble, IdempotencyStoreDouble, OrderStoreDouble, SeatLocksDown,
    unreachable,
};

/// A hold store whose placements answer "unreachable": before writing
/// anything (`applied: false`), or after the write was applied and its reply
/// lost (`applied: true`). Everything else goes through.
struct PlacementsWithoutAnswer {
    inner: Arc<dyn HoldStore>,
    applied: bool,
}

#[async_trait]
impl HoldStoreDouble for PlacementsWithoutAnswer {
    fn inner(&self) -> &dyn HoldStore {
        &*self.inner
    }
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        if self.applied {
            self.inner.place(hold, now).await?;
        }
        Err(unreachable("dynamodb").into())
    }
    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        if self.applied {
            self.inner.place_counted(hold, now, tally).await?;
        }
        Err(unreachable("dynamodb").into())
    }
}

fn placements_without_answer(applied: bool) -> World {
    world_with(move |ports, _| {
        ports.holds = Arc::new(Delegating(PlacementsWithoutAnswer {
            inner: ports.holds.clone(),
            applied,
        }));
    })
}

#[tokio::test]
async fn a_hold_recorded_but_answered_with_an_error_is_undone_so_nothing_stays_claimed_or_locked() {
    let w = placements_without_answer(true);
    with_event(&w).await;
    let result = hold(&w, &alice(), &["A1", "A2"]).await;
    assert!(matches!(result, Err(UseCaseError::Unavailable(_))), "{result:?}");
    assert!(
        statuses(&w).await.iter().all(|s| *s == SeatStatus::Available),
        "I5: the compensation freed the claims"
    );
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::Free; 2],
        "I5: and the locks"
    );
}

#[tokio::test]
async fn a_hold_that_cannot_be_recorded_answers_unavailable_and_leaves_no_seat_locked() {
    let w = placements_without_answer(false);
    with_event(&w).await;
    let result = hold(&w, &alice(), &["A1", "A2"]).await;
    assert!(
        matches!(result, Err(UseCaseError::Unavailable(ref e)) if e.backend == "dynamodb"),
        "{result:?}"
    );
    assert!(
        statuses(&w).await.iter().all(|s| *s == SeatStatus::Available),
        "I5: nothing left claimed"
    );
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::Free; 2],
        "I5: nothing left locked"
    );
}

#[tokio::test]
async fn with_the_seat_locks_down_every_route_goes_on_against_the_durable_store_alone() {
    let healthy = world();
    with_event(&healthy).await;
    let h = hold(&healthy, &alice(), &["A1"]).await.unwrap();

    // Same durable store, seat locks gone (I8): slower, never wrong.
    let ports = healthy.use_cases.ports().clone();
    let degraded = application::UseCases::new(
        application::ports::Ports {
            seat_locks: Arc::new(SeatLocksDown),
            ..ports
        },
        *healthy.use_cases.settings(),
    );
    let placed = degraded.place_hold(&bob(), &gig(), seats(&["A2"]), None).await.unwrap();
    let refused = degraded.place_hold(&bob(), &gig(), seats(&["A1"]), None).await;
    assert_eq!(
        rejection(refused),
        Rejection::SeatsUnavailable(seats(&["A1"])),
        "I7 without Redis"
    );
    let verified = degraded.verify_hold(&alice(), h.id).await.unwrap();
    assert_eq!(verified.invalid_reason, None, "the claims confirm the hold");
    let extended = degraded
        .extend_hold(&alice(), h.id, 900)
        .await
        .expect("extend answers without Redis");
    assert!(extended.hold.expires_at > h.expires_at);
    let ordered = degraded
        .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
        .await;
    let ordered = fresh(ordered);
    assert_eq!(ordered.status, 201, "sold markers are best effort");
    assert_eq!(sold_seats(&healthy).await, seats(&["A1"]));
    let order_id = domain::ids::OrderId::parse(body(&ordered).split_whitespace().nth(1).unwrap()).unwrap();
    let cancel = application::use_cases::CancelOrder {
        key: domain::idempotency::IdempotencyKey::parse("undo").unwrap(),
        fingerprint: domain::idempotency::Fingerprint([3; 32]),
        order_id,
        time_budget: None,
    };
    let cancelled = degraded.cancel_order(&alice(), cancel, &TextResponses).await;
    assert_eq!(fresh(cancelled).status, 200, "cancel answers without Redis");
    assert!(sold_seats(&healthy).await.is_empty());
    let resold = degraded.place_hold(&bob(), &gig(), seats(&["A1"]), None).await.unwrap();
    let ordered = degraded
        .create_order(&bob(), order_request("k2", 2, resold.id), &TextResponses)
        .await;
    assert_eq!(fresh(ordered).status, 201);
    assert_eq!(sold_seats(&healthy).await, seats(&["A1"]));
    degraded
        .release_hold(&bob(), placed.id)
        .await
        .expect("release answers without Redis");
    let availability = degraded.get_availability(&alice(), &gig()).await.unwrap();
    assert!(availability.statuses[1..].iter().all(|s| *s == SeatStatus::Available));
    assert_eq!(availability.statuses[0], SeatStatus::Sold);
}

/// Records every claim so tests can read the lease that was asked for.
struct RecordingIdempotency {
    inner: Arc<dyn IdempotencyStore>,
    leases: Mutex<Vec<Timestamp>>,
}

#[async_trait]
impl IdempotencyStoreDouble for RecordingIdempotency {
    fn inner(&self) -> &dyn IdempotencyStore {
        &*self.inner
    }
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        self.leases.lock().unwrap().push(request.lease_expires_at);
        self.inner.claim(request).await
    }
}

#[tokio::test]
async fn the_lease_never_outlives_the_time_the_runtime_gives_the_attempt() {
    let recorder = Arc::new(Mutex::new(None::<Arc<RecordingIdempotency>>));
    let slot = recorder.clone();
    let w = world_with(move |ports, _| {
        let recording = Arc::new(RecordingIdempotency {
            inner: ports.idempotency.clone(),
            leases: Mutex::new(Vec::new()),
        });
        *slot.lock().unwrap() = Some(recording.clone());
        ports.idempotency = Arc::new(Delegating(recording));
    });
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let now = w.clock.now();
    let mut short = order_request("k1", 1, h.id);
    short.time_budget = Some(Duration::from_secs(5));
    w.use_cases.create_order(&alice(), short, &TextResponses).await.unwrap();
    let mut long = order_request("k2", 1, h.id);
    long.time_budget = Some(Duration::from_secs(900));
    w.use_cases.create_order(&alice(), long, &TextResponses).await.unwrap();
    let recording = recorder.lock().unwrap().clone().unwrap();
    let leases = recording.leases.lock().unwrap().clone();
    assert_eq!(
        leases,
        [now.plus(Duration::from_secs(5)), now.plus(Duration::from_secs(30))]
    );
}

/// Runs `before` just before delegating the commit: the world changing
/// between the use case's checks and its atomic step.
struct CommitAfter<F: Fn(&dyn OrderStore) + Send + Sync> {
    inner: Arc<dyn OrderStore>,
    before: F,
}

#[async_trait]
impl<F: Fn(&dyn OrderStore) + Send + Sync> OrderStoreDouble for CommitAfter<F> {
    fn inner(&self) -> &dyn OrderStore {
        &*self.inner
    }
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        (self.before)(self.inner.as_ref());
        self.inner.commit(commit).await
    }
}

/// `before` runs just before each commit, with the clock and the real order store.
fn commit_after(before: impl Fn(&ManualClock, &dyn OrderStore) + Send + Sync + 'static) -> World {
    world_with(move |ports, clock| {
        let clock = clock.clone();
        ports.orders = Arc::new(Delegating(CommitAfter {
            inner: ports.orders.clone(),
            before: move |orders: &dyn OrderStore| before(&clock, orders),
        }));
    })
}

#[tokio::test]
async fn a_hold_released_between_the_check_and_the_commit_is_refused_by_the_commit() {
    // The customer's other tab releases the hold while checkout is committing.
    let holds = Arc::new(Mutex::new(None::<(Arc<dyn HoldStore>, HoldId)>));
    let slot = holds.clone();
    let w = commit_after(move |clock, _| {
        let (store, hold_id) = slot.lock().unwrap().clone().unwrap();
        let hold = block_on(store.get(&alice().tenant, hold_id)).unwrap().unwrap();
        let released = block_on(store.release(&hold, clock.now()));
        assert!(released.unwrap());
    });
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    *holds.lock().unwrap() = Some((w.use_cases.ports().holds.clone(), h.id));
    let answer = fresh(
        w.use_cases
            .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
            .await,
    );
    assert_eq!(body(&answer), "HoldNotActive");
    assert!(sold_seats(&w).await.is_empty());
}

#[tokio::test]
async fn when_another_attempt_takes_over_the_lease_before_the_commit_nothing_is_written() {
    // The lease runs out and a retry claims the scope while we were slow.
    let taken_over = Arc::new(Mutex::new(None::<(Arc<dyn IdempotencyStore>, IdempotencyScope)>));
    let slot = taken_over.clone();
    let w = commit_after(move |clock, _| {
        clock.advance(Duration::from_secs(31));
        let now = clock.now();
        let (store, scope) = slot.lock().unwrap().clone().unwrap();
        let claimed = block_on(store.claim(ClaimRequest {
            scope: &scope,
            fingerprint: domain::idempotency::Fingerprint([1; 32]),
            lease: LeaseId(999),
            lease_expires_at: now.plus(Duration::from_secs(30)),
            record_expires_at: now.plus(Duration::from_secs(86_400)),
            now,
        }));
        assert!(matches!(claimed.unwrap(), Claim::Claimed { .. }));
    });
    *taken_over.lock().unwrap() = Some((w.use_cases.ports().idempotency.clone(), scope_of(&alice(), "k")));
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let result = w
        .use_cases
        .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
        .await;
    assert!(
        matches!(result, Err(UseCaseError::IdempotencyInProgress { .. })),
        "{result:?}"
    );
    assert!(sold_seats(&w).await.is_empty());
}

/// Polls a future that never waits (the in-memory adapters never do).
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("in-memory adapters complete immediately"),
    }
}

/// An event catalog where every write loses a race.
struct ContendedEvents(Arc<dyn EventCatalog>);

#[async_trait]
impl EventCatalogDouble for ContendedEvents {
    fn inner(&self) -> &dyn EventCatalog {
        &*self.0
    }
    async fn put(&self, _: &Event, _: Option<u64>, _: Option<Timestamp>, _: &[SeatId]) -> Result<u64, PutEventError> {
        Err(PutEventError::VersionMismatch)
    }
}

#[tokio::test]
async fn an_event_changed_by_someone_else_meanwhile_is_a_conflict_not_an_overwrite() {
    let w = world_with(|ports, _| ports.events = Arc::new(Delegating(ContendedEvents(ports.events.clone()))));
    let put = w
        .use_cases
        .put_event(&organizer(), event_with("acme", &[("A1", 1)], "EUR"))
        .await;
    assert_eq!(rejection(put), Rejection::EventChangedConcurrently);
}

#[tokio::test]
async fn the_ports_bundle_names_its_readiness_probes_when_debug_printed() {
    let w = world();
    assert!(format!("{:?}", w.use_cases.ports()).contains("memory"));
}

#[tokio::test]
async fn a_second_key_that_loses_the_race_for_one_hold_is_told_the_hold_is_gone_not_that_seats_are_sold() {
    // Another tab's checkout (another key) commits between our checks and our commit.
    type Rival = (Arc<dyn HoldStore>, Arc<dyn IdempotencyStore>, HoldId);
    let rival: Arc<Mutex<Option<Rival>>> = Arc::new(Mutex::new(None));
    let slot = rival.clone();
    let w = commit_after(move |clock, orders| {
        let Some((holds, idempotency, hold_id)) = slot.lock().unwrap().take() else {
            return; // Only the first commit has a rival.
        };
        let now = clock.now();
        let scope = scope_of(&alice(), "other-tab");
        let claim = ClaimRequest {
            scope: &scope,
            fingerprint: domain::idempotency::Fingerprint([9; 32]),
            lease: LeaseId(77),
            lease_expires_at: now.plus(Duration::from_secs(30)),
            record_expires_at: now.plus(Duration::from_secs(3600)),
            now,
        };
        assert!(matches!(
            block_on(idempotency.claim(claim)).unwrap(),
            Claim::Claimed { .. }
        ));
        let hold = block_on(holds.get(&alice().tenant, hold_id)).unwrap().unwrap();
        let order = Order::from_hold(OrderId::from_u128(77), &hold, domain::order::Buyer::default(), now).unwrap();
        let response = StoredResponse {
            status: 201,
            body: b"rival".to_vec(),
            location: None,
        };
        let commit = OrderCommit {
            order: &order,
            scope: &scope,
            lease: LeaseId(77),
            response: &response,
            record_expires_at: now.plus(Duration::from_secs(3600)),
            clock,
        };
        block_on(orders.commit(commit)).unwrap();
    });
    with_event(&w).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    let ports = w.use_cases.ports();
    *rival.lock().unwrap() = Some((ports.holds.clone(), ports.idempotency.clone(), h.id));
    let answer = fresh(
        w.use_cases
            .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
            .await,
    );
    assert_eq!(body(&answer), "HoldNotActive");
}
