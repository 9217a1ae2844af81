//! The durable store slow or failing at the worst moments (issue 27): a
//! place-hold that does not answer 201 leaves nothing claimed a later buyer
//! meets (I5), a failed undo never turns into a second hold on the same
//! seats, an event replacement cannot land behind a hold after its freeze
//! lapsed, lost replies of event writes are recognised, and new holds are
//! shed while the store keeps failing. Each fault is scripted on a wrapper
//! around the in-memory adapters; each test failed before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use application::ports::{
    BackendError, ChangeMarks, Clock, EventCatalog, HoldStore, LockError, PlaceHoldError, PutEventError, SeatLock,
    SeatLocks, StoredEvent,
};
use application::use_cases::{PutEventOutcome, StoredOutcome};
use application::{Rejection, UseCaseError, UseCases};
use async_trait::async_trait;
use domain::event::{Event, EventConflict, SeatStatus};
use domain::hold::Hold;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;
use system_runtime::ManualClock;
use test_doubles::{Delegating, EventCatalogDouble, HoldStoreDouble, SeatLocksDouble};

type Pinned = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
/// A request of someone else, run at one point of the request under test.
type Rival = Box<dyn FnOnce(UseCases, ManualClock) -> Pinned + Send>;

fn unreachable() -> BackendError {
    BackendError::new("dynamodb", "timed out")
}

/// Whether the next call fails: counts down how many of the next calls
/// still do.
fn fails_next(left: &AtomicU32) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
        .is_ok()
}

/// What the store does wrong, switched on and off by the test.
#[derive(Default)]
struct Script {
    /// Placements are applied, then answered with a timeout.
    place_applied_reply_lost: AtomicBool,
    /// Placements never reach the store: a timeout, nothing written.
    place_unreachable: AtomicBool,
    /// Placements are cancelled by other writes on their seats.
    place_contended: AtomicBool,
    places: AtomicU32,
    /// Run once, just after a placement was applied (before its reply).
    after_place: Mutex<Option<Rival>>,
    /// How many of the next seat-lock calls fail (Redis blips).
    lock_failures: AtomicU32,
    /// How many of the next undos fail.
    abandon_failures: AtomicU32,
    abandons: AtomicU32,
    /// Event reads fail.
    event_reads_fail: AtomicBool,
    /// Event writes are applied, then answered as their resend would be.
    put_applied_reply_lost: AtomicBool,
    /// Event writes never reach the store: a timeout, nothing written.
    put_unreachable: AtomicBool,
    /// Run once, just before an event write.
    before_put: Mutex<Option<Rival>>,
    /// Run once, when a hold checks the event's change marks.
    on_change_marks: Mutex<Option<Rival>>,
    use_cases: Mutex<Option<UseCases>>,
    clock: Mutex<Option<ManualClock>>,
}

impl Script {
    async fn run(&self, slot: &Mutex<Option<Rival>>) {
        let rival = slot.lock().unwrap().take();
        if let Some(rival) = rival {
            let use_cases = self.use_cases.lock().unwrap().clone().unwrap();
            let clock = self.clock.lock().unwrap().clone().unwrap();
            rival(use_cases, clock).await;
        }
    }
}

struct Holds(Arc<dyn HoldStore>, Arc<Script>);
struct Events(Arc<dyn EventCatalog>, Arc<Script>);
struct Locks(Arc<dyn SeatLocks>, Arc<Script>);

#[async_trait]
impl HoldStoreDouble for Holds {
    fn inner(&self) -> &dyn HoldStore {
        &*self.0
    }
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        let script = &self.1;
        script.places.fetch_add(1, Ordering::SeqCst);
        if script.place_contended.load(Ordering::SeqCst) {
            return Err(PlaceHoldError::Contended(hold.seat_ids()));
        }
        if script.place_unreachable.load(Ordering::SeqCst) {
            return Err(unreachable().into());
        }
        self.0.place(hold, now).await?;
        script.run(&script.after_place).await;
        if script.place_applied_reply_lost.load(Ordering::SeqCst) {
            return Err(unreachable().into());
        }
        Ok(())
    }
    async fn abandon_placement(&self, hold: &Hold, now: Timestamp) -> Result<(), BackendError> {
        let script = &self.1;
        script.abandons.fetch_add(1, Ordering::SeqCst);
        if fails_next(&script.abandon_failures) {
            return Err(unreachable());
        }
        self.0.abandon_placement(hold, now).await
    }
}

