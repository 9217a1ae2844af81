//! RFC 9457 problem details, and the ONE mapping from use-case errors to them.
//!
//! Every non-2xx answer of the API is an [`ApiError`] rendered as
//! `application/problem+json` with `type: /problems/<slug>`, the request's
//! `correlationId`, and slug-specific extensions. A 5xx never carries
//! internals: the cause is logged under the same correlation id instead.

use std::time::Duration;

use application::{Rejection, UseCaseError};
use axum::response::{IntoResponse, Response};
use domain::event::{EventConflict, EventRuleError};
use domain::hold::HoldRequestError;
use domain::order::BuyerError;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::correlation;
use crate::request_telemetry::{BusinessEvent, ProblemSlug};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One rule a request broke, for `validation-failed`'s `errors` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Declares [`ProblemType`] from its table, so that the enum, its table and
/// [`ProblemType::ALL`] cannot drift apart.
macro_rules! problem_types {
    ($($kind:ident => ($slug:literal, $status:ident, $title:literal),)+) => {
        /// Every kind of problem answer the API gives: its type slug (`type`
        /// is `/problems/<slug>`), status and title, in ONE table (the
        /// `problem_types!` invocation below). `docs/openapi.yaml` lists the
        /// same slugs (the `Problem` schema's `type` enum;
        /// `tests/problem_types.rs` checks it). One slug may have more than
        /// one row when it is answered with different statuses or titles:
        /// `validation-failed` is 422 for a request that breaks rules and 400
        /// for a body or header that cannot be read at all.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemType {
            $($kind,)+
        }

        impl ProblemType {
            /// Every row of the table, in its order.
            pub const ALL: &'static [Self] = &[$(Self::$kind,)+];

            /// The row: (slug, status, title).
            pub const fn definition(self) -> (&'static str, StatusCode, &'static str) {
                match self {
                    $(Self::$kind => ($slug, StatusCode::$status, $title),)+
                }
            }
        }
    };
}

problem_types! {
    ValidationFailed => ("validation-failed", UNPROCESSABLE_ENTITY, "Validation failed"),
    MalformedBody => ("validation-failed", BAD_REQUEST, "Malformed request body"),
    MalformedHeader => ("validation-failed", BAD_REQUEST, "Malformed header"),
    Unauthorized => ("unauthorized", UNAUTHORIZED, "Unauthorized"),
    Forbidden => ("forbidden", FORBIDDEN, "Forbidden"),
    EventNotFound => ("event-not-found", NOT_FOUND, "Event not found"),
    HoldNotFound => ("hold-not-found", NOT_FOUND, "Hold not found"),
    OrderNotFound => ("order-not-found", NOT_FOUND, "Order not found"),
    RouteNotFound => ("not-found", NOT_FOUND, "Not found"),
    MethodNotAllowed => ("method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed"),
    PayloadTooLarge => ("payload-too-large", PAYLOAD_TOO_LARGE, "Payload too large"),
    IdempotencyKeyMissing => ("idempotency-key-missing", BAD_REQUEST, "Idempotency-Key missing"),
    IdempotencyKeyReused => ("idempotency-key-reused", UNPROCESSABLE_ENTITY, "Idempotency-Key reused"),
    IdempotencyInProgress => ("idempotency-in-progress", CONFLICT, "Request in progress"),
    SeatsUnavailable => ("seats-unavailable", CONFLICT, "Seats unavailable"),
    HoldExpired => ("hold-expired", CONFLICT, "Hold expired"),
    HoldNotActive => ("hold-not-active", CONFLICT, "Hold not active"),
    HoldLifetimeExceeded => ("hold-lifetime-exceeded", CONFLICT, "Hold lifetime exceeded"),
    OrderNotCancellable => ("order-not-cancellable", CONFLICT, "Order not cancellable"),
    CustomerLimitReached => ("customer-limit-reached", CONFLICT, "Customer limit reached"),
    EventConflict => ("event-conflict", CONFLICT, "Event conflict"),
    ServiceUnavailable => ("service-unavailable", SERVICE_UNAVAILABLE, "Service unavailable"),
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Internal error"),
}

impl ProblemType {
    pub const fn slug(self) -> &'static str {
        self.definition().0
    }

    pub const fn status(self) -> StatusCode {
        self.definition().1
    }

    pub const fn title(self) -> &'static str {
        self.definition().2
    }
}

/// A problem answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ProblemType,
    detail: String,
    extensions: Map<String, Value>,
    retry_after: Option<Duration>,
    reports: Option<BusinessEvent>,
}

