use super::{BackendError, Clock, StoredResponse};
use async_trait::async_trait;
use domain::idempotency::{IdempotencyScope, LeaseId};
use domain::ids::{OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

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