#[async_trait]
impl EventCatalogDouble for Events {
    fn inner(&self) -> &dyn EventCatalog {
        &*self.0
    }
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError> {
        if self.1.event_reads_fail.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.0.get(tenant, event).await
    }
    async fn put(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
    ) -> Result<u64, PutEventError> {
        self.1.run(&self.1.before_put).await;
        if self.1.put_unreachable.load(Ordering::SeqCst) {
            return Err(PutEventError::Backend(unreachable()));
        }
        let version = self.0.put(event, expected, under_freeze, held_repriced).await?;
        if self.1.put_applied_reply_lost.load(Ordering::SeqCst) {
            // The resend of an applied write finds the version moved on.
            return Err(PutEventError::VersionMismatch);
        }
        Ok(version)
    }
    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError> {
        self.1.run(&self.1.on_change_marks).await;
        self.0.change_marks(tenant, event).await
    }
}

#[async_trait]
impl SeatLocksDouble for Locks {
    fn inner(&self) -> &dyn SeatLocks {
        &*self.0
    }
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError> {
        if fails_next(&self.1.lock_failures) {
            return Err(LockError::Backend(test_doubles::unreachable("redis")));
        }
        self.0.lock(tenant, event, seats, hold, ttl).await
    }
}

/// A world with the event A1–A4 (EUR) and the scripted store around it.
async fn scripted() -> (World, Arc<Script>) {
    let script = Arc::new(Script::default());
    let wrapped = script.clone();
    let w = world_with(move |ports, clock| {
        ports.holds = Arc::new(Delegating(Holds(ports.holds.clone(), wrapped.clone())));
        ports.events = Arc::new(Delegating(Events(ports.events.clone(), wrapped.clone())));
        ports.seat_locks = Arc::new(Delegating(Locks(ports.seat_locks.clone(), wrapped.clone())));
        *wrapped.clock.lock().unwrap() = Some(clock.clone());
    });
    *script.use_cases.lock().unwrap() = Some(w.use_cases.clone());
    with_event(&w).await;
    (w, script)
}

fn rival<F>(run: impl FnOnce(UseCases, ManualClock) -> F + Send + 'static) -> Rival
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    Box::new(move |use_cases, clock| Box::pin(run(use_cases, clock)))
}

fn without_a4() -> Event {
    event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000)], "EUR")
}

#[tokio::test]
async fn a_hold_whose_recheck_of_a_changed_event_fails_is_undone_not_left_claimed() {
    let (w, script) = scripted().await;
    // While alice's hold checks the event, a breaking replacement (A4
    // removed, A1 kept) lands, and the store stops answering event reads.
    let fails = script.clone();
    *script.on_change_marks.lock().unwrap() = Some(rival(move |use_cases: UseCases, _| async move {
        use_cases.put_event(&organizer(), without_a4()).await.unwrap();
        fails.event_reads_fail.store(true, Ordering::SeqCst);
    }));
    let result = hold(&w, &alice(), &["A1"]).await;
    assert!(matches!(result, Err(UseCaseError::Unavailable(_))), "{result:?}");
    script.event_reads_fail.store(false, Ordering::SeqCst);
    assert!(
        statuses(&w).await.iter().all(|s| *s == SeatStatus::Available),
        "I5: a 503 hold left A1 claimed: {:?}",
        statuses(&w).await
    );
    assert!(hold(&w, &bob(), &["A1"]).await.is_ok(), "the next buyer gets A1");
}

