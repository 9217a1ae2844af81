//! The seat limit per customer (`maxSeatsPerCustomer`) against the in-memory
//! backend, a manual clock and sequential ids: what counts, what stops
//! counting, and a tally moved by another instance between the read and the
//! write.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::*;
use application::Rejection;
use application::ports::{Clock, CustomerTally, HoldStore, PlaceHoldError, SeatLock, SeatLocks};
use async_trait::async_trait;
use domain::customer_limit::{LimitReached, SeatLimit};
use domain::event::{Event, EventConflict, SeatStatus};
use domain::hold::{CLAIM_GRACE, HeldSeat, Hold};
use domain::ids::{CustomerId, HoldId, OrderId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::time::Timestamp;
use test_doubles::{Delegating, HoldStoreDouble};

const MINUTE: Duration = Duration::from_secs(60);

fn limit(seats: u64) -> SeatLimit {
    SeatLimit::new(seats).unwrap()
}

fn limited_event(seats: Option<u64>) -> Event {
    let prices: Vec<(String, u64)> = (1..=8).map(|i| (format!("A{i}"), 1000)).collect();
    let prices: Vec<(&str, u64)> = prices.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    event_with("acme", &prices, "EUR").with_seat_limit(seats.map(limit))
}

async fn with_limit(w: &World, seats: u64) {
    w.use_cases
        .put_event(&organizer(), limited_event(Some(seats)))
        .await
        .unwrap();
}

fn reached(limit_seats: u64, current: u32) -> Rejection {
    Rejection::CustomerLimitReached(LimitReached {
        limit: limit(limit_seats),
        current,
    })
}

async fn cancel(w: &World, order: OrderId) {
    let outcome = w
        .use_cases
        .cancel_order(&alice(), cancel_request("cancel", order), &TextResponses)
        .await;
    assert_eq!(fresh(outcome).status, 200);
}

#[tokio::test]
async fn holds_up_to_the_limit_pass_and_the_one_beyond_is_refused_with_the_count_and_leaves_nothing() {
    let w = world();
    with_limit(&w, 3).await;
    hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    assert_eq!(rejection(hold(&w, &alice(), &["A3", "A4"]).await), reached(3, 2));
    // The refused seats are neither claimed nor locked.
    assert_eq!(statuses(&w).await[2..4], [SeatStatus::Available, SeatStatus::Available]);
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A3", "A4"]))
            .await
            .unwrap(),
        [SeatLock::Free, SeatLock::Free]
    );
    hold(&w, &alice(), &["A3"]).await.expect("the third seat fits");
    assert_eq!(rejection(hold(&w, &alice(), &["A4"]).await), reached(3, 3));
    // The limit is per customer: bob has his own.
    hold(&w, &bob(), &["A4", "A5", "A6"]).await.unwrap();
}

#[tokio::test]
async fn released_expired_and_cancelled_seats_stop_counting_and_sold_ones_count() {
    let w = world();
    with_limit(&w, 2).await;
    let released = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    w.use_cases.release_hold(&alice(), released.id).await.unwrap();
    let bought = hold(&w, &alice(), &["A3"]).await.unwrap();
    let created = fresh(order(&w, &alice(), "buy", 1, bought.id).await);
    assert_eq!(created.status, 201, "{}", body(&created));
    let order_id = OrderId::parse(body(&created).split_whitespace().nth(1).unwrap()).unwrap();
    let lapsing = hold(&w, &alice(), &["A4"]).await.unwrap();
    assert_eq!(
        rejection(hold(&w, &alice(), &["A5"]).await),
        reached(2, 2),
        "order + hold"
    );

    // An expired hold counts until its seats are free for others (its claims' grace).
    w.clock.advance(lapsing.expires_at.remaining_after(w.clock.now()));
    assert_eq!(
        rejection(hold(&w, &alice(), &["A5"]).await),
        reached(2, 2),
        "within the grace"
    );
    w.clock.advance(CLAIM_GRACE);
    let second = hold(&w, &alice(), &["A5"])
        .await
        .expect("the expired hold stopped counting");
    assert_eq!(
        rejection(hold(&w, &alice(), &["A6"]).await),
        reached(2, 2),
        "the order still counts"
    );

    cancel(&w, order_id).await;
    hold(&w, &alice(), &["A6"])
        .await
        .expect("the cancelled order stopped counting");
    assert_ne!(second.id, lapsing.id);
}

#[tokio::test]
async fn an_extended_hold_keeps_counting_past_its_first_expiry() {
    let w = world();
    with_limit(&w, 1).await;
    let h = hold(&w, &alice(), &["A1"]).await.unwrap();
    w.clock.advance(9 * MINUTE);
    w.use_cases.extend_hold(&alice(), h.id, 600).await.unwrap();
    w.clock.advance(MINUTE + CLAIM_GRACE + Duration::from_secs(1));
    assert_eq!(rejection(hold(&w, &alice(), &["A2"]).await), reached(1, 1));
}

