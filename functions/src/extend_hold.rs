//! # extend-hold
//!
//! `POST /holds/{holdId}/extend` `{ttlSeconds}` → 200 with the verify
//! representation; 409 `hold-expired`, `hold-not-active` or
//! `hold-lifetime-exceeded`; 404 when not the caller's; 422 for a ttl outside
//! 60..=1800.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::ids::HoldId;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::JsonBody;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::{VerificationJson, rfc3339};
use http_interface::request_telemetry::BusinessEvent;
use serde::Deserialize;

const EXTEND: &str = "/holds/{holdId}/extend";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("POST", EXTEND)];

pub fn routes() -> Router<AppState> {
    Router::new().route(EXTEND, post(extend_hold))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtendHoldBody {
    ttl_seconds: u64,
}

async fn extend_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    hold: PathId,
    JsonBody { value: body, .. }: JsonBody<ExtendHoldBody>,
) -> Result<Response, ApiError> {
    let hold_id = hold.parse(HoldId::parse, ApiError::hold_not_found)?;
    let extended = state.use_cases.extend_hold(&caller, hold_id, body.ttl_seconds).await?;
    tracing::info!(
        event = "hold.extended",
        holdId = %hold_id,
        expiresAt = %rfc3339(extended.hold.expires_at),
        "hold extended"
    );
    Ok(BusinessEvent::HoldExtended.attach(Json(VerificationJson::from(&extended)).into_response()))
}
