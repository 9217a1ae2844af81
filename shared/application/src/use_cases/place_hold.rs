//! Place hold: lock seats all-or-nothing, then record the hold and its seat
//! claims in the durable store, which decides (I7).
//!
//! 1. `now` is read once, before anything is locked: the hold's expiry, its
//!    claims and its locks all count from the same instant.
//! 2. The seat locks (Redis) are the fast filter: most losers are refused
//!    there without a durable write. The locks are taken for a short
//!    placement lease only, so a crash before step 3 frees them in seconds.
//!    A lock refusal is checked against the claims (a read): a lock the
//!    claims do not back is either a hold still being placed (minted less
//!    than a placement lease ago: taken) or a leftover of a release or crash
//!    Redis never heard of (cleared, and the request goes on), so Redis
//!    never causes a 409 of its own beyond a placement lease.
//! 3. The hold and one claim per seat are written in one atomic step. Only
//!    then are the locks extended to the hold's lifetime plus grace.
//! 4. On any non-201 after the locks were taken, they are released
//!    (best effort) and an ambiguous durable write is compensated (I5).
//!
//! 5. I9: the event's change marks are read after the claims are written; a
//!    replacement that could break the hold (removed seat, other currency)
//!    that landed or is being checked meanwhile sends the hold back to read
//!    the event again (see put_event for the other side).
//!
//! 6. An event with a seat limit per customer: the customer's tally is read
//!    before locking (a customer at the limit is refused without touching
//!    the locks) and the claims write adds the hold to it only if nobody
//!    changed it meanwhile; concurrent holds of one customer on any number
//!    of instances thus pass one at a time (re-read, re-check, bounded).
//!
//! 7. Best available (ADR 15): the seats are picked on the event as read,
//!    from the live claims, then placed as above. A lost race (seats taken
//!    meanwhile) excludes the seats it lost and picks again, a bounded
//!    number of times; nothing partial is ever kept.
//!
//! With the seat locks down or slow (I8), step 2 is skipped: the claims alone
//! decide, which is slower (every loser costs a durable write) but never
//! wrong. Claims found that the locks lacked are written back (convergence).

use std::collections::HashSet;
use std::time::Duration;

use domain::customer_limit::SeatLimit;
use domain::event::Event;
use domain::hold::{CLAIM_GRACE, Hold, HoldRequest, HoldRequestError, HoldStatus, SeatClaim, extension_ttl};
use domain::identity::Identity;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::seat_map::{BestAvailable, Pick};
use domain::time::Timestamp;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{
    BackendError, CustomerTally, LockError, MirroredLock, PlaceHoldError, SOLD_MARKER_TTL, SeatLock, TakenSeats,
};
use crate::store_admission::Work;

/// How long the seat locks are taken before the durable write succeeded:
/// longer than that write can take (2 s, ADR 12), short enough that a crash
/// between the two blocks the seats for seconds, not for the hold's TTL.
pub const PLACEMENT_LEASE: Duration = Duration::from_secs(5);

/// How often a hold steps back for an event being changed before giving up (503).
const EVENT_CHANGE_ATTEMPTS: u32 = 3;

/// How often a request tries to undo an ambiguous placement before it
/// answers and leaves the undo to the instance's next request.
const UNDO_ATTEMPTS: u32 = 3;

/// How long an availability index rebuilt from the claims is trusted
/// before the next pick rebuilds it: bounds how long a lock change Redis
/// missed (a failed call, a script of the previous release) can mislead
/// picks, at one full read of the claims per event per minute.
pub const INDEX_FRESH_FOR: Duration = Duration::from_secs(60);

/// How many picks a best-available hold makes before answering 409: each
/// lost race excludes the seats it lost, so a pick that loses this often
/// is in a sale where nearly every seat is being taken at once.
const BEST_AVAILABLE_ATTEMPTS: u32 = 5;

/// The most entries a refusal checks against their holds and orders (one
/// consistent read each) before answering 409: bounds what a customer at
/// the limit retrying in a loop costs.
const TALLY_REPAIR_READS: usize = 16;

/// How often a hold re-reads its customer's tally after another of the
/// customer's holds or orders changed it, before giving up (503). Each lost
/// round means another of their writes landed, and a limit of at most 100
/// seats bounds how many can.
const TALLY_ATTEMPTS: u32 = 12;

