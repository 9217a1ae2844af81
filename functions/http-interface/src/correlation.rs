//! Correlation ids: one id per request, from the caller if it sent a sane
//! one, else API Gateway's request id, else a fresh UUID.
//!
//! The id is echoed on every response, put in every problem body and on the
//! request's tracing span ([`crate::request_telemetry`]). It is kept in a task-local for the duration of the
//! request, so code far from the request (problem rendering, the stored
//! create-order answer) reads it without threading it through every call.

use axum::extract::Request;
use axum::response::Response;
use http::HeaderValue;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The header carrying the id both ways.
pub const HEADER: &str = "x-correlation-id";
const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: String;
}

/// The current request's correlation id, or `"unknown"` outside a request.
pub fn current() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_else(|_| "unknown".to_owned())
}

/// A caller-supplied id is used only if it is short and plain, because it
/// ends up in headers and logs.
fn acceptable(candidate: &str) -> bool {
    !candidate.is_empty()
        && candidate.len() <= MAX_LEN
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'=' | b'+' | b'/'))
}

/// The id for this request: the caller's if acceptable, else API Gateway's
/// request id, else a fresh UUID.
pub fn choose(request: &Request) -> String {
    let from_header = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v));
    if let Some(id) = from_header {
        return id.to_owned();
    }
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(id) = context.request_id.as_deref().filter(|v| acceptable(v))
    {
        return id.to_owned();
    }
    uuid::Uuid::new_v4().to_string()
}

/// Runs `future` with `id` as the current correlation id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    CURRENT.scope(id, future).await
}

/// Puts the id on the response's `X-Correlation-Id` header.
pub fn echo(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_caller_id_is_kept_and_anything_odd_is_replaced() {
        assert!(acceptable("req-123_abc.def:9"));
        assert!(acceptable("JKJaXmPLvHcESHA="), "API Gateway request ids are base64");
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("quote\"d"));
        assert!(!acceptable(&"x".repeat(MAX_LEN + 1)));
    }
}
