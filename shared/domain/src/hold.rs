//! Holds: a short, exclusive claim on some seats of one event.
//!
//! A hold is born ACTIVE with every seat it asked for (I2) and ends exactly
//! once: RELEASED by its customer, CONVERTED into an order, or EXPIRED when its
//! time runs out. Expiry is computed from `expires_at`, never from a stored
//! flag, so no background job is needed and no store's TTL deletion timing can
//! change an answer.

use std::collections::HashSet;
use std::time::Duration;

use crate::ids::{CustomerId, EventId, HoldId, SeatId, TenantId};
use crate::money::{Cents, Currency, Money, MoneyError};
use crate::time::Timestamp;

/// Shortest hold a buyer may ask for.
pub const MIN_HOLD_TTL: Duration = Duration::from_secs(60);
/// Longest hold a buyer may ask for.
pub const MAX_HOLD_TTL: Duration = Duration::from_secs(1800);
/// Shortest and longest lifetime configuration may allow a hold in all,
/// extensions included (`HOLD_MAX_LIFETIME_SECONDS`).
pub const MIN_HOLD_LIFETIME: Duration = Duration::from_secs(60);
pub const MAX_HOLD_LIFETIME: Duration = Duration::from_secs(7200);

/// How long a seat stays claimed after its hold expires, in the durable
/// claims and in the seat locks alike. It is longer than the slowest order
/// commit (one send is bounded by 2 s, see ADR 12), so a commit that passed
/// its expiry check is never overtaken by a new hold, and it absorbs clock
/// differences between instances. A seat returns to sale this long after its
/// hold expires; availability and place-hold agree on it.
pub const CLAIM_GRACE: Duration = Duration::from_secs(5);

/// What the durable store says of a seat that has a claim (I7). A seat with
/// no claim is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatClaim {
    /// Claimed by a hold until `until` (its expiry plus [`CLAIM_GRACE`]),
    /// unless the hold is released or converted first.
    HeldBy { hold: HoldId, until: Timestamp },
    /// Sold: refused to every later hold.
    Sold,
}

impl SeatClaim {
    /// Whether this claim keeps `hold` from claiming the seat at `now`.
    pub fn blocks(&self, hold: HoldId, now: Timestamp) -> bool {
        match *self {
            Self::Sold => true,
            Self::HeldBy { hold: owner, until } => owner != hold && until > now,
        }
    }

    /// Whether the claim still counts at `now` for anybody (sold, or held
    /// and not yet run out).
    pub fn is_live(&self, now: Timestamp) -> bool {
        match *self {
            Self::Sold => true,
            Self::HeldBy { until, .. } => until > now,
        }
    }
}

/// A seat under a hold, with the price fixed when the hold was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSeat {
    pub id: SeatId,
    pub price: Cents,
}

/// Where a hold is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    Active,
    Released,
    Expired,
    Converted,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Released => "RELEASED",
            Self::Expired => "EXPIRED",
            Self::Converted => "CONVERTED",
        }
    }
}

/// Limits that configuration sets on hold requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    pub max_seats: usize,
    pub default_ttl: Duration,
    /// How long after its creation a hold may last at most, extensions
    /// included: extending never moves its expiry past `createdAt` plus this.
    pub max_lifetime: Duration,
}

/// A rule a hold request breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldRequestError {
    #[error("at least one seat is required")]
    NoSeats,
    #[error("at most {max} seats may be held at once")]
    TooManySeats { max: usize },
    #[error("seat {seat} is requested more than once")]
    DuplicateSeat { seat: SeatId, index: usize },
    #[error("ttlSeconds must be between 60 and 1800")]
    TtlOutOfRange,
}

/// Checks an extension's `ttlSeconds` (the same range as a new hold's).
///
/// # Errors
/// [`HoldRequestError::TtlOutOfRange`] outside 60..=1800 seconds.
pub fn extension_ttl(ttl_seconds: u64) -> Result<Duration, HoldRequestError> {
    let ttl = Duration::from_secs(ttl_seconds);
    if (MIN_HOLD_TTL..=MAX_HOLD_TTL).contains(&ttl) {
        Ok(ttl)
    } else {
        Err(HoldRequestError::TtlOutOfRange)
    }
}