/// How the seats of a hold are chosen.
enum Selection {
    /// The buyer named them.
    Named(HoldRequest),
    /// The service picks the best that fit.
    Best {
        best: BestAvailable,
        ttl_seconds: Option<u64>,
    },
}

/// Whether a lock's hold may still be between its lock and its durable
/// write: minted less than a placement lease (plus the grace, for clocks
/// that disagree) ago. Such a lock counts as taken even without a claim.
fn may_still_be_placing(owner: HoldId, now: Timestamp) -> bool {
    owner.minted_at().plus(PLACEMENT_LEASE).plus(CLAIM_GRACE) > now
}

impl UseCases {
    /// # Errors
    /// `InvalidHoldRequest` (shape rules), `EventNotFound`, `UnknownSeats`,
    /// `SeatsUnavailable` (every conflicting seat, request order), `Unavailable`.
    pub async fn place_hold(
        &self,
        caller: &Identity,
        event_id: &EventId,
        seats: Vec<SeatId>,
        ttl_seconds: Option<u64>,
    ) -> Result<Hold, UseCaseError> {
        let request =
            HoldRequest::new(seats, ttl_seconds, self.settings.hold_policy).map_err(Rejection::InvalidHoldRequest)?;
        self.place_selected(caller, event_id, &Selection::Named(request)).await
    }

    /// Holds the best seats that fit `best` (see [`domain::seat_map`]).
    ///
    /// # Errors
    /// `InvalidHoldRequest` (quantity or ttl out of range), `EventNotFound`,
    /// `NoSeatsFit` (nothing fits now, or every pick lost its race),
    /// `Unavailable`.
    pub async fn place_best_available_hold(
        &self,
        caller: &Identity,
        event_id: &EventId,
        best: BestAvailable,
        ttl_seconds: Option<u64>,
    ) -> Result<Hold, UseCaseError> {
        // The shape rules of a hold of `quantity` seats, checked on the
        // number itself (any u64 arrives here) before anything is read.
        let policy = self.settings.hold_policy;
        if best.quantity == 0 {
            return Err(Rejection::InvalidHoldRequest(vec![HoldRequestError::NoSeats]).into());
        }
        if best.quantity > policy.max_seats {
            let max = policy.max_seats;
            return Err(Rejection::InvalidHoldRequest(vec![HoldRequestError::TooManySeats { max }]).into());
        }
        // The ttl range is a named hold's (and an extension's): 60–1800 s.
        if let Some(ttl) = ttl_seconds {
            extension_ttl(ttl).map_err(|error| Rejection::InvalidHoldRequest(vec![error]))?;
        }
        self.place_selected(caller, event_id, &Selection::Best { best, ttl_seconds })
            .await
    }

    /// The I9 loop shared by both ways of choosing seats.
    async fn place_selected(
        &self,
        caller: &Identity,
        event_id: &EventId,
        selection: &Selection,
    ) -> Result<Hold, UseCaseError> {
        let named: &[SeatId] = match selection {
            Selection::Named(request) => request.seats(),
            Selection::Best { .. } => &[],
        };
        self.admitted(Work::New, async {
            self.finish_pending_undos(event_id, named).await;
            self.place_under_event_changes(caller, event_id, selection).await
        })
        .await
    }

