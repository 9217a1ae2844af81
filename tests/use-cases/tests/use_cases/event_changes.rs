//! I9: changes to an event never strand money. A replacement that removes a
//! seat or changes the currency races a hold on that seat, at each point of
//! the hold where the replacement can land; whatever the interleaving, no
//! hold outlives a change that breaks it, and a replacement that would break
//! a live hold loses with `event-conflict`. Each interleaving is forced by a
//! port wrapper that runs the rival request at exactly that point.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use application::ports::{
    BackendError, ChangeMarks, Clock, CustomerTally, EventCatalog, HoldStore, PlaceHoldError, SeatLock, SeatLocks,
};
use application::use_cases::PutEventOutcome;
use application::{Rejection, UseCaseError, UseCases};
use async_trait::async_trait;
use domain::event::{Event, EventConflict, SeatStatus};
use domain::hold::{Hold, SeatClaim};
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;
use test_doubles::{Delegating, EventCatalogDouble, HoldStoreDouble, SeatLocksDown};

type Slot = Arc<Mutex<Option<UseCases>>>;

fn use_cases(slot: &Slot) -> UseCases {
    slot.lock().unwrap().clone().expect("the world is built")
}

/// The replacement that takes seat A4 away.
fn without_a4() -> Event {
    event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000)], "EUR")
}

/// Runs the rival once, when `place` (claims written) or `change_marks`
/// (the hold's check) is reached, or when the replacement reads the claims.
#[derive(Clone, Copy, PartialEq)]
enum At {
    BeforeClaims,
    BeforeHoldCheck,
    WhileReplacementChecks,
}

struct Interleaved {
    holds: Arc<dyn HoldStore>,
    events: Arc<dyn EventCatalog>,
    at: At,
    slot: Slot,
    rival: Mutex<Option<Rival>>,
}

type Pinned<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;
type Rival = Box<dyn FnOnce(UseCases) -> Pinned<()> + Send>;

impl Interleaved {
    async fn maybe_run(&self, here: At) {
        if self.at != here {
            return;
        }
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            rival(use_cases(&self.slot)).await;
        }
    }
}

struct HoldsSide(Arc<Interleaved>);
struct EventsSide(Arc<Interleaved>);

#[async_trait]
impl HoldStoreDouble for HoldsSide {
    fn inner(&self) -> &dyn HoldStore {
        &*self.0.holds
    }
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        self.0.maybe_run(At::BeforeClaims).await;
        self.0.holds.place(hold, now).await
    }
    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        self.0.maybe_run(At::BeforeClaims).await;
        self.0.holds.place_counted(hold, now, tally).await
    }
    async fn seat_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError> {
        self.0.maybe_run(At::WhileReplacementChecks).await;
        self.0.holds.seat_claims(tenant, event, now).await
    }
}

#[async_trait]
impl EventCatalogDouble for EventsSide {
    fn inner(&self) -> &dyn EventCatalog {
        &*self.0.events
    }
    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError> {
        self.0.maybe_run(At::BeforeHoldCheck).await;
        self.0.events.change_marks(tenant, event).await
    }
}

/// A world whose ports run `rival` once at `at`; the rival's result lands in the returned slot.
fn interleaved<T: Send + 'static>(
    at: At,
    rival: impl FnOnce(UseCases) -> Pinned<T> + Send + 'static,
) -> (World, Arc<Mutex<Option<T>>>) {
    interleaved_with_locks(at, rival, true)
}

/// As [`interleaved`]; `with_locks: false` is Redis down (every seat-lock call fails).
fn interleaved_with_locks<T: Send + 'static>(
    at: At,
    rival: impl FnOnce(UseCases) -> Pinned<T> + Send + 'static,
    with_locks: bool,
) -> (World, Arc<Mutex<Option<T>>>) {
    let slot: Slot = Arc::new(Mutex::new(None));
    let outcome = Arc::new(Mutex::new(None));
    let sink = outcome.clone();
    let rival_slot = slot.clone();
    let w = world_with(move |ports, _| {
        let shared = Arc::new(Interleaved {
            holds: ports.holds.clone(),
            events: ports.events.clone(),
            at,
            slot: rival_slot,
            rival: Mutex::new(Some(Box::new(move |use_cases: UseCases| {
                Box::pin(async move {
                    let result = rival(use_cases).await;
                    *sink.lock().unwrap() = Some(result);
                }) as Pinned<()>
            }))),
        });
        ports.holds = Arc::new(Delegating(HoldsSide(shared.clone())));
        ports.events = Arc::new(Delegating(EventsSide(shared)));
        if !with_locks {
            ports.seat_locks = Arc::new(SeatLocksDown);
        }
    });
    *slot.lock().unwrap() = Some(w.use_cases.clone());
    (w, outcome)
}

