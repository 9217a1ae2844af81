//! Item shapes, mapped with `serde_dynamo`, and their conversions to and
//! from domain values. Attribute names are camelCase. Changing a shape
//! follows expand → migrate → contract (CONTRIBUTING.md).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer_limit::SeatLimit;
use domain::event::{Event, Seat};
use domain::hold::{HeldSeat, Hold, HoldStatus};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::money::{Cents, Currency, Money};
use domain::order::{Buyer, Order};
use domain::seat_map::{SeatLabel, SeatPlace};
use domain::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::corrupt;
use application::ports::BackendError;

pub type Item = HashMap<String, AttributeValue>;

/// Seconds after an item's logical end before DynamoDB may delete it.
pub const TTL_GRACE_SECONDS: i64 = 7 * 24 * 3600;

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, BackendError> {
    serde_dynamo::to_item(value).map_err(corrupt)
}

pub fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, BackendError> {
    serde_dynamo::from_item(item).map_err(corrupt)
}

/// DynamoDB TTL value (epoch seconds) for something that ends at `at`.
pub fn ttl_after(at: Timestamp) -> i64 {
    at.as_millis() / 1000 + TTL_GRACE_SECONDS
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatItem {
    pub id: String,
    pub price_cents: u64,
}

impl From<&HeldSeat> for SeatItem {
    fn from(seat: &HeldSeat) -> Self {
        Self {
            id: seat.id.to_string(),
            price_cents: seat.price.0,
        }
    }
}

fn held_seats(items: &[SeatItem]) -> Result<Vec<HeldSeat>, BackendError> {
    items
        .iter()
        .map(|s| {
            Ok(HeldSeat {
                id: SeatId::parse(&s.id).map_err(corrupt)?,
                price: Cents(s.price_cents),
            })
        })
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetaItem {
    pub pk: String,
    pub sk: String,
    pub tenant: String,
    pub event_id: String,
    pub name: String,
    pub starts_at: i64,
    pub currency: String,
    pub version: u64,
    pub chunks: usize,
    /// `maxSeatsPerCustomer`; absent: no limit (and on every event of the
    /// releases before the limit existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seats_per_customer: Option<u64>,
}

/// Seats of an event as `id:price,id:price`, in event order, and their
/// places on the seat map: 2 000 seats with the longest labels take about
/// 300 KB, under the 400 KB item limit.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsChunkItem {
    pub pk: String,
    pub sk: String,
    /// The event version this chunk belongs to: a read that sees chunks of
    /// two versions (Query is only read-committed) retries.
    pub version: u64,
    pub seats: String,
    /// One record per seat of `seats`, in the same order (ADR 15):
    /// `section US row US number US category`, records joined by RS (the
    /// ASCII unit and record separators, which labels cannot contain); an
    /// empty field is an absent one. Absent when no seat of the chunk has a
    /// place: on every event of the releases before the seat map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<String>,
}

const FIELD_SEPARATOR: char = '\u{1f}';
const RECORD_SEPARATOR: char = '\u{1e}';

pub fn encode_seats(seats: &[Seat]) -> String {
    seats
        .iter()
        .map(|s| format!("{}:{}", s.id, s.price.0))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `places` attribute of a chunk of `seats`, if any of them has a place.
pub fn encode_places(seats: &[Seat]) -> Option<String> {
    if seats.iter().all(|s| s.place == SeatPlace::default()) {
        return None;
    }
    let label = |l: &Option<SeatLabel>| l.as_ref().map_or("", SeatLabel::as_str).to_owned();
    let records: Vec<String> = seats
        .iter()
        .map(|s| {
            [
                label(&s.place.section),
                label(&s.place.row),
                s.place.number.map_or_else(String::new, |n| n.to_string()),
                label(&s.place.category),
            ]
            .join(&FIELD_SEPARATOR.to_string())
        })
        .collect();
    Some(records.join(&RECORD_SEPARATOR.to_string()))
}

pub fn decode_seats(text: &str, places: Option<&str>) -> Result<Vec<Seat>, BackendError> {
    let mut seats = text
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (id, price) = part.rsplit_once(':').ok_or_else(|| corrupt("seat without price"))?;
            Ok(Seat::new(
                SeatId::parse(id).map_err(corrupt)?,
                Cents(price.parse().map_err(corrupt)?),
            ))
        })
        .collect::<Result<Vec<_>, BackendError>>()?;
    if let Some(places) = places {
        let records: Vec<&str> = places.split(RECORD_SEPARATOR).collect();
        if records.len() != seats.len() {
            return Err(corrupt("a place for every seat of the chunk"));
        }
        for (seat, record) in seats.iter_mut().zip(records) {
            seat.place = decode_place(record)?;
        }
    }
    Ok(seats)
}

