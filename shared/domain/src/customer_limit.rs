//! The seat limit per customer (`maxSeatsPerCustomer`): how many seats one
//! customer may have in one event, in ACTIVE holds plus CONFIRMED orders.
//!
//! What a customer has is kept as a [`CustomerSeats`] tally: one entry per
//! hold (seats, and until when they count) and per order (seats). An entry
//! is added in the same atomic write as the hold or order it counts, and
//! removed in the same write as its release, conversion or cancellation, so
//! the tally never disagrees with the holds and orders. An expired hold
//! needs no write: its entry stops counting at its `until`, the same instant
//! its seat claims stop blocking (expiry plus the claim grace).
//!
//! Only holds placed while the event has a limit are counted (they are
//! marked [`Hold::counted`](crate::hold::Hold::counted)); introducing a limit
//! on an event with anything held or sold is therefore refused
//! ([`EventConflict::IntroducesLimit`](crate::event::EventConflict::IntroducesLimit)).

use crate::ids::{HoldId, OrderId};
use crate::time::Timestamp;

/// The largest `maxSeatsPerCustomer` an event may set.
pub const MAX_SEATS_PER_CUSTOMER: u32 = 100;

/// A valid `maxSeatsPerCustomer`: 1..=[`MAX_SEATS_PER_CUSTOMER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeatLimit(u32);

/// The limit is outside 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("maxSeatsPerCustomer must be between 1 and {MAX_SEATS_PER_CUSTOMER}")]
pub struct SeatLimitOutOfRange;

impl SeatLimit {
    /// # Errors
    /// [`SeatLimitOutOfRange`] unless `1 <= seats <= 100`.
    pub fn new(seats: u64) -> Result<Self, SeatLimitOutOfRange> {
        u32::try_from(seats)
            .ok()
            .filter(|seats| (1..=MAX_SEATS_PER_CUSTOMER).contains(seats))
            .map(Self)
            .ok_or(SeatLimitOutOfRange)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A hold as its customer's tally counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedHold {
    pub hold: HoldId,
    pub seats: u32,
    /// The hold's seats count while `now < until` (its claims' end).
    pub until: Timestamp,
}

/// An order as its customer's tally counts it: until it is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedOrder {
    pub order: OrderId,
    pub seats: u32,
}

/// What one customer has of one event, as far as the limit counts it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerSeats {
    pub holds: Vec<CountedHold>,
    pub orders: Vec<CountedOrder>,
}

/// Placing the hold would take the customer over the event's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the customer has {current} of the {} seats this event allows each customer", limit.get())]
pub struct LimitReached {
    pub limit: SeatLimit,
    /// The seats the customer has now, without the refused hold.
    pub current: u32,
}

impl CustomerSeats {
    /// The seats that count at `now`: live holds plus orders.
    pub fn count_at(&self, now: Timestamp) -> u32 {
        let held: u32 = self.live_holds(now).map(|hold| hold.seats).sum();
        held + self.orders.iter().map(|order| order.seats).sum::<u32>()
    }

    /// Whether `more` seats fit under `limit` at `now`.
    ///
    /// # Errors
    /// [`LimitReached`] with the count without them.
    pub fn admit(&self, more: usize, limit: SeatLimit, now: Timestamp) -> Result<(), LimitReached> {
        let current = self.count_at(now);
        let more = u32::try_from(more).unwrap_or(u32::MAX);
        if current.saturating_add(more) > limit.get() {
            return Err(LimitReached { limit, current });
        }
        Ok(())
    }

    /// Holds whose entries no longer count at `now`: they may be dropped
    /// from the tally by the next write that checks it.
    pub fn lapsed_holds(&self, now: Timestamp) -> impl Iterator<Item = HoldId> + '_ {
        self.holds
            .iter()
            .filter(move |hold| hold.until <= now)
            .map(|hold| hold.hold)
    }

    fn live_holds(&self, now: Timestamp) -> impl Iterator<Item = &CountedHold> {
        self.holds.iter().filter(move |hold| hold.until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold_id(n: u128) -> HoldId {
        HoldId::parse(&format!("01890a5d-ac96-774b-bcce-{n:012x}")).unwrap()
    }

    fn hold(n: u128, seats: u32, until: i64) -> CountedHold {
        CountedHold {
            hold: hold_id(n),
            seats,
            until: Timestamp::from_millis(until),
        }
    }

    fn order(n: u128, seats: u32) -> CountedOrder {
        CountedOrder {
            order: OrderId::from_u128(n),
            seats,
        }
    }

    #[test]
    fn a_limit_is_between_one_and_a_hundred_seats() {
        assert_eq!(SeatLimit::new(0), Err(SeatLimitOutOfRange));
        assert_eq!(SeatLimit::new(1).unwrap().get(), 1);
        assert_eq!(SeatLimit::new(100).unwrap().get(), 100);
        assert_eq!(SeatLimit::new(101), Err(SeatLimitOutOfRange));
        assert_eq!(SeatLimit::new(u64::MAX), Err(SeatLimitOutOfRange));
    }

    #[test]
    fn live_holds_and_orders_count_and_lapsed_holds_do_not() {
        let seats = CustomerSeats {
            holds: vec![hold(1, 2, 1_000), hold(2, 3, 500)],
            orders: vec![order(3, 1)],
        };
        assert_eq!(seats.count_at(Timestamp::from_millis(499)), 6);
        assert_eq!(
            seats.count_at(Timestamp::from_millis(500)),
            3,
            "a hold stops counting at its until"
        );
        assert_eq!(
            seats.count_at(Timestamp::from_millis(1_000)),
            1,
            "orders count until cancelled"
        );
        assert_eq!(
            seats.lapsed_holds(Timestamp::from_millis(500)).collect::<Vec<_>>(),
            vec![hold_id(2)]
        );
    }

    #[test]
    fn a_hold_is_admitted_up_to_the_limit_and_refused_beyond_with_the_current_count() {
        let limit = SeatLimit::new(4).unwrap();
        let now = Timestamp::from_millis(0);
        let seats = CustomerSeats {
            holds: vec![hold(1, 2, 1_000)],
            orders: vec![order(2, 1)],
        };
        assert_eq!(seats.admit(1, limit, now), Ok(()));
        assert_eq!(seats.admit(2, limit, now), Err(LimitReached { limit, current: 3 }));
        assert_eq!(CustomerSeats::default().admit(4, limit, now), Ok(()));
        assert_eq!(
            CustomerSeats::default().admit(usize::MAX, limit, now),
            Err(LimitReached { limit, current: 0 })
        );
    }
}
