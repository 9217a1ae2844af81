use super::BackendError;
use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;
use std::collections::HashSet;
use std::time::Duration;

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