    async fn place_under_event_changes(
        &self,
        caller: &Identity,
        event_id: &EventId,
        selection: &Selection,
    ) -> Result<Hold, UseCaseError> {
        for attempt in 1..=EVENT_CHANGE_ATTEMPTS {
            let stored = self
                .ports
                .events
                .get(&caller.tenant, event_id)
                .await?
                .ok_or(Rejection::EventNotFound)?;
            let hold = match selection {
                Selection::Named(request) => self.place_on(caller, &stored.event, request).await?,
                Selection::Best { best, ttl_seconds } => {
                    self.place_best_on(caller, &stored.event, best, *ttl_seconds).await?
                }
            };
            // I9: a replacement that could break this hold froze the event or
            // landed since we read it? Then step back and read it again. Any
            // failure from here on undoes the hold before answering (I5).
            match self.hold_still_stands(&hold, stored.version).await {
                Ok(true) => return Ok(hold),
                Ok(false) => {
                    tracing::info!(event = "hold.event_changed", hold_id = %hold.id, attempt, "the event is being changed; the hold steps back");
                }
                Err(error) => {
                    self.undo_hold(&hold, true).await;
                    return Err(error);
                }
            }
            // No sleep: reading the event again takes about as long as a
            // replacement's check, and a freeze whose writer died is a 503.
            // An undo that failed ends the request: a new hold on the same
            // seats would meet this one's claims (409 on the buyer's own seats).
            if !self.undo_hold(&hold, true).await {
                return Err(BackendError::new("dynamodb", "a hold that stepped back could not be undone").into());
            }
        }
        Err(BackendError::contended("dynamodb", "the event kept changing while a hold was placed").into())
    }

    /// Whether `hold`, written on the event at `version`, may stand: no
    /// replacement that could break it is being checked or landed since,
    /// or the one that landed kept its seats and currency. A freeze whose
    /// time has passed by this clock is broken first ([`EventCatalog::break_freeze`]):
    /// its writer can then no longer land, however late its write arrives.
    ///
    /// [`EventCatalog::break_freeze`]: crate::ports::EventCatalog::break_freeze
    async fn hold_still_stands(&self, hold: &Hold, version: u64) -> Result<bool, UseCaseError> {
        let events = &self.ports.events;
        let mut marks = events.change_marks(&hold.tenant, &hold.event).await?;
        let now = self.ports.clock.now();
        if let Some(lapsed) = marks.and_then(|marks| marks.frozen_until).filter(|until| *until <= now) {
            events.break_freeze(&hold.tenant, &hold.event, lapsed).await?;
            // Broken by us, or ended by its writer's put meanwhile: read what
            // the event is now.
            marks = events.change_marks(&hold.tenant, &hold.event).await?;
        }
        if marks.is_some_and(|marks| marks.frozen_until.is_some()) {
            // A live freeze (or, after a break, another replacement's).
            return Ok(false);
        }
        let replaced = marks.is_none_or(|marks| marks.breaking_version > version);
        Ok(!replaced || self.still_fits_event(hold).await?)
    }

    /// Picks and places the best seats on the event as read; a lost race
    /// picks again without the seats it lost.
    async fn place_best_on(
        &self,
        caller: &Identity,
        event: &Event,
        best: &BestAvailable,
        ttl_seconds: Option<u64>,
    ) -> Result<Hold, UseCaseError> {
        let mut lost: HashSet<SeatId> = HashSet::new();
        let mut taken = HashSet::new();
        for attempt in 1..=BEST_AVAILABLE_ATTEMPTS {
            // After a lost race the index was wrong somewhere: the claims decide the next picks.
            taken = self.taken_seats(&caller.tenant, &event.id, attempt == 1).await?;
            let picked = match event.pick_best_available(best, |seat| taken.contains(seat) || lost.contains(seat)) {
                Pick::Seats(seats) => seats,
                Pick::NoFit { available } => return Err(Rejection::NoSeatsFit { available }.into()),
            };
            let request = HoldRequest::new(picked, ttl_seconds, self.settings.hold_policy)
                .map_err(Rejection::InvalidHoldRequest)?;
            match self.place_on(caller, event, &request).await {
                Err(UseCaseError::Rejected(Rejection::SeatsUnavailable(taken))) => {
                    tracing::info!(
                        event = "hold.pick_lost",
                        attempt,
                        lost = taken.len(),
                        "picked seats were taken meanwhile; picking again"
                    );
                    lost.extend(taken);
                }
                placed => return placed,
            }
        }
        let available = event.count_available(best, |seat| taken.contains(seat) || lost.contains(seat));
        tracing::info!(event = "hold.pick_gave_up", available, "every pick lost its race");
        Err(Rejection::NoSeatsFit { available }.into())
    }