/// A validated request for seats: unique, within the policy's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    seats: Vec<SeatId>,
    ttl: Duration,
}

impl HoldRequest {
    /// Checks the request against the policy, reporting every broken rule.
    pub fn new(
        seats: Vec<SeatId>,
        ttl_seconds: Option<u64>,
        policy: HoldPolicy,
    ) -> Result<Self, Vec<HoldRequestError>> {
        let mut errors = Vec::new();
        if seats.is_empty() {
            errors.push(HoldRequestError::NoSeats);
        } else if seats.len() > policy.max_seats {
            errors.push(HoldRequestError::TooManySeats { max: policy.max_seats });
        }
        let mut seen = HashSet::with_capacity(seats.len());
        for (index, seat) in seats.iter().enumerate() {
            if !seen.insert(seat) {
                errors.push(HoldRequestError::DuplicateSeat {
                    seat: seat.clone(),
                    index,
                });
            }
        }
        let ttl = ttl_seconds.map_or(policy.default_ttl, Duration::from_secs);
        if !(MIN_HOLD_TTL..=MAX_HOLD_TTL).contains(&ttl) {
            errors.push(HoldRequestError::TtlOutOfRange);
        }
        if errors.is_empty() {
            Ok(Self { seats, ttl })
        } else {
            Err(errors)
        }
    }

    pub fn seats(&self) -> &[SeatId] {
        &self.seats
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

/// Why a hold cannot become an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoldUnusable {
    #[error("the hold has expired")]
    Expired,
    #[error("the hold is {0:?}, not active")]
    NotActive(HoldStatus),
}

/// Why a hold cannot be extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExtendRefusal {
    #[error("the hold has expired")]
    Expired,
    #[error("the hold is {0:?}, not active")]
    NotActive(HoldStatus),
    /// Its expiry is already at `createdAt` plus the maximum lifetime.
    #[error("the hold already lasts as long as a hold may")]
    LifetimeExceeded,
}

/// What releasing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// The hold was active and is now released: its seats must be unlocked.
    Released,
    /// The hold had already ended (released or expired): nothing to do.
    AlreadyEnded,
}

/// A converted hold belongs to an order and can no longer be released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hold was converted into an order")]
pub struct HoldConverted;

/// A hold on seats of one event for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub tenant: TenantId,
    pub event: EventId,
    pub customer: CustomerId,
    pub seats: Vec<HeldSeat>,
    pub currency: Currency,
    /// The status as last written. Use [`Hold::status_at`] for the truth.
    pub recorded_status: HoldStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Placed while its event had a seat limit: its seats are in the
    /// customer's tally, which its release, extension and order update.
    pub counts_toward_limit: bool,
}

impl Hold {
    /// A new ACTIVE hold on exactly the priced seats.
    #[allow(clippy::too_many_arguments)] // Each is a distinct, required fact of a new hold.
    pub fn place(
        id: HoldId,
        tenant: TenantId,
        event: EventId,
        customer: CustomerId,
        seats: Vec<HeldSeat>,
        currency: Currency,
        now: Timestamp,
        ttl: Duration,
    ) -> Self {
        Self {
            id,
            tenant,
            event,
            customer,
            seats,
            currency,
            recorded_status: HoldStatus::Active,
            created_at: now,
            expires_at: now.plus(ttl),
            counts_toward_limit: false,
        }
    }

    /// The same hold, counted in its customer's tally for the event's limit.
    #[must_use]
    pub fn counted_toward_limit(mut self) -> Self {
        self.counts_toward_limit = true;
        self
    }

    /// Its entry in its customer's tally.
    pub fn counted(&self) -> crate::customer_limit::CountedHold {
        crate::customer_limit::CountedHold {
            hold: self.id,
            seats: u32::try_from(self.seats.len()).unwrap_or(u32::MAX),
            until: self.claim_until(),
        }
    }

