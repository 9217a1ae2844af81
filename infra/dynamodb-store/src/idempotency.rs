//! Idempotency records: claim in one conditional put that returns the old
//! record on failure, so a replay needs no second read.

use application::ports::{
    BackendError, Claim, ClaimRequest, IdempotencyRecord, IdempotencyStore, LeaseError, RecordState, StoredResponse,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use domain::idempotency::{Fingerprint, IdempotencyScope, LeaseId};
use domain::time::Timestamp;

use crate::items::{COMPLETED, IN_PROGRESS, IdempotencyItem, Item, from_item, number, string, to_item, ttl_after};
use crate::keys::{IDEMPOTENCY_SK, idempotency_pk};
use crate::{DynamoStore, backend_error, corrupt};

/// `domain::idempotency::may_claim`, as a condition expression.
pub const MAY_CLAIM: &str =
    "attribute_not_exists(pk) OR recordExpiresAt <= :now OR (#state = :in_progress AND leaseExpiresAt <= :now)";

/// The record still carries this attempt's lease.
pub const OWNS_LEASE: &str = "#state = :in_progress AND lease = :lease";

pub fn lease_text(lease: LeaseId) -> String {
    format!("{:032x}", lease.0)
}

fn fingerprint_from(hex: &str) -> Result<Fingerprint, BackendError> {
    if hex.len() != 64 {
        return Err(corrupt("fingerprint length"));
    }
    let mut bytes = [0u8; 32];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16).map_err(corrupt)?;
    }
    Ok(Fingerprint(bytes))
}

fn record_from(item: Item) -> Result<IdempotencyRecord, BackendError> {
    let item: IdempotencyItem = from_item(item)?;
    let state = match item.state.as_str() {
        IN_PROGRESS => RecordState::InProgress {
            lease: LeaseId(u128::from_str_radix(&item.lease, 16).map_err(corrupt)?),
            lease_expires_at: Timestamp::from_millis(item.lease_expires_at),
        },
        COMPLETED => RecordState::Completed(StoredResponse {
            status: item
                .response_status
                .ok_or_else(|| corrupt("completed record without status"))?,
            body: item.response_body.unwrap_or_default().into_bytes(),
            location: location_from(item.response_location),
        }),
        other => return Err(corrupt(format!("idempotency state {other}"))),
    };
    Ok(IdempotencyRecord {
        fingerprint: fingerprint_from(&item.fingerprint)?,
        state,
        expires_at: Timestamp::from_millis(item.record_expires_at),
    })
}

/// The attribute updates that complete a record with `response`.
pub fn completion_values(
    response: &StoredResponse,
    record_expires_at: Timestamp,
) -> Result<Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>, BackendError> {
    let body = String::from_utf8(response.body.clone()).map_err(|_| corrupt("response body is not UTF-8"))?;
    let mut values = vec![
        (":completed", string(COMPLETED)),
        (":status", number(i64::from(response.status))),
        (":body", string(body)),
        (":record_expires_at", number(record_expires_at.as_millis())),
        (":ttl", number(ttl_after(record_expires_at))),
    ];
    values.push((":location", string(response.location.clone().unwrap_or_default())));
    Ok(values)
}

pub const COMPLETE_UPDATE: &str = "SET #state = :completed, responseStatus = :status, responseBody = :body, \
     responseLocation = :location, recordExpiresAt = :record_expires_at, expiresAt = :ttl REMOVE lease, leaseExpiresAt";

fn location_from(text: Option<String>) -> Option<String> {
    text.filter(|l| !l.is_empty())
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        let item = IdempotencyItem {
            pk: idempotency_pk(request.scope),
            sk: IDEMPOTENCY_SK.to_owned(),
            fingerprint: request.fingerprint.to_string(),
            state: IN_PROGRESS.to_owned(),
            lease: lease_text(request.lease),
            lease_expires_at: request.lease_expires_at.as_millis(),
            record_expires_at: request.record_expires_at.as_millis(),
            expires_at: ttl_after(request.record_expires_at),
            response_status: None,
            response_body: None,
            response_location: None,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression(MAY_CLAIM)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", number(request.now.as_millis()))
            .expression_attribute_values(":in_progress", string(IN_PROGRESS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(error) => {
                let old = error.as_service_error().and_then(|e| match e {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed) => {
                        Some(failed.item.clone())
                    }
                    _ => None,
                });
                match old {
                    Some(Some(item)) => record_from(item).map(Claim::Existing),
                    Some(None) => self.read_record(request.scope).await.map(Claim::Existing),
                    None => Err(backend_error(error)),
                }
            }
        }
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(idempotency_pk(scope)))
            .key("sk", string(IDEMPOTENCY_SK))
            .update_expression(COMPLETE_UPDATE)
            .condition_expression(OWNS_LEASE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", string(IN_PROGRESS))
            .expression_attribute_values(":lease", string(lease_text(lease)));
        for (name, value) in completion_values(response, record_expires_at)? {
            update = update.expression_attribute_values(name, value);
        }
        match update.send().await {
            Ok(_) => Ok(()),
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Err(LeaseError::LeaseLost)
            }
            Err(error) => Err(LeaseError::Backend(backend_error(error))),
        }
    }

    async fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", string(idempotency_pk(scope)))
            .key("sk", string(IDEMPOTENCY_SK))
            .condition_expression(OWNS_LEASE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", string(IN_PROGRESS))
            .expression_attribute_values(":lease", string(lease_text(lease)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::delete_item::DeleteItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(backend_error(error)),
        }
    }
}

impl DynamoStore {
    /// Fallback for emulators that do not return the old item on a failed condition.
    async fn read_record(&self, scope: &IdempotencyScope) -> Result<IdempotencyRecord, BackendError> {
        let item = self
            .get_consistent(idempotency_pk(scope), IDEMPOTENCY_SK)
            .await?
            .ok_or_else(|| corrupt("claim refused but no record exists"))?;
        record_from(item)
    }
}