    /// The event's seats taken now, as a pick needs them (ADR 15): from the
    /// seat locks' availability index, so a pick does not read every claim
    /// of the event. The index is rebuilt from the claims when it is missing
    /// or stale (one caller at a time); with the locks down (I8), the claims
    /// alone answer.
    async fn taken_seats(
        &self,
        tenant: &TenantId,
        event: &EventId,
        use_index: bool,
    ) -> Result<HashSet<SeatId>, UseCaseError> {
        let ports = &self.ports;
        let rebuild = if use_index {
            match ports.seat_locks.taken(tenant, event).await {
                Ok(TakenSeats::Indexed(seats)) => return Ok(seats),
                Ok(TakenSeats::Unindexed) => false,
                Ok(TakenSeats::RebuildByCaller) => true,
                Err(error) => {
                    tracing::debug!(event = "seat_locks.index_unavailable", error = %error, "picking from the claims");
                    false
                }
            }
        } else {
            false
        };
        let now = ports.clock.now();
        let claims = ports.holds.seat_claims(tenant, event, now).await?;
        if rebuild {
            let entries: Vec<(SeatId, Option<Timestamp>)> = claims
                .iter()
                .map(|(seat, claim)| match claim {
                    SeatClaim::HeldBy { until, .. } => (seat.clone(), Some(*until)),
                    SeatClaim::Sold => (seat.clone(), None),
                })
                .collect();
            if let Err(error) = ports
                .seat_locks
                .rebuild_taken(tenant, event, &entries, INDEX_FRESH_FOR)
                .await
            {
                tracing::warn!(event = "seat_locks.index_rebuild_failed", error = %error, "the next pick rebuilds it");
            }
        }
        Ok(claims.into_keys().collect())
    }

    /// Whether the event as it is now still has every seat of `hold`, at its
    /// currency: a breaking replacement that landed may not have touched it.
    async fn still_fits_event(&self, hold: &Hold) -> Result<bool, UseCaseError> {
        let Some(current) = self.ports.events.get(&hold.tenant, &hold.event).await? else {
            return Ok(false);
        };
        Ok(current.event.currency == hold.currency
            && (hold.counts_toward_limit || current.event.max_seats_per_customer.is_none())
            && hold.seats.iter().all(|seat| current.event.seat(&seat.id).is_some()))
    }

    /// Places one hold on the event as read: locks, claims, lock extension.
    async fn place_on(&self, caller: &Identity, event: &Event, request: &HoldRequest) -> Result<Hold, UseCaseError> {
        let ports = &self.ports;
        let priced = event.price_seats(request.seats()).map_err(Rejection::UnknownSeats)?;
        let now = ports.clock.now();
        let mut hold = Hold::place(
            ports.ids.hold_id(),
            caller.tenant.clone(),
            event.id.clone(),
            caller.customer.clone(),
            priced,
            event.currency,
            now,
            request.ttl(),
        );
        let mut counted = None;
        if let Some(limit) = event.max_seats_per_customer {
            hold = hold.counted_toward_limit();
            counted = Some((limit, self.tally_admitting(&hold, limit, now).await?));
        }
        let locked = self.lock_seats(&hold, now).await?;

        match self.record_hold(&hold, now, counted, locked).await? {
            Ok(()) => {
                if locked {
                    let ttl = hold.claim_until().remaining_after(ports.clock.now());
                    if let Err(error) = ports
                        .seat_locks
                        .extend(&hold.tenant, &hold.event, request.seats(), hold.id, ttl)
                        .await
                    {
                        tracing::warn!(event = "seat_locks.extend_failed", error = %error, "the claims keep the hold; the locks lapse after the placement lease");
                    }
                }
                Ok(hold)
            }
            Err(PlaceHoldError::SeatsTaken(taken)) => {
                if locked {
                    self.unlock_best_effort(&hold).await;
                }
                self.mirror_claims(&hold.tenant, &hold.event, &taken, now).await;
                Err(Rejection::SeatsUnavailable(taken.into_iter().map(|(seat, _)| seat).collect()).into())
            }
            Err(PlaceHoldError::TallyChanged) => {
                // Only `place_counted` reports it, and record_hold re-reads.
                if locked {
                    self.unlock_best_effort(&hold).await;
                }
                Err(UseCaseError::Internal("a tally change escaped its retries".to_owned()))
            }
            Err(PlaceHoldError::Contended(seats)) => {
                // Cancelled, so nothing was written: another placement is
                // writing these seats right now, as a fresh lock would say.
                if locked {
                    self.unlock_best_effort(&hold).await;
                }
                Err(Rejection::SeatsUnavailable(seats).into())
            }
            Err(PlaceHoldError::Backend(error)) => {
                // The write may have been applied with its reply lost: undo it,
                // so no claim outlives a request that did not answer 201.
                self.undo_hold(&hold, locked).await;
                Err(error.into())
            }
        }
    }

