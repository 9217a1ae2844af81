//! # Logs and metrics: how the process reports
//!
//! **Logs**: one JSON object per line (json-subscriber), each with
//! `timestamp`, `level` (what Lambda's JSON log controls read, so
//! `ApplicationLogLevel` filters them), `severity` (the same, for tools that
//! read that key), `service`, the event's own fields (`event`, `message`, …)
//! and the fields of the request span flattened in (`correlationId`,
//! `context`, `route`, `tenantId`, and in Lambda `requestId` (the AWS
//! request id), `traceId` (X-Ray) and `coldStart`; see
//! `http_interface::request_telemetry`). An operator goes from an alarm to
//! every line of a failing request by its correlation id. The Lambda
//! runtime's own per-invocation spans are filtered out. Stdout carries
//! nothing else: a process's lifecycle notices (the dev server's address)
//! are log events too, on the target [`LIFECYCLE`], which every level lets
//! through.
//!
//! **Metrics** go through the `metrics` facade. In Lambda the recorder is
//! CloudWatch Embedded Metric Format (metrics_cloudwatch_embedded) flushed
//! once per invocation, after the answer ([`flush_metrics_after_each`]),
//! with the invocation's `requestId` and `traceId` as properties; on
//! the dev server it is Prometheus (feature `prometheus`). Without a
//! recorder every metric call is a no-op.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use http_interface::ServiceName;
use http_interface::request_telemetry::metric;
use lambda_http::RequestExt;
use metrics_cloudwatch_embedded::Collector;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The target of the process's lifecycle notices (the dev server's
/// `server.listening`, which tells tests and scripts its address): logged at
/// info, and written whatever `LOG_LEVEL` says, because whoever started the
/// process waits for them (tests and the contract run use `LOG_LEVEL=warn`).
pub const LIFECYCLE: &str = "lifecycle";

/// The subscriber every entry point installs, writing to `writer`.
pub fn subscriber<W>(service: ServiceName, level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    // The Lambda runtime's own per-invocation spans and the SDKs' chatter are noise at info.
    // Lifecycle notices pass whatever the level: scripts wait for them.
    let filter = EnvFilter::try_new(format!(
        "{level},{LIFECYCLE}=info,lambda_runtime=warn,lambda_http=warn,aws_smithy_runtime=warn,aws_config=warn,hyper=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let mut layer = json_subscriber::JsonLayer::new(writer);
    layer.with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime);
    layer.with_level("level");
    layer.with_level("severity");
    layer.add_static_field("service", serde_json::Value::from(service.0));
    layer.with_top_level_flattened_span_list();
    layer.with_flattened_event();
    tracing_subscriber::registry().with(layer).with(filter)
}

/// Installs [`subscriber`] on stdout for the whole process.
pub fn init_logs(service: ServiceName, level: &str) {
    if subscriber(service, level, std::io::stdout).try_init().is_ok() {
        tracing::debug!(event = "telemetry.ready", "logging initialised");
    }
}

/// Installs the EMF recorder (namespace, dimension `function`) as the
/// process's metrics recorder. `None` if a recorder is already installed.
pub fn init_emf(namespace: &str, service: ServiceName) -> Option<&'static Collector> {
    describe_metrics();
    metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace.to_owned())
        .with_dimension("function", service.0)
        .init()
        .ok()
}

/// Metrics recorded outside `http_interface::request_telemetry::metric`,
/// by the code that observes them (their names are literals there).
mod other_metric {
    /// `http_interface::service` (`GET /ready`): 1 while a backend is degraded.
    pub const BACKEND_DEGRADED: &str = "backend_degraded";
    /// `application::degraded_seat_locks`: calls failed or refused by the breaker.
    pub const SEAT_LOCKS_DEGRADED: &str = "seat_locks_degraded_total";
}

