//! Events: metadata plus seat chunks, written in one transaction with an
//! optimistic version check.

use application::ports::{BackendError, ChangeMarks, EventCatalog, PutEventError, StoredEvent};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use domain::event::{Event, MAX_SEATS_PER_EVENT};
use domain::hold::SeatClaim;
use domain::ids::SeatId;
use domain::ids::{EventId, TenantId};
use domain::time::Timestamp;

use crate::holds::{cancellation, failed};
use crate::items::{
    EventMetaItem, HELD_CLAIM, SeatsChunkItem, decode_seats, encode_places, encode_seats, event_from, from_item,
    number, string, to_item,
};
use crate::keys::{EVENT_SK, SEATS_SK_PREFIX, claim_key, event_pk, seats_sk};
use crate::limits::MAX_ATOMIC_WRITE_ITEMS;
use crate::{DynamoStore, backend_error, condition_failed, corrupt};

/// Seats per chunk item: 2 000 seats with the longest ids and labels stay
/// under 310 KB (the item limit is 400 KB), 20 000 under 3.1 MB (a
/// transaction's limit is 4 MB).
const SEATS_PER_CHUNK: usize = 2_000;
/// Chunks of the largest event; every put rewrites or deletes all of them.
const MAX_CHUNKS: usize = MAX_SEATS_PER_EVENT.div_ceil(SEATS_PER_CHUNK);
/// Claims a put checks unsold inside its transaction: what is left of a
/// transaction's items after the metadata item and every chunk.
const UNSOLD_CHECKS: usize = MAX_ATOMIC_WRITE_ITEMS - 1 - MAX_CHUNKS;
/// Reads that saw two versions at once are retried this often.
const READ_ATTEMPTS: usize = 3;

/// The event item's update: a breaking change also records its version;
/// an event without a seat limit loses the one it had.
fn meta_update(breaking: bool, limited: bool) -> String {
    format!(
        "SET tenant = :tenant, eventId = :event, #name = :name, startsAt = :starts, currency = :currency, \
         #version = :version, chunks = :chunks{}{} REMOVE frozenUntil{}",
        if breaking { ", breakingVersion = :version" } else { "" },
        if limited { ", maxSeatsPerCustomer = :limit" } else { "" },
        if limited { "" } else { ", maxSeatsPerCustomer" },
    )
}

/// What a cancelled or failed event write means.
fn put_refusal(
    error: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
    checked_in_write: &[SeatId],
) -> PutEventError {
    let Some(reasons) = cancellation(&error) else {
        return PutEventError::Backend(backend_error(error));
    };
    if failed(reasons, 0) {
        return PutEventError::VersionMismatch;
    }
    let sold: Vec<SeatId> = checked_in_write
        .iter()
        .enumerate()
        .filter(|(index, _)| failed(reasons, 1 + MAX_CHUNKS + index))
        .map(|(_, seat)| seat.clone())
        .collect();
    if sold.is_empty() {
        PutEventError::Backend(backend_error(error))
    } else {
        PutEventError::SoldMeanwhile(sold)
    }
}

impl DynamoStore {
    /// A condition check inside an event write that `seat` is not sold.
    fn unsold_check(&self, event: &Event, seat: &SeatId) -> Result<TransactWriteItem, BackendError> {
        let (pk, sk) = claim_key(&event.tenant, &event.id, seat);
        let unsold = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", string(pk))
            .key("sk", string(sk))
            .condition_expression("attribute_not_exists(pk) OR #state = :held")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", string(HELD_CLAIM))
            .build()
            .map_err(|e| BackendError::new("dynamodb", e))?;
        Ok(TransactWriteItem::builder().condition_check(unsold).build())
    }

    /// Refuses the write if any of `seats` is sold now (one consistent read).
    async fn refuse_sold(&self, event: &Event, seats: &[SeatId]) -> Result<(), PutEventError> {
        if seats.is_empty() {
            return Ok(());
        }
        let claims = self.read_claims(&event.tenant, &event.id, seats).await?;
        let sold: Vec<SeatId> = seats
            .iter()
            .zip(claims)
            .filter(|(_, claim)| *claim == Some(SeatClaim::Sold))
            .map(|(seat, _)| seat.clone())
            .collect();
        if sold.is_empty() {
            Ok(())
        } else {
            Err(PutEventError::SoldMeanwhile(sold))
        }
    }
}