impl ApiError {
    fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            extensions: Map::new(),
            retry_after: None,
            reports: None,
        }
    }

    /// Adds an extension member to the problem body.
    #[must_use]
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    /// Counts `event` with this answer (e.g. a hold rejected for taken seats).
    #[must_use]
    pub fn reporting(mut self, event: BusinessEvent) -> Self {
        self.reports = Some(event);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    pub fn slug(&self) -> &'static str {
        self.kind.slug()
    }

    pub fn kind(&self) -> ProblemType {
        self.kind
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let list: Vec<Value> = errors
            .into_iter()
            .map(|e| json!({ "field": e.field, "message": e.message }))
            .collect();
        Self::new(
            ProblemType::ValidationFailed,
            "The request breaks one or more rules; see errors.",
        )
        .with("errors", Value::Array(list))
    }

    /// 422 for a buyer whose details break the domain's rules, each error
    /// named by its field (`buyer.email`, `buyer.name`).
    pub fn invalid_buyer(errors: &[BuyerError]) -> Self {
        let field = |error: &BuyerError| match error {
            BuyerError::EmailTooLong | BuyerError::EmailNotAnAddress => "buyer.email",
            BuyerError::NameTooLong => "buyer.name",
        };
        Self::validation(errors.iter().map(|e| FieldError::new(field(e), e)).collect())
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::MalformedBody, detail).with(
            "errors",
            json!([{ "field": "", "message": "the body must be a JSON document" }]),
        )
    }

    pub fn malformed_header(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            ProblemType::MalformedHeader,
            format!("The {field} header is malformed."),
        )
        .with("errors", json!([{ "field": field, "message": message.to_string() }]))
    }

    pub fn unauthorized() -> Self {
        Self::new(ProblemType::Unauthorized, "The request carries no valid identity.")
    }

    pub fn forbidden() -> Self {
        Self::new(ProblemType::Forbidden, "The caller lacks the role this needs.")
    }

    pub fn event_not_found() -> Self {
        Self::new(ProblemType::EventNotFound, "No such event.")
    }

    pub fn hold_not_found() -> Self {
        Self::new(ProblemType::HoldNotFound, "No such hold.")
    }

    pub fn order_not_found() -> Self {
        Self::new(ProblemType::OrderNotFound, "No such order.")
    }

    pub fn route_not_found() -> Self {
        Self::new(ProblemType::RouteNotFound, "No such route.")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(ProblemType::MethodNotAllowed, "This route does not answer this method.")
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            ProblemType::PayloadTooLarge,
            format!("Request bodies are limited to {limit} bytes."),
        )
    }

    pub fn idempotency_key_missing(route: &str) -> Self {
        Self::new(
            ProblemType::IdempotencyKeyMissing,
            format!("{route} needs an Idempotency-Key header."),
        )
    }

    /// With `Retry-After: 1`: a 503 is worth retrying, soon.
    pub fn service_unavailable(backend: &str) -> Self {
        let mut problem = Self::new(
            ProblemType::ServiceUnavailable,
            "A backend is unavailable; retry later.",
        )
        .with("backend", json!(backend));
        problem.retry_after = Some(Duration::from_secs(1));
        problem
    }

    pub fn internal() -> Self {
        Self::new(
            ProblemType::Internal,
            "Something went wrong on our side; quote the correlation id.",
        )
    }

    /// The problem body, as bytes, with the current correlation id.
    pub fn body(&self) -> Vec<u8> {
        let body = ProblemBody {
            kind: format!("/problems/{}", self.kind.slug()),
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: &self.detail,
            correlation_id: correlation::current(),
            extensions: &self.extensions,
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// The RFC 9457 members in their conventional order, then the extensions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    correlation_id: String,
    #[serde(flatten)]
    extensions: &'a Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), [(header::CONTENT_TYPE, PROBLEM_JSON)], self.body()).into_response();
        response.extensions_mut().insert(ProblemSlug(self.slug()));
        if let Some(event) = self.reports {
            response.extensions_mut().insert(event);
        }
        if let Some(retry_after) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

fn seat_list(seats: &[domain::ids::SeatId]) -> Value {
    Value::Array(seats.iter().map(|s| json!(s.as_str())).collect())
}

fn event_rule_field(error: &EventRuleError) -> FieldError {
    let field = match error {
        EventRuleError::BlankName | EventRuleError::NameTooLong => "name".to_owned(),
        EventRuleError::NoSeats | EventRuleError::TooManySeats => "seats".to_owned(),
        EventRuleError::PriceTooHigh { index } => format!("seats[{index}].priceCents"),
        EventRuleError::DuplicateSeat { index, .. } => format!("seats[{index}].id"),
        EventRuleError::DuplicateSeatNumber { index, .. } => format!("seats[{index}].number"),
    };
    FieldError::new(field, error)
}

fn hold_rule_field(error: &HoldRequestError) -> FieldError {
    let field = match error {
        HoldRequestError::NoSeats | HoldRequestError::TooManySeats { .. } => "seats".to_owned(),
        HoldRequestError::DuplicateSeat { index, .. } => format!("seats[{index}]"),
        HoldRequestError::TtlOutOfRange => "ttlSeconds".to_owned(),
    };
    FieldError::new(field, error)
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Forbidden => Self::forbidden(),
            Rejection::EventNotFound => Self::event_not_found(),
            Rejection::HoldNotFound => Self::hold_not_found(),
            Rejection::OrderNotFound => Self::order_not_found(),
            Rejection::InvalidEvent(errors) => Self::validation(errors.iter().map(event_rule_field).collect()),
            Rejection::InvalidHoldRequest(errors) => Self::validation(errors.iter().map(hold_rule_field).collect()),
            Rejection::UnknownSeats(seats) => Self::validation(
                seats
                    .iter()
                    .map(|seat| FieldError::new("seats", format!("the event has no seat {seat}")))
                    .collect(),
            ),
            Rejection::SeatsUnavailable(seats) => {
                Self::new(ProblemType::SeatsUnavailable, "Some requested seats are held or sold.")
                    .with("unavailableSeats", seat_list(&seats))
            }
            Rejection::NoSeatsFit { available } => {
                Self::new(ProblemType::SeatsUnavailable, "No available seats fit the request.")
                    .with("unavailableSeats", json!([]))
                    .with("available", json!(available))
            }
            Rejection::HoldExpired => Self::new(ProblemType::HoldExpired, "The hold has expired."),
            Rejection::HoldNotActive => Self::new(
                ProblemType::HoldNotActive,
                "The hold was released or already converted into an order.",
            ),
            Rejection::HoldLifetimeExceeded => Self::new(
                ProblemType::HoldLifetimeExceeded,
                "The hold already lasts as long as a hold may; it cannot be extended further.",
            ),
            Rejection::OrderNotCancellable => Self::new(
                ProblemType::OrderNotCancellable,
                "The event has started; the order can no longer be cancelled.",
            ),
            Rejection::CustomerLimitReached(reached) => Self::new(
                ProblemType::CustomerLimitReached,
                "The hold would take this customer over the event's seat limit per customer.",
            )
            .with("limit", json!(reached.limit.get()))
            .with("current", json!(reached.current)),
            Rejection::EventConflict(conflicts) => Self::new(
                ProblemType::EventConflict,
                "The replacement would take back seats that are held or sold.",
            )
            .with(
                "conflicts",
                Value::Array(conflicts.iter().map(|c: &EventConflict| json!(c.to_string())).collect()),
            ),
            Rejection::EventChangedConcurrently => Self::new(
                ProblemType::EventConflict,
                "The event was changed by another request at the same time; read it and try again.",
            ),
        }
    }
}

