//! `BACKEND=aws`: seat locks in Redis (ElastiCache) behind a circuit
//! breaker, everything durable in DynamoDB, and the AWS SDK's HTTPS client
//! and emulator settings. Only with the `aws` feature.

use std::sync::Arc;
use std::time::Duration;

use application::degraded_seat_locks::{CircuitBreakerSeatLocks, DEFAULT_OPEN_FOR};
use application::ports::{Clock, IdGenerator, Ports};
use dynamodb_store::DynamoStore;
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
        DEFAULT_OPEN_FOR,
    ));
    let store = Arc::new(DynamoStore::new(dynamodb_client(aws).await, aws.table.clone()));
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

/// A DynamoDB client with bounded time per attempt and per operation, so a
/// dead endpoint is a 503 in `DYNAMODB_TIMEOUT_MS` (2 s), not a Lambda timeout.
async fn dynamodb_client(aws: &AwsBackend) -> aws_sdk_dynamodb::Client {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(aws.dynamodb_timeout / 2)
                .operation_timeout(aws.dynamodb_timeout)
                .build(),
        )
        // One retry, soon: the SDK's default first backoff (up to 1 s with
        // jitter) would often push the retry past the 2 s operation budget.
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .http_client(https_client(aws.endpoint.as_deref()));
    let loader = for_endpoint(loader, aws.endpoint.as_deref(), aws.emulator_defaults);
    aws_sdk_dynamodb::Client::new(&loader.load().await)
}

/// The roots of Amazon Trust Services, to which every AWS service endpoint
/// chains (Amazon Root CA 1–4 and the Starfield Services G2 cross-sign), as
/// Debian's ca-certificates ships them. Trusted by the SDK's HTTPS client
/// and, unless `REDIS_CA_FILE` names others, by `rediss://` connections: we
/// read ElastiCache's in-transit certificates as Amazon-issued too, which
/// AWS's documentation does not state; the deploy's smoke test catches a
/// wrong reading (ADR 16).
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

/// The HTTPS client of the AWS SDK (DynamoDB, and STS for credentials).
/// Talking to AWS's own endpoints, it trusts only Amazon Trust Services'
/// roots: a Lambda's init then skips loading and parsing the system's whole
/// certificate bundle, which was 83 % of its init instructions
/// (docs/benchmarks.md), and it trusts 5 roots instead of ~140 (ADR 11).
/// With an `https://` `AWS_ENDPOINT_URL` (LocalStack over TLS, a proxy) the
/// system store is used.
fn https_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let trust = match endpoint {
        Some(url) if url.starts_with("https://") => tls::TrustStore::default(),
        // AWS's endpoints, or a plain-HTTP emulator (no TLS, so the roots are never used).
        _ => tls::TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS),
    };
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
    match tls::TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        Err(error) => {
            tracing::warn!(event = "tls.trust_store_fallback", %error, "using the system trust store");
            builder.build_https()
        }
    }
}

/// Points an AWS config loader at an emulator endpoint, if any; with
/// `emulator_defaults`, adds the placeholder region and credentials that
/// emulators accept. Shared by the composition root and `tools/ops`.
pub fn for_endpoint(
    mut loader: aws_config::ConfigLoader,
    endpoint: Option<&str>,
    emulator_defaults: bool,
) -> aws_config::ConfigLoader {
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if emulator_defaults {
        loader = loader
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local", "local", None, None, "emulator",
            ));
    }
    loader
}

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
