//! Events and their priced seats, and the rules for replacing an event.
//!
//! An organizer may re-`PUT` an event at any time. What a replacement may not
//! do is take back what buyers already have: a held or sold seat cannot
//! disappear, a sold seat's price is history, and the currency is frozen once
//! money is in flight (docs/contract.md, Routes: events).

use std::sync::Arc;

use crate::customer_limit::SeatLimit;
use crate::hold::HeldSeat;
use crate::ids::{EventId, SeatId, TenantId};
use crate::money::Currency;
pub use crate::seat_map::Seat;
use crate::seat_map::{BestAvailable, Pick, SeatRows};
use crate::time::Timestamp;

/// Most seats one event may have.
pub const MAX_SEATS_PER_EVENT: usize = 20_000;
/// Highest seat price, in minor units. Keeps every total far from overflow
/// and within the integers JSON clients represent exactly.
pub const MAX_PRICE_CENTS: u64 = 1_000_000_000_000;
/// Longest event name, in characters.
pub const MAX_EVENT_NAME_CHARS: usize = 200;

/// Where a seat stands right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatStatus {
    Available,
    Held,
    Sold,
}

/// A rule an event definition breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventRuleError {
    #[error("name must not be blank")]
    BlankName,
    #[error("name must be at most {MAX_EVENT_NAME_CHARS} characters")]
    NameTooLong,
    #[error("an event needs at least one seat")]
    NoSeats,
    #[error("an event may have at most {MAX_SEATS_PER_EVENT} seats")]
    TooManySeats,
    #[error("price must be at most {MAX_PRICE_CENTS} cents")]
    PriceTooHigh { index: usize },
    #[error("seat {seat} appears more than once")]
    DuplicateSeat { seat: SeatId, index: usize },
    #[error("seat {seat} has the number of another seat in its section and row")]
    DuplicateSeatNumber { seat: SeatId, index: usize },
}

/// Why a replacement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventConflict {
    #[error("seat {0} is held and cannot be removed")]
    RemovesHeldSeat(SeatId),
    #[error("seat {0} is sold and cannot be removed")]
    RemovesSoldSeat(SeatId),
    #[error("seat {0} is sold and cannot be repriced")]
    RepricesSoldSeat(SeatId),
    #[error("the currency cannot change once seats are held or sold")]
    ChangesCurrency,
    /// Holds and orders made without a limit are not in any customer's
    /// tally, so a limit introduced after them could not count them.
    #[error("a seat limit per customer cannot be introduced once seats are held or sold")]
    IntroducesLimit,
}

/// An event as an organizer defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub tenant: TenantId,
    pub id: EventId,
    pub name: String,
    pub starts_at: Timestamp,
    pub currency: Currency,
    /// `maxSeatsPerCustomer`: none means no limit.
    pub max_seats_per_customer: Option<SeatLimit>,
    seats: Arc<SeatTable>,
}

/// An event's seats, immutable once the event is built and shared by its
/// clones: every place hold reads the event, and copying up to 20 000 seats
/// per read was most of that request's CPU (docs/benchmarks.md, section 5).
#[derive(Debug, PartialEq, Eq)]
struct SeatTable {
    in_order: Vec<Seat>,
    /// Positions in `in_order`, sorted by seat id: lookups by binary search.
    by_id: Vec<usize>,
    /// The seat map's rows, best first, for best-available picks.
    rows: SeatRows,
}

impl SeatTable {
    /// Indexes `seats`; also returns the positions of repeated ids and of
    /// numbers repeated within a row (every occurrence after the first),
    /// which [`Event::new`] rejects.
    fn index(seats: Vec<Seat>) -> (Self, Vec<bool>, Vec<usize>) {
        let mut by_id: Vec<usize> = (0..seats.len()).collect();
        // Stable: equal ids keep their listed order, so the first stays first.
        by_id.sort_by(|a, b| seats[*a].id.cmp(&seats[*b].id));
        let mut repeated = vec![false; seats.len()];
        for pair in by_id.windows(2) {
            if seats[pair[0]].id == seats[pair[1]].id {
                repeated[pair[1]] = true;
            }
        }
        let (rows, repeated_numbers) = SeatRows::index(&seats);
        (
            Self {
                in_order: seats,
                by_id,
                rows,
            },
            repeated,
            repeated_numbers,
        )
    }

    fn get(&self, id: &SeatId) -> Option<&Seat> {
        let position = self
            .by_id
            .binary_search_by(|index| self.in_order[*index].id.cmp(id))
            .ok()?;
        Some(&self.in_order[self.by_id[position]])
    }
}