    /// The status at `now`: an ACTIVE hold whose time is up is EXPIRED.
    pub fn status_at(&self, now: Timestamp) -> HoldStatus {
        match self.recorded_status {
            HoldStatus::Active if now >= self.expires_at => HoldStatus::Expired,
            status => status,
        }
    }

    /// Until when its seats stay claimed: expiry plus [`CLAIM_GRACE`].
    pub fn claim_until(&self) -> Timestamp {
        self.expires_at.plus(CLAIM_GRACE)
    }

    /// The claim this hold writes on each of its seats.
    pub fn claim(&self) -> SeatClaim {
        SeatClaim::HeldBy {
            hold: self.id,
            until: self.claim_until(),
        }
    }

    pub fn seat_ids(&self) -> Vec<SeatId> {
        self.seats.iter().map(|seat| seat.id.clone()).collect()
    }

    pub fn is_owned_by(&self, tenant: &TenantId, customer: &CustomerId) -> bool {
        &self.tenant == tenant && &self.customer == customer
    }

    /// Ends the hold at its customer's request. Releasing twice is harmless;
    /// a converted hold cannot be released.
    pub fn release(&mut self, now: Timestamp) -> Result<ReleaseOutcome, HoldConverted> {
        match self.status_at(now) {
            HoldStatus::Active => {
                self.recorded_status = HoldStatus::Released;
                Ok(ReleaseOutcome::Released)
            }
            HoldStatus::Released | HoldStatus::Expired => Ok(ReleaseOutcome::AlreadyEnded),
            HoldStatus::Converted => Err(HoldConverted),
        }
    }

    /// Checks that the hold can be turned into an order at `now`.
    pub fn check_convertible(&self, now: Timestamp) -> Result<(), HoldUnusable> {
        match self.status_at(now) {
            HoldStatus::Active => Ok(()),
            HoldStatus::Expired => Err(HoldUnusable::Expired),
            status => Err(HoldUnusable::NotActive(status)),
        }
    }

    /// The expiry an extension by `ttl` at `now` gives: `now + ttl`, capped at
    /// `created_at + max_lifetime` (docs/contract.md: so a ttl shorter than
    /// the time left shortens the hold).
    ///
    /// # Errors
    /// [`ExtendRefusal`] if the hold is not ACTIVE at `now`, or its expiry
    /// already is the cap.
    pub fn extended_expiry(
        &self,
        now: Timestamp,
        ttl: Duration,
        max_lifetime: Duration,
    ) -> Result<Timestamp, ExtendRefusal> {
        match self.status_at(now) {
            HoldStatus::Active => {}
            HoldStatus::Expired => return Err(ExtendRefusal::Expired),
            status => return Err(ExtendRefusal::NotActive(status)),
        }
        let cap = self.created_at.plus(max_lifetime);
        if self.expires_at >= cap {
            return Err(ExtendRefusal::LifetimeExceeded);
        }
        Ok(now.plus(ttl).min(cap))
    }

