//! # release-hold
//!
//! `DELETE /holds/{holdId}` → 204, also when already released or expired;
//! 409 `hold-not-active` for a hold that became an order.

use axum::Router;
use axum::extract::State;
use axum::routing::delete;
use domain::ids::HoldId;
use http::StatusCode;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::path::PathId;
use http_interface::problem::ApiError;

const HOLD: &str = "/holds/{holdId}";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("DELETE", HOLD)];

pub fn routes() -> Router<AppState> {
    Router::new().route(HOLD, delete(release_hold))
}

async fn release_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    hold: PathId,
) -> Result<StatusCode, ApiError> {
    let hold_id = hold.parse(HoldId::parse, ApiError::hold_not_found)?;
    state.use_cases.release_hold(&caller, hold_id).await?;
    tracing::info!(event = "hold.released", holdId = %hold_id, "hold released");
    Ok(StatusCode::NO_CONTENT)
}
