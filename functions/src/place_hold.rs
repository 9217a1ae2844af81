//! # place-hold
//!
//! `POST /events/{eventId}/holds` `{seats:[seatId…], ttlSeconds?}` or
//! `{bestAvailable:{quantity, category?, section?, together?}, ttlSeconds?}`
//! (exactly one of the two) → 201 with the hold and `Location:
//! /holds/{holdId}`; 404 `event-not-found`; 422 `validation-failed`; 409
//! `seats-unavailable` listing every taken seat, or, for best available,
//! `unavailableSeats: []` and how many seats match the filters. The body and
//! the refusals are read and logged by `http_interface::hold_request`.

use crate::{Lambda, TableAccess};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::ids::EventId;
use http::{StatusCode, header};
use http_interface::AppState;
use http_interface::hold_request::{HoldWanted, PlaceHoldBody, SeatsWanted, best_available_refused, hold_refused};
use http_interface::identity::Caller;
use http_interface::json_body::JsonBody;
use http_interface::path::PathId;
use http_interface::problem::ApiError;
use http_interface::representations::HoldJson;
use http_interface::request_telemetry::BusinessEvent;

const HOLDS: &str = "/events/{eventId}/holds";

/// The `place-hold` Lambda: its routes (docs/openapi.yaml), its router and what
/// its role may do to the table (template.yaml is generated from it).
pub const LAMBDA: Lambda = Lambda {
    name: "place-hold",
    routes: &[("POST", HOLDS)],
    public_routes: &[],
    router,
    table_access: &[
        TableAccess {
            sid: "TableAccess",
            why: None,
            actions: &[
                "Query",
                "GetItem",
                "BatchGetItem",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            keys: &["T#*#EVENT#*", "T#*#HOLD#*"],
        },
        TableAccess {
            sid: "OrderReads",
            why: Some("The seat-limit tally repair reads the orders it names (ADR 14)."),
            actions: &["GetItem"],
            keys: &["T#*#ORDER#*"],
        },
    ],
};

fn router() -> Router<AppState> {
    Router::new().route(HOLDS, post(place_hold))
}

async fn place_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    event: PathId,
    JsonBody { value: body, .. }: JsonBody<PlaceHoldBody>,
) -> Result<Response, ApiError> {
    let event_id = event.parse(EventId::parse, ApiError::event_not_found)?;
    let use_cases = &state.use_cases;
    let HoldWanted { seats, ttl_seconds } = body.read()?;
    let hold = match seats {
        SeatsWanted::These(seats) => use_cases
            .place_hold(&caller, &event_id, seats, ttl_seconds)
            .await
            .map_err(hold_refused),
        SeatsWanted::BestAvailable(best) => use_cases
            .place_best_available_hold(&caller, &event_id, best, ttl_seconds)
            .await
            .map_err(best_available_refused),
    }?;
    tracing::info!(event = "hold.placed", holdId = %hold.id, seats = hold.seats.len(), "hold placed");
    let location = format!("/holds/{}", hold.id);
    let now = hold.created_at;
    Ok(BusinessEvent::HoldPlaced.attach(
        (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(HoldJson::new(&hold, now)),
        )
            .into_response(),
    ))
}