    /// The customer's tally, read now, if `hold` fits under the limit in it.
    async fn tally_admitting(
        &self,
        hold: &Hold,
        limit: SeatLimit,
        now: Timestamp,
    ) -> Result<CustomerTally, UseCaseError> {
        let holds = &self.ports.holds;
        let tally = holds.customer_tally(&hold.tenant, &hold.event, &hold.customer).await?;
        let Err(reached) = tally.seats.admit(hold.seats.len(), limit, now) else {
            return Ok(tally);
        };
        // Before saying no: entries a write of the previous release left
        // behind (ADR 14) are dropped, and the count taken again.
        if !self.forget_stale_entries(hold, &tally, now).await? {
            return Err(Rejection::CustomerLimitReached(reached).into());
        }
        let tally = holds.customer_tally(&hold.tenant, &hold.event, &hold.customer).await?;
        tally
            .seats
            .admit(hold.seats.len(), limit, now)
            .map_err(Rejection::CustomerLimitReached)?;
        Ok(tally)
    }

    /// Drops the tally entries whose hold was released or whose order was
    /// cancelled; whether there were any. Only on a refusal, and at most
    /// [`TALLY_REPAIR_READS`] reads (one per entry), starting at a place
    /// that moves with the clock, so a customer with many entries has them
    /// all checked over a few refusals. An entry whose hold or order is not
    /// found is kept: a read right after a concurrent placement or order
    /// may see the tally's entry before the item itself (one transaction,
    /// two reads), and no entry outlives its item otherwise.
    async fn forget_stale_entries(
        &self,
        hold: &Hold,
        tally: &CustomerTally,
        now: Timestamp,
    ) -> Result<bool, UseCaseError> {
        let ports = &self.ports;
        let live: Vec<_> = tally.seats.holds.iter().filter(|entry| entry.until > now).collect();
        let entries = live.len() + tally.seats.orders.len();
        if entries == 0 {
            return Ok(false);
        }
        let start = usize::try_from(now.as_millis().unsigned_abs()).unwrap_or(0) % entries;
        let (mut holds, mut orders) = (Vec::new(), Vec::new());
        for index in (start..start + entries).map(|i| i % entries).take(TALLY_REPAIR_READS) {
            if let Some(entry) = live.get(index) {
                let stored = ports.holds.get(&hold.tenant, entry.hold).await?;
                if stored.is_some_and(|stored| stored.recorded_status == HoldStatus::Released) {
                    holds.push(entry.hold);
                }
            } else if let Some(entry) = tally.seats.orders.get(index - live.len()) {
                let stored = ports.orders.get(&hold.tenant, entry.order).await?;
                if stored.is_some_and(|stored| stored.cancelled_at.is_some()) {
                    orders.push(entry.order);
                }
            }
        }
        if holds.is_empty() && orders.is_empty() {
            return Ok(false);
        }
        tracing::warn!(
            event = "tally.repaired",
            holds = holds.len(),
            orders = orders.len(),
            "tally entries of released holds or cancelled orders dropped"
        );
        ports
            .holds
            .forget_in_tally(&hold.tenant, &hold.event, &hold.customer, &holds, &orders)
            .await?;
        Ok(true)
    }

