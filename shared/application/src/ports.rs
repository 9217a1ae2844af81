//! Ports: what the use cases need from the outside world.
//!
//! Every trait is capability-sized and states its contract in `# Errors`.
//! Adapters MUST honour these contracts exactly; the conformance suite in
//! `infra/memory-backend/tests` is the executable version of them, and every
//! adapter of a port runs it.
//!
//! The traits are object-safe (`async_trait`) because the backend is chosen at
//! start from configuration (memory or AWS) and held as `Arc<dyn Port>`; see
//! `docs/adr/0002-ports-and-layout.md`.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::customer_limit::CustomerSeats;
use domain::event::Event;
use domain::hold::{Hold, SeatClaim};
use domain::idempotency::{Fingerprint, IdempotencyScope, LeaseId, OrderSeed};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

/// A backend could not be reached, timed out or failed unexpectedly.
///
/// Always answered as 503 `service-unavailable`; `source` goes to the log,
/// never to the client.
#[derive(Debug, thiserror::Error)]
#[error("{backend} is unavailable")]
pub struct BackendError {
    /// Which backend failed, e.g. `"redis"` or `"dynamodb"`. Named in `/ready`.
    pub backend: &'static str,
    #[source]
    pub source: Box<dyn Error + Send + Sync>,
    /// The backend answered, but other writes kept changing what this
    /// request works on ([`BackendError::contended`]): not a sign that the
    /// backend is failing, so load shedding does not count it.
    pub contended: bool,
}

impl BackendError {
    /// The whole chain of causes, for the log line of a 503.
    pub fn causes(&self) -> String {
        let mut causes = Vec::new();
        let mut next: Option<&(dyn Error + 'static)> = Some(self.source.as_ref());
        while let Some(cause) = next {
            causes.push(cause.to_string());
            next = cause.source();
        }
        causes.join(": ")
    }

    pub fn new(backend: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            backend,
            source: source.into(),
            contended: false,
        }
    }

    /// A 503 for a request that gave up after other writes kept changing
    /// what it works on (an event being replaced, a tally moving): the
    /// backend itself is serving.
    pub fn contended(backend: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            contended: true,
            ..Self::new(backend, source)
        }
    }
}

/// The current time. Injected so tests can move time instead of sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Fresh and derived identifiers.
pub trait IdGenerator: Send + Sync {
    /// A new UUID v7 hold id.
    fn hold_id(&self) -> HoldId;
    /// A new lease id, unique per attempt.
    fn lease_id(&self) -> LeaseId;
    /// The order id for a scope and the seed its idempotency record carries.
    /// MUST be a pure function of both: a retry that takes over a crashed
    /// attempt inherits the record's seed and so lands on the same order id,
    /// while a key reused after its record expired gets a new seed and so a
    /// new id. `None` is a record written before seeds existed (ADR 12).
    fn order_id(&self, scope: &IdempotencyScope, seed: Option<OrderSeed>) -> OrderId;
}

/// Who holds a seat, as far as the seat locks know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatLock {
    Free,
    HeldBy(HoldId),
    Sold,
}

/// Why seats could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Some seats are held by another hold or sold, in the order requested.
    #[error("seats unavailable: {0:?}")]
    Unavailable(Vec<SeatId>),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Short-lived, exclusive seat locks: the fast contention filter (Redis in AWS).
///
/// Advisory only (I6): losing them may invalidate a hold, never oversell,
/// because the order commit re-checks in the durable store.
#[async_trait]
pub trait SeatLocks: Send + Sync {
    /// Locks every seat for `hold` for `ttl`, or none of them (I2).
    ///
    /// # Errors
    /// - [`LockError::Unavailable`] MUST list, in request order, every seat
    ///   locked by any other hold or marked sold; then nothing was locked.
    /// - [`LockError::Backend`] if the store failed; then nothing stays locked
    ///   beyond what `ttl` bounds.
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError>;

    /// Unlocks the seats still locked by `hold` (compare-and-delete); locks of
    /// other holds and sold markers are untouched. Releasing twice is harmless.
    async fn release(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
    ) -> Result<(), BackendError>;

