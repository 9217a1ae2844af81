//! # manage-event
//!
//! `PUT /events/{eventId}` (organizer) → 201 created / 200 replaced; 409
//! `event-conflict` when a replacement would take back held or sold seats.
//! `GET /events/{eventId}/seats` → every seat with price and status.

use application::Rejection;
use application::use_cases::PutEventOutcome;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::customer_limit::SeatLimit;
use domain::event::{Event, Seat, SeatStatus};
use domain::ids::{EventId, SeatId};
use domain::money::{Cents, Currency};
use domain::seat_map::{MAX_SEAT_NUMBER, SeatLabel, SeatPlace};
use http::StatusCode;
use http_interface::AppState;
use http_interface::identity::Caller;
use http_interface::json_body::{JsonBody, MAX_EVENT_BODY_BYTES};
use http_interface::path::PathId;
use http_interface::problem::{ApiError, FieldError};
use http_interface::representations::{parse_rfc3339, rfc3339};
use serde::{Deserialize, Serialize};

const EVENT: &str = "/events/{eventId}";
const SEATS: &str = "/events/{eventId}/seats";

/// The routes this function answers, as documented in docs/openapi.yaml.
pub const ROUTES: &[(&str, &str)] = &[("PUT", EVENT), ("GET", SEATS)];

pub fn routes() -> Router<AppState> {
    Router::new().route(EVENT, put(put_event)).route(SEATS, get(get_seats))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventBody {
    name: String,
    starts_at: String,
    currency: String,
    seats: Vec<SeatBody>,
    /// The seat limit per customer (1..=100); absent: none.
    #[serde(default)]
    max_seats_per_customer: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeatBody {
    id: String,
    price_cents: u64,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    row: Option<String>,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    category: Option<String>,
}

/// An event with its seats: as saved (no statuses), or with each seat's
/// status now (availability).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventJson {
    event_id: String,
    name: String,
    starts_at: String,
    currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_seats_per_customer: Option<u32>,
    seats: Vec<SeatJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SeatJson {
    id: String,
    price_cents: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl EventJson {
    fn new(event: &Event, statuses: Option<&[SeatStatus]>) -> Self {
        let status_name = |index: usize| {
            statuses.and_then(|all| all.get(index)).map(|status| match status {
                SeatStatus::Available => "AVAILABLE",
                SeatStatus::Held => "HELD",
                SeatStatus::Sold => "SOLD",
            })
        };
        Self {
            event_id: event.id.to_string(),
            name: event.name.clone(),
            starts_at: rfc3339(event.starts_at),
            currency: event.currency.to_string(),
            max_seats_per_customer: event.max_seats_per_customer.map(SeatLimit::get),
            seats: event
                .seats()
                .iter()
                .enumerate()
                .map(|(index, seat)| {
                    let label = |l: &Option<SeatLabel>| l.as_ref().map(ToString::to_string);
                    SeatJson {
                        id: seat.id.to_string(),
                        price_cents: seat.price.0,
                        section: label(&seat.place.section),
                        row: label(&seat.place.row),
                        number: seat.place.number,
                        category: label(&seat.place.category),
                        status: status_name(index),
                    }
                })
                .collect(),
        }
    }
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
    let body = body?.value;
    let mut errors = Vec::new();
    let starts_at = parse_rfc3339(&body.starts_at);
    if starts_at.is_none() {
        errors.push(FieldError::new("startsAt", "must be an RFC 3339 timestamp"));
    }
    let currency = Currency::parse(&body.currency)
        .map_err(|e| errors.push(FieldError::new("currency", e)))
        .ok();
    let seats: Vec<Seat> = body
        .seats
        .iter()
        .enumerate()
        .filter_map(|(index, seat)| seat_from(index, seat, &mut errors))
        .collect();
    let limit = body
        .max_seats_per_customer
        .map(SeatLimit::new)
        .transpose()
        .map_err(|e| errors.push(FieldError::new("maxSeatsPerCustomer", e)))
        .ok()
        .flatten();
    let (Some(starts_at), Some(currency), true) = (starts_at, currency, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let event = Event::new(caller.tenant.clone(), event_id, &body.name, starts_at, currency, seats)
        .map_err(Rejection::InvalidEvent)?
        .with_seat_limit(limit);
    let saved = EventJson::new(&event, None);
    let outcome = state.use_cases.put_event(&caller, event).await?;
    let status = match outcome {
        PutEventOutcome::Created => StatusCode::CREATED,
        PutEventOutcome::Replaced => StatusCode::OK,
    };
    tracing::info!(
        event = "event.saved",
        created = (status == StatusCode::CREATED),
        "event saved"
    );
    Ok((status, Json(saved)).into_response())
}

/// A seat of the body, or its errors, each named by its field.
fn seat_from(index: usize, body: &SeatBody, errors: &mut Vec<FieldError>) -> Option<Seat> {
    let before = errors.len();
    let id = SeatId::parse(&body.id)
        .map_err(|e| errors.push(FieldError::new(format!("seats[{index}].id"), e)))
        .ok();
    let mut label = |name: &str, text: &Option<String>| {
        SeatLabel::parse(text.as_deref()?)
            .map_err(|e| errors.push(FieldError::new(format!("seats[{index}].{name}"), e)))
            .ok()
    };
    let place = SeatPlace {
        section: label("section", &body.section),
        row: label("row", &body.row),
        category: label("category", &body.category),
        number: body.number.and_then(|n| {
            let number = u32::try_from(n).ok().filter(|n| *n <= MAX_SEAT_NUMBER);
            if number.is_none() {
                errors.push(FieldError::new(
                    format!("seats[{index}].number"),
                    format!("must be a whole number from 0 to {MAX_SEAT_NUMBER}"),
                ));
            }
            number
        }),
    };
    if errors.len() != before {
        return None;
    }
    Some(Seat {
        id: id?,
        price: Cents(body.price_cents),
        place,
    })
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
