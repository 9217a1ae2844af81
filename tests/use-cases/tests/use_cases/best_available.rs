//! Best available in the use case, on the embedded backend with a manual
//! clock: the pick is placed like any hold, a pick that loses its race to
//! another instance picks again without the seats it lost, and a sale where
//! every pick loses ends in 409 without keeping anything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{World, alice, bob, gig, organizer, rejection, statuses, world, world_with};
use application::Rejection;
use application::ports::{BackendError, Clock, SeatLocks, TakenSeats};
use async_trait::async_trait;
use domain::event::{Event, Seat};
use domain::hold::Hold;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::seat_map::{BestAvailable, SeatLabel, SeatPlace};
use domain::time::Timestamp;
use test_doubles::{Delegating, SeatLocksDouble};

/// One row "A" of `count` seats A1…, in section "Stalls".
async fn with_row(world: &World, count: u32) {
    let seats = (1..=count)
        .map(|n| {
            let mut seat = Seat::new(SeatId::parse(&format!("A{n}")).unwrap(), Cents(1000));
            seat.place = SeatPlace {
                section: Some(SeatLabel::parse("Stalls").unwrap()),
                row: Some(SeatLabel::parse("A").unwrap()),
                number: Some(n),
                category: None,
            };
            seat
        })
        .collect();
    let event = Event::new(
        TenantId::parse("acme").unwrap(),
        gig(),
        "Row",
        crate::support::GIG_STARTS,
        Currency::parse("EUR").unwrap(),
        seats,
    )
    .unwrap();
    world.use_cases.put_event(&organizer(), event).await.unwrap();
}

fn together(quantity: usize) -> BestAvailable {
    BestAvailable {
        quantity,
        category: None,
        section: None,
        together: true,
    }
}

/// The seat ids of a hold, in its order.
fn held(hold: &Hold) -> Vec<&str> {
    hold.seats.iter().map(|seat| seat.id.as_str()).collect()
}

