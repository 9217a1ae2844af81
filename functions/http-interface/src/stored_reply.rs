//! Replies that are stored for replay (the `Idempotency-Key` routes: create
//! order, cancel order): rendered to bytes once, stored with the record, and
//! turned back into the same HTTP answer on every replay.

use application::ports::StoredResponse;
use application::use_cases::{OrderResponses, StoredOutcome};
use application::{Rejection, UseCaseError};
use axum::body::Body;
use axum::response::Response;
use domain::idempotency::IdempotencyKey;
use domain::order::Order;
use http::{HeaderMap, HeaderValue, header};

use crate::problem::{ApiError, PROBLEM_JSON};
use crate::representations::{OrderJson, order_location};
use crate::request_telemetry::BusinessEvent;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Renders orders and rejections exactly as they will be replayed.
#[derive(Debug, Clone, Copy)]
pub struct HttpOrderResponses;

impl OrderResponses for HttpOrderResponses {
    fn created(&self, order: &Order) -> StoredResponse {
        StoredResponse {
            status: 201,
            body: serde_json::to_vec(&OrderJson::from(order)).unwrap_or_default(),
            location: Some(order_location(order)),
        }
    }

    fn cancelled(&self, order: &Order) -> StoredResponse {
        StoredResponse {
            status: 200,
            body: serde_json::to_vec(&OrderJson::from(order)).unwrap_or_default(),
            location: None,
        }
    }

    fn rejected(&self, rejection: &Rejection) -> StoredResponse {
        let problem = ApiError::from(rejection.clone());
        StoredResponse {
            status: problem.status().as_u16(),
            body: problem.body(),
            location: None,
        }
    }
}

/// The request's `Idempotency-Key`.
///
/// # Errors
/// 400 `idempotency-key-missing` when absent, 400 `validation-failed` when
/// malformed.
pub fn idempotency_key(headers: &HeaderMap, route: &str) -> Result<IdempotencyKey, ApiError> {
    let raw = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .ok_or_else(|| ApiError::idempotency_key_missing(route))?;
    let text = raw
        .to_str()
        .map_err(|_| ApiError::malformed_header("Idempotency-Key", "may only contain visible ASCII characters"))?;
    IdempotencyKey::parse(text).map_err(|error| ApiError::malformed_header("Idempotency-Key", error))
}

/// Logs why an idempotent request was refused before it ran, then maps it.
fn log_idempotency_conflict(error: UseCaseError) -> ApiError {
    match &error {
        UseCaseError::IdempotencyKeyReused => {
            tracing::info!(
                event = "idempotency.conflict",
                reason = "key-reused",
                "key reused with another body"
            );
        }
        UseCaseError::IdempotencyInProgress { .. } => {
            tracing::info!(
                event = "idempotency.conflict",
                reason = "in-progress",
                "key in use by another attempt"
            );
        }
        _ => {}
    }
    error.into()
}

/// The HTTP answer of a stored reply; a replay carries `Idempotent-Replayed`.
pub fn into_response(stored: StoredResponse, replayed: bool) -> Response {
    // Stored successes are JSON resources, everything else a problem.
    let content_type = if (200..300).contains(&stored.status) {
        "application/json"
    } else {
        PROBLEM_JSON
    };
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() =
        http::StatusCode::from_u16(stored.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(location) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// The HTTP answer of an idempotent route's use case: work done by this
/// attempt is logged by `on_success` and counted as `event`; an answer that
/// changed nothing (a rejection, an order already cancelled) is answered as
/// stored; a replay is logged and counted as one.
///
/// # Errors
/// The use case's error when it refused before running (key reused, in
/// progress: logged), or failed.
pub fn reply(
    outcome: Result<StoredOutcome, UseCaseError>,
    event: BusinessEvent,
    on_success: impl FnOnce(),
) -> Result<Response, ApiError> {
    Ok(match outcome.map_err(log_idempotency_conflict)? {
        StoredOutcome::Done(stored) => {
            on_success();
            event.attach(into_response(stored, false))
        }
        StoredOutcome::Answered(stored) => into_response(stored, false),
        StoredOutcome::Replayed(stored) => {
            tracing::info!(
                event = "idempotency.replayed",
                status = stored.status,
                "stored answer replayed"
            );
            BusinessEvent::IdempotentReplay.attach(into_response(stored, true))
        }
    })
}
