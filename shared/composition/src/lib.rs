//! # The composition root
//!
//! The only place that knows which adapter fills which port. Every entry
//! point (each Lambda's `main`, the dev server) calls [`build_app`] or
//! [`run_lambda`] and gets the same wiring from the same configuration.
//!
//! **Architecture Invariant:** function crates depend on this crate, never on
//! an `infra/*` crate directly; CI checks it.

mod config;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use application::UseCases;
use application::ports::Ports;
use axum::Router;
use dynamodb_store::DynamoStore;
use http_interface::{AppState, ServiceName, service_router};
use redis_seat_locks::RedisSeatLocks;

pub use config::{AwsBackend, Backend, Config, ConfigError, Defaults, wants_emulator_defaults};
pub use telemetry::EmfSink;

/// Builds the ports for the configured backend. Makes no network call:
/// Redis and DynamoDB connections open on first use, so a Lambda's init
/// stays fast and never fails on a backend blip.
pub async fn build_ports(config: &Config) -> Result<Ports, ConfigError> {
    let clock = Arc::new(system_runtime::SystemClock);
    let ids = Arc::new(system_runtime::UuidIds);
    match &config.backend {
        Backend::Memory => Ok(memory_backend::memory_ports(clock, ids)),
        Backend::Aws(aws) => {
            let seat_locks = Arc::new(RedisSeatLocks::new(aws.redis.clone()).map_err(|error| ConfigError {
                variable: "REDIS_URL",
                message: error.to_string(),
            })?);
            let store = Arc::new(DynamoStore::new(dynamodb_client(aws).await, aws.table.clone()));
            Ok(Ports {
                clock,
                ids,
                seat_locks: seat_locks.clone(),
                events: store.clone(),
                holds: store.clone(),
                orders: store.clone(),
                idempotency: store.clone(),
                probes: vec![seat_locks, store],
            })
        }
    }
}

/// A DynamoDB client with bounded time per attempt and per operation, so a
/// dead endpoint is a 503 in about two seconds, not a Lambda timeout.
async fn dynamodb_client(aws: &AwsBackend) -> aws_sdk_dynamodb::Client {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2));
    let loader = for_endpoint(loader, aws.endpoint.as_deref(), aws.emulator_defaults);
    aws_sdk_dynamodb::Client::new(&loader.load().await)
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

/// The HTTP app of `routes`, over the backend `config` names.
pub async fn build_app(service: ServiceName, routes: Router<AppState>, config: &Config) -> Result<Router, ConfigError> {
    let state = AppState {
        use_cases: UseCases::new(build_ports(config).await?, config.settings),
        auth: config.auth.clone(),
        service,
        readiness_timeout: config.readiness_timeout,
    };
    Ok(service_router(routes, state))
}

/// A Lambda's whole `main`: configuration, logging, clients built once, then
/// the runtime loop serving `routes` for every invocation.
pub async fn run_lambda(service: ServiceName, routes: Router<AppState>) -> Result<(), lambda_http::Error> {
    let config = Config::from_env(Defaults::LAMBDA)?;
    telemetry::init_logs(service, &config.log_level);
    let app = build_app(service, routes, &config).await?;
    let app = match telemetry::init_emf(&config.metrics_namespace, service) {
        Some(collector) => telemetry::flush_metrics_after_each(app, collector, EmfSink::Stdout),
        None => app,
    };
    lambda_http::run(app).await
}

/// Logging for a long-running local process (the dev server).
pub fn init_local_telemetry(service: ServiceName, config: &Config) {
    telemetry::init_logs(service, &config.log_level);
}
