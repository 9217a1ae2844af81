//! # cancel-order
//!
//! `POST /orders/{orderId}/cancel` with `Idempotency-Key` → 200 the order,
//! CANCELLED, its seats for sale again; 409 `order-not-cancellable` once the
//! event has started; 404 when not the caller's (its customer or an
//! organizer of its tenant may cancel). Create order's idempotency rules:
//! replays carry `Idempotent-Replayed: true` and the stored body byte for
//! byte; a second cancel under another key answers 200 with the cancelled
//! order.

use crate::{Lambda, TableAccess};
use application::use_cases::CancelOrder;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use domain::ids::OrderId;
use http::HeaderMap;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::fingerprint;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::remaining_time::RemainingTime;
use http_interface::request_telemetry::BusinessEvent;
use http_interface::stored_reply::{HttpOrderResponses, idempotency_key, reply};

const CANCEL: &str = "/orders/{orderId}/cancel";

/// The `cancel-order` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "cancel-order",
    routes: &[("POST", CANCEL)],
    public_routes: &[],
    router,
    table_access: &[TableAccess {
        sid: "TableAccess",
        why: None,
        actions: &["Query", "GetItem", "PutItem", "UpdateItem", "DeleteItem"],
        keys: &["T#*#ORDER#*", "T#*#EVENT#*", "T#*#IDEM#*"],
    }],
};

fn router() -> Router<AppState> {
    Router::new().route(CANCEL, post(cancel_order))
}

async fn cancel_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RemainingTime(time_budget): RemainingTime,
    headers: HeaderMap,
    order: PathId,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, "POST /orders/{orderId}/cancel")?;
    let order_id = order.parse(OrderId::parse, ApiError::order_not_found)?;
    // The request is the order it names (the route takes no body): one key
    // cancels one order, and the same key for another order is "reused".
    let request = CancelOrder {
        key,
        fingerprint: fingerprint(&serde_json::json!({ "orderId": order_id.to_string() })),
        order_id,
        time_budget,
    };
    let outcome = state
        .use_cases
        .cancel_order(&caller, request, &HttpOrderResponses)
        .await;
    reply(outcome, BusinessEvent::OrderCancelled, || {
        tracing::info!(event = "order.cancelled", orderId = %order_id, "order cancelled");
    })
}
