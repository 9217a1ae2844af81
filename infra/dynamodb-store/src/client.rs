//! # Building the DynamoDB client
//!
//! How the SDK client reaches DynamoDB (time bounds and retries, which roots
//! its HTTPS trusts, the placeholders an emulator accepts) is part of talking
//! to DynamoDB, so it lives with the adapter that talks to it, not with
//! whoever wires the adapter in. The composition root turns configuration
//! into [`ClientSettings`] and calls [`build`]; `tools/ops` and
//! `tests/test-backends` call the same function, so an operator command, a
//! test and a Lambda reach DynamoDB through one piece of code.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::SharedHttpClient;

/// Where DynamoDB is and how to talk to it. `Default` is the SDK's own
/// behaviour: endpoint, region and credentials from the usual AWS
/// variables, no time bound, the system's trust store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    /// An emulator endpoint (DynamoDB Local, LocalStack); `None`: AWS's, or
    /// the `AWS_ENDPOINT_URL` the SDK reads itself.
    pub endpoint: Option<String>,
    /// Use the placeholder region and credentials that emulators accept
    /// (see [`wants_emulator_defaults`]).
    pub emulator_defaults: bool,
    /// Upper bound on one operation, its one retry included; each attempt
    /// gets half. `None`: the SDK's defaults (no bound, three attempts).
    pub operation_timeout: Option<Duration>,
    /// PEM root certificates the HTTPS client trusts for AWS's endpoints
    /// (the embedded Amazon Trust Services roots, in a Lambda); `None`: the
    /// system's trust store. An `https://` `endpoint` (LocalStack over TLS, a
    /// proxy) always uses the system's.
    pub trust_roots_pem: Option<&'static [u8]>,
}

/// A DynamoDB client as `settings` say. Makes no network call.
pub async fn build(settings: &ClientSettings) -> Client {
    Client::new(&sdk_config(settings).await)
}

/// The SDK configuration [`build`] uses, for a tool that calls other AWS
/// services with the same endpoint, region and credentials (`ops status`
/// asks ElastiCache too).
pub async fn sdk_config(settings: &ClientSettings) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(timeout) = settings.operation_timeout {
        // A dead endpoint is a 503 within `timeout`, not a Lambda timeout.
        loader = loader
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(500))
                    .operation_attempt_timeout(timeout / 2)
                    .operation_timeout(timeout)
                    .build(),
            )
            // One retry, soon: the SDK's default first backoff (up to 1 s with
            // jitter) would often push the retry past the operation budget.
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(50)),
            );
    }
    if let Some(roots) = settings.trust_roots_pem {
        loader = loader.http_client(https_client(settings.endpoint.as_deref(), roots));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if settings.emulator_defaults {
        loader = loader
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local", "local", None, None, "emulator",
            ));
    }
    loader.load().await
}

/// An emulator endpoint is set and nothing says which AWS account or region
/// to use: the placeholders emulators accept will do.
pub fn wants_emulator_defaults(get: &impl Fn(&str) -> Option<String>) -> bool {
    get("AWS_ENDPOINT_URL").is_some()
        && get("AWS_ACCESS_KEY_ID").is_none()
        && get("AWS_PROFILE").is_none()
        && get("AWS_REGION").is_none()
}

/// The HTTPS client of the AWS SDK (DynamoDB, and STS for credentials).
/// Talking to AWS's own endpoints, it trusts only `roots`: a Lambda's init
/// then skips loading and parsing the system's whole certificate bundle,
/// which was 83 % of its init instructions (docs/benchmarks.md), and it
/// trusts 5 roots instead of ~140 (ADR 11). With an `https://` endpoint
/// (LocalStack over TLS, a proxy) the system store is used.
fn https_client(endpoint: Option<&str>, roots: &'static [u8]) -> SharedHttpClient {
    use aws_smithy_http_client::tls;
    let trust = match endpoint {
        Some(url) if url.starts_with("https://") => tls::TrustStore::default(),
        // AWS's endpoints, or a plain-HTTP emulator (no TLS, so the roots are never used).
        _ => tls::TrustStore::empty().with_pem_certificate(roots),
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

#[cfg(test)]
mod tests {
    use super::wants_emulator_defaults;

    #[test]
    fn emulator_placeholders_only_when_an_endpoint_is_set_and_nothing_names_an_account_or_region() {
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            wants_emulator_defaults(&|name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        assert!(with(&[("AWS_ENDPOINT_URL", "http://localhost:8000")]));
        assert!(!with(&[]));
        for (name, value) in [
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_PROFILE", "dev"),
            ("AWS_REGION", "eu-west-1"),
        ] {
            assert!(
                !with(&[("AWS_ENDPOINT_URL", "http://localhost:8000"), (name, value)]),
                "{name}"
            );
        }
    }
}
