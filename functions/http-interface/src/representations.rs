//! JSON shapes of events, holds, orders and timestamps, shared by the
//! functions that return them (an event by manage-event, a hold by
//! place-hold, its verification by verify-hold and extend-hold, an order by
//! create-order and get-order). camelCase, RFC 3339 UTC, seats as id lists.

use application::use_cases::{HoldVerification, InvalidReason};
use domain::customer_limit::SeatLimit;
use domain::event::{Event, SeatStatus};
use domain::hold::Hold;
use domain::order::Order;
use domain::seat_map::SeatLabel;
use domain::time::Timestamp;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// `2026-11-27T05:11:00.123Z`: always UTC, always milliseconds.
pub fn rfc3339(at: Timestamp) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp with any offset.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let millis = parsed.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).ok().map(Timestamp::from_millis)
}

/// An event with its seats: as saved (no statuses), or with each seat's
/// status now (availability).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    pub event_id: String,
    pub name: String,
    pub starts_at: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seats_per_customer: Option<u32>,
    pub seats: Vec<SeatJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatJson {
    pub id: String,
    pub price_cents: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

impl EventJson {
    /// The event; with `statuses` (in seat order), each seat's status.
    pub fn new(event: &Event, statuses: Option<&[SeatStatus]>) -> Self {
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

/// What a hold's verification says first: which hold, of which event, on
/// which seats. (A placed hold, [`HoldJson`], names its customer before its
/// seats, as it always has: its keys keep their order.)
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldSeatsJson {
    pub hold_id: String,
    pub event_id: String,
    pub seats: Vec<String>,
}

impl From<&Hold> for HoldSeatsJson {
    fn from(hold: &Hold) -> Self {
        Self {
            hold_id: hold.id.to_string(),
            event_id: hold.event.to_string(),
            seats: hold.seats.iter().map(|s| s.id.to_string()).collect(),
        }
    }
}

/// A hold, as placed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldJson {
    pub hold_id: String,
    pub event_id: String,
    pub customer_id: String,
    pub seats: Vec<String>,
    pub status: &'static str,
    pub created_at: String,
    pub expires_at: String,
}

impl HoldJson {
    /// The hold as it stands at `now` (an ACTIVE hold past expiry shows EXPIRED).
    pub fn new(hold: &Hold, now: Timestamp) -> Self {
        let HoldSeatsJson {
            hold_id,
            event_id,
            seats,
        } = HoldSeatsJson::from(hold);
        Self {
            hold_id,
            event_id,
            customer_id: hold.customer.to_string(),
            seats,
            status: hold.status_at(now).as_str(),
            created_at: rfc3339(hold.created_at),
            expires_at: rfc3339(hold.expires_at),
        }
    }
}

/// The verify representation: the hold, its status now and whether it is
/// still good for checkout.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationJson {
    #[serde(flatten)]
    pub hold: HoldSeatsJson,
    pub status: &'static str,
    pub valid: bool,
    pub expires_at: String,
    pub remaining_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl From<&HoldVerification> for VerificationJson {
    fn from(verification: &HoldVerification) -> Self {
        Self {
            hold: HoldSeatsJson::from(&verification.hold),
            status: verification.status.as_str(),
            valid: verification.invalid_reason.is_none(),
            expires_at: rfc3339(verification.hold.expires_at),
            remaining_seconds: verification.remaining.as_secs(),
            reason: verification.invalid_reason.map(InvalidReason::as_str),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    pub order_id: String,
    pub hold_id: String,
    pub event_id: String,
    pub customer_id: String,
    pub seats: Vec<String>,
    pub total_cents: u64,
    pub currency: String,
    pub status: &'static str,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
}

impl From<&Order> for OrderJson {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id.to_string(),
            hold_id: order.hold.to_string(),
            event_id: order.event.to_string(),
            customer_id: order.customer.to_string(),
            seats: order.seats.iter().map(|s| s.id.to_string()).collect(),
            total_cents: order.total.cents.0,
            currency: order.total.currency.to_string(),
            status: order.status().as_str(),
            created_at: rfc3339(order.created_at),
            cancelled_at: order.cancelled_at.map(rfc3339),
        }
    }
}

/// Where a created order lives.
pub fn order_location(order: &Order) -> String {
    format!("/orders/{}", order.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_hold_keeps_its_keys_in_the_order_clients_have_always_seen() {
        use domain::hold::HeldSeat;
        use domain::ids::{CustomerId, EventId, HoldId, SeatId, TenantId};
        use domain::money::{Cents, Currency};
        let hold = Hold::place(
            HoldId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001).unwrap(),
            TenantId::parse("acme").unwrap(),
            EventId::parse("gala").unwrap(),
            CustomerId::parse("alice").unwrap(),
            vec![HeldSeat {
                id: SeatId::parse("A1").unwrap(),
                price: Cents(100),
            }],
            Currency::parse("EUR").unwrap(),
            Timestamp::from_millis(0),
            std::time::Duration::from_secs(600),
        );
        let placed = serde_json::to_string(&HoldJson::new(&hold, Timestamp::from_millis(0))).unwrap();
        let expected = format!(
            r#"{{"holdId":"{}","eventId":"gala","customerId":"alice","seats":["A1"],"status":"ACTIVE","createdAt":"1970-01-01T00:00:00.000Z","expiresAt":"1970-01-01T00:10:00.000Z"}}"#,
            hold.id
        );
        assert_eq!(placed, expected);
    }

    #[test]
    fn timestamps_print_in_utc_with_milliseconds() {
        assert_eq!(
            rfc3339(Timestamp::from_millis(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(rfc3339(Timestamp::from_millis(0)), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn timestamps_with_an_offset_parse_to_the_same_instant_in_utc() {
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.123+01:00"),
            Some(Timestamp::from_millis(1_700_000_000_123))
        );
        assert_eq!(parse_rfc3339("2023-11-14 23:13"), None);
    }
}