    /// The lock of each seat, in the order given. Expired locks are `Free`.
    async fn inspect(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<SeatLock>, BackendError>;

    /// Marks seats sold for `ttl` (the use cases pass [`SOLD_MARKER_TTL`]),
    /// replacing any lock, so later lock attempts fail fast without asking
    /// the durable store. The durable claims say sold for good; a marker that
    /// ran out is written back by the next refusal that reaches them. A seat
    /// unsold within its [`MirroredLock::Unsold`] window is left as it is.
    async fn mark_sold(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        ttl: Duration,
    ) -> Result<(), BackendError>;

    /// Sets the time left of the locks still held by `hold` to `ttl`; other
    /// seats are untouched. Used to turn a short placement lease into the
    /// hold's full lifetime once the durable store has recorded the hold.
    async fn extend(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), BackendError>;

    /// Writes back what the durable store's claims say (I8 convergence), one
    /// round trip for all seats; see [`MirroredLock`] for each entry's rule.
    async fn mirror(
        &self,
        tenant: &TenantId,
        event: &EventId,
        locks: &[(SeatId, MirroredLock)],
    ) -> Result<(), BackendError>;

    /// The event's availability index (ADR 15): the seats the locks know to
    /// be taken now — locked, or sold (sold stays in the index after its
    /// marker ran out, until a cancel or a rebuild). Every lock, release,
    /// extension and mirror keeps it current in the same step.
    ///
    /// One caller at a time gets the lease to rebuild a missing or stale
    /// index ([`TakenSeats::RebuildByCaller`]); the others meanwhile use a
    /// stale index ([`TakenSeats::Indexed`]), and read the claims when there
    /// is none ([`TakenSeats::Unindexed`]).
    ///
    /// The default is an implementation without an index (the in-memory
    /// backend, whose claims are as cheap to read as an index).
    async fn taken(&self, tenant: &TenantId, event: &EventId) -> Result<TakenSeats, BackendError> {
        let _ = (tenant, event);
        Ok(TakenSeats::Unindexed)
    }

    /// Replaces the event's availability index with `claims` (each seat
    /// with the instant it stops being taken; `None`: sold), fresh for
    /// `fresh_for`, and gives back the rebuild lease. A sold claim of a
    /// seat inside a cancel's unsold window ([`MirroredLock::Unsold`]) is
    /// left out: the claims were read before that cancel.
    async fn rebuild_taken(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        fresh_for: Duration,
    ) -> Result<(), BackendError> {
        let _ = (tenant, event, claims, fresh_for);
        Ok(())
    }
}

/// What an event's availability index says (see [`SeatLocks::taken`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakenSeats {
    /// The seats taken, by an index that is fresh, or stale while another
    /// caller rebuilds it.
    Indexed(HashSet<SeatId>),
    /// There is no index (never built, flushed, lapsed) and another caller
    /// holds the lease to build it: read the durable claims.
    Unindexed,
    /// The index is missing or older than its freshness and this caller
    /// holds the lease: read the claims and hand them to
    /// [`SeatLocks::rebuild_taken`].
    RebuildByCaller,
}

/// How long a sold marker lasts. Markers are a cache of the durable SOLD
/// claims: one that outlives its sale (a cancellation whose unmark did not
/// reach Redis) refuses the seat for at most this long (ADR 13), and a
/// refused hold that reaches the claims writes a live sale's marker back.
pub const SOLD_MARKER_TTL: Duration = Duration::from_secs(300);

/// How long after a cancellation its seats ignore sold markers
/// ([`MirroredLock::Unsold`]). Far longer than any request lives (the
/// Lambdas time out after 35 s, `template.yaml`; a Redis call gives up
/// after its timeout), so no write-back that read the claims before the
/// cancel lands after it.
pub const UNSOLD_WINDOW: Duration = Duration::from_secs(300);

/// A seat lock to write back from the durable store's claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirroredLock {
    /// Set only where the seat has no lock.
    Held { hold: HoldId, ttl: Duration },
    /// Replaces whatever is there, for `ttl`.
    Sold { ttl: Duration },
    /// Removes a sold marker (the sale was cancelled; a hold's lock stays)
    /// and, with `ignore_sold_for`, ignores every `Sold` write to the seat
    /// for that long, index entry included: a write-back that read the
    /// claims before the cancel, or the order's own slow `mark_sold`, must
    /// not mark the freed seat sold again (ADR 13). A new sale of the seat
    /// inside the window goes without a marker: its claims refuse the seat,
    /// one DynamoDB call per attempt.
    Unsold { ignore_sold_for: Option<Duration> },
    /// Removes `owner`'s lock, which the claims no longer back (a release or
    /// a crash the locks never heard of); anyone else's lock or a sold
    /// marker stays.
    Free { owner: HoldId },
}