    /// Writes the hold and its claims, and for a hold that counts toward a
    /// limit its tally entry: re-read and re-checked while other writes of
    /// the same customer move the tally. A refusal meanwhile unlocks.
    async fn record_hold(
        &self,
        hold: &Hold,
        now: Timestamp,
        counted: Option<(SeatLimit, CustomerTally)>,
        locked: bool,
    ) -> Result<Result<(), PlaceHoldError>, UseCaseError> {
        let holds = &self.ports.holds;
        let Some((limit, mut tally)) = counted else {
            return Ok(holds.place(hold, now).await);
        };
        for attempt in 1..=TALLY_ATTEMPTS {
            match holds.place_counted(hold, now, &tally).await {
                Err(PlaceHoldError::TallyChanged) => {
                    tracing::debug!(event = "hold.tally_changed", hold_id = %hold.id, attempt, "another hold or order of this customer landed first");
                    // Nothing was written: a refusal only needs the locks back.
                    match self.tally_admitting(hold, limit, now).await {
                        Ok(fresh) => tally = fresh,
                        Err(refused) => {
                            if locked {
                                self.unlock_best_effort(hold).await;
                            }
                            return Err(refused);
                        }
                    }
                }
                other => return Ok(other),
            }
        }
        Ok(Err(BackendError::contended(
            "dynamodb",
            "the customer's tally kept changing while a hold was placed",
        )
        .into()))
    }

    /// Abandons a hold this request placed (or may have placed) and
    /// releases its locks; whether the durable undo is done. Tried
    /// [`UNDO_ATTEMPTS`] times; one that still fails is handed to the
    /// instance's [`PendingUndos`], which the next place-hold here retries
    /// before its own work, so the seats are free again once the store
    /// answers, not only when the hold expires.
    async fn undo_hold(&self, hold: &Hold, locked: bool) -> bool {
        let undone = self.abandon(hold).await;
        if !undone {
            self.pending_undos.push(hold.clone());
        }
        if locked {
            self.unlock_best_effort(hold).await;
        }
        undone
    }

    /// [`HoldStore::abandon_placement`], tried [`UNDO_ATTEMPTS`] times (it is
    /// idempotent: a tombstone or a release that was applied is a no-op the
    /// second time).
    ///
    /// [`HoldStore::abandon_placement`]: crate::ports::HoldStore::abandon_placement
    async fn abandon(&self, hold: &Hold) -> bool {
        for attempt in 1..=UNDO_ATTEMPTS {
            match self.ports.holds.abandon_placement(hold, self.ports.clock.now()).await {
                Ok(()) => return true,
                Err(undo) => {
                    tracing::warn!(event = "hold.compensation_failed", hold_id = %hold.id, attempt, error = %undo, "the hold may still claim its seats");
                }
            }
        }
        false
    }

    /// Retries the undos an earlier request on this instance could not
    /// finish: those sharing a seat with this request (a buyer's retry),
    /// then the oldest, [`PendingUndos::PER_REQUEST`] in all; those still failing
    /// stay for the next request, those past their claims' lifetime are
    /// dropped (nothing is left to free).
    async fn finish_pending_undos(&self, event: &EventId, seats: &[SeatId]) {
        let now = self.ports.clock.now();
        for hold in self.pending_undos.take(now, event, seats) {
            match self.ports.holds.abandon_placement(&hold, now).await {
                Ok(()) => {
                    tracing::info!(event = "hold.compensation_done", hold_id = %hold.id, "a failed undo finished on a later request");
                }
                Err(error) => {
                    tracing::warn!(event = "hold.compensation_failed", hold_id = %hold.id, error = %error, "retried on the next request");
                    self.pending_undos.push(hold);
                }
            }
        }
    }