#[tokio::test]
async fn an_undone_placement_that_took_no_locks_still_frees_the_locks_a_rival_mirrored_for_it() {
    let (w, script) = scripted().await;
    // alice's lock call fails (Redis blips), so her claims alone decide; her
    // write is applied and its reply lost. In between, bob meets her claims
    // and mirrors them into Redis as locks of her hold.
    script.lock_failures.store(1, Ordering::SeqCst);
    script.place_applied_reply_lost.store(true, Ordering::SeqCst);
    *script.after_place.lock().unwrap() = Some(rival(|use_cases: UseCases, _| async move {
        let refused = use_cases.place_hold(&bob(), &gig(), seats(&["A1"]), None).await;
        assert!(
            matches!(refused, Err(UseCaseError::Rejected(Rejection::SeatsUnavailable(_)))),
            "{refused:?}"
        );
    }));
    let first = hold(&w, &alice(), &["A1"]).await;
    assert!(matches!(first, Err(UseCaseError::Unavailable(_))), "{first:?}");
    let lock = w.locks.inspect(&alice().tenant, &gig(), &seats(&["A1"])).await.unwrap();
    assert_eq!(lock, [SeatLock::Free], "I5: a 503 hold left A1 locked in Redis");
}

#[tokio::test]
async fn an_undo_that_fails_is_finished_by_the_next_request_and_the_buyers_retry_gets_its_own_seats() {
    let (w, script) = scripted().await;
    script.place_applied_reply_lost.store(true, Ordering::SeqCst);
    script.abandon_failures.store(100, Ordering::SeqCst);
    let first = hold(&w, &alice(), &["A1", "A2"]).await;
    assert!(matches!(first, Err(UseCaseError::Unavailable(_))), "{first:?}");
    assert_eq!(w.use_cases.pending_undos(), 1, "the undo is owed, not forgotten");

    // The store answers again; alice retries the same request.
    script.place_applied_reply_lost.store(false, Ordering::SeqCst);
    script.abandon_failures.store(0, Ordering::SeqCst);
    let retry = hold(&w, &alice(), &["A1", "A2"]).await;
    assert!(
        retry.is_ok(),
        "a retry of the buyer's own request must not meet its own seats: {retry:?}"
    );
    assert_eq!(w.use_cases.pending_undos(), 0);
}

#[tokio::test]
async fn an_undo_that_fails_ends_the_request_instead_of_placing_a_second_hold_on_the_same_seats() {
    let (w, script) = scripted().await;
    // A replacement freezes the event while alice's hold checks it: the hold
    // steps back, and its undo fails.
    let frozen = script.clone();
    *script.on_change_marks.lock().unwrap() = Some(rival(move |use_cases: UseCases, clock: ManualClock| async move {
        let now = clock.now();
        let events = &use_cases.ports().events;
        assert!(
            events
                .freeze(&organizer().tenant, &gig(), 1, now.plus(Duration::from_secs(10)), now)
                .await
                .unwrap()
        );
        frozen.abandon_failures.store(100, Ordering::SeqCst);
    }));
    let result = hold(&w, &alice(), &["A1"]).await;
    assert!(
        matches!(result, Err(UseCaseError::Unavailable(_))),
        "503, not a 409 on the buyer's own seat: {result:?}"
    );
    assert_eq!(
        script.places.load(Ordering::SeqCst),
        1,
        "one placement, not a second on the same seat"
    );
}

#[tokio::test]
async fn a_replacement_whose_freeze_lapsed_cannot_land_after_a_hold_went_past_it() {
    let (w, script) = scripted().await;
    // The organizer's replacement (A4 removed) is checked, then stalls past
    // its freeze (slow calls, resends); bob holds A4 meanwhile.
    let bobs_answer = Arc::new(Mutex::new(None));
    let answer = bobs_answer.clone();
    *script.before_put.lock().unwrap() = Some(rival(move |use_cases: UseCases, clock: ManualClock| async move {
        clock.advance(Duration::from_secs(11));
        let placed = use_cases.place_hold(&bob(), &gig(), seats(&["A4"]), None).await;
        *answer.lock().unwrap() = Some(placed);
    }));
    let replaced = w.use_cases.put_event(&organizer(), without_a4()).await;
    let bobs = bobs_answer
        .lock()
        .unwrap()
        .take()
        .unwrap()
        .expect("bob's hold went past the lapsed freeze");
    assert!(
        matches!(
            replaced,
            Err(UseCaseError::Rejected(Rejection::EventChangedConcurrently))
        ),
        "I9: the late replacement must lose, not remove bob's held seat: {replaced:?}"
    );
    let event = w
        .use_cases
        .ports()
        .events
        .get(&bobs.tenant, &gig())
        .await
        .unwrap()
        .unwrap();
    assert!(
        event.event.seat(&seats(&["A4"])[0]).is_some(),
        "A4 is still for sale in the event"
    );
}

