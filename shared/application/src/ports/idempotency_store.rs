use super::BackendError;
use async_trait::async_trait;
use domain::idempotency::{Fingerprint, IdempotencyScope, LeaseId, OrderSeed};
use domain::time::Timestamp;

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
