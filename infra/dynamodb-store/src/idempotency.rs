//! Idempotency records: claim in one conditional put that returns the old
//! record on failure, so a replay needs no second read.

use application::ports::{
    BackendError, Claim, ClaimRequest, IdempotencyRecord, IdempotencyStore, LeaseError, RecordState, StoredResponse,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, Update};
use domain::idempotency::{Fingerprint, IdempotencyScope, LeaseId, OrderSeed, RecordPhase, may_claim};
use domain::time::Timestamp;

use crate::items::{COMPLETED, IN_PROGRESS, IdempotencyItem, Item, from_item, number, string, to_item, ttl_after};
use crate::keys::{IDEMPOTENCY_SK, idempotency_pk};
use crate::{DynamoStore, backend_error, corrupt};

/// A fresh record may be written: none, or its retention ran out. (A lapsed
/// lease is taken over by [`TAKE_OVER`] instead, which keeps the seed.)
pub const MAY_CREATE: &str = "attribute_not_exists(pk) OR recordExpiresAt <= :now";

/// A lapsed lease of the same request, still the lease we read.
pub const TAKE_OVER: &str = "#state = :in_progress AND lease = :old_lease AND leaseExpiresAt <= :now \
     AND recordExpiresAt > :now AND fingerprint = :fingerprint";

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

fn seed_from(item: &IdempotencyItem) -> Result<Option<OrderSeed>, BackendError> {
    item.order_seed
        .as_deref()
        .map(|hex| u128::from_str_radix(hex, 16).map(OrderSeed).map_err(corrupt))
        .transpose()
}

fn record_from(item: Item) -> Result<IdempotencyRecord, BackendError> {
    record_of(from_item(item)?)
}

fn record_of(item: IdempotencyItem) -> Result<IdempotencyRecord, BackendError> {
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

impl DynamoStore {
    /// The record IN_PROGRESS (with `lease`) → COMPLETED with `response`:
    /// written alone by `complete`, and as the last item of an order commit
    /// or cancellation.
    pub(crate) fn completion_update(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<Update, BackendError> {
        let mut update = Update::builder()
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
        update.build().map_err(|error| BackendError::new("dynamodb", error))
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError> {
        let seed = OrderSeed(request.lease.0);
        let item = IdempotencyItem {
            pk: idempotency_pk(request.scope),
            sk: IDEMPOTENCY_SK.to_owned(),
            fingerprint: request.fingerprint.to_string(),
            state: IN_PROGRESS.to_owned(),
            lease: lease_text(request.lease),
            lease_expires_at: request.lease_expires_at.as_millis(),
            record_expires_at: request.record_expires_at.as_millis(),
            expires_at: ttl_after(request.record_expires_at),
            order_seed: Some(format!("{:032x}", seed.0)),
            response_status: None,
            response_body: None,
            response_location: None,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression(MAY_CREATE)
            .expression_attribute_values(":now", number(request.now.as_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let Err(error) = result else {
            return Ok(Claim::Claimed { seed: Some(seed) });
        };
        let old = match error.as_service_error() {
            Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed)) => {
                match failed.item.clone() {
                    Some(item) => from_item::<IdempotencyItem>(item)?,
                    None => self.read_item(request.scope).await?,
                }
            }
            _ => return Err(backend_error(error)),
        };
        self.claim_existing(&request, old).await
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError> {
        let update = self.completion_update(scope, lease, response, record_expires_at)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                    failed,
                )) => {
                    // Our own write, applied with its reply lost, is success.
                    let current = match failed.item.clone() {
                        Some(item) => Some(record_from(item)?),
                        None => self.read_record(scope).await.ok(),
                    };
                    match current {
                        Some(IdempotencyRecord {
                            state: RecordState::Completed(stored),
                            ..
                        }) if stored == *response => Ok(()),
                        _ => Err(LeaseError::LeaseLost),
                    }
                }
                _ => Err(LeaseError::Backend(backend_error(error))),
            },
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
    /// The record as stored (fallback for emulators that do not return the
    /// old item on a failed condition; read-back after a lost reply).
    async fn read_item(&self, scope: &IdempotencyScope) -> Result<IdempotencyItem, BackendError> {
        let item = self
            .get_consistent(idempotency_pk(scope), IDEMPOTENCY_SK)
            .await?
            .ok_or_else(|| corrupt("claim refused but no record exists"))?;
        from_item(item)
    }

    pub(crate) async fn read_record(&self, scope: &IdempotencyScope) -> Result<IdempotencyRecord, BackendError> {
        record_of(self.read_item(scope).await?)
    }

    /// A claim that found a record: ours already (a retried write), a lapsed
    /// lease of the same request to take over, or someone else's answer.
    async fn claim_existing(&self, request: &ClaimRequest<'_>, old: IdempotencyItem) -> Result<Claim, BackendError> {
        let seed = seed_from(&old)?;
        let own_lease = lease_text(request.lease);
        if old.state == IN_PROGRESS && old.lease == own_lease {
            return Ok(Claim::Claimed { seed });
        }
        let record = record_of(old)?;
        let phase = match record.state {
            RecordState::InProgress { lease_expires_at, .. } => RecordPhase::InProgress { lease_expires_at },
            RecordState::Completed(_) => RecordPhase::Completed,
        };
        let lapsed = may_claim(Some((phase, record.expires_at)), request.now);
        let RecordState::InProgress { lease: old_lease, .. } = record.state else {
            return Ok(Claim::Existing(record));
        };
        if !lapsed || record.fingerprint != request.fingerprint {
            return Ok(Claim::Existing(record));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(idempotency_pk(request.scope)))
            .key("sk", string(IDEMPOTENCY_SK))
            .update_expression("SET lease = :lease, leaseExpiresAt = :lease_expires_at")
            .condition_expression(TAKE_OVER)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", string(IN_PROGRESS))
            .expression_attribute_values(":old_lease", string(lease_text(old_lease)))
            .expression_attribute_values(":now", number(request.now.as_millis()))
            .expression_attribute_values(":fingerprint", string(request.fingerprint.to_string()))
            .expression_attribute_values(":lease", string(own_lease.clone()))
            .expression_attribute_values(":lease_expires_at", number(request.lease_expires_at.as_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed { seed }),
            Err(error) => match error.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                    failed,
                )) => {
                    let current = match failed.item.clone() {
                        Some(item) => from_item::<IdempotencyItem>(item)?,
                        None => self.read_item(request.scope).await?,
                    };
                    if current.state == IN_PROGRESS && current.lease == own_lease {
                        // Our own takeover, applied with its reply lost.
                        return Ok(Claim::Claimed {
                            seed: seed_from(&current)?,
                        });
                    }
                    // Another attempt took over first (or the record ended).
                    Ok(Claim::Existing(record_of(current)?))
                }
                _ => Err(backend_error(error)),
            },
        }
    }
}