/// Another instance between its seat locks and its durable write: its locks
/// are taken, its claims not yet written, so the claims a pick reads show
/// the seats free. Its hold id is minted now, as a real one would be.
async fn another_instance_mid_placement(world: &World, seats: &[&str]) {
    let now = u128::try_from(world.clock.now().as_millis()).unwrap();
    let hold = HoldId::from_u128((now << 80) | (0x7 << 76) | (0b10 << 62) | 0x3e7).unwrap();
    let seats: Vec<SeatId> = seats.iter().map(|s| SeatId::parse(s).unwrap()).collect();
    let tenant = TenantId::parse("acme").unwrap();
    world
        .locks
        .lock(
            &tenant,
            &EventId::parse("gig").unwrap(),
            &seats,
            hold,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_best_run_is_held_and_the_next_request_gets_the_next_best() {
    let w = world();
    with_row(&w, 10).await;
    let first = w
        .use_cases
        .place_best_available_hold(&alice(), &gig(), together(2), None)
        .await
        .unwrap();
    assert_eq!(held(&first), ["A5", "A6"]);
    let second = w
        .use_cases
        .place_best_available_hold(&bob(), &gig(), together(2), None)
        .await
        .unwrap();
    assert_eq!(held(&second), ["A3", "A4"]);
}

#[tokio::test]
async fn a_pick_that_loses_its_race_picks_again_without_the_seats_it_lost() {
    let w = world();
    with_row(&w, 10).await;
    another_instance_mid_placement(&w, &["A5"]).await;
    let placed = w
        .use_cases
        .place_best_available_hold(&alice(), &gig(), together(2), None)
        .await
        .unwrap();
    // A5–A6 lost on A5; the best run without A5 is A6–A7 (centre 6.5 vs 3.5).
    assert_eq!(held(&placed), ["A6", "A7"]);
}

#[tokio::test]
async fn when_every_pick_loses_the_answer_is_no_seats_fit_and_nothing_is_held() {
    let w = world();
    with_row(&w, 6).await;
    // Every seat is mid-placement elsewhere: each pick loses one seat.
    another_instance_mid_placement(&w, &["A1", "A2", "A3", "A4", "A5", "A6"]).await;
    let refused = w
        .use_cases
        .place_best_available_hold(&alice(), &gig(), together(1), None)
        .await;
    assert_eq!(rejection(refused), Rejection::NoSeatsFit { available: 1 });
    assert!(
        statuses(&w)
            .await
            .iter()
            .all(|s| *s == domain::event::SeatStatus::Available),
        "no claim was kept"
    );
}

#[tokio::test]
async fn a_quantity_outside_the_hold_limits_is_refused_before_any_read() {
    let w = world();
    for quantity in [0, 11, 1_000_000_000, usize::MAX] {
        let refused = w
            .use_cases
            .place_best_available_hold(&alice(), &gig(), together(quantity), None)
            .await;
        assert!(
            matches!(rejection(refused), Rejection::InvalidHoldRequest(_)),
            "quantity {quantity}, even on an event that does not exist"
        );
    }
}

/// Seat locks with an availability index the test controls: `answer` is
/// what `taken` says; `rebuilt` keeps what a rebuild handed in.
struct IndexedLocks {
    inner: Arc<dyn SeatLocks>,
    answer: Mutex<TakenSeats>,
    rebuilt: Mutex<Option<Vec<IndexEntry>>>,
}

/// A seat and when it stops being taken (`None`: sold), as a rebuild gets it.
type IndexEntry = (SeatId, Option<Timestamp>);

#[async_trait]
impl SeatLocksDouble for IndexedLocks {
    fn inner(&self) -> &dyn SeatLocks {
        &*self.inner
    }
    async fn taken(&self, _: &TenantId, _: &EventId) -> Result<TakenSeats, BackendError> {
        Ok(self.answer.lock().unwrap().clone())
    }
    async fn rebuild_taken(
        &self,
        _: &TenantId,
        _: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        _: Duration,
    ) -> Result<(), BackendError> {
        *self.rebuilt.lock().unwrap() = Some(claims.to_vec());
        Ok(())
    }
}

fn world_with_index(answer: TakenSeats) -> (World, Arc<IndexedLocks>) {
    let mut shared = None;
    let w = world_with(|ports, _| {
        let locks = Arc::new(IndexedLocks {
            inner: ports.seat_locks.clone(),
            answer: Mutex::new(answer),
            rebuilt: Mutex::new(None),
        });
        ports.seat_locks = Arc::new(Delegating(locks.clone()));
        shared = Some(locks);
    });
    (w, shared.unwrap())
}

#[tokio::test]
async fn a_fresh_index_is_believed_without_reading_the_claims() {
    let taken = TakenSeats::Indexed(["A5", "A6"].iter().map(|s| SeatId::parse(s).unwrap()).collect());
    let (w, locks) = world_with_index(taken);
    with_row(&w, 10).await;
    let placed = w
        .use_cases
        .place_best_available_hold(&alice(), &gig(), together(2), None)
        .await
        .unwrap();
    // The claims say A5–A6 are free; the index says taken: 3–4 and 7–8 tie, the lower wins.
    assert_eq!(held(&placed), ["A3", "A4"]);
    assert!(locks.rebuilt.lock().unwrap().is_none(), "a fresh index is not rebuilt");
}

#[tokio::test]
async fn a_missing_index_is_read_from_the_claims_and_rebuilt_by_the_lease_holder() {
    let missing = TakenSeats::RebuildByCaller;
    let (w, locks) = world_with_index(missing);
    with_row(&w, 10).await;
    w.use_cases
        .place_hold(
            &bob(),
            &gig(),
            vec![SeatId::parse("A5").unwrap(), SeatId::parse("A6").unwrap()],
            None,
        )
        .await
        .unwrap();
    let placed = w
        .use_cases
        .place_best_available_hold(&alice(), &gig(), together(2), None)
        .await
        .unwrap();
    assert_eq!(
        held(&placed),
        ["A3", "A4"],
        "bob's seats, from the claims, are not picked"
    );
    let mut rebuilt: Vec<String> = locks
        .rebuilt
        .lock()
        .unwrap()
        .clone()
        .expect("rebuilt")
        .iter()
        .map(|(seat, until)| {
            assert!(until.is_some(), "held, not sold");
            seat.to_string()
        })
        .collect();
    rebuilt.sort();
    assert_eq!(rebuilt, ["A5", "A6"]);
}