/// An event with the version used for optimistic concurrency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub event: Event,
    pub version: u64,
}

/// What a new hold checks after writing its claims (I9): whether a
/// replacement that could break it (removed seats, another currency) landed
/// or is being checked since it read the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMarks {
    pub version: u64,
    /// The version written by the last replacement that could break holds
    /// (0: none since the event was created).
    pub breaking_version: u64,
    /// A replacement that could break holds is being checked until then.
    pub frozen_until: Option<Timestamp>,
    /// When the event starts: on the same small item, so a cancel need not
    /// read the event's seats to know it.
    pub starts_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum PutEventError {
    /// The stored version is not the one the caller read.
    #[error("the event was changed concurrently")]
    VersionMismatch,
    /// Seats of `held_repriced` that were sold by the time of the write
    /// (an order landed after the replacement's check); nothing written.
    #[error("repriced seats were sold meanwhile: {0:?}")]
    SoldMeanwhile(Vec<SeatId>),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Durable store of events.
///
/// A replacement that could break holds is written under a freeze (ADR 12):
/// freeze → read the claims → put (which ends the freeze) or unfreeze. A hold
/// reads [`EventCatalog::change_marks`] after writing its claims; whichever
/// of the two comes second sees the other.
#[async_trait]
pub trait EventCatalog: Send + Sync {
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError>;

    /// Writes `event` if the stored version is still `expected` (`None`: no
    /// event may exist yet) and ends any freeze. A replacement that could
    /// break holds passes `under_freeze`, the `until` of its own freeze: it is
    /// written only while that freeze is still the event's (a fence against a
    /// freeze that lapsed and was taken by someone else), and records the new
    /// version as the last breaking one. Returns the new version.
    ///
    /// A resend of a write that was applied (its reply lost) may answer
    /// [`PutEventError::VersionMismatch`]: the use case reads the event back
    /// to tell its own write from someone else's.
    ///
    /// # Errors
    /// - [`PutEventError::VersionMismatch`] if the condition failed; nothing written.
    /// `held_repriced`: seats the replacement reprices that were held when
    /// it was checked; the write MUST NOT land if any of them is sold by
    /// then ([`PutEventError::SoldMeanwhile`]), so a repricing never lands
    /// on a seat an order sold in between (docs/contract.md: a sold seat
    /// cannot be repriced).
    async fn put(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
    ) -> Result<u64, PutEventError>;

    /// The event's change marks, strongly consistent; `None` if no event.
    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError>;

    /// Freezes the event at `version` until `until`, if it is still at that
    /// version and no other freeze is live at `now`. Returns whether it froze;
    /// MUST return `true` when this very freeze (same version and `until`) is
    /// already in place: a resend whose first send was applied and its reply lost.
    async fn freeze(
        &self,
        tenant: &TenantId,
        event: &EventId,
        version: u64,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, BackendError>;

    /// Ends the freeze that lapses at `until` without a change (the
    /// replacement lost), if it is still that one: another replacement's
    /// later freeze is left alone.
    async fn unfreeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError>;

    /// Breaks a freeze that lapsed: removes the freeze lapsing at `until` if
    /// it is still there. Its writer's [`Self::put`] then fails (it needs its
    /// own freeze in place), however late it arrives, so a hold that goes
    /// on past a lapsed freeze never has a replacement land behind it that
    /// did not see its claims (I9, whatever the clocks). MUST be idempotent
    /// (a resend after a lost reply is a no-op) and MUST NOT touch anything
    /// else: a freeze already gone or replaced is not an error.
    async fn break_freeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError>;
}

/// Why a hold could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum PlaceHoldError {
    /// Seats another live hold claims, or that are sold, in the hold's seat
    /// order, with what claims them now (so the seat locks can be repaired).
    #[error("seats claimed: {0:?}")]
    SeatsTaken(Vec<(SeatId, SeatClaim)>),
    /// The customer's tally is not at the version read any more (another of
    /// their holds or orders changed it): nothing was written; read it again.
    #[error("the customer's tally changed since it was read")]
    TallyChanged,
    /// Nothing was written: other writes were on these seats at the same
    /// moment (another placement taking them), past the adapter's resends.
    /// Answered as a 409 without an undo, as a fresh seat lock would be.
    #[error("seats contended: {0:?}")]
    Contended(Vec<SeatId>),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// One customer's tally of one event's seats (the seat limit per customer),
/// as read, and the version a write that relies on it must still find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerTally {
    pub seats: CustomerSeats,
    /// 0: no tally yet.
    pub version: u64,
}

/// Why a hold's expiry could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum ExtendHoldError {
    /// The hold is not as it was read any more (released, converted, expired,
    /// or extended by another request), or another write on it was in
    /// flight: re-read it, and the clock. An adapter never resends the same
    /// move itself: its `now` would be stale.
    #[error("the hold changed since it was read")]
    HoldChanged,
    /// These seats' claims are no longer this hold's (sold, or taken by
    /// another hold after a clock disagreement longer than the grace), in
    /// the hold's seat order.
    #[error("seats claimed by others: {0:?}")]
    SeatsTaken(Vec<SeatId>),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Durable store of holds and of the seat claims they own (I7): the decider
/// of who may hold or buy a seat, whatever the seat locks say.
#[async_trait]
pub trait HoldStore: Send + Sync {
    /// Records a new ACTIVE hold and claims each of its seats for it, all or
    /// nothing, in one atomic step. A seat may be claimed if it has no claim,
    /// or its claim [`SeatClaim::blocks`] no longer at `now`, or the claim is
    /// already this hold's. Idempotent for the same hold: a write retried
    /// after a timeout that had in fact been applied succeeds.
    ///
    /// # Errors
    /// Nothing is written on any error.
    /// - [`PlaceHoldError::SeatsTaken`] names every seat claimed by another
    ///   live hold or sold.
    /// - [`PlaceHoldError::Backend`] if the store failed; the write may or may
    ///   not have been applied (the caller compensates with [`Self::release`]).
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError>;

    /// [`HoldStore::place`] for a hold that [counts toward its event's
    /// limit](Hold::counts_toward_limit), in the same atomic step: adds the
    /// hold's entry to its customer's tally, which must still be at
    /// `tally.version`, and drops the entries that lapsed by `now`.
    ///
    /// # Errors
    /// As `place`, and [`PlaceHoldError::TallyChanged`] (nothing written) if
    /// the tally moved on; seats taken are reported first.
    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError>;

    /// The customer's tally of the event, read consistently.
    async fn customer_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> Result<CustomerTally, BackendError>;

    /// Removes these holds' and orders' entries from the customer's tally
    /// (absent ones are ignored; no tally is created): the repair of entries
    /// a write that did not know the tally left behind (ADR 14). Only for
    /// holds and orders that no longer count, so it never needs a version.
    async fn forget_in_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError>;

    /// The hold with this id in this tenant, whoever owns it.
    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError>;

    /// Moves the hold from ACTIVE to RELEASED if, at `now`, it is still ACTIVE
    /// and unexpired, and frees its seat claims in the same atomic step.
    /// Returns whether it moved; `false` means the caller must re-read,
    /// because it was converted, released or expired meanwhile. A hold that
    /// counts toward its event's limit leaves its customer's tally.
    async fn release(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError>;

    /// Makes sure a hold this request may or may not have placed (its write
    /// failed without a definite answer) is not ACTIVE, now or later: writes
    /// it as RELEASED if it is absent, so a placement still in flight can
    /// never land, else releases it. The default only releases.
    async fn abandon_placement(&self, hold: &Hold, now: Timestamp) -> Result<(), BackendError> {
        self.release(hold, now).await.map(drop)
    }

    /// Moves the hold's expiry from `hold.expires_at` to `expires_at`, and
    /// each of its seat claims' `until` with it (to the moved hold's
    /// [`Hold::claim_until`]), all or nothing, in one atomic step, if at
    /// `now` the hold is still ACTIVE and unexpired and its stored expiry is
    /// `hold.expires_at` — or already `expires_at`: a move retried after a
    /// timeout that had in fact been applied succeeds. A seat without a claim
    /// (a hold placed before claims existed, ADR 12) gets one under
    /// [`Self::place`]'s rule. A hold that counts toward its event's limit
    /// gets its tally entry moved too (and the tally's version bumped: a
    /// longer-counting entry must make a concurrent `place_counted` re-read).
    ///
    /// # Errors
    /// Nothing is written on any error.
    /// - [`ExtendHoldError::HoldChanged`] if the hold condition failed
    ///   (reported first when several fail).
    /// - [`ExtendHoldError::SeatsTaken`] names every seat whose claim is
    ///   sold or another live hold's.
    async fn extend(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<(), ExtendHoldError>;

    /// Frees the claims that still name this hold and are not sold. For a
    /// hold that ended (released, expired) after a release whose reply was
    /// lost; harmless to repeat.
    async fn free_claims(&self, hold: &Hold) -> Result<(), BackendError>;

    /// The claim of each seat, in the order given (`None`: no claim), as
    /// stored: the caller decides with [`SeatClaim::blocks`].
    async fn claims_of(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<Option<SeatClaim>>, BackendError>;

    /// Every claim of an event that [`SeatClaim::is_live`] at `now`
    /// (sold seats and live holds' seats); a seat that is absent is free.
    async fn seat_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError>;
}

/// A response as stored for replay: status, exact body bytes, `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub location: Option<String>,
}

/// What is known of a scope's idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: Fingerprint,
    pub state: RecordState,
    /// When the record stops counting (retention, default 24 h).
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordState {
    InProgress {
        lease: LeaseId,
        lease_expires_at: Timestamp,
    },
    Completed(StoredResponse),
}

/// The result of trying to claim a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The scope is ours until the lease expires (fresh, or taken over from
    /// a crashed attempt with the same fingerprint). `seed` is the record's
    /// order seed: new for a fresh record, inherited on a takeover.
    Claimed { seed: Option<OrderSeed> },
    /// Someone else's live record; returned by the same call, no second read.
    Existing(IdempotencyRecord),
}

/// A claim attempt.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub scope: &'a IdempotencyScope,
    pub fingerprint: Fingerprint,
    pub lease: LeaseId,
    pub lease_expires_at: Timestamp,
    pub record_expires_at: Timestamp,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The record no longer carries our lease: another attempt took over.
    #[error("the idempotency lease was lost")]
    LeaseLost,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Idempotency records, keyed by scope.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Writes an IN_PROGRESS record with our lease if
    /// [`domain::idempotency::may_claim`] allows it at `now`. A fresh record
    /// (none, or retention over) gets a new seed (the lease id); a takeover of
    /// a lapsed lease needs the same fingerprint and keeps the record's seed.
    /// A record that already carries this request's lease (our own write,
    /// applied, its reply lost and retried) is `Claimed` too.
    ///
    /// # Errors
    /// Only [`BackendError`]; a live record, or a lapsed one with another
    /// fingerprint, is `Ok(Claim::Existing)`.
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError>;

    /// Stores a final, replayable answer that is not an order (404, 409) if
    /// the record still carries `lease`. A record already completed with
    /// exactly `response` (our own write, applied, its reply lost) is success.
    ///
    /// # Errors
    /// - [`LeaseError::LeaseLost`] if another attempt took over.
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError>;

    /// Deletes our IN_PROGRESS record after a transient failure, so a retry
    /// can start at once. A record with another lease is left alone.
    async fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError>;
}

/// Everything the order commit writes, in one atomic step.
#[derive(Clone)]
pub struct OrderCommit<'a> {
    pub order: &'a Order,
    pub scope: &'a IdempotencyScope,
    pub lease: LeaseId,
    pub response: &'a StoredResponse,
    pub record_expires_at: Timestamp,
    /// Read for every send of the commit, so its expiry check is never stale.
    pub clock: &'a dyn Clock,
}