    /// The sum of the prices fixed when the hold was placed.
    pub fn total(&self) -> Result<Money, MoneyError> {
        Money::sum(self.currency, self.seats.iter().map(|seat| seat.price))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: HoldPolicy = HoldPolicy {
        max_seats: 3,
        default_ttl: Duration::from_secs(600),
        max_lifetime: Duration::from_secs(1800),
    };

    fn seats(names: &[&str]) -> Vec<SeatId> {
        names.iter().map(|n| SeatId::parse(n).unwrap()).collect()
    }

    fn hold(now: i64) -> Hold {
        Hold::place(
            HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            TenantId::parse("acme").unwrap(),
            EventId::parse("gig").unwrap(),
            CustomerId::parse("alice").unwrap(),
            vec![
                HeldSeat {
                    id: SeatId::parse("A1").unwrap(),
                    price: Cents(1000),
                },
                HeldSeat {
                    id: SeatId::parse("A2").unwrap(),
                    price: Cents(2500),
                },
            ],
            Currency::parse("EUR").unwrap(),
            Timestamp::from_millis(now),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn a_request_without_ttl_gets_the_default_ttl() {
        let request = HoldRequest::new(seats(&["A"]), None, POLICY).unwrap();
        assert_eq!(request.ttl(), Duration::from_secs(600));
    }

    #[test]
    fn a_ttl_below_60_or_above_1800_seconds_is_rejected() {
        assert!(HoldRequest::new(seats(&["A"]), Some(60), POLICY).is_ok());
        assert!(HoldRequest::new(seats(&["A"]), Some(1800), POLICY).is_ok());
        for ttl in [0, 59, 1801] {
            assert_eq!(
                HoldRequest::new(seats(&["A"]), Some(ttl), POLICY),
                Err(vec![HoldRequestError::TtlOutOfRange]),
                "{ttl}"
            );
        }
    }

    #[test]
    fn a_request_for_no_seats_or_more_than_the_maximum_is_rejected() {
        assert_eq!(
            HoldRequest::new(vec![], None, POLICY),
            Err(vec![HoldRequestError::NoSeats])
        );
        assert_eq!(
            HoldRequest::new(seats(&["A", "B", "C", "D"]), None, POLICY),
            Err(vec![HoldRequestError::TooManySeats { max: 3 }])
        );
    }

    #[test]
    fn a_seat_requested_twice_is_reported_at_its_second_position() {
        assert_eq!(
            HoldRequest::new(seats(&["A", "B", "A"]), None, POLICY),
            Err(vec![HoldRequestError::DuplicateSeat {
                seat: SeatId::parse("A").unwrap(),
                index: 2
            }])
        );
    }

    #[test]
    fn a_hold_is_active_until_its_expiry_instant_and_expired_from_then_on() {
        let h = hold(0);
        assert_eq!(h.expires_at, Timestamp::from_millis(60_000));
        assert_eq!(h.status_at(Timestamp::from_millis(59_999)), HoldStatus::Active);
        assert_eq!(h.status_at(Timestamp::from_millis(60_000)), HoldStatus::Expired);
    }

    #[test]
    fn releasing_an_active_hold_ends_it_and_releasing_again_is_harmless() {
        let mut h = hold(0);
        let now = Timestamp::from_millis(1);
        assert_eq!(h.release(now), Ok(ReleaseOutcome::Released));
        assert_eq!(h.status_at(now), HoldStatus::Released);
        assert_eq!(h.release(now), Ok(ReleaseOutcome::AlreadyEnded));
    }

    #[test]
    fn releasing_an_expired_hold_changes_nothing() {
        let mut h = hold(0);
        assert_eq!(
            h.release(Timestamp::from_millis(70_000)),
            Ok(ReleaseOutcome::AlreadyEnded)
        );
        assert_eq!(h.recorded_status, HoldStatus::Active);
    }

    #[test]
    fn a_converted_hold_cannot_be_released() {
        let mut h = hold(0);
        h.recorded_status = HoldStatus::Converted;
        assert_eq!(h.release(Timestamp::from_millis(1)), Err(HoldConverted));
    }

    #[test]
    fn only_an_active_unexpired_hold_is_convertible() {
        let mut h = hold(0);
        assert_eq!(h.check_convertible(Timestamp::from_millis(1)), Ok(()));
        assert_eq!(
            h.check_convertible(Timestamp::from_millis(60_000)),
            Err(HoldUnusable::Expired)
        );
        h.recorded_status = HoldStatus::Released;
        assert_eq!(
            h.check_convertible(Timestamp::from_millis(1)),
            Err(HoldUnusable::NotActive(HoldStatus::Released))
        );
    }

    #[test]
    fn a_seat_stays_claimed_for_the_grace_after_its_hold_expires_and_sold_is_forever() {
        let h = hold(0);
        let other = HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8058").unwrap();
        let claim = h.claim();
        assert_eq!(h.claim_until(), Timestamp::from_millis(65_000));
        assert!(claim.blocks(other, Timestamp::from_millis(64_999)));
        assert!(!claim.blocks(other, Timestamp::from_millis(65_000)));
        assert!(
            !claim.blocks(h.id, Timestamp::from_millis(1)),
            "a hold never blocks itself"
        );
        assert!(claim.is_live(Timestamp::from_millis(64_999)));
        assert!(!claim.is_live(Timestamp::from_millis(65_000)));
        assert!(SeatClaim::Sold.blocks(h.id, Timestamp::from_millis(i64::MAX)));
        assert!(SeatClaim::Sold.is_live(Timestamp::from_millis(i64::MAX)));
    }

    const LIFETIME: Duration = Duration::from_secs(300);

    #[test]
    fn an_extension_runs_from_now_not_from_the_old_expiry() {
        // Placed at 0 for 60 s; extended at 50 s by 120 s.
        let h = hold(0);
        assert_eq!(
            h.extended_expiry(Timestamp::from_millis(50_000), Duration::from_secs(120), LIFETIME),
            Ok(Timestamp::from_millis(170_000))
        );
    }

    #[test]
    fn an_extension_stops_at_the_maximum_lifetime() {
        let h = hold(0);
        assert_eq!(
            h.extended_expiry(Timestamp::from_millis(50_000), Duration::from_secs(1800), LIFETIME),
            Ok(Timestamp::from_millis(300_000))
        );
    }

    #[test]
    fn a_hold_already_at_its_maximum_lifetime_cannot_be_extended() {
        let mut h = hold(0);
        h.expires_at = Timestamp::from_millis(300_000);
        assert_eq!(
            h.extended_expiry(Timestamp::from_millis(50_000), Duration::from_secs(60), LIFETIME),
            Err(ExtendRefusal::LifetimeExceeded)
        );
    }

    #[test]
    fn an_extension_shorter_than_the_time_left_shortens_the_hold() {
        let mut h = hold(0);
        h.expires_at = Timestamp::from_millis(250_000);
        assert_eq!(
            h.extended_expiry(Timestamp::from_millis(10_000), Duration::from_secs(60), LIFETIME),
            Ok(Timestamp::from_millis(70_000))
        );
    }

    #[test]
    fn only_an_active_unexpired_hold_can_be_extended() {
        let mut h = hold(0);
        assert_eq!(
            h.extended_expiry(Timestamp::from_millis(60_000), Duration::from_secs(60), LIFETIME),
            Err(ExtendRefusal::Expired)
        );
        for status in [HoldStatus::Released, HoldStatus::Converted] {
            h.recorded_status = status;
            assert_eq!(
                h.extended_expiry(Timestamp::from_millis(1), Duration::from_secs(60), LIFETIME),
                Err(ExtendRefusal::NotActive(status))
            );
        }
    }

    #[test]
    fn an_extension_ttl_has_the_range_of_a_new_hold() {
        assert_eq!(extension_ttl(60), Ok(Duration::from_secs(60)));
        assert_eq!(extension_ttl(1800), Ok(Duration::from_secs(1800)));
        assert_eq!(extension_ttl(59), Err(HoldRequestError::TtlOutOfRange));
        assert_eq!(extension_ttl(1801), Err(HoldRequestError::TtlOutOfRange));
    }

    #[test]
    fn the_total_is_the_sum_of_the_prices_fixed_at_hold_time() {
        assert_eq!(hold(0).total().map(|m| m.cents), Ok(Cents(3500)));
    }

    #[test]
    fn a_hold_belongs_only_to_its_tenant_and_customer() {
        let h = hold(0);
        let acme = TenantId::parse("acme").unwrap();
        let other = TenantId::parse("other").unwrap();
        let alice = CustomerId::parse("alice").unwrap();
        let bob = CustomerId::parse("bob").unwrap();
        assert!(h.is_owned_by(&acme, &alice));
        assert!(!h.is_owned_by(&acme, &bob));
        assert!(!h.is_owned_by(&other, &alice));
    }
}
