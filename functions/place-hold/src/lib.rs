//! # place-hold
//!
//! `POST /events/{eventId}/holds` `{seats:[seatId…], ttlSeconds?}` → 201 with
//! the hold and `Location: /holds/{holdId}`; 404 `event-not-found`; 422
//! `validation-failed`; 409 `seats-unavailable` listing every taken seat.

use application::UseCaseError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::ids::{EventId, SeatId};
use http::{StatusCode, header};
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::JsonBody;
use http_interface::path::PathId;
use http_interface::problem::{ApiError, FieldError};
use http_interface::representations::HoldJson;
use http_interface::request_telemetry::BusinessEvent;
use serde::Deserialize;

const HOLDS: &str = "/events/{eventId}/holds";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("POST", HOLDS)];

pub fn routes() -> Router<AppState> {
    Router::new().route(HOLDS, post(place_hold))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceHoldBody {
    seats: Vec<String>,
    ttl_seconds: Option<u64>,
}

async fn place_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    event: PathId,
    JsonBody { value: body, .. }: JsonBody<PlaceHoldBody>,
) -> Result<Response, ApiError> {
    let event_id = event.parse(EventId::parse, ApiError::event_not_found)?;
    let mut errors = Vec::new();
    let seats: Vec<SeatId> = body
        .seats
        .iter()
        .enumerate()
        .filter_map(|(index, raw)| {
            SeatId::parse(raw)
                .map_err(|error| errors.push(FieldError::new(format!("seats[{index}]"), error)))
                .ok()
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let hold = state
        .use_cases
        .place_hold(&caller, &event_id, seats, body.ttl_seconds)
        .await
        .map_err(log_rejection)?;
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

fn log_rejection(error: UseCaseError) -> ApiError {
    match &error {
        UseCaseError::Rejected(application::Rejection::SeatsUnavailable(seats)) => {
            tracing::info!(event = "hold.rejected", unavailable = seats.len(), "seats unavailable");
            ApiError::from(error).reporting(BusinessEvent::HoldRejected)
        }
        UseCaseError::Rejected(application::Rejection::CustomerLimitReached(reached)) => {
            tracing::info!(
                event = "hold.over_limit",
                limit = reached.limit.get(),
                current = reached.current,
                "over the seat limit per customer"
            );
            ApiError::from(error).reporting(BusinessEvent::HoldOverLimit)
        }
        _ => error.into(),
    }
}