impl std::fmt::Debug for OrderCommit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderCommit")
            .field("order", &self.order.id)
            .field("scope", &self.scope.to_string())
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// These seats are sold, or claimed by another hold (this hold's claim
    /// was lost), in the order's seat order.
    #[error("seats taken: {0:?}")]
    SeatsTaken(Vec<SeatId>),
    /// The hold is no longer ACTIVE, unexpired and the caller's.
    #[error("the hold is not active")]
    HoldNotActive,
    /// The idempotency record no longer carries our lease.
    #[error("the idempotency lease was lost")]
    LeaseLost,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Everything an order cancellation writes, in one atomic step.
#[derive(Debug, Clone)]
pub struct OrderCancellation<'a> {
    /// The order as read: CONFIRMED.
    pub order: &'a Order,
    pub cancelled_at: Timestamp,
    pub scope: &'a IdempotencyScope,
    pub lease: LeaseId,
    pub response: &'a StoredResponse,
    pub record_expires_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The order is cancelled already (another key got there first).
    #[error("the order is already cancelled")]
    AlreadyCancelled,
    /// The idempotency record no longer carries our lease.
    #[error("the idempotency lease was lost")]
    LeaseLost,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Durable store of orders and sold seats: the decider of I1 and I3.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// In ONE atomic step (docs/contract.md, Idempotency rule 5): insert the
    /// order (must not exist), turn each seat's claim into SOLD (it must be
    /// this hold's HELD claim, or absent for a hold placed before claims
    /// existed, ADR 12), move the hold ACTIVE → CONVERTED (it must be
    /// ACTIVE, owned by the order's customer and unexpired at the time of the
    /// write — read from the clock for every send, never reused), and move the
    /// idempotency record IN_PROGRESS → COMPLETED with `response` (it must
    /// carry `lease`). For an order that counts toward its event's limit, its
    /// hold's tally entry becomes the order's (version bumped). A commit
    /// whose earlier send was applied and whose reply was lost succeeds (the
    /// record already holds `response`).
    ///
    /// # Errors
    /// Nothing is written on any error.
    /// - [`CommitError::SeatsTaken`] names every seat sold or claimed by another hold.
    /// - [`CommitError::HoldNotActive`] if the hold condition failed.
    /// - [`CommitError::LeaseLost`] if the record condition failed.
    /// When several conditions fail, the first in this list is reported.
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError>;

    /// The order with this id in this tenant, whoever owns it.
    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<Order>, BackendError>;

    /// In ONE atomic step: move the order CONFIRMED → CANCELLED at
    /// `cancelled_at`, free each of its seats (delete its SOLD claim naming
    /// this order, and the previous release's sold record, ADR 12), and move
    /// the idempotency record IN_PROGRESS → COMPLETED with `response` (it
    /// must carry `lease`), and drop the order's tally entry if it counts
    /// toward its event's limit. The seats can then be held and sold again. A
    /// cancellation whose earlier send was applied and whose reply was lost
    /// succeeds (the record already holds `response`).
    ///
    /// # Errors
    /// Nothing is written on any error.
    /// - [`CancelError::AlreadyCancelled`] if the order is not CONFIRMED.
    /// - [`CancelError::LeaseLost`] if the record condition failed.
    /// When several fail, the first in this list is reported.
    async fn cancel(&self, cancellation: OrderCancellation<'_>) -> Result<(), CancelError>;
}

