//! Properties of the domain rules over generated inputs (proptest): the
//! hold life cycle, hold-request validation, money arithmetic, id parsing.
//! Each failure message names the invariant it guards.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed property.

use std::collections::HashSet;
use std::time::Duration;

use domain::hold::{HeldSeat, Hold, HoldPolicy, HoldRequest, HoldRequestError, HoldStatus, ReleaseOutcome};
use domain::ids::{CustomerId, EventId, HoldId, SeatId, TenantId};
use domain::money::{Cents, Currency, Money, MoneyError};
use domain::time::Timestamp;
use proptest::prelude::*;

const START: i64 = 1_800_000_000_000;

fn hold(ttl_seconds: u64) -> Hold {
    Hold::place(
        HoldId::parse("01a21c3e-4e02-712e-8ee9-5d7e77b4d316").unwrap(),
        TenantId::parse("acme").unwrap(),
        EventId::parse("gig").unwrap(),
        CustomerId::parse("alice").unwrap(),
        vec![HeldSeat {
            id: SeatId::parse("A1").unwrap(),
            price: Cents(1000),
        }],
        Currency::parse("EUR").unwrap(),
        Timestamp::from_millis(START),
        Duration::from_secs(ttl_seconds),
    )
}

#[derive(Debug, Clone)]
enum Step {
    Wait(i64),
    Release,
    Convert,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0_i64..400_000).prop_map(Step::Wait),
        Just(Step::Release),
        Just(Step::Convert),
    ]
}

