//! Events: metadata plus seat chunks, written in one transaction with an
//! optimistic version check.

use application::ports::{BackendError, ChangeMarks, EventCatalog, PutEventError, StoredEvent};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use domain::event::{Event, MAX_SEATS_PER_EVENT};
use domain::ids::{EventId, TenantId};
use domain::time::Timestamp;

use crate::items::{
    EventMetaItem, SeatsChunkItem, decode_seats, encode_places, encode_seats, event_from, from_item, number, string,
    to_item,
};
use crate::keys::{EVENT_SK, SEATS_SK_PREFIX, event_pk, seats_sk};
use crate::{DynamoStore, backend_error, condition_failed, corrupt};

/// Seats per chunk item: 2 000 seats with the longest ids and labels stay
/// under 310 KB (the item limit is 400 KB), 20 000 under 3.1 MB (a
/// transaction's limit is 4 MB).
const SEATS_PER_CHUNK: usize = 2_000;
/// Chunks of the largest event; every put rewrites or deletes all of them.
const MAX_CHUNKS: usize = MAX_SEATS_PER_EVENT.div_ceil(SEATS_PER_CHUNK);
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
    ) -> Result<u64, PutEventError> {
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
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(version),
            Err(error) => {
                let meta_condition_failed = error
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().first().and_then(|r| r.code()).map(|code| code == "ConditionalCheckFailed")
                        }
                        _ => None,
                    })
                    .unwrap_or(false);
                if meta_condition_failed {
                    Err(PutEventError::VersionMismatch)
                } else {
                    Err(PutEventError::Backend(backend_error(error)))
                }
            }
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
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(backend_error(error)),
        }
    }

    async fn unfreeze(&self, tenant: &TenantId, event: &EventId, version: u64) -> Result<(), BackendError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(event_pk(tenant, event)))
            .key("sk", string(EVENT_SK))
            .update_expression("REMOVE frozenUntil")
            .condition_expression("#version = :version")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", number(i64::try_from(version).unwrap_or(i64::MAX)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(backend_error(error)),
        }
    }
}
