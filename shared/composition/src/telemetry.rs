//! Log output: one JSON object per line, level from `LOG_LEVEL`.
//!
//! The request span (correlation id, method, path) is flattened into each
//! line, so an operator can go from an alarm to every line of the failing
//! request by its correlation id.

use http_interface::ServiceName;
use tracing_subscriber::EnvFilter;

pub fn init(service: ServiceName, level: &str) {
    // The Lambda runtime's own per-invocation spans are noise at info.
    let filter = EnvFilter::try_new(format!("{level},lambda_runtime=warn,lambda_http=warn"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let result = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    if result.is_ok() {
        tracing::debug!(event = "telemetry.ready", service = service.0, "logging initialised");
    }
}