fn decode_place(record: &str) -> Result<SeatPlace, BackendError> {
    let fields: Vec<&str> = record.split(FIELD_SEPARATOR).collect();
    let [section, row, number, category] = fields[..] else {
        return Err(corrupt("a seat place has four fields"));
    };
    let label = |text: &str| {
        (!text.is_empty())
            .then(|| SeatLabel::parse(text).map_err(corrupt))
            .transpose()
    };
    Ok(SeatPlace {
        section: label(section)?,
        row: label(row)?,
        number: (!number.is_empty())
            .then(|| number.parse::<u32>().map_err(corrupt))
            .transpose()?,
        category: label(category)?,
    })
}

pub fn event_from(meta: &EventMetaItem, seats: Vec<Seat>) -> Result<Event, BackendError> {
    Ok(Event::new(
        TenantId::parse(&meta.tenant).map_err(corrupt)?,
        EventId::parse(&meta.event_id).map_err(corrupt)?,
        &meta.name,
        Timestamp::from_millis(meta.starts_at),
        Currency::parse(&meta.currency).map_err(corrupt)?,
        seats,
    )
    .map_err(|errors| corrupt(format!("{errors:?}")))?
    .with_seat_limit(
        meta.max_seats_per_customer
            .map(SeatLimit::new)
            .transpose()
            .map_err(corrupt)?,
    ))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldItem {
    pub pk: String,
    pub sk: String,
    pub hold_id: String,
    pub tenant: String,
    pub event_id: String,
    pub customer: String,
    pub seats: Vec<SeatItem>,
    pub currency: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at_ms: i64,
    /// DynamoDB TTL (seconds), a week after the hold ends; removed when the
    /// hold is converted, so an order's hold is kept as long as the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// In its customer's tally (placed under a seat limit); absent: not,
    /// as on every hold of the releases before the limit existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts_toward_limit: bool,
}

pub fn status_name(status: HoldStatus) -> &'static str {
    status.as_str()
}

fn status_from(name: &str) -> Result<HoldStatus, BackendError> {
    match name {
        "ACTIVE" => Ok(HoldStatus::Active),
        "RELEASED" => Ok(HoldStatus::Released),
        "EXPIRED" => Ok(HoldStatus::Expired),
        "CONVERTED" => Ok(HoldStatus::Converted),
        other => Err(corrupt(format!("hold status {other}"))),
    }
}

impl HoldItem {
    pub fn new(hold: &Hold, pk: String, sk: &str) -> Self {
        Self {
            pk,
            sk: sk.to_owned(),
            hold_id: hold.id.to_string(),
            tenant: hold.tenant.to_string(),
            event_id: hold.event.to_string(),
            customer: hold.customer.to_string(),
            seats: hold.seats.iter().map(SeatItem::from).collect(),
            currency: hold.currency.to_string(),
            status: status_name(hold.recorded_status).to_owned(),
            created_at: hold.created_at.as_millis(),
            expires_at_ms: hold.expires_at.as_millis(),
            expires_at: Some(ttl_after(hold.expires_at)),
            counts_toward_limit: hold.counts_toward_limit,
        }
    }

