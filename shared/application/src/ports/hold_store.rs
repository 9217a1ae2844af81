use super::BackendError;
use async_trait::async_trait;
use domain::customer_limit::CustomerSeats;
use domain::hold::{Hold, SeatClaim};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::time::Timestamp;
use std::collections::HashMap;

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
