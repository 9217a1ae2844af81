//! Cancel order: undo a sale before its event starts, exactly once however
//! often the client retries (create order's idempotency rules, scope
//! operation [`CANCEL_ORDER_OPERATION`]).
//!
//! Under the claim: read the order (its customer or an organizer of its
//! tenant, else 404) and its event (started → 409 `order-not-cancellable`),
//! then one atomic step through
//! [`OrderStore::cancel`](crate::ports::OrderStore::cancel): the order
//! CANCELLED, its seats' SOLD claims deleted and the idempotency record
//! completed. An order already cancelled (another key) answers 200 with the
//! cancelled order, stored for replay too.
//!
//! The seats' sold markers are removed from the seat locks before and after
//! that step, best effort. The removal after it also keeps new markers off
//! those seats until [`UNSOLD_WINDOW`] after the cancellation: a refusal or
//! the order's own `mark_sold` that read the claims before the cancel and
//! writes after it is ignored (one that writes before it is removed by it).
//! A marker that survives (Redis failing, or this instance's circuit breaker
//! open) runs out with its TTL (ADR 13). The claims decide in any case.

use std::time::Duration;

use domain::idempotency::{Fingerprint, IdempotencyKey};
use domain::identity::Identity;
use domain::ids::OrderId;
use domain::order::{Cancellation, Order};
use domain::time::Timestamp;

use super::UseCases;
use super::create_order::OrderResponses;
use super::idempotent_request::{Attempt, IdempotentRequest, MIN_RETRY_AFTER, StoredOutcome};
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{CancelError, MirroredLock, OrderCancellation, SOLD_MARKER_TTL, UNSOLD_WINDOW};

/// The operation named in idempotency scopes of cancel-order.
pub const CANCEL_ORDER_OPERATION: &str = "POST /orders/cancel";

/// A cancel-order request after decoding. The fingerprint covers the order
/// id, so one key cannot cancel two orders.
#[derive(Debug, Clone)]
pub struct CancelOrder {
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    pub order_id: OrderId,
    /// How long this attempt may still run, if the runtime knows.
    pub time_budget: Option<Duration>,
}

impl UseCases {
    /// # Errors
    /// `IdempotencyKeyReused`, `IdempotencyInProgress`, `Unavailable`,
    /// `Internal`. Rejections (404, 409) are answers, returned as stored
    /// responses.
    pub async fn cancel_order(
        &self,
        caller: &Identity,
        request: CancelOrder,
        responses: &dyn OrderResponses,
    ) -> Result<StoredOutcome, UseCaseError> {
        let idempotent = IdempotentRequest {
            operation: CANCEL_ORDER_OPERATION,
            key: request.key.clone(),
            fingerprint: request.fingerprint,
            time_budget: request.time_budget,
        };
        self.idempotently(caller, idempotent, async |attempt| {
            self.cancel_claimed(caller, request.order_id, attempt, responses).await
        })
        .await
    }

    async fn cancel_claimed(
        &self,
        caller: &Identity,
        order_id: OrderId,
        attempt: &Attempt<'_>,
        responses: &dyn OrderResponses,
    ) -> Result<StoredOutcome, UseCaseError> {
        let ports = &self.ports;
        let order = match ports.orders.get(&caller.tenant, order_id).await? {
            Some(order) if order.is_visible_to(caller) => order,
            _ => return self.store_rejection(attempt, Rejection::OrderNotFound, responses).await,
        };
        // The event's small item, not its seats: only the start time matters.
        let Some(event) = ports.events.change_marks(&order.tenant, &order.event).await? else {
            return Err(UseCaseError::Internal(format!(
                "order {order_id} names a missing event"
            )));
        };
        let now = ports.clock.now();
        match order.cancellation(now, event.starts_at) {
            Err(_) => {
                self.store_rejection(attempt, Rejection::OrderNotCancellable, responses)
                    .await
            }
            Ok(Cancellation::AlreadyCancelled) => {
                self.unmark_leftovers(&order, now).await;
                self.store_answer(attempt, responses.cancelled(&order)).await
            }
            Ok(Cancellation::Cancel) => {
                let cancelled = Order {
                    cancelled_at: Some(now),
                    ..order.clone()
                };
                let response = responses.cancelled(&cancelled);
                // No window yet: the cancel may still fail, and the seats
                // are then sold and should keep their markers.
                self.unmark_sold(&order).await;
                let step = OrderCancellation {
                    order: &order,
                    cancelled_at: now,
                    scope: attempt.scope,
                    lease: attempt.lease,
                    response: &response,
                    record_expires_at: attempt.record_expires_at,
                };
                match ports.orders.cancel(step).await {
                    Ok(()) => {
                        self.unmark_sold(&cancelled).await;
                        Ok(StoredOutcome::Done(response))
                    }
                    // Another key cancelled it meanwhile: answer by state.
                    Err(CancelError::AlreadyCancelled) => match ports.orders.get(&caller.tenant, order_id).await? {
                        Some(current) if current.cancelled_at.is_some() => {
                            self.unmark_leftovers(&current, now).await;
                            self.store_answer(attempt, responses.cancelled(&current)).await
                        }
                        _ => Err(UseCaseError::Internal(format!(
                            "order {order_id} changed during its cancellation"
                        ))),
                    },
                    Err(CancelError::LeaseLost) => Err(UseCaseError::IdempotencyInProgress {
                        retry_after: MIN_RETRY_AFTER,
                    }),
                    Err(CancelError::Backend(error)) => Err(error.into()),
                }
            }
        }
    }

    /// For a cancelled order: a marker a failed unmark left behind goes now,
    /// not at its TTL. Only within that TTL of the cancellation: later, any
    /// marker on those seats is a newer sale's (markers do not name their
    /// order), and it stays.
    async fn unmark_leftovers(&self, cancelled: &Order, now: Timestamp) {
        if cancelled.cancelled_at.is_some_and(|at| at.plus(SOLD_MARKER_TTL) > now) {
            self.unmark_sold(cancelled).await;
        }
    }

    /// Removes the order's sold markers from the seat locks, best effort.
    /// Once the order is cancelled (`cancelled_at`), also keeps them from
    /// coming back until [`UNSOLD_WINDOW`] after it (a write-back in flight
    /// that read the claims before the cancel); retries never stretch that.
    async fn unmark_sold(&self, order: &Order) {
        let now = self.ports.clock.now();
        let ignore_sold_for = order
            .cancelled_at
            .map(|at| at.plus(UNSOLD_WINDOW).remaining_after(now))
            .filter(|window| !window.is_zero());
        let unsold: Vec<_> = order
            .seats
            .iter()
            .map(|seat| (seat.id.clone(), MirroredLock::Unsold { ignore_sold_for }))
            .collect();
        if let Err(error) = self.ports.seat_locks.mirror(&order.tenant, &order.event, &unsold).await {
            tracing::warn!(event = "seats.unmark_failed", error = %error, "sold markers stay until their TTL; the claims are free");
        }
    }
}
