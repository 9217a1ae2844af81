//! # The composition root
//!
//! The only place that knows which adapter fills which port. Every entry
//! point (each Lambda's `main`, the dev server) calls [`build_app`] or
//! [`run_lambda`] and gets the same wiring from the same configuration.
//!
//! **Architecture Invariant:** function crates depend on this crate, never on
//! an `infra/*` crate directly; CI checks it.

mod config;
mod telemetry;

use std::sync::Arc;

use application::UseCases;
use application::ports::Ports;
use axum::Router;
use http_interface::{AppState, ServiceName, service_router};

pub use config::{Backend, Config, ConfigError, Defaults};

/// Builds the ports for the configured backend.
pub fn build_ports(config: &Config) -> Result<Ports, ConfigError> {
    match &config.backend {
        Backend::Memory => Ok(memory_backend::memory_ports(
            Arc::new(system_runtime::SystemClock),
            Arc::new(system_runtime::UuidIds),
        )),
    }
}

/// The HTTP app of `routes`, over the backend `config` names.
pub fn build_app(service: ServiceName, routes: Router<AppState>, config: &Config) -> Result<Router, ConfigError> {
    let state = AppState {
        use_cases: UseCases::new(build_ports(config)?, config.settings),
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
    telemetry::init(service, &config.log_level);
    let app = build_app(service, routes, &config)?;
    lambda_http::run(app).await
}

/// Logging for a long-running local process (the dev server).
pub fn init_local_telemetry(service: ServiceName, config: &Config) {
    telemetry::init(service, &config.log_level);
}
