//! # What every request leaves behind: one span, one summary line, one set of metrics
//!
//! The outer middleware ([`middleware`]) gives each request its correlation id
//! ([`crate::correlation`]) and a `request` span whose fields every log line
//! of the request carries: `correlationId`, `context` (inventory / ordering /
//! platform), `route`, `tenantId` (recorded by the identity extractor),
//! and in Lambda `requestId` (the AWS request id), `traceId` (the X-Ray
//! trace id, when tracing is on; [`xray_trace_id`]) and `coldStart`. When the answer is ready it logs
//! one `request.completed` line (at info for failures; at debug for
//! successes, which their business event line already tells) and records the
//! metrics, all with the same
//! low-cardinality labels — `route` (method + path template) and `outcome`
//! (`ok`, `replayed`, or the problem slug) — so the EMF collector writes
//! exactly one document per invocation. Never a tenant, customer or id as a
//! label: those are log fields.
//!
//! Handlers add business facts by attaching a [`BusinessEvent`] to their
//! response; problems attach their slug ([`ProblemSlug`]) themselves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use tracing::Instrument;
use tracing::field::Empty;

use crate::correlation;

/// Metric names, shared by the EMF (Lambda) and Prometheus (dev server) recorders.
pub mod metric {
    /// Requests answered (counter).
    pub const REQUESTS: &str = "requests";
    /// Time from the request entering the function to its answer (histogram, ms).
    pub const LATENCY_MS: &str = "latency_ms";
    /// Non-2xx answers (counter); the outcome label is the problem slug.
    pub const ERRORS: &str = "errors";
    pub const HOLDS_PLACED: &str = "holds_placed";
    pub const HOLDS_REJECTED: &str = "holds_rejected";
    /// Holds refused by the event's seat limit per customer (counter).
    pub const HOLDS_OVER_LIMIT: &str = "holds_over_limit";
    pub const HOLDS_EXTENDED: &str = "holds_extended";
    pub const ORDERS_CREATED: &str = "orders_created";
    pub const ORDERS_CANCELLED: &str = "orders_cancelled";
    pub const IDEMPOTENT_REPLAYS: &str = "idempotent_replays";
    /// First request served by a Lambda instance (counter).
    pub const COLD_STARTS: &str = "cold_starts";
}

/// Route label for requests that matched no route (404/405 answers).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The problem type of an error answer, attached by `ApiError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemSlug(pub &'static str);

/// A business fact a handler reports with its answer; counted once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessEvent {
    HoldPlaced,
    HoldRejected,
    HoldOverLimit,
    HoldExtended,
    OrderCreated,
    OrderCancelled,
    IdempotentReplay,
}

impl BusinessEvent {
    fn metric(self) -> &'static str {
        match self {
            Self::HoldPlaced => metric::HOLDS_PLACED,
            Self::HoldRejected => metric::HOLDS_REJECTED,
            Self::HoldOverLimit => metric::HOLDS_OVER_LIMIT,
            Self::HoldExtended => metric::HOLDS_EXTENDED,
            Self::OrderCreated => metric::ORDERS_CREATED,
            Self::OrderCancelled => metric::ORDERS_CANCELLED,
            Self::IdempotentReplay => metric::IDEMPOTENT_REPLAYS,
        }
    }

    /// Attaches this event to a response.
    pub fn attach(self, mut response: Response) -> Response {
        response.extensions_mut().insert(self);
        response
    }
}

/// The route template a request matched, carried back to the outer middleware.
#[derive(Debug, Clone)]
struct MatchedRoute(String);

/// The bounded context a route belongs to (docs/contract.md, Routes): orders
/// are ordering, events and holds are inventory, the rest is the platform's.
pub fn bounded_context(path_template: &str) -> &'static str {
    if path_template.starts_with("/orders") {
        "ordering"
    } else if path_template.starts_with("/events") || path_template.starts_with("/holds") {
        "inventory"
    } else {
        "platform"
    }
}

/// The X-Ray trace id (`1-5759e988-bd862e3fe1be46a994272793`) in the
/// trace header Lambda passes (`Root=…;Parent=…;Sampled=…`): what the X-Ray
/// console and Logs Insights search by.
pub fn xray_trace_id(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .filter(|root| !root.is_empty())
}

