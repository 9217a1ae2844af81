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

/// The roots of Amazon Trust Services, to which every AWS service endpoint
/// chains (Amazon Root CA 1–4 and the Starfield Services G2 cross-sign), as
/// Debian's ca-certificates ships them. Trusted by the SDK's HTTPS client
/// (so a Lambda's init skips the system's whole bundle, ADR 11) and,
/// unless `REDIS_CA_FILE` names others, by `rediss://` connections: we read ElastiCache's in-transit certificates as Amazon-issued too, which
/// AWS's documentation does not state; the deploy's smoke test catches a
/// wrong reading (ADR 16).
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

#[cfg(test)]
mod tests {
    use super::AMAZON_TRUST_SERVICES_ROOTS;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn the_embedded_aws_trust_store_is_five_parsable_root_certificates() {
        // The SDK parses these lazily, with `expect`, on its first connection:
        // a broken file must fail here, not in a deployed Lambda.
        let certificates: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(
            certificates.len(),
            5,
            "Amazon Root CA 1-4 and Starfield Services Root G2"
        );
        let mut roots = rustls::RootCertStore::empty();
        let (valid, invalid) = roots.add_parsable_certificates(certificates);
        assert_eq!((valid, invalid), (5, 0));
    }
}
