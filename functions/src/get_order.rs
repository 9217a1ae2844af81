//! # get-order
//!
//! `GET /orders/{orderId}` → 200 the order; 404 `order-not-found` if absent
//! or someone else's.

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

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("GET", ORDER)];

pub fn routes() -> Router<AppState> {
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
