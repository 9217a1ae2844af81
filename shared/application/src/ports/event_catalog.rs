use super::BackendError;
use async_trait::async_trait;
use domain::event::Event;
use domain::ids::{EventId, SeatId, TenantId};
use domain::time::Timestamp;

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
