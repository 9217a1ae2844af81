//! What a use case answers when it does not succeed.
//!
//! [`Rejection`]s are deterministic answers about the request or the state of
//! the world (not found, conflict, invalid); the interface layer maps each to
//! exactly one problem type. [`UseCaseError`] adds the answers that are about
//! the system (a backend is down) or about idempotency bookkeeping.

use std::time::Duration;

use domain::customer_limit::LimitReached;
use domain::event::{EventConflict, EventRuleError};
use domain::hold::HoldRequestError;
use domain::ids::SeatId;

use crate::ports::BackendError;

/// A deterministic "no" to a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the caller lacks the role this needs")]
    Forbidden,
    #[error("no such event")]
    EventNotFound,
    #[error("no such hold")]
    HoldNotFound,
    #[error("no such order")]
    OrderNotFound,
    #[error("the event definition breaks rules: {0:?}")]
    InvalidEvent(Vec<EventRuleError>),
    #[error("the hold request breaks rules: {0:?}")]
    InvalidHoldRequest(Vec<HoldRequestError>),
    #[error("the event has no seats {0:?}")]
    UnknownSeats(Vec<SeatId>),
    #[error("seats are held or sold: {0:?}")]
    SeatsUnavailable(Vec<SeatId>),
    /// Best available: no seats fit the request now (or every pick lost its
    /// race); `available` seats match its filters.
    #[error("no {available} available seats fit the request")]
    NoSeatsFit { available: usize },
    #[error("the hold has expired")]
    HoldExpired,
    #[error("the hold is no longer active")]
    HoldNotActive,
    #[error("the hold already lasts as long as a hold may")]
    HoldLifetimeExceeded,
    #[error("the event has started; the order can no longer be cancelled")]
    OrderNotCancellable,
    #[error("{0}")]
    CustomerLimitReached(LimitReached),
    #[error("the replacement conflicts with holds or sales: {0:?}")]
    EventConflict(Vec<EventConflict>),
    #[error("the event was changed by another request at the same time")]
    EventChangedConcurrently,
}

/// Everything a use case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The idempotency key was used before with a different request body.
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// Another attempt with the same key is still running.
    #[error("a request with this idempotency key is in progress")]
    IdempotencyInProgress { retry_after: Duration },
    #[error(transparent)]
    Unavailable(#[from] BackendError),
    /// Shed before it started: the durable store has been failing lately
    /// (`store_admission`); nothing was read or written.
    #[error("shed while the store is failing")]
    Overloaded { retry_after: Duration },
    /// A bug or corrupted data: answered as an opaque 500, detail logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::ports::LockError> for UseCaseError {
    fn from(error: crate::ports::LockError) -> Self {
        match error {
            crate::ports::LockError::Unavailable(seats) => Rejection::SeatsUnavailable(seats).into(),
            crate::ports::LockError::Backend(backend) => backend.into(),
        }
    }
}
