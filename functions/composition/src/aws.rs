//! `BACKEND=aws`: seat locks in Redis (ElastiCache) behind a circuit
//! breaker, everything durable in DynamoDB. Only with the `aws` feature.
//! Wiring only: how each client is built is its adapter's business
//! (`dynamodb_store::client`, `redis_seat_locks`); this file turns the
//! configuration into their settings, reading the files it names.

use std::path::Path;
use std::sync::Arc;

use application::degraded_seat_locks::CircuitBreakerSeatLocks;
use application::ports::{Clock, IdGenerator, Ports};
use dynamodb_store::DynamoStore;
use dynamodb_store::client::ClientSettings;
use redis_seat_locks::{RedisSeatLocks, RedisSettings, usable_tls_roots};

use crate::config::{AwsBackend, ConfigError};
use crate::trust_roots::AMAZON_TRUST_SERVICES_ROOTS;

/// The ports over Redis and DynamoDB. Makes no network call.
pub(crate) async fn ports(
    aws: &AwsBackend,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
) -> Result<Ports, ConfigError> {
    let redis_settings = RedisSettings {
        url: aws.redis_url.clone(),
        cluster: aws.redis_cluster,
        timeout: aws.redis_timeout,
        tls_roots_pem: redis_trust_roots(aws.redis_ca_file.as_deref())?,
    };
    let redis = Arc::new(RedisSeatLocks::new(redis_settings).map_err(|error| ConfigError {
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

/// The roots a `rediss://` connection trusts: Amazon's, or those of the
/// file `REDIS_CA_FILE` names, which must hold PEM root certificates only.
fn redis_trust_roots(ca_file: Option<&Path>) -> Result<Vec<u8>, ConfigError> {
    let Some(path) = ca_file else {
        return Ok(AMAZON_TRUST_SERVICES_ROOTS.to_vec());
    };
    let bad = |message: String| ConfigError {
        variable: "REDIS_CA_FILE",
        message,
    };
    let pem = std::fs::read(path).map_err(|error| bad(format!("cannot read \"{}\": {error}", path.display())))?;
    if !usable_tls_roots(&pem) {
        return Err(bad(format!(
            "\"{}\" must hold PEM root certificates, and only those",
            path.display()
        )));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rediss_trusts_amazon_roots_unless_redis_ca_file_names_others_and_an_unreadable_file_is_named() {
        assert_eq!(redis_trust_roots(None).unwrap(), AMAZON_TRUST_SERVICES_ROOTS);
        let file = std::env::temp_dir().join(format!("redis-ca-{}.pem", std::process::id()));
        let end = b"-----END CERTIFICATE-----";
        let first_end = AMAZON_TRUST_SERVICES_ROOTS
            .windows(end.len())
            .position(|window| window == end)
            .unwrap();
        let one_root = &AMAZON_TRUST_SERVICES_ROOTS[..first_end + end.len()];
        std::fs::write(&file, one_root).unwrap();
        assert_eq!(redis_trust_roots(Some(&file)).unwrap(), one_root);
        for (content, why) in [
            (&b"not a certificate"[..], "no certificate"),
            (
                &b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"[..],
                "a PEM block that is no certificate",
            ),
        ] {
            std::fs::write(&file, content).unwrap();
            assert_eq!(
                redis_trust_roots(Some(&file)).unwrap_err().variable,
                "REDIS_CA_FILE",
                "{why}"
            );
        }
        std::fs::remove_file(&file).unwrap();
        let unreadable = redis_trust_roots(Some(&file)).unwrap_err();
        assert_eq!(unreadable.variable, "REDIS_CA_FILE");
        assert!(unreadable.message.contains("cannot read"), "{unreadable}");
    }

    #[tokio::test]
    async fn an_unreadable_redis_ca_file_fails_the_wiring_and_names_the_variable() {
        let config = crate::Config::from_lookup(crate::Defaults::LAMBDA, |name| {
            match name {
                "REDIS_URL" => Some("rediss://cache:6379"),
                "TABLE_NAME" => Some("tickets"),
                "REDIS_CA_FILE" => Some("/nonexistent/redis-ca.pem"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap();
        let error = crate::build_ports(&config).await.err().unwrap();
        assert_eq!(error.variable, "REDIS_CA_FILE");
    }
}
