//! # create-order
//!
//! `POST /orders` with `Idempotency-Key` and `{holdId, buyer?}` → 201 order
//! with `Location`; replays carry `Idempotent-Replayed: true` and the stored
//! body byte for byte. The idempotency rules live in the use case; this
//! module decodes, renders, and turns stored answers back into HTTP.

use application::use_cases::CreateOrder;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use domain::ids::HoldId;
use domain::order::Buyer;
use http::HeaderMap;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::{JsonBody, fingerprint};
use http_interface::problem::{ApiError, FieldError};
use http_interface::remaining_time::RemainingTime;
use http_interface::request_telemetry::BusinessEvent;
use http_interface::stored_reply::{HttpOrderResponses, idempotency_key, log_idempotency_conflict, reply};
use serde::Deserialize;

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
    let key = idempotency_key(&headers, "POST /orders")?;
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
    Ok(reply(outcome, 201, BusinessEvent::OrderCreated, || {
        tracing::info!(event = "order.created", holdId = %hold_id, "order created");
    }))
}
