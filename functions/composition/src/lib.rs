//! # The composition root
//!
//! The only place that knows which adapter fills which port. Every entry
//! point (each Lambda's `main`, the dev server) calls [`build_app`] or
//! [`run_lambda`] and gets the same wiring from the same configuration.
//! Tests, examples and fuzz targets that bring their own ports (a manual
//! clock, an injected fault) still assemble the app here, through
//! [`app_with_ports`] or [`app_state`]: nothing else builds an `AppState`.
//!
//! **Architecture Invariant:** the functions package depends on this crate, never on
//! an `infra/*` crate directly; besides this crate only a short allow-list
//! (`INFRA_ALLOWED` in `tools/ci/layer-check/check_layers.py`) may name one, and
//! CI checks it. How each adapter's client is built (e.g.
//! `dynamodb_store::client`) is the adapter's business; this crate reads the
//! configuration and calls those constructors.
//!
//! The real backends (`BACKEND=aws`: Redis and DynamoDB) are the `aws`
//! feature. Every Lambda binary has it; the dev server's run command builds
//! without it, so a newcomer's first build skips the AWS SDK (ADR 17).

mod config;
pub mod telemetry;

use std::sync::Arc;

use application::UseCases;
use application::ports::Ports;
use axum::Router;
use http_interface::{AppState, ServiceName, service_router};

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod trust_roots;

#[cfg(feature = "aws")]
pub use config::AwsBackend;
pub use config::{Backend, Config, ConfigError, Defaults};
pub use telemetry::EmfSink;

/// The largest hold the durable store can turn into an order in one atomic
/// write. The adapter owns it; configuration refuses a larger
/// `MAX_SEATS_PER_HOLD`.
#[cfg(feature = "aws")]
const MAX_SEATS_PER_HOLD_LIMIT: usize = dynamodb_store::limits::MAX_SEATS_PER_HOLD_LIMIT;
#[cfg(not(feature = "aws"))]
const MAX_SEATS_PER_HOLD_LIMIT: usize = memory_backend::MAX_SEATS_PER_HOLD_LIMIT;

/// Builds the ports for the configured backend. Makes no network call:
/// Redis and DynamoDB connections open on first use, so a Lambda's init
/// stays fast and never fails on a backend blip.
// Only the real backends await (the DynamoDB client's configuration).
#[cfg_attr(not(feature = "aws"), allow(clippy::unused_async))]
pub async fn build_ports(config: &Config) -> Result<Ports, ConfigError> {
    let clock = Arc::new(system_runtime::SystemClock);
    let ids = Arc::new(system_runtime::UuidIds);
    match &config.backend {
        Backend::Memory => Ok(memory_backend::memory_ports(clock, ids)),
        #[cfg(feature = "aws")]
        Backend::Aws(aws) => aws::ports(aws, clock, ids).await,
    }
}

/// The HTTP app of `routes`, over the backend `config` names.
pub async fn build_app(service: ServiceName, routes: Router<AppState>, config: &Config) -> Result<Router, ConfigError> {
    Ok(app_with_ports(service, routes, build_ports(config).await?, config))
}

/// The HTTP app of `routes` over `ports` someone else built: a test's
/// in-memory ports with a manual clock, or [`build_ports`]'s with a fault
/// or a timer wrapped around one of them. Everything else (settings, auth,
/// readiness timeout) comes from `config`, as in [`build_app`].
pub fn app_with_ports(service: ServiceName, routes: Router<AppState>, ports: Ports, config: &Config) -> Router {
    service_router(routes, app_state(service, ports, config))
}

/// The state every handler sees: the use cases over `ports` with `config`'s
/// settings, its auth mode and readiness timeout. The ONE place that
/// assembles an [`AppState`]; for several functions over one backend (as in
/// AWS), build it once and hand a clone to each `service_router`.
/// A caller that needs other settings sets them on its `Config` first, e.g.
/// `Config::from_lookup(Defaults::DEV_SERVER, |_| None)` then `config.auth = …`.
pub fn app_state(service: ServiceName, ports: Ports, config: &Config) -> AppState {
    AppState::new(
        UseCases::new(ports, config.settings),
        config.auth.clone(),
        service,
        config.readiness_timeout,
    )
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

#[cfg(all(test, feature = "aws"))]
mod tests {
    #[test]
    fn the_dev_server_refuses_the_holds_a_deployment_cannot_sell() {
        assert_eq!(
            memory_backend::MAX_SEATS_PER_HOLD_LIMIT,
            dynamodb_store::limits::MAX_SEATS_PER_HOLD_LIMIT
        );
    }
}
