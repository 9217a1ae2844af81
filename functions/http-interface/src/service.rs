//! Wraps a function's routes with what every function has.

use std::time::Duration;

use application::UseCases;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::{Map, Value, json};

use crate::identity::{AuthMode, IdentifiesCallers};
use crate::problem::ApiError;
use crate::request_telemetry;

/// The function's name, as written on log lines and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceName(pub &'static str);

/// What every handler can reach: the use cases and how to identify callers.
/// Its fields are readable everywhere; it is built only by the composition
/// root (`composition::app_state`, through [`AppState::new`]): the struct is
/// `non_exhaustive`, so no other crate can write a literal, and
/// tools/ci/layer-check fails on a call to `AppState::new` anywhere else.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AppState {
    pub use_cases: UseCases,
    pub auth: AuthMode,
    pub service: ServiceName,
    /// How long `/ready` waits for each backend.
    pub readiness_timeout: Duration,
}

impl AppState {
    /// For the composition root only (see the type's docs).
    pub fn new(use_cases: UseCases, auth: AuthMode, service: ServiceName, readiness_timeout: Duration) -> Self {
        Self {
            use_cases,
            auth,
            service,
            readiness_timeout,
        }
    }
}

impl IdentifiesCallers for AppState {
    fn auth_mode(&self) -> &AuthMode {
        &self.auth
    }
}

/// `routes` plus `/health`, `/ready`, problem answers for unknown routes and
/// methods, and correlation ids on everything.
/// The routes every function answers besides its own.
pub const SERVICE_ROUTES: &[(&str, &str)] = &[("GET", HEALTH), ("GET", READY)];
const HEALTH: &str = "/health";
const READY: &str = "/ready";

pub fn service_router(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .route(HEALTH, get(health))
        .route(READY, get(ready))
        .route_layer(middleware::from_fn(request_telemetry::record_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(request_telemetry::middleware))
        .with_state(state)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    let mut checks = Map::new();
    let mut all_ok = true;
    for probe in &state.use_cases.ports().probes {
        let outcome = tokio::time::timeout(state.readiness_timeout, probe.check()).await;
        let verdict = match outcome {
            Ok(Ok(())) => "ok",
            Ok(Err(error)) => {
                tracing::warn!(event = "readiness.failed", backend = probe.name(), cause = %error.causes(), "backend not ready");
                "unavailable"
            }
            Err(_) => {
                tracing::warn!(
                    event = "readiness.timeout",
                    backend = probe.name(),
                    "backend not ready in time"
                );
                "timeout"
            }
        };
        let verdict = if verdict != "ok" && !probe.required() {
            // The seat locks are a filter, not the decider (I8): without
            // them every route still answers from the durable store.
            tracing::warn!(
                event = "readiness.degraded",
                backend = probe.name(),
                "serving without this backend (slower, never wrong)"
            );
            "degraded"
        } else {
            verdict
        };
        metrics::gauge!("backend_degraded", "backend" => probe.name()).set(if verdict == "degraded" {
            1.0
        } else {
            0.0
        });
        all_ok &= verdict == "ok" || verdict == "degraded";
        checks.insert(probe.name().to_owned(), json!(verdict));
    }
    if all_ok {
        return Json(json!({ "status": "ready", "checks": checks })).into_response();
    }
    let failing: Vec<&str> = checks
        .iter()
        .filter(|(_, verdict)| *verdict != "ok")
        .map(|(name, _)| name.as_str())
        .collect();
    ApiError::service_unavailable(&failing.join(","))
        .with("checks", Value::Object(checks.clone()))
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::route_not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
