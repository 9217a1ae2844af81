//! Orders and sold seats. The commit is ONE `TransactWriteItems`:
//!
//! | # | item | write | condition |
//! |---|---|---|---|
//! | 0 | order | put | `attribute_not_exists(pk)` |
//! | 1..=n | sold seat per seat | put | `attribute_not_exists(pk)` |
//! | n+1 | hold | ACTIVE → CONVERTED | ACTIVE, the order's customer, unexpired at `now` |
//! | n+2 | idempotency record | IN_PROGRESS → COMPLETED with the answer | our lease |
//!
//! DynamoDB cancels the whole transaction if any condition fails and tells
//! which, per item; that is mapped to the exact domain error.

use std::collections::HashSet;

use application::ports::{BackendError, CommitError, OrderCommit, OrderStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use domain::hold::HoldStatus;
use domain::ids::{EventId, OrderId, SeatId, TenantId};

use crate::idempotency::{COMPLETE_UPDATE, OWNS_LEASE, completion_values, lease_text};
use crate::items::{IN_PROGRESS, OrderItem, from_item, number, string, to_item};
use crate::keys::{
    HOLD_SK, IDEMPOTENCY_SK, ORDER_SK, SOLD_SK_PREFIX, event_pk, hold_pk, idempotency_pk, order_pk, sold_sk,
};
use crate::{DynamoStore, backend_error, corrupt};

/// Attempts of a commit cancelled only by a concurrent transaction.
const CONFLICT_ATTEMPTS: u32 = 3;
const CONFLICT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(15);

fn build_error(error: impl std::error::Error + Send + Sync + 'static) -> BackendError {
    BackendError::new("dynamodb", error)
}

impl DynamoStore {
    fn commit_items(&self, commit: &OrderCommit<'_>) -> Result<Vec<TransactWriteItem>, BackendError> {
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
            .update_expression("SET #status = :converted")
            .condition_expression("#status = :active AND customer = :customer AND expiresAtMs > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":converted", string(HoldStatus::Converted.as_str()))
            .expression_attribute_values(":active", string(HoldStatus::Active.as_str()))
            .expression_attribute_values(":customer", string(order.customer.to_string()))
            .expression_attribute_values(":now", number(commit.now.as_millis()))
            .build()
            .map_err(build_error)?;
        writes.push(TransactWriteItem::builder().update(convert_hold).build());
        let mut complete = Update::builder()
            .table_name(&self.table)
            .key("pk", string(idempotency_pk(commit.scope)))
            .key("sk", string(IDEMPOTENCY_SK))
            .update_expression(COMPLETE_UPDATE)
            .condition_expression(OWNS_LEASE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", string(IN_PROGRESS))
            .expression_attribute_values(":lease", string(lease_text(commit.lease)));
        for (name, value) in completion_values(commit.response, commit.record_expires_at)? {
            complete = complete.expression_attribute_values(name, value);
        }
        writes.push(
            TransactWriteItem::builder()
                .update(complete.build().map_err(build_error)?)
                .build(),
        );
        Ok(writes)
    }
}

/// Maps per-item cancellation reasons to the error the port contract names,
/// in its order of precedence: seats sold, hold not active, lease lost.
fn commit_error(codes: &[Option<&str>], seats: &[SeatId]) -> Option<CommitError> {
    let failed = |index: usize| codes.get(index).copied().flatten() == Some("ConditionalCheckFailed");
    let sold: Vec<SeatId> = seats
        .iter()
        .enumerate()
        .filter(|(i, _)| failed(i + 1))
        .map(|(_, s)| s.clone())
        .collect();
    if !sold.is_empty() {
        return Some(CommitError::SeatsSold(sold));
    }
    if failed(0) || failed(seats.len() + 1) {
        return Some(CommitError::HoldNotActive);
    }
    if failed(seats.len() + 2) {
        return Some(CommitError::LeaseLost);
    }
    None
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        let writes = self.commit_items(&commit)?;
        let seats: Vec<SeatId> = commit.order.seats.iter().map(|s| s.id.clone()).collect();
        let mut attempt = 1;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(());
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
                let codes: Vec<Option<&str>> = cancelled.cancellation_reasons().iter().map(|r| r.code()).collect();
                if let Some(mapped) = commit_error(&codes, &seats) {
                    return Err(mapped);
                }
                // Another transaction on the same items was in flight: once it
                // settles, the conditions give the real answer.
                if attempt < CONFLICT_ATTEMPTS && codes.contains(&Some("TransactionConflict")) {
                    attempt += 1;
                    tokio::time::sleep(CONFLICT_BACKOFF * attempt).await;
                    continue;
                }
            }
            return Err(CommitError::Backend(backend_error(error)));
        }
    }

    async fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<domain::order::Order>, BackendError> {
        let item = self.get_consistent(order_pk(tenant, order), ORDER_SK).await?;
        item.map(|item| from_item::<OrderItem>(item)?.into_order()).transpose()
    }

    async fn sold_seats(&self, tenant: &TenantId, event: &EventId) -> Result<HashSet<SeatId>, BackendError> {
        let items = self
            .query_prefix(&event_pk(tenant, event), SOLD_SK_PREFIX, Some("sk"))
            .await?;
        items
            .iter()
            .map(|item| {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .ok_or_else(|| corrupt("sold seat without sk"))?;
                let seat = sk
                    .strip_prefix(SOLD_SK_PREFIX)
                    .ok_or_else(|| corrupt("sold seat key"))?;
                SeatId::parse(seat).map_err(corrupt)
            })
            .collect::<Result<HashSet<_>, _>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(names: &[&str]) -> Vec<SeatId> {
        names.iter().map(|n| SeatId::parse(n).unwrap()).collect()
    }

    #[test]
    fn cancellation_reasons_name_every_sold_seat_first() {
        let codes = [
            Some("None"),
            Some("ConditionalCheckFailed"),
            Some("None"),
            Some("ConditionalCheckFailed"),
            Some("ConditionalCheckFailed"),
            Some("None"),
        ];
        let error = commit_error(&codes, &seats(&["A", "B", "C"]));
        assert!(matches!(error, Some(CommitError::SeatsSold(s)) if s == seats(&["A", "C"])));
    }

    #[test]
    fn a_failed_hold_or_order_condition_is_hold_not_active_and_a_failed_record_is_a_lost_lease() {
        let hold = [Some("None"), Some("None"), Some("ConditionalCheckFailed"), Some("None")];
        assert!(matches!(
            commit_error(&hold, &seats(&["A"])),
            Some(CommitError::HoldNotActive)
        ));
        let record = [Some("None"), Some("None"), Some("None"), Some("ConditionalCheckFailed")];
        assert!(matches!(
            commit_error(&record, &seats(&["A"])),
            Some(CommitError::LeaseLost)
        ));
        assert!(commit_error(&[Some("ThrottlingError")], &seats(&["A"])).is_none());
    }
}