    /// Takes the placement lease on every seat. `Ok(true)`: locked;
    /// `Ok(false)`: the locks are unavailable and the claims alone decide.
    async fn lock_seats(&self, hold: &Hold, now: Timestamp) -> Result<bool, UseCaseError> {
        let ports = &self.ports;
        let seats = hold.seat_ids();
        let mut retried = false;
        loop {
            match ports
                .seat_locks
                .lock(&hold.tenant, &hold.event, &seats, hold.id, PLACEMENT_LEASE)
                .await
            {
                Ok(()) => return Ok(true),
                Err(LockError::Backend(error)) => {
                    tracing::debug!(event = "seat_locks.skipped", error = %error, "placing the hold on the claims alone");
                    return Ok(false);
                }
                Err(LockError::Unavailable(refused)) => {
                    // Who holds them? A sold marker or a lock minted within a
                    // placement lease is taken without asking the claims; an
                    // older lock is checked against them (one read), because
                    // Redis may have missed a release.
                    let Ok(locks) = ports.seat_locks.inspect(&hold.tenant, &hold.event, &refused).await else {
                        return Ok(false);
                    };
                    let mut taken = Vec::new();
                    let mut to_check = Vec::new();
                    for (seat, lock) in refused.into_iter().zip(locks) {
                        match lock {
                            SeatLock::Sold => taken.push(seat),
                            SeatLock::HeldBy(owner) if may_still_be_placing(owner, now) => taken.push(seat),
                            SeatLock::HeldBy(owner) => to_check.push((seat, owner)),
                            SeatLock::Free => {}
                        }
                    }
                    let mut stale = Vec::new();
                    if !to_check.is_empty() {
                        let checked: Vec<SeatId> = to_check.iter().map(|(seat, _)| seat.clone()).collect();
                        let claims = ports.holds.claims_of(&hold.tenant, &hold.event, &checked).await?;
                        let mut confirmed = Vec::new();
                        for ((seat, owner), claim) in to_check.into_iter().zip(claims) {
                            match claim {
                                Some(claim) if claim.blocks(hold.id, now) => {
                                    confirmed.push((seat.clone(), claim));
                                    taken.push(seat);
                                }
                                // No claim: a stale lock, or a hold of the
                                // release before claims (ADR 12), which only
                                // its lock protects: ask the hold itself.
                                _ if self.lock_owner_is_live(hold, owner, now).await? => taken.push(seat),
                                _ => stale.push((seat, MirroredLock::Free { owner })),
                            }
                        }
                        // A sold seat Redis knew only as held: say so, so the
                        // next loser stops at the sold marker.
                        self.mirror_claims(&hold.tenant, &hold.event, &confirmed, now).await;
                    }
                    if !taken.is_empty() {
                        let order = hold.seat_ids();
                        taken.sort_by_key(|seat| order.iter().position(|s| s == seat));
                        return Err(Rejection::SeatsUnavailable(taken).into());
                    }
                    if retried {
                        // The locks keep changing under us: let the claims decide alone.
                        return Ok(false);
                    }
                    if !stale.is_empty() {
                        tracing::info!(
                            event = "seat_locks.stale_cleared",
                            seats = stale.len(),
                            "locks without a claim removed"
                        );
                        if ports
                            .seat_locks
                            .mirror(&hold.tenant, &hold.event, &stale)
                            .await
                            .is_err()
                        {
                            return Ok(false);
                        }
                    }
                    retried = true;
                }
            }
        }
    }

    /// Whether the hold that owns a lock is still ACTIVE and unexpired.
    async fn lock_owner_is_live(&self, hold: &Hold, owner: HoldId, now: Timestamp) -> Result<bool, UseCaseError> {
        Ok(self
            .ports
            .holds
            .get(&hold.tenant, owner)
            .await?
            .is_some_and(|owner| owner.status_at(now) == domain::hold::HoldStatus::Active))
    }

    async fn unlock_best_effort(&self, hold: &Hold) {
        if let Err(unlock) = self
            .ports
            .seat_locks
            .release(&hold.tenant, &hold.event, &hold.seat_ids(), hold.id)
            .await
        {
            tracing::warn!(event = "hold.unlock_failed", error = %unlock, "seat locks left to lapse after the placement lease");
        }
    }

    /// Writes claims the seat locks lacked back into them (best effort).
    pub(crate) async fn mirror_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, SeatClaim)],
        now: Timestamp,
    ) {
        let locks: Vec<(SeatId, MirroredLock)> = claims
            .iter()
            .filter(|(_, claim)| claim.is_live(now))
            .map(|(seat, claim)| {
                let lock = match *claim {
                    SeatClaim::Sold => MirroredLock::Sold { ttl: SOLD_MARKER_TTL },
                    SeatClaim::HeldBy { hold, until } => MirroredLock::Held {
                        hold,
                        ttl: until.remaining_after(now),
                    },
                };
                (seat.clone(), lock)
            })
            .collect();
        if locks.is_empty() {
            return;
        }
        if let Err(error) = self.ports.seat_locks.mirror(tenant, event, &locks).await {
            tracing::debug!(event = "seat_locks.mirror_failed", error = %error, "locks converge on a later request");
        }
    }
}