#[async_trait]
impl EventCatalog for DynamoStore {
    async fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError> {
        let pk = event_pk(tenant, event);
        for _ in 0..READ_ATTEMPTS {
            let mut meta = None;
            let mut chunks = Vec::new();
            for item in self.query_prefix(&pk, EVENT_SK, None).await? {
                let is_meta = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk == EVENT_SK);
                if is_meta {
                    meta = Some(from_item::<EventMetaItem>(item)?);
                } else {
                    chunks.push(from_item::<SeatsChunkItem>(item)?);
                }
            }
            let Some(meta) = meta else {
                return Ok(None);
            };
            chunks.retain(|chunk| chunk.sk.starts_with(SEATS_SK_PREFIX));
            chunks.sort_by(|a, b| a.sk.cmp(&b.sk));
            if chunks.len() != meta.chunks || chunks.iter().any(|c| c.version != meta.version) {
                continue;
            }
            let mut seats = Vec::new();
            for chunk in &chunks {
                seats.extend(decode_seats(&chunk.seats, chunk.places.as_deref())?);
            }
            return Ok(Some(StoredEvent {
                event: event_from(&meta, seats)?,
                version: meta.version,
            }));
        }
        Err(corrupt(format!("event {pk} kept changing while being read")))
    }

    async fn put(
        &self,
        event: &Event,
        expected: Option<u64>,
        under_freeze: Option<Timestamp>,
        held_repriced: &[SeatId],
    ) -> Result<u64, PutEventError> {
        // Repriced seats that were held: checked unsold inside the write as
        // far as the transaction has room, the rest read just before it (a
        // window of one round trip for repricings of more than
        // `UNSOLD_CHECKS` held seats at once).
        let (checked_in_write, checked_before) = held_repriced.split_at(held_repriced.len().min(UNSOLD_CHECKS));
        self.refuse_sold(event, checked_before).await?;
        let breaking = under_freeze.is_some();
        let pk = event_pk(&event.tenant, &event.id);
        let version = expected.map_or(1, |v| v + 1);
        let chunks: Vec<_> = event.seats().chunks(SEATS_PER_CHUNK).collect();
        // An update, not a put: attributes it does not name (the last
        // breaking version of a non-breaking change) are kept.
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", string(&pk))
            .key("sk", string(EVENT_SK))
            .update_expression(meta_update(breaking, event.max_seats_per_customer.is_some()))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":tenant", string(event.tenant.to_string()))
            .expression_attribute_values(":event", string(event.id.to_string()))
            .expression_attribute_values(":name", string(event.name.clone()))
            .expression_attribute_values(":starts", number(event.starts_at.as_millis()))
            .expression_attribute_values(":currency", string(event.currency.to_string()))
            .expression_attribute_values(":version", number(i64::try_from(version).unwrap_or(i64::MAX)))
            .expression_attribute_values(":chunks", number(i64::try_from(chunks.len()).unwrap_or(i64::MAX)));
        if let Some(limit) = event.max_seats_per_customer {
            update = update.expression_attribute_values(":limit", number(i64::from(limit.get())));
        }
        update = match (expected, under_freeze) {
            (None, _) => update.condition_expression("attribute_not_exists(pk)"),
            (Some(previous), None) => update
                .condition_expression("#version = :expected")
                .expression_attribute_values(":expected", number(i64::try_from(previous).unwrap_or(i64::MAX))),
            (Some(previous), Some(until)) => update
                .condition_expression("#version = :expected AND frozenUntil = :until")
                .expression_attribute_values(":expected", number(i64::try_from(previous).unwrap_or(i64::MAX)))
                .expression_attribute_values(":until", number(until.as_millis())),
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(update.build().map_err(|e| BackendError::new("dynamodb", e))?)
                .build(),
        ];
        for index in 0..MAX_CHUNKS {
            let write = if let Some(seats) = chunks.get(index) {
                let chunk = SeatsChunkItem {
                    pk: pk.clone(),
                    sk: seats_sk(index),
                    version,
                    seats: encode_seats(seats),
                    places: encode_places(seats),
                };
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(&chunk)?))
                    .build();
                TransactWriteItem::builder()
                    .put(put.map_err(|e| BackendError::new("dynamodb", e))?)
                    .build()
            } else {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", string(&pk))
                    .key("sk", string(seats_sk(index)))
                    .build();
                TransactWriteItem::builder()
                    .delete(delete.map_err(|e| BackendError::new("dynamodb", e))?)
                    .build()
            };
            writes.push(write);
        }
        for seat in checked_in_write {
            writes.push(self.unsold_check(event, seat)?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(version),
            Err(error) => Err(put_refusal(error, checked_in_write)),
        }
    }

    async fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError> {
        let Some(item) = self.get_consistent(event_pk(tenant, event), EVENT_SK).await? else {
            return Ok(None);
        };
        let number_of = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
        };
        let version = number_of("version").ok_or_else(|| corrupt("event without version"))?;
        Ok(Some(ChangeMarks {
            version: u64::try_from(version).map_err(corrupt)?,
            breaking_version: number_of("breakingVersion")
                .map_or(Ok(0), u64::try_from)
                .map_err(corrupt)?,
            frozen_until: number_of("frozenUntil").map(Timestamp::from_millis),
            starts_at: Timestamp::from_millis(number_of("startsAt").ok_or_else(|| corrupt("event without startsAt"))?),
        }))
    }

    async fn freeze(
        &self,
        tenant: &TenantId,
        event: &EventId,
        version: u64,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, BackendError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(event_pk(tenant, event)))
            .key("sk", string(EVENT_SK))
            .update_expression("SET frozenUntil = :until")
            .condition_expression("#version = :version AND (attribute_not_exists(frozenUntil) OR frozenUntil <= :now)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", number(i64::try_from(version).unwrap_or(i64::MAX)))
            .expression_attribute_values(":until", number(until.as_millis()))
            .expression_attribute_values(":now", number(now.as_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => {
                // Refused: by another freeze, or by our own, applied by a
                // send whose reply was lost (the SDK resent it).
                let old = match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => failed.item(),
                    _ => None,
                };
                let number_of = |name: &str| {
                    old.and_then(|item| item.get(name))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<i64>().ok())
                };
                Ok(number_of("version") == i64::try_from(version).ok()
                    && number_of("frozenUntil") == Some(until.as_millis()))
            }
            Err(error) => Err(backend_error(error)),
        }
    }

    async fn unfreeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        self.break_freeze(tenant, event, until).await
    }

    async fn break_freeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(event_pk(tenant, event)))
            .key("sk", string(EVENT_SK))
            .update_expression("REMOVE frozenUntil")
            .condition_expression("frozenUntil = :until")
            .expression_attribute_values(":until", number(until.as_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(backend_error(error)),
        }
    }
}
