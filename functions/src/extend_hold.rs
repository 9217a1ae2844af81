//! # extend-hold
//!
//! `POST /holds/{holdId}/extend` `{ttlSeconds}` → 200 with the verify
//! representation; 409 `hold-expired`, `hold-not-active` or
//! `hold-lifetime-exceeded`; 404 when not the caller's; 422 for a ttl outside
//! 60..=1800.

use crate::{Lambda, TableAccess};
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

/// The `extend-hold` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "extend-hold",
    routes: &[("POST", EXTEND)],
    public_routes: &[],
    router,
    table_access: &[
        TableAccess {
            sid: "HoldAccess",
            why: None,
            actions: &["GetItem", "UpdateItem"],
            keys: &["T#*#HOLD#*"],
        },
        TableAccess {
            sid: "ClaimWrites",
            why: None,
            actions: &["PutItem"],
            keys: &["T#*#EVENT#*#CLAIMS#*"],
        },
        TableAccess {
            sid: "SoldRecordChecks",
            why: None,
            actions: &["ConditionCheckItem"],
            keys: &["T#*#EVENT#*"],
        },
        TableAccess {
            sid: "TallyUpdates",
            why: None,
            actions: &["UpdateItem"],
            keys: &["T#*#EVENT#*#CUSTOMER#*"],
        },
    ],
};

fn router() -> Router<AppState> {
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
