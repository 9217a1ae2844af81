//! Orders. The commit is ONE `TransactWriteItems`, rebuilt with a fresh
//! `:now` for every send (the SDK does not retry it; this loop does):
//!
//! | # | item | write | condition |
//! |---|---|---|---|
//! | 0 | order | put | `attribute_not_exists(pk)` |
//! | 1..=n | claim per seat | HELD → SOLD | this hold's HELD claim (or, for a hold placed before claims, none) |
//! | n+1..=2n | sold record per seat (release before claims) | put | `attribute_not_exists(pk)` |
//! | 2n+1 | hold | ACTIVE → CONVERTED, TTL pushed to year 9999 | ACTIVE, the order's customer, unexpired at `:now` |
//! | 2n+2 | idempotency record | IN_PROGRESS → COMPLETED with the answer | our lease |
//! | 2n+3 | the customer's tally, for an order counted toward a seat limit | hold entry → order entry, version bumped | the hold's entry exists |
//!
//! Cancel is one `TransactWriteItems` too (the SDK may resend it: a resend
//! of an applied cancel finds the record completed with its answer):
//!
//! | # | item | write | condition |
//! |---|---|---|---|
//! | 0 | order | SET `cancelledAt` | exists, not cancelled |
//! | 1..=n | claim per seat | delete | none, or SOLD by this order |
//! | n+1..=2n | sold record per seat (release before claims) | delete | absent, or this order's |
//! | 2n+1 | idempotency record | IN_PROGRESS → COMPLETED with the answer | our lease |
//! | 2n+2 | the customer's tally, for an order counted toward a seat limit | order entry removed | — |
//!
//! DynamoDB cancels the whole transaction if any condition fails and tells
//! which, per item; that is mapped to the exact domain error. The sold
//! records in the event's partition are the previous release's; ADR 12 says
//! when they stop being written.

