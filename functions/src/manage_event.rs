//! # manage-event
//!
//! `PUT /events/{eventId}` (organizer) → 201 created / 200 replaced; 409
//! `event-conflict` when a replacement would take back held or sold seats.
//! `GET /events/{eventId}/seats` → every seat with price and status. The body
//! is read by `http_interface::event_body`, the event rendered by
//! `http_interface::representations::EventJson`.

use crate::{Lambda, TableAccess};
use application::Rejection;
use application::use_cases::PutEventOutcome;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::ids::EventId;
use http::StatusCode;
use http_interface::AppState;
use http_interface::event_body::EventBody;
use http_interface::identity::Caller;
use http_interface::json_body::{JsonBody, MAX_EVENT_BODY_BYTES};
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::EventJson;

const EVENT: &str = "/events/{eventId}";
const SEATS: &str = "/events/{eventId}/seats";

/// The `manage-event` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "manage-event",
    routes: &[("PUT", EVENT), ("GET", SEATS)],
    public_routes: http_interface::SERVICE_ROUTES,
    router,
    table_access: &[TableAccess {
        sid: "TableAccess",
        why: None,
        actions: &["Query", "PutItem", "UpdateItem", "DeleteItem"],
        keys: &["T#*#EVENT#*"],
    }],
};

fn router() -> Router<AppState> {
    Router::new().route(EVENT, put(put_event)).route(SEATS, get(get_seats))
}

async fn put_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    event: PathId,
    body: Result<JsonBody<EventBody, MAX_EVENT_BODY_BYTES>, ApiError>,
) -> Result<Response, ApiError> {
    let event_id = event.parse(EventId::parse, ApiError::event_not_found)?;
    // Refuse non-organizers before looking at what they sent.
    if !caller.is_organizer() {
        return Err(Rejection::Forbidden.into());
    }
    let event = body?.value.into_event(caller.tenant.clone(), event_id)?;
    let saved = EventJson::new(&event, None);
    let outcome = state.use_cases.put_event(&caller, event).await?;
    let created = outcome == PutEventOutcome::Created;
    tracing::info!(event = "event.saved", created, "event saved");
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(saved)).into_response())
}

async fn get_seats(
    State(state): State<AppState>,
    Caller(caller): Caller,
    event: PathId,
) -> Result<Json<EventJson>, ApiError> {
    let event_id = event.parse(EventId::parse, ApiError::event_not_found)?;
    let availability = state.use_cases.get_availability(&caller, &event_id).await?;
    Ok(Json(EventJson::new(&availability.event, Some(&availability.statuses))))
}
