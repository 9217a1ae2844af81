//! The idempotency machinery shared by the routes that take an
//! `Idempotency-Key` (create order, cancel order; docs/contract.md,
//! Idempotency rules 1–6).
//!
//! 1. Claim the scope (tenant, customer, operation, key) with a lease, in one
//!    conditional write that returns any live record it lost to.
//! 2. A live record answers at once: replay a completed answer, refuse a
//!    different request (key reused), or ask to retry later (in progress).
//! 3. Otherwise the route's work runs under the claim. It ends by storing
//!    its answer: inside its own atomic step (an order commit or
//!    cancellation: [`StoredOutcome::Done`]), or with
//!    [`UseCases::store_answer`] for a deterministic "no" or an answer by
//!    state ([`StoredOutcome::Answered`]). A transient failure drops the
//!    claim so a retry can start at once.

use std::time::Duration;

use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, OrderSeed};
use domain::identity::Identity;
use domain::time::Timestamp;

use super::UseCases;
use crate::errors::UseCaseError;
use crate::ports::{Claim, ClaimRequest, IdempotencyRecord, LeaseError, RecordState, StoredResponse};
use crate::store_admission::Work;

/// The shortest `Retry-After` we ask for.
pub(super) const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A stored answer, and what the attempt that gave it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredOutcome {
    /// This attempt did the work: it created the order, or cancelled it.
    Done(StoredResponse),
    /// This attempt answered without changing anything: a rejection (404,
    /// 409), or an answer by state (the order was already cancelled, under
    /// another key).
    Answered(StoredResponse),
    /// An earlier attempt with the same key and request answered it.
    Replayed(StoredResponse),
}

/// What identifies one idempotent request.
#[derive(Debug, Clone)]
pub(super) struct IdempotentRequest {
    pub operation: &'static str,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    /// How long this attempt may still run, if the runtime knows.
    pub time_budget: Option<Duration>,
}

/// One attempt's claim on a scope.
pub(super) struct Attempt<'a> {
    pub scope: &'a IdempotencyScope,
    pub lease: LeaseId,
    pub record_expires_at: Timestamp,
    /// The record's order seed (see [`OrderSeed`]).
    pub seed: Option<OrderSeed>,
}

impl UseCases {
    /// Claims the request's scope and runs `work` under the claim, or
    /// answers from the live record another attempt left.
    ///
    /// Load shedding (ADR 18) decides only once the scope is claimed: a
    /// retry whose answer is stored is replayed however the store fares
    /// (I3: every retry gets the same answer). A shed claim is given back at
    /// once, so the client's retry after `Retry-After` can claim it.
    pub(super) async fn idempotently(
        &self,
        caller: &Identity,
        request: IdempotentRequest,
        work: impl AsyncFnOnce(&Attempt<'_>) -> Result<StoredOutcome, UseCaseError>,
    ) -> Result<StoredOutcome, UseCaseError> {
        let result = self.claimed_and_run(caller, request, work).await;
        if !matches!(result, Err(UseCaseError::Overloaded { .. })) {
            self.record_for_admission(&result);
        }
        result
    }

    async fn claimed_and_run(
        &self,
        caller: &Identity,
        request: IdempotentRequest,
        work: impl AsyncFnOnce(&Attempt<'_>) -> Result<StoredOutcome, UseCaseError>,
    ) -> Result<StoredOutcome, UseCaseError> {
        let ports = &self.ports;
        let scope = IdempotencyScope {
            tenant: caller.tenant.clone(),
            customer: caller.customer.clone(),
            operation: request.operation,
            key: request.key,
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
        if let Err(retry_after) = self.admission.admit(Work::Completing, now) {
            if let Err(error) = ports.idempotency.abandon(&scope, lease).await {
                tracing::warn!(event = "idempotency.abandon_failed", error = %error, "a shed request's claim stays until its lease expires");
            }
            return Err(UseCaseError::Overloaded { retry_after });
        }
        let attempt = Attempt {
            scope: &scope,
            lease,
            record_expires_at,
            seed,
        };
        let result = work(&attempt).await;
        if let Err(UseCaseError::Unavailable(_) | UseCaseError::Internal(_)) = &result
            && let Err(error) = ports.idempotency.abandon(&scope, attempt.lease).await
        {
            tracing::warn!(event = "idempotency.abandon_failed", error = %error, "the claim stays until its lease expires");
        }
        result
    }

    /// Stores a final answer that no atomic step of the route stores (a
    /// deterministic "no", or an answer by state) and returns it.
    pub(super) async fn store_answer(
        &self,
        attempt: &Attempt<'_>,
        response: StoredResponse,
    ) -> Result<StoredOutcome, UseCaseError> {
        match self
            .ports
            .idempotency
            .complete(attempt.scope, attempt.lease, &response, attempt.record_expires_at)
            .await
        {
            Ok(()) => Ok(StoredOutcome::Answered(response)),
            Err(LeaseError::LeaseLost) => Err(UseCaseError::IdempotencyInProgress {
                retry_after: MIN_RETRY_AFTER,
            }),
            Err(LeaseError::Backend(error)) => Err(error.into()),
        }
    }
}

/// The answer when another attempt's record is live.
fn answer_from_record(
    record: IdempotencyRecord,
    fingerprint: Fingerprint,
    now: Timestamp,
) -> Result<StoredOutcome, UseCaseError> {
    if record.fingerprint != fingerprint {
        return Err(UseCaseError::IdempotencyKeyReused);
    }
    match record.state {
        RecordState::Completed(response) => Ok(StoredOutcome::Replayed(response)),
        RecordState::InProgress { lease_expires_at, .. } => {
            let left = lease_expires_at.remaining_after(now);
            let whole_seconds = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0));
            Err(UseCaseError::IdempotencyInProgress {
                retry_after: whole_seconds.max(MIN_RETRY_AFTER),
            })
        }
    }
}