    pub fn into_hold(self) -> Result<Hold, BackendError> {
        Ok(Hold {
            id: HoldId::parse(&self.hold_id).map_err(corrupt)?,
            tenant: TenantId::parse(&self.tenant).map_err(corrupt)?,
            event: EventId::parse(&self.event_id).map_err(corrupt)?,
            customer: CustomerId::parse(&self.customer).map_err(corrupt)?,
            seats: held_seats(&self.seats)?,
            currency: Currency::parse(&self.currency).map_err(corrupt)?,
            recorded_status: status_from(&self.status)?,
            created_at: Timestamp::from_millis(self.created_at),
            expires_at: Timestamp::from_millis(self.expires_at_ms),
            counts_toward_limit: self.counts_toward_limit,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub tenant: String,
    pub customer: String,
    pub hold_id: String,
    pub event_id: String,
    pub seats: Vec<SeatItem>,
    pub total_cents: u64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<String>,
    pub created_at: i64,
    /// Set when the order was cancelled (ms); absent on a CONFIRMED order,
    /// so the orders of releases before cancellation read as CONFIRMED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<i64>,
    /// In its customer's tally until cancelled (as its hold was).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts_toward_limit: bool,
}

impl OrderItem {
    pub fn new(order: &Order, pk: String, sk: &str) -> Self {
        Self {
            pk,
            sk: sk.to_owned(),
            order_id: order.id.to_string(),
            tenant: order.tenant.to_string(),
            customer: order.customer.to_string(),
            hold_id: order.hold.to_string(),
            event_id: order.event.to_string(),
            seats: order.seats.iter().map(SeatItem::from).collect(),
            total_cents: order.total.cents.0,
            currency: order.total.currency.to_string(),
            buyer_email: order.buyer.email.clone(),
            buyer_name: order.buyer.name.clone(),
            created_at: order.created_at.as_millis(),
            cancelled_at: order.cancelled_at.map(Timestamp::as_millis),
            counts_toward_limit: order.counts_toward_limit,
        }
    }

    pub fn into_order(self) -> Result<Order, BackendError> {
        Ok(Order {
            id: OrderId::parse(&self.order_id).map_err(corrupt)?,
            tenant: TenantId::parse(&self.tenant).map_err(corrupt)?,
            customer: CustomerId::parse(&self.customer).map_err(corrupt)?,
            hold: HoldId::parse(&self.hold_id).map_err(corrupt)?,
            event: EventId::parse(&self.event_id).map_err(corrupt)?,
            seats: held_seats(&self.seats)?,
            total: Money {
                cents: Cents(self.total_cents),
                currency: Currency::parse(&self.currency).map_err(corrupt)?,
            },
            buyer: Buyer {
                email: self.buyer_email,
                name: self.buyer_name,
            },
            created_at: Timestamp::from_millis(self.created_at),
            cancelled_at: self.cancelled_at.map(Timestamp::from_millis),
            counts_toward_limit: self.counts_toward_limit,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    pub pk: String,
    pub sk: String,
    pub fingerprint: String,
    pub state: String,
    /// Present while IN_PROGRESS; removed on completion.
    #[serde(default)]
    pub lease: String,
    #[serde(default)]
    pub lease_expires_at: i64,
    pub record_expires_at: i64,
    pub expires_at: i64,
    /// The record's order seed (hex), set when the record is created; absent
    /// on records of the release before ADR 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_seed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_location: Option<String>,
}

pub const IN_PROGRESS: &str = "IN_PROGRESS";
pub const HELD_CLAIM: &str = "HELD";
pub const SOLD_CLAIM: &str = "SOLD";
pub const COMPLETED: &str = "COMPLETED";

pub fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_round_trip_through_their_compact_text() {
        let seats = vec![
            Seat::new(SeatId::parse("A-1").unwrap(), Cents(1000)),
            Seat::new(SeatId::parse("B.2").unwrap(), Cents(0)),
        ];
        assert_eq!(encode_places(&seats), None, "no seat map, no attribute");
        assert_eq!(decode_seats(&encode_seats(&seats), None).unwrap(), seats);
        assert!(decode_seats("A1", None).is_err());
    }

    #[test]
    fn places_round_trip_whatever_their_labels_hold_and_a_mismatch_is_corrupt() {
        let label = |text: &str| Some(SeatLabel::parse(text).unwrap());
        let mut seats = vec![
            Seat::new(SeatId::parse("A-1").unwrap(), Cents(1000)),
            Seat::new(SeatId::parse("A-2").unwrap(), Cents(1000)),
            Seat::new(SeatId::parse("loose").unwrap(), Cents(5)),
        ];
        seats[0].place = SeatPlace {
            section: label("Stalls, left: 1"),
            row: label("A"),
            number: Some(0),
            category: label("Prémium"),
        };
        seats[1].place = SeatPlace {
            number: Some(100_000),
            ..SeatPlace::default()
        };
        let places = encode_places(&seats);
        assert_eq!(decode_seats(&encode_seats(&seats), places.as_deref()).unwrap(), seats);
        assert!(decode_seats(&encode_seats(&seats[..2]), places.as_deref()).is_err());
        assert!(decode_seats("A1:1", Some("a\u{1f}b")).is_err(), "four fields");
        assert!(decode_seats("A1:1", Some("\u{1f}\u{1f}x\u{1f}")).is_err(), "a number");
    }
}