impl From<UseCaseError> for ApiError {
    fn from(error: UseCaseError) -> Self {
        match error {
            UseCaseError::Rejected(rejection) => rejection.into(),
            UseCaseError::IdempotencyKeyReused => Self::new(
                ProblemType::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request body.",
            ),
            UseCaseError::IdempotencyInProgress { retry_after } => {
                let mut problem = Self::new(
                    ProblemType::IdempotencyInProgress,
                    "A request with this Idempotency-Key is still being processed; retry later.",
                );
                problem.retry_after = Some(retry_after);
                problem
            }
            UseCaseError::Unavailable(error) => {
                tracing::error!(event = "backend.unavailable", backend = error.backend, cause = %error.causes(), "answered 503");
                Self::service_unavailable(error.backend)
            }
            UseCaseError::Overloaded { retry_after } => {
                tracing::warn!(
                    event = "request.shed",
                    "the store has been failing lately; answered 503 before any work"
                );
                let mut problem = Self::service_unavailable("dynamodb");
                problem.retry_after = Some(retry_after);
                problem
            }
            UseCaseError::Internal(detail) => {
                tracing::error!(event = "internal.error", detail = %detail, "answered 500");
                Self::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_body_names_its_type_status_and_extensions() {
        let body: Value = serde_json::from_slice(&ApiError::from(Rejection::SeatsUnavailable(vec![])).body()).unwrap();
        assert_eq!(body["type"], "/problems/seats-unavailable");
        assert_eq!(body["status"], 409);
        assert_eq!(body["unavailableSeats"], json!([]));
        assert_eq!(body["correlationId"], "unknown");
    }

    #[test]
    fn an_unavailable_backend_never_leaks_its_error_text() {
        let error = UseCaseError::Unavailable(application::ports::BackendError::new(
            "dynamodb",
            "ResourceNotFoundException: secret-table-name",
        ));
        let body = String::from_utf8(ApiError::from(error).body()).unwrap();
        assert!(!body.contains("secret-table-name"), "{body}");
        assert!(body.contains("service-unavailable"));
    }
}