#[tokio::test]
async fn a_replacement_applied_with_its_reply_lost_answers_replaced_not_conflict() {
    let (w, script) = scripted().await;
    script.put_applied_reply_lost.store(true, Ordering::SeqCst);
    let cheaper = event_with("acme", &[("A1", 900), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    let replaced = w.use_cases.put_event(&organizer(), cheaper.clone()).await;
    assert!(matches!(replaced, Ok(PutEventOutcome::Replaced)), "{replaced:?}");
    // Someone else's write in between is still a conflict.
    let other = event_with("acme", &[("A1", 800), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    *script.before_put.lock().unwrap() = Some(rival(move |use_cases: UseCases, _| async move {
        use_cases.put_event(&organizer(), other).await.unwrap();
    }));
    script.put_applied_reply_lost.store(false, Ordering::SeqCst);
    let mine = event_with("acme", &[("A1", 700), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    let lost = w.use_cases.put_event(&organizer(), mine).await;
    assert!(
        matches!(lost, Err(UseCaseError::Rejected(Rejection::EventChangedConcurrently))),
        "{lost:?}"
    );
}

#[tokio::test]
async fn a_repricing_of_a_held_seat_that_is_sold_before_the_write_lands_loses() {
    let (w, script) = scripted().await;
    let alices = hold(&w, &alice(), &["A1"]).await.unwrap();
    // Checked while A1 is only held; alice's order lands before the write.
    *script.before_put.lock().unwrap() = Some(rival(move |use_cases: UseCases, _| async move {
        let ordered = use_cases
            .create_order(&alice(), order_request("k1", 1, alices.id), &TextResponses)
            .await;
        assert!(ordered.is_ok(), "{ordered:?}");
    }));
    let repriced = event_with("acme", &[("A1", 9000), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR");
    let result = w.use_cases.put_event(&organizer(), repriced).await;
    assert!(
        matches!(
            &result,
            Err(UseCaseError::Rejected(Rejection::EventConflict(conflicts)))
                if conflicts == &vec![EventConflict::RepricesSoldSeat(seats(&["A1"])[0].clone())]
        ),
        "a sold seat cannot be repriced: {result:?}"
    );
}

#[tokio::test]
async fn a_placement_cancelled_by_writes_on_its_seats_is_a_409_and_writes_no_tombstone() {
    let (w, script) = scripted().await;
    script.place_contended.store(true, Ordering::SeqCst);
    let result = hold(&w, &alice(), &["A1", "A2"]).await;
    assert_eq!(rejection(result), Rejection::SeatsUnavailable(seats(&["A1", "A2"])));
    assert_eq!(
        script.abandons.load(Ordering::SeqCst),
        0,
        "nothing was written, nothing to undo"
    );
}

#[tokio::test]
async fn while_the_store_keeps_failing_new_holds_are_shed_before_they_reach_it() {
    let (w, script) = scripted().await;
    script.place_unreachable.store(true, Ordering::SeqCst);
    let mut shed = 0;
    for _ in 0..40 {
        match hold(&w, &alice(), &["A1"]).await {
            Err(UseCaseError::Overloaded { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1));
                shed += 1;
            }
            Err(UseCaseError::Unavailable(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(shed >= 20, "most new holds shed at once: {shed} of 40");
    assert_eq!(
        script.places.load(Ordering::SeqCst),
        40 - shed,
        "a shed hold never reaches the store"
    );
    // The store is back: once the failures leave the window, nothing is shed.
    script.place_unreachable.store(false, Ordering::SeqCst);
    w.clock.advance(Duration::from_secs(11));
    assert!(hold(&w, &alice(), &["A1"]).await.is_ok());
}

#[tokio::test]
async fn holds_sent_back_by_an_event_being_changed_do_not_count_as_a_failing_store() {
    let (w, _script) = scripted().await;
    // A replacement froze the event and died: every hold steps back (503)
    // until the freeze lapses; the store itself serves every call.
    let now = w.clock.now();
    let until = now.plus(Duration::from_secs(10));
    let events = &w.use_cases.ports().events;
    assert!(events.freeze(&organizer().tenant, &gig(), 1, until, now).await.unwrap());
    for _ in 0..30 {
        let result = hold(&w, &alice(), &["A1"]).await;
        assert!(matches!(result, Err(UseCaseError::Unavailable(_))), "{result:?}");
    }
    events.unfreeze(&organizer().tenant, &gig(), until).await.unwrap();
    assert!(
        hold(&w, &alice(), &["A1"]).await.is_ok(),
        "not shed: the store was serving all along"
    );
}

#[tokio::test]
async fn a_retry_of_an_order_whose_answer_is_stored_is_replayed_even_while_orders_are_shed() {
    let (w, script) = scripted().await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    let first = fresh(
        w.use_cases
            .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
            .await,
    );
    assert_eq!(first.status, 201);
    // The store now fails most calls: new holds fail, far more than half.
    script.place_unreachable.store(true, Ordering::SeqCst);
    for _ in 0..40 {
        let _ = hold(&w, &alice(), &["A2"]).await;
    }
    // The buyer whose reply was lost asks again and again: always its order.
    for retry in 0..10 {
        let answer = w
            .use_cases
            .create_order(&alice(), order_request("k", 1, h.id), &TextResponses)
            .await;
        match answer {
            Ok(StoredOutcome::Replayed(replayed)) => assert_eq!(body(&replayed), body(&first)),
            other => panic!("retry {retry}: the stored order must be replayed, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_buyers_retry_finds_its_own_seats_free_however_many_undos_are_owed_before_it() {
    let (w, script) = scripted().await;
    let seats: Vec<(String, u64)> = (1..=8).map(|n| (format!("A{n}"), 1000)).collect();
    let named: Vec<(&str, u64)> = seats.iter().map(|(id, price)| (id.as_str(), *price)).collect();
    w.use_cases
        .put_event(&organizer(), event_with("acme", &named, "EUR"))
        .await
        .unwrap();
    script.place_applied_reply_lost.store(true, Ordering::SeqCst);
    script.abandon_failures.store(1_000, Ordering::SeqCst);
    for seat in ["A1", "A2", "A3", "A4", "A5"] {
        let failed = hold(&w, &alice(), &[seat]).await;
        assert!(matches!(failed, Err(UseCaseError::Unavailable(_))), "{failed:?}");
    }
    assert_eq!(w.use_cases.pending_undos(), 5, "more owed than one request retries");

    // The store answers again; the newest buyer retries its own request.
    script.place_applied_reply_lost.store(false, Ordering::SeqCst);
    script.abandon_failures.store(0, Ordering::SeqCst);
    let retry = hold(&w, &alice(), &["A5"]).await;
    assert!(
        retry.is_ok(),
        "the owed undo of the buyer's own seats is finished first: {retry:?}"
    );
}

#[tokio::test]
async fn a_breaking_replacement_whose_write_fails_lifts_its_freeze_so_holds_go_on() {
    let (w, script) = scripted().await;
    script.put_unreachable.store(true, Ordering::SeqCst);
    let failed = w.use_cases.put_event(&organizer(), without_a4()).await;
    assert!(matches!(failed, Err(UseCaseError::Unavailable(_))), "{failed:?}");
    // Within the freeze's 10 s: a hold is placed at once, not sent back.
    let held = hold(&w, &alice(), &["A1"]).await;
    assert!(held.is_ok(), "the failed replacement's freeze still stands: {held:?}");
}
