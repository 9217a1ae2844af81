//! # get-order
//!
//! `GET /orders/{orderId}` → 200 the order; 404 `order-not-found` if absent
//! or someone else's.

use crate::{Lambda, TableAccess};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use domain::ids::OrderId;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::OrderJson;

const ORDER: &str = "/orders/{orderId}";

/// The `get-order` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "get-order",
    routes: &[("GET", ORDER)],
    public_routes: &[],
    router,
    table_access: &[TableAccess {
        sid: "TableAccess",
        why: None,
        actions: &["GetItem"],
        keys: &["T#*#ORDER#*"],
    }],
};

fn router() -> Router<AppState> {
    Router::new().route(ORDER, get(get_order))
}

async fn get_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    order: PathId,
) -> Result<Json<OrderJson>, ApiError> {
    let order_id = order.parse(OrderId::parse, ApiError::order_not_found)?;
    let order = state.use_cases.get_order(&caller, order_id).await?;
    Ok(Json(OrderJson::from(&order)))
}