/// A backend `/ready` checks.
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// The backend's name as shown by `/ready`.
    fn name(&self) -> &'static str;
    /// Succeeds if the backend answers now.
    async fn check(&self) -> Result<(), BackendError>;
    /// Whether the service is down without this backend. An advisory one
    /// (the seat locks, I8) failing makes `/ready` say `"degraded"` with 200.
    fn required(&self) -> bool {
        true
    }
}

/// The most items one atomic write may touch (DynamoDB `TransactWriteItems`).
pub const MAX_ATOMIC_WRITE_ITEMS: usize = 100;
/// Items of an order commit that do not depend on the seat count: the order,
/// the hold, the idempotency record and the customer's tally.
pub const ORDER_COMMIT_FIXED_ITEMS: usize = 4;
/// Items of an order cancellation: the order, the idempotency record and
/// the customer's tally, plus per seat its claim and the previous release's
/// sold record.
pub const ORDER_CANCEL_FIXED_ITEMS: usize = 3;

/// Items per seat of an order commit: its claim and, until the contract step
/// of ADR 12, the sold record of the previous release.
pub const ORDER_COMMIT_ITEMS_PER_SEAT: usize = 2;
/// The largest hold whose order commit fits in one atomic write (48); the
/// hold's own write (hold + one claim per seat) is smaller. Configuration
/// refuses a larger `MAX_SEATS_PER_HOLD`.
pub const MAX_SEATS_PER_HOLD_LIMIT: usize =
    (MAX_ATOMIC_WRITE_ITEMS - ORDER_COMMIT_FIXED_ITEMS) / ORDER_COMMIT_ITEMS_PER_SEAT;

/// Every port, filled by the composition root.
#[derive(Clone)]
pub struct Ports {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub seat_locks: Arc<dyn SeatLocks>,
    pub events: Arc<dyn EventCatalog>,
    pub holds: Arc<dyn HoldStore>,
    pub orders: Arc<dyn OrderStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub probes: Vec<Arc<dyn ReadinessProbe>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let probes: Vec<&str> = self.probes.iter().map(|p| p.name()).collect();
        f.debug_struct("Ports").field("probes", &probes).finish_non_exhaustive()
    }
}
