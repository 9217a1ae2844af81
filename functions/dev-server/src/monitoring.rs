//! # Local monitoring: `GET /metrics` and `GET /dashboard`
//!
//! The dev server records the same metrics a Lambda writes as EMF, into a
//! Prometheus recorder (`composition::telemetry::init_prometheus`).
//! `/metrics` renders them in the Prometheus text format; `/dashboard` is
//! one static page that polls `/metrics` every two seconds and shows, per
//! route, request rate, p50/p95 latency (from the histogram buckets) and
//! error rate — the same panels as the CloudWatch dashboard in
//! `template.yaml`. Neither route is part of the API (no auth, not in
//! `docs/openapi.yaml`) and neither is counted in the metrics.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

/// The dashboard page; all logic is in its script.
const DASHBOARD_HTML: &str = include_str!("monitoring/dashboard.html");

/// `/metrics` and `/dashboard`, over the recorder behind `handle`.
pub fn routes(handle: PrometheusHandle) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let text = handle.render();
                async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response() }
            }),
        )
        .route("/dashboard", get(|| async { Html(DASHBOARD_HTML) }))
}
