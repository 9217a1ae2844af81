//! The body of `PUT /events/{eventId}` — `{name, startsAt, currency,
//! seats:[{id, priceCents, section?, row?, number?, category?}],
//! maxSeatsPerCustomer?}` — read into a domain [`Event`]: every malformed
//! field is named in one 422, then the domain's own rules apply
//! (`Event::new`, reported by the use-case error mapping).

use application::Rejection;
use domain::customer_limit::SeatLimit;
use domain::event::{Event, Seat};
use domain::ids::{EventId, TenantId};
use domain::money::{Cents, Currency};
use domain::seat_map::{MAX_SEAT_NUMBER, SeatPlace};
use serde::Deserialize;

use crate::problem::{ApiError, FieldError};
use crate::representations::parse_rfc3339;
use crate::request_fields::{each_item, seat_id, seat_label};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
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

impl EventBody {
    /// The event `id` of `tenant` the body defines.
    ///
    /// # Errors
    /// 422 naming every malformed field (`startsAt`, `currency`,
    /// `seats[i].…`, `maxSeatsPerCustomer`), else every rule of the event the
    /// definition breaks.
    pub fn into_event(self, tenant: TenantId, id: EventId) -> Result<Event, ApiError> {
        let mut errors = Vec::new();
        let starts_at = parse_rfc3339(&self.starts_at);
        if starts_at.is_none() {
            errors.push(FieldError::new("startsAt", "must be an RFC 3339 timestamp"));
        }
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::new("currency", e)))
            .ok();
        let seats = each_item("seats", &self.seats, &mut errors, seat_from);
        let limit = self
            .max_seats_per_customer
            .map(SeatLimit::new)
            .transpose()
            .map_err(|e| errors.push(FieldError::new("maxSeatsPerCustomer", e)))
            .ok()
            .flatten();
        let (Some(starts_at), Some(currency), true) = (starts_at, currency, errors.is_empty()) else {
            return Err(ApiError::validation(errors));
        };
        Ok(Event::new(tenant, id, &self.name, starts_at, currency, seats)
            .map_err(Rejection::InvalidEvent)?
            .with_seat_limit(limit))
    }
}

/// A seat of the body (`at` is its place, `seats[i]`), or its errors, each
/// named by its field.
fn seat_from(at: &str, body: &SeatBody, errors: &mut Vec<FieldError>) -> Option<Seat> {
    let before = errors.len();
    let id = seat_id(&format!("{at}.id"), &body.id, errors);
    let mut label = |name: &str, text: &Option<String>| seat_label(&format!("{at}.{name}"), text.as_deref(), errors);
    let section = label("section", &body.section);
    let row = label("row", &body.row);
    let category = label("category", &body.category);
    let number = body.number.and_then(|n| {
        let number = u32::try_from(n).ok().filter(|n| *n <= MAX_SEAT_NUMBER);
        if number.is_none() {
            errors.push(FieldError::new(
                format!("{at}.number"),
                format!("must be a whole number from 0 to {MAX_SEAT_NUMBER}"),
            ));
        }
        number
    });
    if errors.len() != before {
        return None;
    }
    Some(Seat {
        id: id?,
        price: Cents(body.price_cents),
        place: SeatPlace {
            section,
            row,
            number,
            category,
        },
    })
}