#[tokio::test]
async fn a_limit_is_introduced_only_while_nothing_is_held_or_sold_and_changed_at_any_time() {
    let w = world();
    w.use_cases.put_event(&organizer(), limited_event(None)).await.unwrap();
    let open = hold(&w, &alice(), &["A1", "A2", "A3"]).await.unwrap();
    assert!(!open.counts_toward_limit);
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), limited_event(Some(2))).await),
        Rejection::EventConflict(vec![EventConflict::IntroducesLimit])
    );
    w.use_cases.release_hold(&alice(), open.id).await.unwrap();
    w.use_cases
        .put_event(&organizer(), limited_event(Some(2)))
        .await
        .expect("nothing held: the limit may be introduced");
    let counted = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    assert!(counted.counts_toward_limit);
    // Lowering and raising a limit are fine with holds in place.
    w.use_cases
        .put_event(&organizer(), limited_event(Some(1)))
        .await
        .unwrap();
    assert_eq!(rejection(hold(&w, &alice(), &["A3"]).await), reached(1, 2));
    w.use_cases
        .put_event(&organizer(), limited_event(Some(3)))
        .await
        .unwrap();
    hold(&w, &alice(), &["A3"]).await.expect("raised to three");
}

/// Another instance places a counted hold for alice of `A8` between her
/// tally read and her write, once: her write must re-read and re-check.
struct AnotherInstanceFirst {
    inner: Arc<dyn HoldStore>,
    fired: AtomicBool,
}

impl AnotherInstanceFirst {
    async fn place_for_alice_elsewhere(&self, now: Timestamp) {
        let elsewhere = Hold::place(
            HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            TenantId::parse("acme").unwrap(),
            gig(),
            CustomerId::parse("alice").unwrap(),
            vec![HeldSeat {
                id: SeatId::parse("A8").unwrap(),
                price: Cents(1000),
            }],
            Currency::parse("EUR").unwrap(),
            now,
            MINUTE,
        )
        .counted_toward_limit();
        let tally = self
            .inner
            .customer_tally(&elsewhere.tenant, &elsewhere.event, &elsewhere.customer)
            .await
            .unwrap();
        self.inner.place_counted(&elsewhere, now, &tally).await.unwrap();
    }
}

#[async_trait]
impl HoldStoreDouble for AnotherInstanceFirst {
    fn inner(&self) -> &dyn HoldStore {
        &*self.inner
    }
    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        if !self.fired.swap(true, Ordering::SeqCst) {
            self.place_for_alice_elsewhere(now).await;
        }
        self.inner.place_counted(hold, now, tally).await
    }
}

fn world_with_another_instance() -> World {
    world_with(|ports, _| {
        ports.holds = Arc::new(Delegating(AnotherInstanceFirst {
            inner: ports.holds.clone(),
            fired: AtomicBool::new(false),
        }));
    })
}

#[tokio::test]
async fn a_tally_moved_by_another_instance_is_read_again_and_the_hold_refused_if_it_no_longer_fits() {
    let w = world_with_another_instance();
    with_limit(&w, 2).await;
    // Alice read 0 of 2 and asked for 2; meanwhile another instance gave her A8.
    assert_eq!(rejection(hold(&w, &alice(), &["A1", "A2"]).await), reached(2, 1));
    assert_eq!(statuses(&w).await[..2], [SeatStatus::Available, SeatStatus::Available]);
    assert_eq!(
        w.locks
            .inspect(&alice().tenant, &gig(), &seats(&["A1", "A2"]))
            .await
            .unwrap(),
        [SeatLock::Free, SeatLock::Free],
        "the refused hold's locks are released"
    );
    hold(&w, &alice(), &["A1"]).await.expect("one more still fits");
}

#[tokio::test]
async fn a_tally_moved_by_another_instance_is_read_again_and_the_hold_placed_if_it_still_fits() {
    let w = world_with_another_instance();
    with_limit(&w, 3).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.expect("2 + 1 of 3");
    assert_eq!(statuses(&w).await[..2], [SeatStatus::Held, SeatStatus::Held]);
    assert_eq!(rejection(hold(&w, &alice(), &["A3"]).await), reached(3, 3));
    assert!(h.counts_toward_limit);
}

#[tokio::test]
async fn entries_a_previous_release_left_behind_are_dropped_before_a_refusal() {
    // The previous release knows no tally: its release of a counted hold
    // leaves the entry behind. The next refusal checks the entries first.
    let store: Arc<std::sync::Mutex<Option<Arc<dyn HoldStore>>>> = Arc::default();
    let kept = store.clone();
    let w = world_with(move |ports, _| *kept.lock().unwrap() = Some(ports.holds.clone()));
    let holds = store.lock().unwrap().clone().unwrap();
    with_limit(&w, 2).await;
    let h = hold(&w, &alice(), &["A1", "A2"]).await.unwrap();
    let mut as_the_previous_release_saw_it = h.clone();
    as_the_previous_release_saw_it.counts_toward_limit = false;
    assert!(
        holds
            .release(&as_the_previous_release_saw_it, w.clock.now())
            .await
            .unwrap()
    );
    assert_eq!(
        holds
            .customer_tally(&h.tenant, &gig(), &h.customer)
            .await
            .unwrap()
            .seats
            .count_at(w.clock.now()),
        2,
        "the entry was left behind"
    );
    let again = hold(&w, &alice(), &["A3", "A4"])
        .await
        .expect("the released hold no longer counts");
    assert_eq!(
        rejection(hold(&w, &alice(), &["A5"]).await),
        reached(2, 2),
        "the live hold still does"
    );
    assert!(again.counts_toward_limit);
}
