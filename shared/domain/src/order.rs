//! Orders: the sale of a hold's seats, at the prices the hold fixed.

use crate::hold::{HeldSeat, Hold};
use crate::ids::{CustomerId, EventId, HoldId, OrderId, TenantId};
use crate::money::{Money, MoneyError};
use crate::time::Timestamp;

/// A confirmed order. Orders are only ever created CONFIRMED in v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub hold: HoldId,
    pub event: EventId,
    pub seats: Vec<HeldSeat>,
    pub total: Money,
    pub buyer: Buyer,
    pub created_at: Timestamp,
}

/// Optional contact details of the buyer. Never logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buyer {
    pub email: Option<String>,
    pub name: Option<String>,
}

impl Order {
    /// The order a hold becomes; its total uses the prices fixed in the hold.
    pub fn from_hold(id: OrderId, hold: &Hold, buyer: Buyer, now: Timestamp) -> Result<Self, MoneyError> {
        Ok(Self {
            id,
            tenant: hold.tenant.clone(),
            customer: hold.customer.clone(),
            hold: hold.id,
            event: hold.event.clone(),
            seats: hold.seats.clone(),
            total: hold.total()?,
            buyer,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ids::SeatId;
    use crate::money::{Cents, Currency};

    #[test]
    fn an_order_copies_the_holds_seats_and_prices_them_as_the_hold_did() {
        let hold = Hold::place(
            HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            TenantId::parse("acme").unwrap(),
            EventId::parse("gig").unwrap(),
            CustomerId::parse("alice").unwrap(),
            vec![
                HeldSeat {
                    id: SeatId::parse("A1").unwrap(),
                    price: Cents(1200),
                },
                HeldSeat {
                    id: SeatId::parse("A2").unwrap(),
                    price: Cents(800),
                },
            ],
            Currency::parse("GBP").unwrap(),
            Timestamp::from_millis(0),
            Duration::from_secs(60),
        );
        let order = Order::from_hold(
            OrderId::from_u128(7),
            &hold,
            Buyer::default(),
            Timestamp::from_millis(5),
        )
        .unwrap();
        assert_eq!(order.total.cents, Cents(2000));
        assert_eq!(order.total.currency.as_str(), "GBP");
        assert_eq!(order.seats, hold.seats);
        assert_eq!((order.hold, order.customer.as_str()), (hold.id, "alice"));
    }
}
