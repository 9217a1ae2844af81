//! # verify-hold
//!
//! `GET /holds/{holdId}` → 200 `{holdId, eventId, seats, status, valid,
//! expiresAt, remainingSeconds, reason?}`. Advisory: create-order re-checks.

use application::use_cases::InvalidReason;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use domain::ids::HoldId;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::rfc3339;
use serde::Serialize;

const HOLD: &str = "/holds/{holdId}";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("GET", HOLD)];

pub fn routes() -> Router<AppState> {
    Router::new().route(HOLD, get(verify_hold))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VerificationJson {
    hold_id: String,
    event_id: String,
    seats: Vec<String>,
    status: &'static str,
    valid: bool,
    expires_at: String,
    remaining_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

async fn verify_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    hold: PathId,
) -> Result<Json<VerificationJson>, ApiError> {
    let hold_id = hold.parse(HoldId::parse, ApiError::hold_not_found)?;
    let verification = state.use_cases.verify_hold(&caller, hold_id).await?;
    let hold = &verification.hold;
    Ok(Json(VerificationJson {
        hold_id: hold.id.to_string(),
        event_id: hold.event.to_string(),
        seats: hold.seats.iter().map(|s| s.id.to_string()).collect(),
        status: verification.status.as_str(),
        valid: verification.invalid_reason.is_none(),
        expires_at: rfc3339(hold.expires_at),
        remaining_seconds: verification.remaining.as_secs(),
        reason: verification.invalid_reason.map(InvalidReason::as_str),
    }))
}
