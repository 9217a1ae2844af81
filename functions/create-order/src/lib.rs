//! # create-order
//!
//! `POST /orders` with `Idempotency-Key` and `{holdId, buyer?}` → 201 order
//! with `Location`; replays carry `Idempotent-Replayed: true` and the stored
//! body byte for byte. The idempotency rules live in the use case; this
//! module decodes, renders, and turns stored answers back into HTTP.

use application::ports::StoredResponse;
use application::use_cases::{CreateOrder, CreateOrderOutcome, OrderResponses};
use application::{Rejection, UseCaseError};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use domain::idempotency::IdempotencyKey;
use domain::ids::HoldId;
use domain::order::{Buyer, Order};
use http::{HeaderMap, HeaderValue, header};
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::{JsonBody, fingerprint};
use http_interface::problem::{ApiError, FieldError, PROBLEM_JSON};
use http_interface::remaining_time::RemainingTime;
use http_interface::representations::{OrderJson, order_location};
use http_interface::request_telemetry::BusinessEvent;
use serde::Deserialize;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Longest buyer name or e-mail we keep.
const MAX_BUYER_FIELD_CHARS: usize = 320;

const ORDERS: &str = "/orders";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("POST", ORDERS)];

pub fn routes() -> Router<AppState> {
    Router::new().route(ORDERS, post(create_order))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateOrderBody {
    hold_id: String,
    buyer: Option<BuyerBody>,
}

#[derive(Debug, Deserialize)]
struct BuyerBody {
    email: Option<String>,
    name: Option<String>,
}

/// Renders created orders and rejections exactly as they will be replayed.
struct HttpOrderResponses;

impl OrderResponses for HttpOrderResponses {
    fn created(&self, order: &Order) -> StoredResponse {
        StoredResponse {
            status: 201,
            body: serde_json::to_vec(&OrderJson::from(order)).unwrap_or_default(),
            location: Some(order_location(order)),
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

fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let raw = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .ok_or_else(ApiError::idempotency_key_missing)?;
    let text = raw
        .to_str()
        .map_err(|_| ApiError::malformed_header("Idempotency-Key", "may only contain visible ASCII characters"))?;
    IdempotencyKey::parse(text).map_err(|error| ApiError::malformed_header("Idempotency-Key", error))
}

fn buyer(body: Option<BuyerBody>) -> Result<Buyer, ApiError> {
    let Some(body) = body else {
        return Ok(Buyer::default());
    };
    let mut errors = Vec::new();
    for (field, value) in [("buyer.email", &body.email), ("buyer.name", &body.name)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_BUYER_FIELD_CHARS)
        {
            errors.push(FieldError::new(
                field,
                format!("must be at most {MAX_BUYER_FIELD_CHARS} characters"),
            ));
        }
    }
    if body.email.as_ref().is_some_and(|e| !e.contains('@')) {
        errors.push(FieldError::new("buyer.email", "must be an e-mail address"));
    }
    if errors.is_empty() {
        Ok(Buyer {
            email: body.email,
            name: body.name,
        })
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn create_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RemainingTime(time_budget): RemainingTime,
    headers: HeaderMap,
    body: Result<JsonBody<CreateOrderBody>, ApiError>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let JsonBody { value: body, document } = body?;
    let fingerprint = fingerprint(&document);
    let hold_id =
        HoldId::parse(&body.hold_id).map_err(|error| ApiError::validation(vec![FieldError::new("holdId", error)]))?;
    let request = CreateOrder {
        key,
        fingerprint,
        hold_id,
        buyer: buyer(body.buyer)?,
        time_budget,
    };
    let outcome = state
        .use_cases
        .create_order(&caller, request, &HttpOrderResponses)
        .await
        .map_err(log_idempotency_conflict)?;
    Ok(match outcome {
        CreateOrderOutcome::Fresh(stored) => {
            if stored.status == 201 {
                tracing::info!(event = "order.created", holdId = %hold_id, "order created");
                BusinessEvent::OrderCreated.attach(into_response(stored, false))
            } else {
                into_response(stored, false)
            }
        }
        CreateOrderOutcome::Replayed(stored) => {
            tracing::info!(
                event = "idempotency.replayed",
                status = stored.status,
                "stored answer replayed"
            );
            BusinessEvent::IdempotentReplay.attach(into_response(stored, true))
        }
    })
}

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

fn into_response(stored: StoredResponse, replayed: bool) -> Response {
    let content_type = if stored.status < 300 {
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