#[tokio::test]
async fn a_replacement_refuses_while_a_hold_is_between_its_lock_and_its_claims() {
    // With Redis up the replacement sees the placement's lock and loses.
    let (w, put) = interleaved(At::BeforeClaims, |use_cases| {
        Box::pin(async move { use_cases.put_event(&organizer(), without_a4()).await })
            as Pinned<Result<PutEventOutcome, UseCaseError>>
    });
    with_event_unobserved(&w).await;
    hold(&w, &alice(), &["A4"]).await.expect("the hold stands");
    assert!(matches!(
        rejection(put.lock().unwrap().take().unwrap()),
        Rejection::EventConflict(_)
    ));
}

#[tokio::test]
async fn a_replacement_that_lands_between_a_holds_read_and_its_claims_sends_the_hold_back_to_the_new_event() {
    // With Redis down nothing but the change marks can tell the hold.
    let (w, put) = interleaved_with_locks(
        At::BeforeClaims,
        |use_cases| {
            Box::pin(async move { use_cases.put_event(&organizer(), without_a4()).await })
                as Pinned<Result<PutEventOutcome, UseCaseError>>
        },
        false,
    );
    with_event_unobserved(&w).await;
    let held = hold(&w, &alice(), &["A4"]).await;
    assert!(
        put.lock().unwrap().take().unwrap().is_ok(),
        "the replacement landed first"
    );
    assert_eq!(
        rejection(held),
        Rejection::UnknownSeats(seats(&["A4"])),
        "the hold retried on the new event"
    );
    assert!(
        sold_or_held(&w).await.is_empty(),
        "no claim was left on the removed seat"
    );
}

#[tokio::test]
async fn a_replacement_checked_after_a_hold_wrote_its_claims_loses_with_event_conflict() {
    let (w, put) = interleaved(At::BeforeHoldCheck, |use_cases| {
        Box::pin(async move { use_cases.put_event(&organizer(), without_a4()).await })
            as Pinned<Result<PutEventOutcome, UseCaseError>>
    });
    with_event_unobserved(&w).await;
    let held = hold(&w, &alice(), &["A4"]).await.expect("the hold stands");
    assert_eq!(
        rejection(put.lock().unwrap().take().unwrap()),
        Rejection::EventConflict(vec![EventConflict::RemovesHeldSeat(seats(&["A4"])[0].clone())])
    );
    assert_eq!(
        statuses(&w).await,
        [
            SeatStatus::Available,
            SeatStatus::Available,
            SeatStatus::Available,
            SeatStatus::Held
        ]
    );
    let ordered = w
        .use_cases
        .create_order(&alice(), order_request("k", 1, held.id), &TextResponses)
        .await;
    assert_eq!(fresh(ordered).status, 201, "the hold's owner can buy it");
}

#[tokio::test]
async fn a_hold_that_lands_while_a_replacement_checks_steps_back_and_the_replacement_wins() {
    let (w, held) = interleaved(At::WhileReplacementChecks, |use_cases| {
        Box::pin(async move { use_cases.place_hold(&alice(), &gig(), seats(&["A4"]), None).await }) as Pinned<_>
    });
    with_event_unobserved(&w).await;
    let put = w.use_cases.put_event(&organizer(), without_a4()).await;
    assert!(put.is_ok(), "{put:?}");
    let held = held.lock().unwrap().take().unwrap();
    assert!(
        matches!(held, Err(UseCaseError::Unavailable(_))),
        "the hold saw the freeze on every attempt and gave up: {held:?}"
    );
    assert!(sold_or_held(&w).await.is_empty(), "it left no claim behind");
}