/// Every metric the code records, with its unit (EMF writes `Unit`) and a
/// description (Prometheus writes it as `# HELP`, so `/metrics` explains
/// itself; the dev server's observability test fails on an empty one).
/// A new metric gets its line here.
fn describe_metrics() {
    use metrics::Unit::{Count, Milliseconds};
    metrics::describe_histogram!(
        metric::LATENCY_MS,
        Milliseconds,
        "Time from a request entering the function to its answer, per route and status."
    );
    let counters = [
        (metric::REQUESTS, "Requests answered, per route and status."),
        (
            metric::ERRORS,
            "Non-2xx answers, per route; the outcome label is the problem type.",
        ),
        (metric::HOLDS_PLACED, "Seat holds placed."),
        (
            metric::HOLDS_REJECTED,
            "Hold requests refused: a seat was taken, or no seats fit a best-available request.",
        ),
        (
            metric::HOLDS_OVER_LIMIT,
            "Hold requests refused by the event's seat limit per customer.",
        ),
        (metric::HOLDS_EXTENDED, "Holds whose expiry was extended."),
        (metric::ORDERS_CREATED, "Orders created from a hold."),
        (metric::ORDERS_CANCELLED, "Orders cancelled."),
        (
            metric::IDEMPOTENT_REPLAYS,
            "Requests answered with the stored reply of an earlier one (same Idempotency-Key).",
        ),
        (
            metric::COLD_STARTS,
            "First request served by a process (a Lambda cold start).",
        ),
        (
            other_metric::SEAT_LOCKS_DEGRADED,
            "Seat-lock (Redis) calls that failed or were refused while its circuit breaker was open; \
             holds and orders then go on against the durable store alone.",
        ),
    ];
    for (name, description) in counters {
        metrics::describe_counter!(name, Count, description);
    }
    metrics::describe_gauge!(
        other_metric::BACKEND_DEGRADED,
        "1 while a backend is degraded (the service answers without it, slower), else 0; per backend, set by GET /ready."
    );
}

/// Where EMF documents go: stdout in Lambda (CloudWatch Logs extracts them),
/// a buffer in tests.
#[derive(Clone, Debug)]
pub enum EmfSink {
    Stdout,
    Buffer(Arc<Mutex<Vec<u8>>>),
}

/// Wraps `app` so the collector is flushed after every answer: one EMF
/// document per invocation, since every metric of a request carries the
/// same labels. The document carries the invocation's AWS request id and
/// X-Ray trace id as properties (not dimensions), so a metric spike leads
/// to its log lines. A Lambda process serves one invocation at a time
/// (`lambda_http::run`), so the collector's properties belong to the
/// invocation being answered; serving invocations concurrently
/// (`run_concurrent`) would mix them and needs another design.
pub fn flush_metrics_after_each(app: Router, collector: &'static Collector, sink: EmfSink) -> Router {
    app.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        let sink = sink.clone();
        async move {
            // Metrics an invocation left unflushed (it panicked: the runtime
            // catches that outside this layer) go out under its own ids
            // first. Writes nothing when nothing is pending.
            flush(collector, &sink);
            let lambda = request.lambda_context_ref();
            let request_id = lambda.map(|context| context.request_id.clone());
            let trace_id = lambda
                .and_then(|context| context.xray_trace_id.as_deref())
                .and_then(http_interface::request_telemetry::xray_trace_id)
                .map(str::to_owned);
            for (property, value) in [("requestId", request_id), ("traceId", trace_id)] {
                match value {
                    Some(value) => collector.set_property(property, value),
                    None => collector.remove_property(property),
                };
            }
            let response = next.run(request).await;
            flush(collector, &sink);
            response
        }
    }))
}

/// Writes the metrics recorded since the last flush as EMF documents.
fn flush(collector: &Collector, sink: &EmfSink) {
    let result = match sink {
        EmfSink::Stdout => {
            let mut out = std::io::stdout().lock();
            collector.flush(&mut out).and_then(|()| out.flush())
        }
        EmfSink::Buffer(buffer) => {
            let mut bytes = buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            collector.flush(&mut *bytes)
        }
    };
    if let Err(error) = result {
        tracing::warn!(event = "metrics.flush_failed", error = %error, "metrics of this invocation lost");
    }
}

#[cfg(feature = "prometheus")]
pub use prometheus::init_prometheus;

#[cfg(feature = "prometheus")]
mod prometheus {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

    use super::{describe_metrics, metric};

    /// Latency buckets (ms): fine where a healthy request lands, coarse above.
    const LATENCY_BUCKETS_MS: &[f64] = &[
        0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0,
    ];

    /// Installs a Prometheus recorder; the handle renders `/metrics`.
    /// `None` if a recorder is already installed.
    pub fn init_prometheus() -> Option<PrometheusHandle> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(metric::LATENCY_MS.to_owned()), LATENCY_BUCKETS_MS)
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        describe_metrics();
        Some(handle)
    }
}