impl Event {
    /// Builds an event, reporting every rule the definition breaks.
    pub fn new(
        tenant: TenantId,
        id: EventId,
        name: &str,
        starts_at: Timestamp,
        currency: Currency,
        seats: Vec<Seat>,
    ) -> Result<Self, Vec<EventRuleError>> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errors.push(EventRuleError::BlankName);
        } else if name.chars().count() > MAX_EVENT_NAME_CHARS {
            errors.push(EventRuleError::NameTooLong);
        }
        if seats.is_empty() {
            errors.push(EventRuleError::NoSeats);
        } else if seats.len() > MAX_SEATS_PER_EVENT {
            errors.push(EventRuleError::TooManySeats);
        }
        let (seats, repeated, repeated_numbers) = SeatTable::index(seats);
        for (index, seat) in seats.in_order.iter().enumerate() {
            if seat.price.0 > MAX_PRICE_CENTS {
                errors.push(EventRuleError::PriceTooHigh { index });
            }
            if repeated[index] {
                errors.push(EventRuleError::DuplicateSeat {
                    seat: seat.id.clone(),
                    index,
                });
            }
        }
        for index in repeated_numbers {
            errors.push(EventRuleError::DuplicateSeatNumber {
                seat: seats.in_order[index].id.clone(),
                index,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            tenant,
            id,
            name: name.to_owned(),
            starts_at,
            currency,
            max_seats_per_customer: None,
            seats: Arc::new(seats),
        })
    }

    /// Seats in the order the organizer listed them.
    pub fn seats(&self) -> &[Seat] {
        &self.seats.in_order
    }

    pub fn seat(&self, id: &SeatId) -> Option<&Seat> {
        self.seats.get(id)
    }

    /// The best seats for `request` among those for which `unavailable` is
    /// false (see [`crate::seat_map`] for what "best" means).
    pub fn pick_best_available(&self, request: &BestAvailable, unavailable: impl Fn(&SeatId) -> bool) -> Pick {
        self.seats.rows.pick(&self.seats.in_order, request, unavailable)
    }

    /// How many seats match `request`'s filters and are not `unavailable`.
    pub fn count_available(&self, request: &BestAvailable, unavailable: impl Fn(&SeatId) -> bool) -> usize {
        crate::seat_map::count_available(&self.seats.in_order, request, unavailable)
    }

    /// Prices the requested seats at today's prices, or lists the seats the
    /// event does not have, in request order.
    pub fn price_seats(&self, requested: &[SeatId]) -> Result<Vec<HeldSeat>, Vec<SeatId>> {
        let mut priced = Vec::with_capacity(requested.len());
        let mut unknown = Vec::new();
        for id in requested {
            match self.seat(id) {
                Some(seat) => priced.push(HeldSeat {
                    id: seat.id.clone(),
                    price: seat.price,
                }),
                None => unknown.push(id.clone()),
            }
        }
        if unknown.is_empty() { Ok(priced) } else { Err(unknown) }
    }

    /// The same event with a seat limit per customer.
    #[must_use]
    pub fn with_seat_limit(mut self, limit: Option<SeatLimit>) -> Self {
        self.max_seats_per_customer = limit;
        self
    }

    /// Whether `replacement` could break a hold on `self`: it removes a seat,
    /// changes the currency (a hold keeps its prices, so repricing does
    /// not), or introduces a seat limit (holds placed without one are not
    /// counted). Such a replacement is checked and written under a freeze (I9).
    pub fn replacement_can_break_holds(&self, replacement: &Event) -> bool {
        replacement.currency != self.currency
            || self.introduces_limit(replacement)
            || self.seats().iter().any(|seat| replacement.seat(&seat.id).is_none())
    }

    /// The seats `replacement` keeps at another price, in seat order.
    pub fn repriced_seats(&self, replacement: &Event) -> Vec<SeatId> {
        self.seats()
            .iter()
            .filter(|seat| replacement.seat(&seat.id).is_some_and(|new| new.price != seat.price))
            .map(|seat| seat.id.clone())
            .collect()
    }

    fn introduces_limit(&self, replacement: &Event) -> bool {
        self.max_seats_per_customer.is_none() && replacement.max_seats_per_customer.is_some()
    }

    /// Checks that `replacement` may replace `self`, given each current
    /// seat's status. Returns every conflict, in seat order.
    pub fn check_replacement(
        &self,
        replacement: &Event,
        status_of: impl Fn(&SeatId) -> SeatStatus,
    ) -> Result<(), Vec<EventConflict>> {
        let mut conflicts = Vec::new();
        let mut anything_taken = false;
        for seat in self.seats() {
            let status = status_of(&seat.id);
            anything_taken |= status != SeatStatus::Available;
            match (status, replacement.seat(&seat.id)) {
                (SeatStatus::Held, None) => conflicts.push(EventConflict::RemovesHeldSeat(seat.id.clone())),
                (SeatStatus::Sold, None) => conflicts.push(EventConflict::RemovesSoldSeat(seat.id.clone())),
                (SeatStatus::Sold, Some(new)) if new.price != seat.price => {
                    conflicts.push(EventConflict::RepricesSoldSeat(seat.id.clone()));
                }
                _ => {}
            }
        }
        if anything_taken && replacement.currency != self.currency {
            conflicts.push(EventConflict::ChangesCurrency);
        }
        if anything_taken && self.introduces_limit(replacement) {
            conflicts.push(EventConflict::IntroducesLimit);
        }
        if conflicts.is_empty() { Ok(()) } else { Err(conflicts) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Cents;

    fn seat(id: &str, price: u64) -> Seat {
        Seat::new(SeatId::parse(id).unwrap(), Cents(price))
    }

    fn event(currency: &str, seats: Vec<Seat>) -> Result<Event, Vec<EventRuleError>> {
        Event::new(
            TenantId::parse("acme").unwrap(),
            EventId::parse("gig").unwrap(),
            "  The Gig ",
            Timestamp::from_millis(0),
            Currency::parse(currency).unwrap(),
            seats,
        )
    }

    fn status(sold: &[&str], held: &[&str]) -> impl Fn(&SeatId) -> SeatStatus {
        let sold: Vec<String> = sold.iter().map(|s| (*s).to_owned()).collect();
        let held: Vec<String> = held.iter().map(|s| (*s).to_owned()).collect();
        move |id| {
            if sold.iter().any(|s| s == id.as_str()) {
                SeatStatus::Sold
            } else if held.iter().any(|s| s == id.as_str()) {
                SeatStatus::Held
            } else {
                SeatStatus::Available
            }
        }
    }

    #[test]
    fn an_event_keeps_its_seats_in_the_order_given_and_a_trimmed_name() {
        let e = event("EUR", vec![seat("B", 1), seat("A", 2)]).unwrap();
        assert_eq!(e.name, "The Gig");
        let ids: Vec<&str> = e.seats().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["B", "A"]);
    }

    #[test]
    fn an_event_without_seats_is_rejected() {
        assert_eq!(event("EUR", vec![]), Err(vec![EventRuleError::NoSeats]));
    }

    #[test]
    fn an_event_with_more_than_twenty_thousand_seats_is_rejected() {
        let seats = (0..=MAX_SEATS_PER_EVENT).map(|i| seat(&format!("s{i}"), 1)).collect();
        assert_eq!(event("EUR", seats), Err(vec![EventRuleError::TooManySeats]));
    }

    #[test]
    fn every_seat_is_found_by_id_with_its_own_price_whatever_the_listed_order() {
        // Listed out of id order (descending, numbers as text), prices unique per seat.
        let listed: Vec<Seat> = (0..1000_u64).rev().map(|i| seat(&format!("R{i}"), 100 + i)).collect();
        let e = event("EUR", listed).unwrap();
        for i in 0..1000_u64 {
            let id = SeatId::parse(&format!("R{i}")).unwrap();
            assert_eq!(e.seat(&id).map(|s| s.price), Some(Cents(100 + i)), "seat R{i}");
        }
        for missing in ["R1000", "R", "Q5", "S0", "r1"] {
            assert_eq!(e.seat(&SeatId::parse(missing).unwrap()), None, "{missing}");
        }
        assert_eq!(
            e.seats().first().map(|s| s.id.as_str()),
            Some("R999"),
            "listed order kept"
        );
    }

    #[test]
    fn every_repeated_seat_id_is_reported_with_its_position() {
        let errors = event("EUR", vec![seat("A", 1), seat("A", 2), seat("B", 1), seat("B", 1)]).unwrap_err();
        assert_eq!(
            errors,
            vec![
                EventRuleError::DuplicateSeat {
                    seat: SeatId::parse("A").unwrap(),
                    index: 1
                },
                EventRuleError::DuplicateSeat {
                    seat: SeatId::parse("B").unwrap(),
                    index: 3
                },
            ]
        );
    }

    #[test]
    fn a_price_above_the_maximum_is_rejected_with_its_position() {
        let errors = event("EUR", vec![seat("A", MAX_PRICE_CENTS), seat("B", MAX_PRICE_CENTS + 1)]);
        assert_eq!(errors, Err(vec![EventRuleError::PriceTooHigh { index: 1 }]));
    }

    #[test]
    fn a_blank_or_overlong_name_is_rejected() {
        let base = event("EUR", vec![seat("A", 1)]).unwrap();
        let blank = Event::new(
            base.tenant.clone(),
            base.id.clone(),
            "  ",
            base.starts_at,
            base.currency,
            vec![seat("A", 1)],
        );
        assert_eq!(blank, Err(vec![EventRuleError::BlankName]));
        let long = "n".repeat(MAX_EVENT_NAME_CHARS + 1);
        let long = Event::new(
            base.tenant,
            base.id,
            &long,
            base.starts_at,
            base.currency,
            vec![seat("A", 1)],
        );
        assert_eq!(long, Err(vec![EventRuleError::NameTooLong]));
    }

    #[test]
    fn pricing_seats_uses_todays_prices_and_lists_unknown_seats_in_request_order() {
        let e = event("EUR", vec![seat("A", 100), seat("B", 200)]).unwrap();
        let ids = |names: &[&str]| names.iter().map(|n| SeatId::parse(n).unwrap()).collect::<Vec<_>>();
        let priced = e.price_seats(&ids(&["B", "A"])).unwrap();
        assert_eq!(
            priced.iter().map(|s| s.price).collect::<Vec<_>>(),
            [Cents(200), Cents(100)]
        );
        assert_eq!(e.price_seats(&ids(&["Z", "A", "Y"])), Err(ids(&["Z", "Y"])));
    }

    #[test]
    fn a_replacement_may_add_seats_and_reprice_unsold_ones() {
        let current = event("EUR", vec![seat("A", 100), seat("B", 100)]).unwrap();
        let new = event("EUR", vec![seat("A", 150), seat("B", 100), seat("C", 100)]).unwrap();
        assert_eq!(current.check_replacement(&new, status(&["B"], &["A"])), Ok(()));
    }

    #[test]
    fn only_removing_a_seat_or_changing_the_currency_can_break_a_hold() {
        let old = event("EUR", vec![seat("A", 1), seat("B", 2)]).unwrap();
        let repriced_and_grown = event("EUR", vec![seat("A", 5), seat("B", 2), seat("C", 3)]).unwrap();
        assert!(!old.replacement_can_break_holds(&repriced_and_grown));
        assert!(old.replacement_can_break_holds(&event("EUR", vec![seat("A", 1)]).unwrap()));
        assert!(old.replacement_can_break_holds(&event("USD", vec![seat("A", 1), seat("B", 2)]).unwrap()));
    }

    #[test]
    fn a_replacement_may_not_remove_held_or_sold_seats_or_reprice_sold_ones() {
        let current = event(
            "EUR",
            vec![seat("A", 100), seat("B", 100), seat("C", 100), seat("D", 1)],
        )
        .unwrap();
        let new = event("EUR", vec![seat("C", 999), seat("D", 2)]).unwrap();
        assert_eq!(
            current.check_replacement(&new, status(&["B", "C"], &["A"])),
            Err(vec![
                EventConflict::RemovesHeldSeat(SeatId::parse("A").unwrap()),
                EventConflict::RemovesSoldSeat(SeatId::parse("B").unwrap()),
                EventConflict::RepricesSoldSeat(SeatId::parse("C").unwrap()),
            ])
        );
    }

    #[test]
    fn the_currency_may_change_only_while_nothing_is_held_or_sold() {
        let current = event("EUR", vec![seat("A", 100)]).unwrap();
        let in_usd = event("USD", vec![seat("A", 100)]).unwrap();
        assert_eq!(current.check_replacement(&in_usd, status(&[], &[])), Ok(()));
        assert_eq!(
            current.check_replacement(&in_usd, status(&[], &["A"])),
            Err(vec![EventConflict::ChangesCurrency])
        );
    }

    #[test]
    fn a_seat_limit_may_be_introduced_only_while_nothing_is_held_or_sold_and_changed_any_time() {
        let limit = |n| Some(crate::customer_limit::SeatLimit::new(n).unwrap());
        let open = event("EUR", vec![seat("A", 100), seat("B", 100)]).unwrap();
        let limited = open.clone().with_seat_limit(limit(4));
        assert!(
            open.replacement_can_break_holds(&limited),
            "introducing a limit is checked under a freeze"
        );
        assert_eq!(open.check_replacement(&limited, status(&[], &[])), Ok(()));
        assert_eq!(
            open.check_replacement(&limited, status(&[], &["A"])),
            Err(vec![EventConflict::IntroducesLimit])
        );
        assert_eq!(
            open.check_replacement(&limited, status(&["B"], &[])),
            Err(vec![EventConflict::IntroducesLimit])
        );
        // Every hold placed under a limit is counted: raising, lowering or
        // lifting it never breaks one.
        for changed in [limit(2), limit(100), None] {
            let replacement = open.clone().with_seat_limit(changed);
            assert!(!limited.replacement_can_break_holds(&replacement), "{changed:?}");
            assert_eq!(limited.check_replacement(&replacement, status(&["B"], &["A"])), Ok(()));
        }
    }
}
