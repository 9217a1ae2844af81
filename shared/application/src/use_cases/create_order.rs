//! Create order: turn a hold into a sale exactly once (I3), however often the
//! client retries, even across crashes.
//!
//! Its idempotency (claim, replay, key reused, in progress, takeover) is
//! [`idempotent_request`](super::idempotent_request)'s. Under the claim: check
//! the hold, derive the order id from the scope, and commit the order, its
//! sold seats, the hold CONVERTED and the record COMPLETED in ONE atomic step through
//! [`OrderStore::commit`](crate::ports::OrderStore::commit). Deterministic
//! "no"s (404, 409) are stored for replay too.
//!
//! Answers are rendered to bytes once, by the caller's [`OrderResponses`],
//! and stored; a replay returns those exact bytes.

use std::time::Duration;

use domain::hold::{HoldStatus, HoldUnusable};
use domain::idempotency::{Fingerprint, IdempotencyKey};
use domain::identity::Identity;
use domain::ids::HoldId;
use domain::order::{Buyer, Order};

use super::UseCases;
use super::idempotent_request::{Attempt, IdempotentRequest, MIN_RETRY_AFTER, StoredOutcome};
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{CommitError, OrderCommit, SOLD_MARKER_TTL, StoredResponse};

/// The operation named in idempotency scopes of create-order.
pub const CREATE_ORDER_OPERATION: &str = "POST /orders";

/// A create-order request after decoding.
#[derive(Debug, Clone)]
pub struct CreateOrder {
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    pub hold_id: HoldId,
    pub buyer: Buyer,
    /// How long this attempt may still run (the Lambda's remaining time), if
    /// the runtime knows. The lease never outlives it.
    pub time_budget: Option<Duration>,
}

/// Renders the answers that are stored for replay.
pub trait OrderResponses: Send + Sync {
    fn created(&self, order: &Order) -> StoredResponse;
    /// The answer to a cancel: the order as it now is (CANCELLED).
    fn cancelled(&self, order: &Order) -> StoredResponse;
    fn rejected(&self, rejection: &Rejection) -> StoredResponse;
}

impl UseCases {
    /// # Errors
    /// `IdempotencyKeyReused`, `IdempotencyInProgress`, `Unavailable`,
    /// `Internal`. Rejections are answers, returned as stored responses.
    pub async fn create_order(
        &self,
        caller: &Identity,
        request: CreateOrder,
        responses: &dyn OrderResponses,
    ) -> Result<StoredOutcome, UseCaseError> {
        let idempotent = IdempotentRequest {
            operation: CREATE_ORDER_OPERATION,
            key: request.key.clone(),
            fingerprint: request.fingerprint,
            time_budget: request.time_budget,
        };
        self.idempotently(caller, idempotent, async |attempt| {
            self.create_claimed(caller, &request, attempt, responses).await
        })
        .await
    }

    async fn create_claimed(
        &self,
        caller: &Identity,
        request: &CreateOrder,
        attempt: &Attempt<'_>,
        responses: &dyn OrderResponses,
    ) -> Result<StoredOutcome, UseCaseError> {
        let ports = &self.ports;
        let hold = match self.owned_hold(caller, request.hold_id).await {
            Ok(hold) => hold,
            Err(UseCaseError::Rejected(rejection)) => {
                return self.store_rejection(attempt, rejection, responses).await;
            }
            Err(other) => return Err(other),
        };
        if let Err(unusable) = hold.check_convertible(ports.clock.now()) {
            return self.store_rejection(attempt, rejection_for(unusable), responses).await;
        }

        let order_id = ports.ids.order_id(attempt.scope, attempt.seed);
        let order = Order::from_hold(order_id, &hold, request.buyer.clone(), ports.clock.now())
            .map_err(|error| UseCaseError::Internal(format!("order total: {error}")))?;
        let response = responses.created(&order);
        let commit = OrderCommit {
            order: &order,
            scope: attempt.scope,
            lease: attempt.lease,
            response: &response,
            record_expires_at: attempt.record_expires_at,
            clock: ports.clock.as_ref(),
        };
        match ports.orders.commit(commit).await {
            Ok(()) => {
                let seats = hold.seat_ids();
                if let Err(error) = ports
                    .seat_locks
                    .mark_sold(&hold.tenant, &hold.event, &seats, SOLD_MARKER_TTL)
                    .await
                {
                    tracing::warn!(event = "seats.mark_sold_failed", error = %error, "sold markers missing; the durable store still refuses a second sale");
                }
                Ok(StoredOutcome::Done(response))
            }
            Err(CommitError::SeatsTaken(seats)) => {
                // Sold by this very hold's conversion (another key won the
                // race)? Then the precise answer is about the hold.
                let rejection = self
                    .current_hold_rejection(caller, request.hold_id)
                    .await?
                    .unwrap_or(Rejection::SeatsUnavailable(seats));
                self.store_rejection(attempt, rejection, responses).await
            }
            Err(CommitError::HoldNotActive) => {
                let rejection = self
                    .current_hold_rejection(caller, request.hold_id)
                    .await?
                    .unwrap_or(Rejection::HoldNotActive);
                self.store_rejection(attempt, rejection, responses).await
            }
            Err(CommitError::LeaseLost) => Err(UseCaseError::IdempotencyInProgress {
                retry_after: MIN_RETRY_AFTER,
            }),
            Err(CommitError::Backend(error)) => Err(error.into()),
        }
    }

    /// Why the hold cannot be converted now, read again after a refused
    /// commit; `None` if it still could.
    async fn current_hold_rejection(
        &self,
        caller: &Identity,
        hold_id: HoldId,
    ) -> Result<Option<Rejection>, UseCaseError> {
        match self.owned_hold(caller, hold_id).await {
            Ok(current) => Ok(current
                .check_convertible(self.ports.clock.now())
                .err()
                .map(rejection_for)),
            Err(UseCaseError::Rejected(rejection)) => Ok(Some(rejection)),
            Err(other) => Err(other),
        }
    }

    /// Stores a deterministic "no" as this scope's answer and returns it.
    pub(super) async fn store_rejection(
        &self,
        attempt: &Attempt<'_>,
        rejection: Rejection,
        responses: &dyn OrderResponses,
    ) -> Result<StoredOutcome, UseCaseError> {
        self.store_answer(attempt, responses.rejected(&rejection)).await
    }
}

fn rejection_for(unusable: HoldUnusable) -> Rejection {
    match unusable {
        HoldUnusable::Expired | HoldUnusable::NotActive(HoldStatus::Expired) => Rejection::HoldExpired,
        HoldUnusable::NotActive(_) => Rejection::HoldNotActive,
    }
}