#[tokio::test]
async fn a_currency_change_with_a_live_hold_loses_and_without_one_wins() {
    let w = world();
    with_event(&w).await;
    let held = hold(&w, &alice(), &["A1"]).await.unwrap();
    let in_dollars = event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "USD");
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), in_dollars.clone()).await),
        Rejection::EventConflict(vec![EventConflict::ChangesCurrency])
    );
    hold(&w, &bob(), &["A2"])
        .await
        .expect("the freeze was lifted after the refusal");
    w.use_cases.release_hold(&alice(), held.id).await.unwrap();
    let released = w
        .use_cases
        .ports()
        .holds
        .get(&alice().tenant, held.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(released.recorded_status, domain::hold::HoldStatus::Released);
}

/// Creates the four-seat gig without triggering the rival (creation does not freeze or read claims).
async fn with_event_unobserved(w: &World) {
    with_event(w).await;
}

async fn sold_or_held(w: &World) -> Vec<SeatId> {
    w.use_cases
        .ports()
        .holds
        .seat_claims(&alice().tenant, &gig(), w.clock.now())
        .await
        .unwrap()
        .into_keys()
        .collect()
}

#[tokio::test]
async fn a_limit_introduced_between_a_holds_read_and_its_claims_sends_the_hold_back_to_be_counted() {
    // An uncounted hold must not outlive the introduction of a limit: it
    // steps back and is placed again, counted (here: refused, 2 > 1).
    let limited = || {
        event_with("acme", &[("A1", 1000), ("A2", 1500), ("A3", 2000), ("A4", 2500)], "EUR")
            .with_seat_limit(Some(domain::customer_limit::SeatLimit::new(1).unwrap()))
    };
    let (w, put) = interleaved_with_locks(
        At::BeforeClaims,
        move |use_cases| {
            Box::pin(async move { use_cases.put_event(&organizer(), limited()).await })
                as Pinned<Result<PutEventOutcome, UseCaseError>>
        },
        false,
    );
    with_event_unobserved(&w).await;
    let held = hold(&w, &alice(), &["A1", "A2"]).await;
    assert!(put.lock().unwrap().take().unwrap().is_ok(), "the limit landed first");
    assert_eq!(
        rejection(held),
        Rejection::CustomerLimitReached(domain::customer_limit::LimitReached {
            limit: domain::customer_limit::SeatLimit::new(1).unwrap(),
            current: 0,
        }),
        "the hold was placed again under the limit"
    );
    assert!(sold_or_held(&w).await.is_empty(), "no uncounted claim was left");
}

/// Availability and a replacement derive seat status the same way
/// (`seat_status`): a sold marker in the seat locks without a sale in the
/// durable store is stale and the seat is AVAILABLE to both; a lock of a hold
/// without a claim (a hold of the release before claims) is HELD to a
/// replacement, which asks the locks, and AVAILABLE to availability, which
/// reads the claims alone (ADR 12). Place-hold's fast filter alone still
/// refuses the seat until the marker lapses (the contract's "seats may stay
/// unavailable briefly").
#[tokio::test]
async fn a_sold_marker_without_a_sale_takes_no_seat_from_availability_or_a_replacement() {
    let w = world();
    with_event(&w).await;
    let tenant = organizer().tenant;
    w.locks
        .mark_sold(&tenant, &gig(), &seats(&["A4"]), Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(
        w.locks.inspect(&tenant, &gig(), &seats(&["A4"])).await.unwrap(),
        [SeatLock::Sold]
    );
    assert_eq!(statuses(&w).await[3], SeatStatus::Available);
    assert_eq!(
        rejection(hold(&w, &alice(), &["A4"]).await),
        Rejection::SeatsUnavailable(seats(&["A4"])),
        "place-hold's fast filter goes by the marker"
    );
    let put = w.use_cases.put_event(&organizer(), without_a4()).await;
    assert_eq!(
        put.unwrap(),
        PutEventOutcome::Replaced,
        "the stale marker blocks nothing"
    );
}

#[tokio::test]
async fn a_lock_of_a_hold_without_claims_keeps_its_seat_from_a_replacement() {
    let w = world();
    with_event(&w).await;
    let tenant = organizer().tenant;
    let old_hold = HoldId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001).unwrap();
    w.locks
        .lock(&tenant, &gig(), &seats(&["A4"]), old_hold, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(
        statuses(&w).await[3],
        SeatStatus::Available,
        "availability reads the claims alone"
    );
    assert_eq!(
        rejection(w.use_cases.put_event(&organizer(), without_a4()).await),
        Rejection::EventConflict(vec![EventConflict::RemovesHeldSeat(seats(&["A4"])[0].clone())])
    );
}
