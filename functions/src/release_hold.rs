//! # release-hold
//!
//! `DELETE /holds/{holdId}` → 204, also when already released or expired;
//! 409 `hold-not-active` for a hold that became an order.

use crate::{Lambda, TableAccess};
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

/// The `release-hold` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "release-hold",
    routes: &[("DELETE", HOLD)],
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
            sid: "ClaimDeletes",
            why: None,
            actions: &["DeleteItem"],
            keys: &["T#*#EVENT#*#CLAIMS#*"],
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
