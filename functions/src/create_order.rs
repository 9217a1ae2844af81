//! # create-order
//!
//! `POST /orders` with `Idempotency-Key` and `{holdId, buyer?}` → 201 order
//! with `Location`; replays carry `Idempotent-Replayed: true` and the stored
//! body byte for byte. The idempotency rules live in the use case, the buyer
//! rules in the domain (`Buyer::new`), stored answers in
//! `http_interface::stored_reply`; this module decodes and calls.

use crate::{Lambda, TableAccess};
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
use http_interface::stored_reply::{HttpOrderResponses, idempotency_key, reply};
use serde::Deserialize;

const ORDERS: &str = "/orders";

/// The `create-order` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "create-order",
    routes: &[("POST", ORDERS)],
    public_routes: &[],
    router,
    table_access: &[TableAccess {
        sid: "TableAccess",
        why: None,
        actions: &["GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"],
        keys: &["T#*#HOLD#*", "T#*#ORDER#*", "T#*#EVENT#*", "T#*#IDEM#*"],
    }],
};

fn router() -> Router<AppState> {
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
    let buyer = match body.buyer {
        Some(buyer) => Buyer::new(buyer.email, buyer.name).map_err(|errors| ApiError::invalid_buyer(&errors))?,
        None => Buyer::default(),
    };
    let request = CreateOrder {
        key,
        fingerprint,
        hold_id,
        buyer,
        time_budget,
    };
    let outcome = state
        .use_cases
        .create_order(&caller, request, &HttpOrderResponses)
        .await;
    reply(outcome, BusinessEvent::OrderCreated, || {
        tracing::info!(event = "order.created", holdId = %hold_id, "order created");
    })
}