use application::ports::{
    BackendError, CancelError, CommitError, OrderCancellation, OrderCommit, OrderStore, RecordState, StoredResponse,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    CancellationReason, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use domain::hold::HoldStatus;
use domain::ids::{OrderId, SeatId, TenantId};
use domain::time::Timestamp;

use crate::holds::{cancellation, cancellation as cancellation_reasons, conflicted, failed};
use crate::items::{HELD_CLAIM, OrderItem, SOLD_CLAIM, from_item, number, string, to_item};
use crate::keys::{HOLD_SK, ORDER_SK, claim_key, event_pk, hold_pk, order_pk, sold_sk};
use crate::limits::{
    MAX_ATOMIC_WRITE_ITEMS, ORDER_CANCEL_FIXED_ITEMS, ORDER_COMMIT_FIXED_ITEMS, ORDER_COMMIT_ITEMS_PER_SEAT,
};
use crate::{DynamoStore, backend_error};

/// The TTL of a converted hold: 9999-12-31, which DynamoDB never reaches, so
/// a sold hold is kept as long as its order.
const NEVER_EXPIRES: i64 = 253_402_300_799;

/// Sends of one commit: a transaction conflict, a throttle or a timeout is
/// tried again (with a fresh `:now`) this often in all.
const COMMIT_ATTEMPTS: u32 = 3;
const COMMIT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(15);

fn build_error(error: impl std::error::Error + Send + Sync + 'static) -> BackendError {
    BackendError::new("dynamodb", error)
}

impl DynamoStore {
    fn commit_items(&self, commit: &OrderCommit<'_>, now: Timestamp) -> Result<Vec<TransactWriteItem>, BackendError> {
        let order = commit.order;
        let put_if_absent = |item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(build_error)
        };
        let mut writes = vec![put_if_absent(to_item(&OrderItem::new(
            order,
            order_pk(&order.tenant, order.id),
            ORDER_SK,
        ))?)?];
        for seat in &order.seats {
            let (pk, sk) = claim_key(&order.tenant, &order.event, &seat.id);
            let sell_claim = Update::builder()
                .table_name(&self.table)
                .key("pk", string(pk))
                .key("sk", string(sk))
                .update_expression("SET #state = :sold, holdId = :hold, orderId = :order REMOVE untilMs, expiresAt")
                .condition_expression("(holdId = :hold AND #state = :held) OR attribute_not_exists(pk)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":sold", string(SOLD_CLAIM))
                .expression_attribute_values(":held", string(HELD_CLAIM))
                .expression_attribute_values(":hold", string(order.hold.to_string()))
                .expression_attribute_values(":order", string(order.id.to_string()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().update(sell_claim).build());
        }
        let event = event_pk(&order.tenant, &order.event);
        for seat in &order.seats {
            let mut item = std::collections::HashMap::new();
            item.insert("pk".to_owned(), string(&event));
            item.insert("sk".to_owned(), string(sold_sk(&seat.id)));
            item.insert("orderId".to_owned(), string(order.id.to_string()));
            writes.push(put_if_absent(item)?);
        }
        let convert_hold = Update::builder()
            .table_name(&self.table)
            .key("pk", string(hold_pk(&order.tenant, order.hold)))
            .key("sk", string(HOLD_SK))
            // TTL pushed to the far future rather than removed: the previous
            // release reads `expiresAt` as required (ADR 12, expand step).
            .update_expression("SET #status = :converted, expiresAt = :never")
            .condition_expression("#status = :active AND customer = :customer AND expiresAtMs > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":converted", string(HoldStatus::Converted.as_str()))
            .expression_attribute_values(":never", number(NEVER_EXPIRES))
            .expression_attribute_values(":active", string(HoldStatus::Active.as_str()))
            .expression_attribute_values(":customer", string(order.customer.to_string()))
            .expression_attribute_values(":now", number(now.as_millis()))
            .build()
            .map_err(build_error)?;
        writes.push(TransactWriteItem::builder().update(convert_hold).build());
        writes.push(self.complete_record(commit.scope, commit.lease, commit.response, commit.record_expires_at)?);
        if order.counts_toward_limit {
            writes.push(self.tally_conversion(order)?);
        }
        debug_assert!(writes.len() <= ORDER_COMMIT_FIXED_ITEMS + ORDER_COMMIT_ITEMS_PER_SEAT * order.seats.len());
        if writes.len() > MAX_ATOMIC_WRITE_ITEMS {
            return Err(BackendError::new(
                "dynamodb",
                format!("an order of {} seats does not fit one transaction", order.seats.len()),
            ));
        }
        Ok(writes)
    }

    /// The idempotency record's completion, as a transaction item.
    fn complete_record(
        &self,
        scope: &domain::idempotency::IdempotencyScope,
        lease: domain::idempotency::LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<TransactWriteItem, BackendError> {
        let update = self.completion_update(scope, lease, response, record_expires_at)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Whether the idempotency record already holds this commit's answer:
    /// an earlier send of this very commit was applied, its reply lost.
    async fn already_committed(&self, commit: &OrderCommit<'_>) -> Result<bool, BackendError> {
        self.already_answered(commit.scope, commit.response).await
    }

    async fn already_answered(
        &self,
        scope: &domain::idempotency::IdempotencyScope,
        response: &StoredResponse,
    ) -> Result<bool, BackendError> {
        let record = self.read_record(scope).await;
        Ok(
            matches!(record, Ok(record) if matches!(&record.state, RecordState::Completed(stored) if stored == response)),
        )
    }

    fn cancel_items(&self, cancellation: &OrderCancellation<'_>) -> Result<Vec<TransactWriteItem>, BackendError> {
        let order = cancellation.order;
        let cancel_order = Update::builder()
            .table_name(&self.table)
            .key("pk", string(order_pk(&order.tenant, order.id)))
            .key("sk", string(ORDER_SK))
            .update_expression("SET cancelledAt = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(cancelledAt)")
            .expression_attribute_values(":at", number(cancellation.cancelled_at.as_millis()))
            .build()
            .map_err(build_error)?;
        let mut writes = vec![TransactWriteItem::builder().update(cancel_order).build()];
        for seat in &order.seats {
            let (pk, sk) = claim_key(&order.tenant, &order.event, &seat.id);
            let free = Delete::builder()
                .table_name(&self.table)
                .key("pk", string(pk))
                .key("sk", string(sk))
                .condition_expression("attribute_not_exists(pk) OR (#state = :sold AND orderId = :order)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":sold", string(SOLD_CLAIM))
                .expression_attribute_values(":order", string(order.id.to_string()))
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().delete(free).build());
        }
        let event = event_pk(&order.tenant, &order.event);
        for seat in &order.seats {
            let unsold = Delete::builder()
                .table_name(&self.table)
                .key("pk", string(&event))
                .key("sk", string(sold_sk(&seat.id)))
                .condition_expression("attribute_not_exists(pk) OR orderId = :order")
                .expression_attribute_values(":order", string(order.id.to_string()))
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().delete(unsold).build());
        }
        writes.push(self.complete_record(
            cancellation.scope,
            cancellation.lease,
            cancellation.response,
            cancellation.record_expires_at,
        )?);
        if order.counts_toward_limit {
            writes.push(self.tally_cancellation(order)?);
        }
        debug_assert!(writes.len() <= ORDER_CANCEL_FIXED_ITEMS + 2 * order.seats.len());
        if writes.len() > MAX_ATOMIC_WRITE_ITEMS {
            return Err(BackendError::new(
                "dynamodb",
                format!(
                    "a cancellation of {} seats does not fit one transaction",
                    order.seats.len()
                ),
            ));
        }
        Ok(writes)
    }
}

/// Maps per-item cancellation reasons to the error the port contract names,
/// in its order of precedence: seats taken, hold not active, lease lost.
fn commit_error(reasons: &[CancellationReason], seats: &[SeatId]) -> Option<CommitError> {
    let n = seats.len();
    let mut taken = Vec::new();
    for (index, seat) in seats.iter().enumerate() {
        // The claim is sold or another hold's, or the old sold record exists.
        if failed(reasons, index + 1) || failed(reasons, n + 1 + index) {
            taken.push(seat.clone());
        }
    }
    if !taken.is_empty() {
        return Some(CommitError::SeatsTaken(taken));
    }
    // Index 2n+3: a counted hold's tally entry is gone (counted out by a
    // placement on a clock ahead by more than the grace): not active either.
    if failed(reasons, 0) || failed(reasons, 2 * n + 1) || failed(reasons, 2 * n + 3) {
        return Some(CommitError::HoldNotActive);
    }
    if failed(reasons, 2 * n + 2) {
        return Some(CommitError::LeaseLost);
    }
    None
}

fn is_transient<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    use aws_sdk_dynamodb::error::SdkError;
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "InternalServerError"
                    | "RequestLimitExceeded"
            )
        ),
        _ => false,
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        let seats: Vec<SeatId> = commit.order.seats.iter().map(|s| s.id.clone()).collect();
        let no_sdk_retries = aws_sdk_dynamodb::config::Builder::new()
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled());
        let mut attempt = 1;
        loop {
            let writes = self.commit_items(&commit, commit.clock.now())?;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .customize()
                .config_override(no_sdk_retries.clone())
                .send()
                .await;
            let Err(error) = result else {
                return Ok(());
            };
            if let Some(reasons) = cancellation(&error) {
                if reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                    && self.already_committed(&commit).await?
                {
                    return Ok(());
                }
                if let Some(mapped) = commit_error(reasons, &seats) {
                    return Err(mapped);
                }
                // Another transaction on the same items was in flight: once it
                // settles, the conditions give the real answer.
                if attempt < COMMIT_ATTEMPTS && conflicted(reasons) {
                    attempt += 1;
                    tokio::time::sleep(COMMIT_BACKOFF * attempt).await;
                    continue;
                }
            } else if attempt < COMMIT_ATTEMPTS && is_transient(&error) {
                // The send may have been applied: the next one finds out
                // through its conditions and `already_committed`.
                attempt += 1;
                tokio::time::sleep(COMMIT_BACKOFF * attempt).await;
                continue;
            }
            return Err(CommitError::Backend(backend_error(error)));
        }
    }

    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<domain::order::Order>, BackendError> {
        let item = self.get_consistent(order_pk(tenant, order), ORDER_SK).await?;
        item.map(|item| from_item::<OrderItem>(item)?.into_order()).transpose()
    }

    async fn cancel(&self, cancellation: OrderCancellation<'_>) -> Result<(), CancelError> {
        let writes = self.cancel_items(&cancellation)?;
        let Err(error) = self.transact(writes).await else {
            return Ok(());
        };
        let Some(reasons) = cancellation_reasons(&error) else {
            return Err(CancelError::Backend(backend_error(error)));
        };
        if self.already_answered(cancellation.scope, cancellation.response).await? {
            return Ok(());
        }
        let n = cancellation.order.seats.len();
        if failed(reasons, 0) {
            return Err(CancelError::AlreadyCancelled);
        }
        if failed(reasons, 2 * n + 1) {
            return Err(CancelError::LeaseLost);
        }
        if (1..=2 * n).any(|index| failed(reasons, index)) {
            return Err(CancelError::Backend(crate::corrupt(
                "a seat of a confirmed order is claimed or recorded sold by something else",
            )));
        }
        Err(CancelError::Backend(backend_error(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(names: &[&str]) -> Vec<SeatId> {
        names.iter().map(|n| SeatId::parse(n).unwrap()).collect()
    }

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    #[test]
    fn cancellation_reasons_name_every_seat_whose_claim_or_sold_record_failed_first() {
        // order, claims A B C, old sold records A B C, hold, record
        let r = reasons(&[
            "None",
            "ConditionalCheckFailed",
            "None",
            "None",
            "None",
            "None",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "None",
        ]);
        let error = commit_error(&r, &seats(&["A", "B", "C"]));
        assert!(matches!(error, Some(CommitError::SeatsTaken(s)) if s == seats(&["A", "C"])));
    }

    #[test]
    fn a_failed_hold_or_order_condition_is_hold_not_active_and_a_failed_record_is_a_lost_lease() {
        let hold = reasons(&["None", "None", "None", "ConditionalCheckFailed", "None"]);
        assert!(matches!(
            commit_error(&hold, &seats(&["A"])),
            Some(CommitError::HoldNotActive)
        ));
        let record = reasons(&["None", "None", "None", "None", "ConditionalCheckFailed"]);
        assert!(matches!(
            commit_error(&record, &seats(&["A"])),
            Some(CommitError::LeaseLost)
        ));
        assert!(commit_error(&reasons(&["ThrottlingError"]), &seats(&["A"])).is_none());
    }

    fn order_of(seat_count: usize) -> domain::order::Order {
        use domain::hold::{HeldSeat, Hold};
        let hold = Hold::place(
            domain::ids::HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            TenantId::parse("acme").unwrap(),
            domain::ids::EventId::parse("gig").unwrap(),
            domain::ids::CustomerId::parse("alice").unwrap(),
            (0..seat_count)
                .map(|n| HeldSeat {
                    id: SeatId::parse(&format!("S{n}")).unwrap(),
                    price: domain::money::Cents(1),
                })
                .collect(),
            domain::money::Currency::parse("EUR").unwrap(),
            Timestamp::from_millis(0),
            std::time::Duration::from_secs(60),
        );
        domain::order::Order::from_hold(
            OrderId::from_u128(1),
            &hold,
            domain::order::Buyer::default(),
            Timestamp::from_millis(0),
        )
        .unwrap()
    }

    struct Epoch;
    impl application::ports::Clock for Epoch {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(0)
        }
    }

    #[test]
    fn the_largest_allowed_hold_commits_in_one_transaction_and_one_more_seat_would_not() {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "t");
        let scope = domain::idempotency::IdempotencyScope {
            tenant: TenantId::parse("acme").unwrap(),
            customer: domain::ids::CustomerId::parse("alice").unwrap(),
            operation: "POST /orders",
            key: domain::idempotency::IdempotencyKey::parse("k").unwrap(),
        };
        let response = application::ports::StoredResponse {
            status: 201,
            body: b"{}".to_vec(),
            location: None,
        };
        let items = |seats| {
            let order = order_of(seats);
            let commit = OrderCommit {
                order: &order,
                scope: &scope,
                lease: domain::idempotency::LeaseId(1),
                response: &response,
                record_expires_at: Timestamp::from_millis(1),
                clock: &Epoch,
            };
            store
                .commit_items(&commit, Timestamp::from_millis(0))
                .map(|writes| writes.len())
        };
        let limit = crate::limits::MAX_SEATS_PER_HOLD_LIMIT;
        assert_eq!(items(limit).unwrap(), 99, "order, hold, record and two items per seat");
        assert!(items(limit + 1).is_err(), "one seat more does not fit one transaction");
    }
}