/// Set once the first request of this process has started: Lambda's cold start.
static SERVED_ONE: AtomicBool = AtomicBool::new(false);

/// Outer middleware: correlation id, request span, summary line, metrics.
pub async fn middleware(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = correlation::choose(&request);
    let span = tracing::info_span!(
        "request",
        correlationId = %id,
        context = bounded_context(request.uri().path()),
        route = Empty,
        tenantId = Empty,
        requestId = Empty,
        traceId = Empty,
        coldStart = Empty,
    );
    let cold_start = if let Some(lambda) = request.lambda_context_ref() {
        let cold = !SERVED_ONE.swap(true, Ordering::Relaxed);
        span.record("requestId", lambda.request_id.as_str());
        if let Some(trace) = lambda.xray_trace_id.as_deref().and_then(xray_trace_id) {
            span.record("traceId", trace);
        }
        span.record("coldStart", cold);
        cold
    } else {
        false
    };
    let method = request.method().clone();
    let response = correlation::scope(id.clone(), next.run(request).instrument(span.clone())).await;

    let route = response.extensions().get::<MatchedRoute>().map_or_else(
        || UNMATCHED_ROUTE.to_owned(),
        |matched| format!("{method} {}", matched.0),
    );
    let outcome = outcome(&response);
    let status = response.status().as_u16();
    // Microsecond resolution is plenty and keeps the log lines short.
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    // A success is already told by its business event line and the metrics,
    // so its summary line is debug; a failure's is always at info or above.
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(
                event = "request.completed",
                status,
                outcome,
                latencyMs = latency_ms,
                "request failed"
            );
        } else if status >= 400 {
            tracing::info!(
                event = "request.completed",
                status,
                outcome,
                latencyMs = latency_ms,
                "request refused"
            );
        } else {
            tracing::debug!(
                event = "request.completed",
                status,
                outcome,
                latencyMs = latency_ms,
                "request completed"
            );
        }
    });

    let labels = [("route", route), ("outcome", outcome.to_owned())];
    metrics::counter!(metric::REQUESTS, &labels).increment(1);
    metrics::histogram!(metric::LATENCY_MS, &labels).record(latency_ms);
    if status >= 400 {
        metrics::counter!(metric::ERRORS, &labels).increment(1);
    }
    if let Some(event) = response.extensions().get::<BusinessEvent>() {
        metrics::counter!(event.metric(), &labels).increment(1);
    }
    if cold_start {
        metrics::counter!(metric::COLD_STARTS, &labels).increment(1);
    }
    correlation::echo(response, &id)
}

/// Inner middleware (a route layer, so it sees the matched route): names the
/// route on the request span and hands the route template back to
/// [`middleware`].
pub async fn record_route(matched: MatchedPath, request: Request, next: Next) -> Response {
    let template = matched.as_str().to_owned();
    tracing::Span::current().record("route", template.as_str());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(MatchedRoute(template));
    response
}

fn outcome(response: &Response) -> &'static str {
    if let Some(ProblemSlug(slug)) = response.extensions().get::<ProblemSlug>() {
        return slug;
    }
    if response.extensions().get::<BusinessEvent>() == Some(&BusinessEvent::IdempotentReplay) {
        return "replayed";
    }
    if response.status().is_success() { "ok" } else { "error" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_in_their_bounded_context() {
        assert_eq!(bounded_context("/orders"), "ordering");
        assert_eq!(bounded_context("/orders/{orderId}"), "ordering");
        assert_eq!(bounded_context("/events/{eventId}/holds"), "inventory");
        assert_eq!(bounded_context("/holds/{holdId}"), "inventory");
        assert_eq!(bounded_context("/ready"), "platform");
    }

    #[test]
    fn the_trace_id_is_the_root_of_the_x_ray_header_wherever_it_stands() {
        let id = "1-5759e988-bd862e3fe1be46a994272793";
        for header in [
            format!("Root={id};Parent=53995c3f42cd8ad8;Sampled=1"),
            format!("Sampled=0;Root={id}"),
            format!("Root={id}"),
        ] {
            assert_eq!(xray_trace_id(&header), Some(id), "{header}");
        }
        for header in ["", "Parent=53995c3f42cd8ad8", "Root="] {
            assert_eq!(xray_trace_id(header), None, "{header}");
        }
    }
}
