//! `BACKEND=aws`: seat locks in Redis (ElastiCache) behind a circuit
//! breaker, everything durable in DynamoDB. Only with the `aws` feature.
//! Wiring only: how each client is built is its adapter's business
//! (`dynamodb_store::client`, `redis_seat_locks`); this file turns the
//! configuration into their settings.

use std::sync::Arc;

use application::degraded_seat_locks::CircuitBreakerSeatLocks;
use application::ports::{Clock, IdGenerator, Ports};
use dynamodb_store::DynamoStore;
use dynamodb_store::client::ClientSettings;
use redis_seat_locks::RedisSeatLocks;

use crate::config::{AwsBackend, ConfigError};
use crate::trust_roots::AMAZON_TRUST_SERVICES_ROOTS;

/// The ports over Redis and DynamoDB. Makes no network call.
pub(crate) async fn ports(
    aws: &AwsBackend,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
) -> Result<Ports, ConfigError> {
    let redis = Arc::new(RedisSeatLocks::new(aws.redis.clone()).map_err(|error| ConfigError {
        variable: "REDIS_URL",
        message: error.to_string(),
    })?);
    // A failed Redis call makes the next few seconds' calls fail at
    // once: holds and orders go on against DynamoDB alone (I8).
    let seat_locks = Arc::new(CircuitBreakerSeatLocks::new(
        redis.clone(),
        clock.clone(),
        aws.seat_locks_breaker_open,
    ));
    // A dead endpoint is a 503 in `DYNAMODB_TIMEOUT_MS` (2 s), not a Lambda timeout.
    let client = dynamodb_store::client::build(&ClientSettings {
        endpoint: aws.endpoint.clone(),
        emulator_defaults: aws.emulator_defaults,
        operation_timeout: Some(aws.dynamodb_timeout),
        trust_roots_pem: Some(AMAZON_TRUST_SERVICES_ROOTS),
    })
    .await;
    let store = Arc::new(DynamoStore::new(client, aws.table.clone()));
    Ok(Ports {
        clock,
        ids,
        seat_locks,
        events: store.clone(),
        holds: store.clone(),
        orders: store.clone(),
        idempotency: store.clone(),
        probes: vec![redis, store],
    })
}
