//! Create order: turn a hold into a sale exactly once (I3), however often the
//! client retries, even across crashes.
//!
//! 1. Claim the scope (tenant, customer, operation, key) with a lease, in one
//!    conditional write that returns any live record it lost to.
//! 2. A live record answers at once: replay a completed answer, refuse a
//!    different body (key reused), or ask to retry later (in progress).
//! 3. Otherwise check the hold, derive the order id from the scope, and commit
//!    order + sold seats + hold CONVERTED + record COMPLETED in ONE atomic
//!    step through [`OrderStore::commit`](crate::ports::OrderStore::commit).
//!    Deterministic "no"s (404, 409) are stored for replay too; transient
//!    failures drop the claim so a retry can start at once.
//!
//! Answers are rendered to bytes once, by the caller's [`OrderResponses`],
//! and stored; a replay returns those exact bytes.

use std::time::Duration;

use domain::hold::{HoldStatus, HoldUnusable};
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, OrderSeed};
use domain::identity::Identity;
use domain::ids::HoldId;
use domain::order::{Buyer, Order};
use domain::time::Timestamp;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{
    Claim, ClaimRequest, CommitError, IdempotencyRecord, LeaseError, OrderCommit, RecordState, SOLD_MARKER_TTL,
    StoredResponse,
};

/// The operation named in idempotency scopes of create-order.
pub const CREATE_ORDER_OPERATION: &str = "POST /orders";

/// The shortest `Retry-After` we ask for.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

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
    fn rejected(&self, rejection: &Rejection) -> StoredResponse;
}

/// A stored answer, fresh or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOrderOutcome {
    /// This attempt produced the answer (an order, or a stored rejection).
    Fresh(StoredResponse),
    /// An earlier attempt with the same key and body produced it.
    Replayed(StoredResponse),
}

/// One attempt's claim on a scope.
struct Attempt<'a> {
    scope: &'a IdempotencyScope,
    lease: LeaseId,
    record_expires_at: Timestamp,
    /// The record's order seed (see [`OrderSeed`]).
    seed: Option<OrderSeed>,
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
    ) -> Result<CreateOrderOutcome, UseCaseError> {
        let ports = &self.ports;
        let scope = IdempotencyScope {
            tenant: caller.tenant.clone(),
            customer: caller.customer.clone(),
            operation: CREATE_ORDER_OPERATION,
            key: request.key.clone(),
        };
        let now = ports.clock.now();
        let lease_length = request.time_budget.map_or(self.settings.idempotency_lease, |budget| {
            budget.min(self.settings.idempotency_lease)
        });
        let lease = ports.ids.lease_id();
        let record_expires_at = now.plus(self.settings.idempotency_ttl);
        let claim = ports
            .idempotency
            .claim(ClaimRequest {
                scope: &scope,
                fingerprint: request.fingerprint,
                lease,
                lease_expires_at: now.plus(lease_length),
                record_expires_at,
                now,
            })
            .await?;
        let seed = match claim {
            Claim::Claimed { seed } => seed,
            Claim::Existing(record) => return answer_from_record(record, request.fingerprint, now),
        };
        let attempt = Attempt {
            scope: &scope,
            lease,
            record_expires_at,
            seed,
        };

        let result = self.create_claimed(caller, &request, &attempt, responses).await;
        if let Err(UseCaseError::Unavailable(_) | UseCaseError::Internal(_)) = &result
            && let Err(error) = ports.idempotency.abandon(&scope, attempt.lease).await
        {
            tracing::warn!(event = "idempotency.abandon_failed", error = %error, "the claim stays until its lease expires");
        }
        result.map(CreateOrderOutcome::Fresh)
    }

    async fn create_claimed(
        &self,
        caller: &Identity,
        request: &CreateOrder,
        attempt: &Attempt<'_>,
        responses: &dyn OrderResponses,
    ) -> Result<StoredResponse, UseCaseError> {
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
                Ok(response)
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
    async fn store_rejection(
        &self,
        attempt: &Attempt<'_>,
        rejection: Rejection,
        responses: &dyn OrderResponses,
    ) -> Result<StoredResponse, UseCaseError> {
        let response = responses.rejected(&rejection);
        match self
            .ports
            .idempotency
            .complete(attempt.scope, attempt.lease, &response, attempt.record_expires_at)
            .await
        {
            Ok(()) => Ok(response),
            Err(LeaseError::LeaseLost) => Err(UseCaseError::IdempotencyInProgress {
                retry_after: MIN_RETRY_AFTER,
            }),
            Err(LeaseError::Backend(error)) => Err(error.into()),
        }
    }
}

fn rejection_for(unusable: HoldUnusable) -> Rejection {
    match unusable {
        HoldUnusable::Expired | HoldUnusable::NotActive(HoldStatus::Expired) => Rejection::HoldExpired,
        HoldUnusable::NotActive(_) => Rejection::HoldNotActive,
    }
}

/// The answer when another attempt's record is live.
fn answer_from_record(
    record: IdempotencyRecord,
    fingerprint: Fingerprint,
    now: Timestamp,
) -> Result<CreateOrderOutcome, UseCaseError> {
    if record.fingerprint != fingerprint {
        return Err(UseCaseError::IdempotencyKeyReused);
    }
    match record.state {
        RecordState::Completed(response) => Ok(CreateOrderOutcome::Replayed(response)),
        RecordState::InProgress { lease_expires_at, .. } => {
            let left = lease_expires_at.remaining_after(now);
            let whole_seconds = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0));
            Err(UseCaseError::IdempotencyInProgress {
                retry_after: whole_seconds.max(MIN_RETRY_AFTER),
            })
        }
    }
}
