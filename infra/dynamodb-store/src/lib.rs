//! # The durable store in DynamoDB: the decider (I1, I3, I6)
//!
//! One table (`pk`, `sk`, TTL attribute `expiresAt`, see `table.json`) holds
//! every durable item, each key prefixed by its tenant ([`keys`]):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | event metadata | `T#<tenant>#EVENT#<event>` | `EVENT` |
//! | event seats, in chunks | `T#<tenant>#EVENT#<event>` | `EVENT#SEATS#<nnn>` |
//! | sold seat | `T#<tenant>#EVENT#<event>` | `SOLD#<seat>` |
//! | seat claim (held or sold), 16 shards | `T#<tenant>#EVENT#<event>#CLAIMS#<nn>` | `SEAT#<seat>` |
//! | a customer's seat tally for an event | `T#<tenant>#EVENT#<event>#CUSTOMER#<customer>` | `TALLY` |
//! | hold | `T#<tenant>#HOLD#<hold>` | `HOLD` |
//! | order | `T#<tenant>#ORDER#<order>` | `ORDER` |
//! | idempotency record | `T#<tenant>#IDEM#<customer>#<operation>#<key>` | `IDEM` |
//!
//! Every write that must not clobber is conditional. The order commit is ONE
//! `TransactWriteItems`; its cancellation reasons are mapped back to the
//! exact domain error. Timestamps are compared in condition expressions and
//! code (milliseconds); `expiresAt` (seconds) only lets DynamoDB clean up.
//!
//! Item mapping uses `serde_dynamo` on private item structs ([`items`]); why:
//! docs/adr/0007-real-backends.md.

mod claims;
pub mod client;
mod events;
mod holds;
mod idempotency;
mod items;
pub mod keys;
pub mod limits;
mod orders;
pub mod table;
mod tallies;

use application::ports::{BackendError, ReadinessProbe};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

const BACKEND: &str = "dynamodb";

/// Every durable port over one DynamoDB table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// No network call: the SDK client connects on first use.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get_consistent(&self, pk: String, sk: &str) -> Result<Option<items::Item>, BackendError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", items::string(pk))
            .key("sk", items::string(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend_error)?;
        Ok(output.item)
    }

    /// Every item of a partition whose sort key starts with `sk_prefix`,
    /// strongly consistent, across pages; `projection` limits the attributes.
    pub(crate) async fn query_prefix(
        &self,
        pk: &str,
        sk_prefix: &str,
        projection: Option<&str>,
    ) -> Result<Vec<items::Item>, BackendError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", items::string(pk))
                .expression_attribute_values(":prefix", items::string(sk_prefix))
                .set_projection_expression(projection.map(str::to_owned))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend_error)?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// An SDK failure with DynamoDB's error code and message up front, for the log.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
struct DynamoFailure<E: std::error::Error + 'static, R: std::fmt::Debug + 'static> {
    code: String,
    message: String,
    #[source]
    source: SdkError<E, R>,
}

/// Any SDK failure as a 503-mapped backend error; the SDK's text stays in the log.
pub(crate) fn backend_error<E, R>(error: SdkError<E, R>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = error.code().unwrap_or("unknown").to_owned();
    let message = error.message().unwrap_or("no message").to_owned();
    BackendError::new(
        BACKEND,
        DynamoFailure {
            code,
            message,
            source: error,
        },
    )
}

/// Whether a single-item write was refused by its condition expression
/// (`ConditionalCheckFailedException`), whatever the operation.
pub(crate) fn condition_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> BackendError {
    BackendError::new(BACKEND, format!("unreadable item: {what}"))
}

#[async_trait]
impl ReadinessProbe for DynamoStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    async fn check(&self) -> Result<(), BackendError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map(drop)
            .map_err(backend_error)
    }
}
