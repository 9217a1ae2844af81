//! # place-hold
//!
//! `POST /events/{eventId}/holds` `{seats:[seatId…], ttlSeconds?}` or
//! `{bestAvailable:{quantity, category?, section?, together?}, ttlSeconds?}`
//! (exactly one of the two) → 201 with the hold and `Location:
//! /holds/{holdId}`; 404 `event-not-found`; 422 `validation-failed`; 409
//! `seats-unavailable` listing every taken seat, or, for best available,
//! `unavailableSeats: []` and how many seats match the filters.

use application::{Rejection, UseCaseError};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::hold::HoldRequestError;
use domain::ids::{EventId, SeatId};
use domain::seat_map::{BestAvailable, SeatLabel};
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
    seats: Option<Vec<String>>,
    best_available: Option<BestAvailableBody>,
    ttl_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BestAvailableBody {
    quantity: u64,
    category: Option<String>,
    section: Option<String>,
    together: Option<bool>,
}

async fn place_hold(
    State(state): State<AppState>,
    Caller(caller): Caller,
    event: PathId,
    JsonBody { value: body, .. }: JsonBody<PlaceHoldBody>,
) -> Result<Response, ApiError> {
    let event_id = event.parse(EventId::parse, ApiError::event_not_found)?;
    let hold = match (body.seats, body.best_available) {
        (Some(seats), None) => {
            let seats = seat_ids(&seats)?;
            state
                .use_cases
                .place_hold(&caller, &event_id, seats, body.ttl_seconds)
                .await
                .map_err(log_rejection)
        }
        (None, Some(best)) => {
            let best = best_available(best)?;
            state
                .use_cases
                .place_best_available_hold(&caller, &event_id, best, body.ttl_seconds)
                .await
                .map_err(|error| match error {
                    UseCaseError::Rejected(Rejection::InvalidHoldRequest(errors)) => best_available_errors(&errors),
                    other => log_rejection(other),
                })
        }
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "seats",
                "give either seats or bestAvailable, not both or neither",
            )]));
        }
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

/// The seat ids of the body, or every one that is malformed.
fn seat_ids(raw: &[String]) -> Result<Vec<SeatId>, ApiError> {
    let mut errors = Vec::new();
    let seats: Vec<SeatId> = raw
        .iter()
        .enumerate()
        .filter_map(|(index, raw)| {
            SeatId::parse(raw)
                .map_err(|error| errors.push(FieldError::new(format!("seats[{index}]"), error)))
                .ok()
        })
        .collect();
    if errors.is_empty() {
        Ok(seats)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The best-available request of the body, or its malformed fields.
fn best_available(body: BestAvailableBody) -> Result<BestAvailable, ApiError> {
    let mut errors = Vec::new();
    let mut label = |name: &str, text: Option<String>| {
        SeatLabel::parse(&text?)
            .map_err(|e| errors.push(FieldError::new(format!("bestAvailable.{name}"), e)))
            .ok()
    };
    let category = label("category", body.category);
    let section = label("section", body.section);
    // The upper bound (MAX_SEATS_PER_HOLD) is the use case's.
    let quantity = usize::try_from(body.quantity).unwrap_or(usize::MAX);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(BestAvailable {
        quantity,
        category,
        section,
        together: body.together.unwrap_or(true),
    })
}

/// A best-available hold's shape errors, named by the fields it has.
fn best_available_errors(errors: &[HoldRequestError]) -> ApiError {
    let field = |error: &HoldRequestError| match error {
        HoldRequestError::TtlOutOfRange => "ttlSeconds",
        _ => "bestAvailable.quantity",
    };
    ApiError::validation(errors.iter().map(|e| FieldError::new(field(e), e)).collect())
}

fn log_rejection(error: UseCaseError) -> ApiError {
    match &error {
        UseCaseError::Rejected(Rejection::SeatsUnavailable(seats)) => {
            tracing::info!(event = "hold.rejected", unavailable = seats.len(), "seats unavailable");
            ApiError::from(error).reporting(BusinessEvent::HoldRejected)
        }
        UseCaseError::Rejected(Rejection::NoSeatsFit { available }) => {
            tracing::info!(
                event = "hold.no_fit",
                available,
                "no seats fit the best-available request"
            );
            ApiError::from(error).reporting(BusinessEvent::HoldRejected)
        }
        UseCaseError::Rejected(Rejection::CustomerLimitReached(reached)) => {
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
