//! # verify-hold
//!
//! `GET /holds/{holdId}` → 200 `{holdId, eventId, seats, status, valid,
//! expiresAt, remainingSeconds, reason?}`. Advisory: create-order re-checks.

use crate::{Lambda, TableAccess};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use domain::ids::HoldId;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::VerificationJson;

const HOLD: &str = "/holds/{holdId}";

/// The `verify-hold` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "verify-hold",
    routes: &[("GET", HOLD)],
    public_routes: &[],
    router,
    table_access: &[TableAccess {
        sid: "TableAccess",
        why: None,
        actions: &["GetItem", "BatchGetItem"],
        keys: &["T#*#HOLD#*", "T#*#EVENT#*"],
    }],
};

fn router() -> Router<AppState> {
    Router::new().route(HOLD, get(verify_hold))
}

async fn verify_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    hold: PathId,
) -> Result<Json<VerificationJson>, ApiError> {
    let hold_id = hold.parse(HoldId::parse, ApiError::hold_not_found)?;
    let verification = state.use_cases.verify_hold(&caller, hold_id).await?;
    Ok(Json(VerificationJson::from(&verification)))
}