proptest! {
    /// The life cycle (and I6's fencing): a hold is ACTIVE only before its expiry and only
    /// until it is released or converted; RELEASED, EXPIRED and CONVERTED are
    /// final; a converted hold can never be released; converting needs ACTIVE.
    #[test]
    fn the_hold_life_cycle_only_moves_forward(ttl in 60_u64..1800, steps in prop::collection::vec(step(), 0..30)) {
        let mut hold = hold(ttl);
        let mut now = START;
        let mut ended: Option<HoldStatus> = None;
        for step in steps {
            match step {
                Step::Wait(ms) => now += ms,
                Step::Release => {
                    let before = hold.status_at(Timestamp::from_millis(now));
                    let outcome = hold.release(Timestamp::from_millis(now));
                    match before {
                        HoldStatus::Active => prop_assert_eq!(outcome, Ok(ReleaseOutcome::Released)),
                        HoldStatus::Converted => prop_assert!(outcome.is_err(), "a converted hold was released"),
                        _ => prop_assert_eq!(outcome, Ok(ReleaseOutcome::AlreadyEnded)),
                    }
                }
                Step::Convert => {
                    let at = Timestamp::from_millis(now);
                    let convertible = hold.check_convertible(at).is_ok();
                    prop_assert_eq!(convertible, hold.status_at(at) == HoldStatus::Active, "I6 fencing: only an ACTIVE hold converts");
                    if convertible {
                        hold.recorded_status = HoldStatus::Converted;
                    }
                }
            }
            let status = hold.status_at(Timestamp::from_millis(now));
            if now >= START + i64::try_from(ttl).unwrap() * 1000 && ended.is_none() {
                prop_assert_ne!(status, HoldStatus::Active, "hold life cycle: an ACTIVE hold past its expiry");
            }
            if let Some(final_status) = ended {
                prop_assert_eq!(status, final_status, "a final status changed");
            } else if status != HoldStatus::Active {
                ended = Some(status);
            }
        }
    }

    /// A hold request is accepted exactly when it has 1..=max unique seats and
    /// an allowed TTL; otherwise every broken rule is reported, duplicates at
    /// the index of their repeat.
    #[test]
    fn hold_requests_are_accepted_exactly_when_every_rule_holds(
        names in prop::collection::vec("[A-C][1-4]", 0..14),
        ttl in prop::option::of(0_u64..4000),
        max_seats in 1_usize..12,
    ) {
        let seats: Vec<SeatId> = names.iter().map(|n| SeatId::parse(n).unwrap()).collect();
        let policy = HoldPolicy {
            max_seats,
            default_ttl: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(1800),
        };
        let unique: HashSet<&String> = names.iter().collect();
        let ttl_ok = ttl.is_none_or(|t| (60..=1800).contains(&t));
        let valid = !names.is_empty() && names.len() <= max_seats && unique.len() == names.len() && ttl_ok;
        match HoldRequest::new(seats.clone(), ttl, policy) {
            Ok(request) => {
                prop_assert!(valid, "an invalid request was accepted");
                prop_assert_eq!(request.seats(), &seats[..], "accepted seats keep their order");
            }
            Err(errors) => {
                prop_assert!(!valid, "a valid request was refused: {:?}", errors);
                let duplicates = errors.iter().filter(|e| matches!(e, HoldRequestError::DuplicateSeat { .. })).count();
                prop_assert_eq!(duplicates, names.len() - unique.len(), "every repeat is named once");
                for error in &errors {
                    if let HoldRequestError::DuplicateSeat { seat, index } = error {
                        prop_assert_eq!(&seats[*index], seat);
                        prop_assert!(seats[..*index].contains(seat), "reported at its repeat, not its first use");
                    }
                }
                prop_assert_eq!(errors.contains(&HoldRequestError::TtlOutOfRange), !ttl_ok);
            }
        }
    }

    /// Money never wraps: a sum is the exact total or an overflow error.
    #[test]
    fn sums_are_exact_or_overflow_never_wrap(prices in prop::collection::vec(any::<u64>().prop_map(|p| p >> (p % 64)), 0..20)) {
        let eur = Currency::parse("EUR").unwrap();
        let exact: u128 = prices.iter().map(|p| u128::from(*p)).sum();
        match Money::sum(eur, prices.iter().copied().map(Cents)) {
            Ok(total) => prop_assert_eq!(u128::from(total.cents.0), exact),
            Err(error) => {
                prop_assert_eq!(error, MoneyError::Overflow);
                prop_assert!(exact > u128::from(u64::MAX), "overflow reported for a representable sum");
            }
        }
    }

    /// Adding amounts of different currencies is always refused.
    #[test]
    fn currencies_never_mix(a in any::<u32>(), b in any::<u32>()) {
        let eur = Money { cents: Cents(a.into()), currency: Currency::parse("EUR").unwrap() };
        let usd = Money { cents: Cents(b.into()), currency: Currency::parse("USD").unwrap() };
        prop_assert_eq!(eur.checked_add(usd), Err(MoneyError::CurrencyMismatch));
    }

    /// Ids that reach a storage key never carry a key delimiter, a path
    /// separator or a hash-tag brace, whatever the input.
    #[test]
    fn parsed_ids_never_carry_key_delimiters(text in "\\PC{0,80}") {
        for parsed in [
            SeatId::parse(&text).ok().map(|id| id.as_str().to_owned()),
            EventId::parse(&text).ok().map(|id| id.as_str().to_owned()),
            TenantId::parse(&text).ok().map(|id| id.as_str().to_owned()),
            CustomerId::parse(&text).ok().map(|id| id.as_str().to_owned()),
        ].into_iter().flatten() {
            prop_assert!(!parsed.is_empty());
            prop_assert!(
                !parsed.contains(['#', '{', '}', '/', ':', '\\', ' ', '%']),
                "a delimiter reached an id: {:?}", parsed
            );
        }
    }

    /// The same, for the characters an attacker would pick: any id containing
    /// one of them is refused.
    #[test]
    fn ids_with_a_delimiter_are_refused(prefix in "[a-z]{0,5}", bad in "[#{}/:%]|\\.\\./", suffix in "[a-z]{0,5}") {
        let text = format!("{prefix}{bad}{suffix}");
        prop_assert!(SeatId::parse(&text).is_err());
        prop_assert!(EventId::parse(&text).is_err());
        prop_assert!(TenantId::parse(&text).is_err());
    }
}
