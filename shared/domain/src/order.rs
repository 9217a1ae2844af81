//! Orders: the sale of a hold's seats, at the prices the hold fixed.
//!
//! An order is born CONFIRMED and may end CANCELLED, once, before its event
//! starts; its seats are then for sale again. Cancelling twice is harmless.

use crate::hold::{HeldSeat, Hold};
use crate::identity::Identity;
use crate::ids::{CustomerId, EventId, HoldId, OrderId, TenantId};
use crate::money::{Money, MoneyError};
use crate::time::Timestamp;

/// Where an order is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// What cancelling an order at some instant does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// The order is CONFIRMED and its event has not started: cancel it.
    Cancel,
    /// Cancelled before: answer with it as it is.
    AlreadyCancelled,
}

/// An order whose event has started can no longer be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event has started; the order can no longer be cancelled")]
pub struct NotCancellable;

/// An order: CONFIRMED when created, CANCELLED once `cancelled_at` is set.
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
    pub cancelled_at: Option<Timestamp>,
    /// Its hold counted toward the event's seat limit, so it does too,
    /// until it is cancelled.
    pub counts_toward_limit: bool,
}

/// Optional contact details of the buyer. Never logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buyer {
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Longest buyer name or e-mail we keep.
pub const MAX_BUYER_FIELD_CHARS: usize = 320;

/// A rule the buyer's details break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuyerError {
    #[error("must be at most {MAX_BUYER_FIELD_CHARS} characters")]
    EmailTooLong,
    #[error("must be at most {MAX_BUYER_FIELD_CHARS} characters")]
    NameTooLong,
    #[error("must be an e-mail address")]
    EmailNotAnAddress,
}

impl Buyer {
    /// The buyer's details, checked.
    ///
    /// # Errors
    /// Every rule they break, in the order: e-mail too long, name too long,
    /// e-mail without `@`.
    pub fn new(email: Option<String>, name: Option<String>) -> Result<Self, Vec<BuyerError>> {
        let too_long = |text: &Option<String>| {
            text.as_ref()
                .is_some_and(|text| text.chars().count() > MAX_BUYER_FIELD_CHARS)
        };
        let mut errors = Vec::new();
        if too_long(&email) {
            errors.push(BuyerError::EmailTooLong);
        }
        if too_long(&name) {
            errors.push(BuyerError::NameTooLong);
        }
        if email.as_ref().is_some_and(|email| !email.contains('@')) {
            errors.push(BuyerError::EmailNotAnAddress);
        }
        if errors.is_empty() {
            Ok(Self { email, name })
        } else {
            Err(errors)
        }
    }
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
            cancelled_at: None,
            counts_toward_limit: hold.counts_toward_limit,
        })
    }

    /// Its entry in its customer's tally.
    pub fn counted(&self) -> crate::customer_limit::CountedOrder {
        crate::customer_limit::CountedOrder {
            order: self.id,
            seats: u32::try_from(self.seats.len()).unwrap_or(u32::MAX),
        }
    }

    pub fn status(&self) -> OrderStatus {
        if self.cancelled_at.is_some() {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Confirmed
        }
    }

    /// Who may cancel it: its customer, or an organizer of its tenant.
    /// Anyone else must not learn it exists (I4). (Reading it, get-order,
    /// stays with its customer, as docs/contract.md says.)
    pub fn is_visible_to(&self, caller: &Identity) -> bool {
        caller.tenant == self.tenant && (caller.customer == self.customer || caller.is_organizer())
    }

    /// What cancelling it at `now` does, for an event starting at `starts_at`.
    /// A cancelled order stays cancelled, also after the event started.
    ///
    /// # Errors
    /// [`NotCancellable`] for a CONFIRMED order once the event has started.
    pub fn cancellation(&self, now: Timestamp, starts_at: Timestamp) -> Result<Cancellation, NotCancellable> {
        match self.status() {
            OrderStatus::Cancelled => Ok(Cancellation::AlreadyCancelled),
            OrderStatus::Confirmed if now >= starts_at => Err(NotCancellable),
            OrderStatus::Confirmed => Ok(Cancellation::Cancel),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_buyer_breaks_every_rule_it_breaks_and_keeps_what_it_was_given() {
        let long = "a".repeat(MAX_BUYER_FIELD_CHARS + 1);
        assert_eq!(
            Buyer::new(Some(long.clone()), Some(long)),
            Err(vec![
                BuyerError::EmailTooLong,
                BuyerError::NameTooLong,
                BuyerError::EmailNotAnAddress
            ])
        );
        let email = format!("{}@x", "a".repeat(MAX_BUYER_FIELD_CHARS - 2));
        assert_eq!(
            Buyer::new(Some(email.clone()), None),
            Ok(Buyer {
                email: Some(email),
                name: None
            })
        );
        assert_eq!(Buyer::new(None, None), Ok(Buyer::default()));
    }

    use std::time::Duration;

    use super::*;
    use crate::ids::SeatId;
    use crate::money::{Cents, Currency};

    fn order() -> Order {
        let hold = Hold::place(
            HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            TenantId::parse("acme").unwrap(),
            EventId::parse("gig").unwrap(),
            CustomerId::parse("alice").unwrap(),
            vec![HeldSeat {
                id: SeatId::parse("A1").unwrap(),
                price: Cents(1200),
            }],
            Currency::parse("EUR").unwrap(),
            Timestamp::from_millis(0),
            Duration::from_secs(60),
        );
        Order::from_hold(
            OrderId::from_u128(7),
            &hold,
            Buyer::default(),
            Timestamp::from_millis(5),
        )
        .unwrap()
    }

    fn caller(tenant: &str, customer: &str, roles: &[&str]) -> Identity {
        Identity {
            tenant: TenantId::parse(tenant).unwrap(),
            customer: CustomerId::parse(customer).unwrap(),
            roles: roles.iter().map(|r| crate::identity::Role::parse(r)).collect(),
        }
    }

    #[test]
    fn an_order_is_confirmed_until_cancelled() {
        let mut o = order();
        assert_eq!(o.status(), OrderStatus::Confirmed);
        o.cancelled_at = Some(Timestamp::from_millis(9));
        assert_eq!(o.status().as_str(), "CANCELLED");
    }

    #[test]
    fn only_its_customer_or_an_organizer_of_its_tenant_sees_an_order() {
        let o = order();
        assert!(o.is_visible_to(&caller("acme", "alice", &[])));
        assert!(o.is_visible_to(&caller("acme", "boss", &["organizer"])));
        assert!(!o.is_visible_to(&caller("acme", "bob", &[])));
        assert!(!o.is_visible_to(&caller("evil", "alice", &[])));
        assert!(!o.is_visible_to(&caller("evil", "boss", &["organizer"])));
    }

    #[test]
    fn an_order_can_be_cancelled_until_its_event_starts_and_cancelling_again_is_harmless() {
        let mut o = order();
        let starts = Timestamp::from_millis(1_000);
        assert_eq!(
            o.cancellation(Timestamp::from_millis(999), starts),
            Ok(Cancellation::Cancel)
        );
        assert_eq!(o.cancellation(starts, starts), Err(NotCancellable));
        o.cancelled_at = Some(Timestamp::from_millis(500));
        assert_eq!(o.cancellation(starts, starts), Ok(Cancellation::AlreadyCancelled));
    }

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
