//! # System runtime adapters: time and identifiers
//!
//! [`SystemClock`] and [`UuidIds`] serve production on every backend.
//! [`ManualClock`] and [`SequentialIds`] are their controllable twins, so
//! tests move time forward instead of sleeping and get repeatable ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use application::ports::{Clock, IdGenerator};
use domain::idempotency::{IdempotencyScope, LeaseId, OrderSeed};
use domain::ids::{HoldId, OrderId};
use domain::time::Timestamp;
use uuid::Uuid;

/// The namespace of order ids (UUID v5 of the idempotency scope's text).
/// Changing it would change every future order id: never do.
const ORDER_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_9b7d_4c3a_8e5f_1d2c_3b4a_5e6f);

/// The order id for a scope and its record's seed: UUID v5 of the scope's
/// text, followed by `#` and the seed in hex when there is one. Without a
/// seed (records of the release before ADR 12) it is the id that release
/// derived, so a takeover of such a record still lands on the same order.
pub fn order_id_for(scope: &IdempotencyScope, seed: Option<OrderSeed>) -> OrderId {
    let text = match seed {
        Some(OrderSeed(seed)) => format!("{scope}#{seed:032x}"),
        None => scope.to_string(),
    };
    OrderId::from_u128(Uuid::new_v5(&ORDER_ID_NAMESPACE, text.as_bytes()).as_u128())
}

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Time that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn starting_at(now: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(now.as_millis())),
        }
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Random UUIDs: v7 hold ids (time-ordered), v4 lease ids, v5 order ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidIds;

impl IdGenerator for UuidIds {
    fn hold_id(&self) -> HoldId {
        HoldId::from_u128(Uuid::now_v7().as_u128()).unwrap_or_else(|_| unreachable!("now_v7 sets version 7"))
    }

    fn lease_id(&self) -> LeaseId {
        LeaseId(Uuid::new_v4().as_u128())
    }

    fn order_id(&self, scope: &IdempotencyScope, seed: Option<OrderSeed>) -> OrderId {
        order_id_for(scope, seed)
    }
}

/// Ids from a counter: hold ids are valid UUID v7 values numbered 1, 2, 3…
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

fn sequential_hold_id(n: u64) -> HoldId {
    // Version 7 in bits 76..80, RFC 9562 variant in bits 62..64, n in the low bits.
    let bits = (0x7u128 << 76) | (0b10u128 << 62) | u128::from(n);
    HoldId::from_u128(bits).unwrap_or_else(|_| unreachable!("version bits are set to 7 above"))
}

impl IdGenerator for SequentialIds {
    fn hold_id(&self) -> HoldId {
        sequential_hold_id(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn lease_id(&self) -> LeaseId {
        LeaseId(u128::from(self.next.fetch_add(1, Ordering::SeqCst) + 1))
    }

    fn order_id(&self, scope: &IdempotencyScope, seed: Option<OrderSeed>) -> OrderId {
        order_id_for(scope, seed)
    }
}

#[cfg(test)]
mod tests {
    use domain::idempotency::IdempotencyKey;
    use domain::ids::{CustomerId, TenantId};

    use super::*;

    fn scope(key: &str) -> IdempotencyScope {
        IdempotencyScope {
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("alice").unwrap(),
            operation: "POST /orders",
            key: IdempotencyKey::parse(key).unwrap(),
        }
    }

    #[test]
    fn the_same_scope_and_seed_always_derive_the_same_order_id_and_another_scope_or_seed_another() {
        let seed = Some(OrderSeed(7));
        assert_eq!(
            UuidIds.order_id(&scope("k1"), seed),
            UuidIds.order_id(&scope("k1"), seed)
        );
        assert_eq!(
            UuidIds.order_id(&scope("k1"), seed),
            SequentialIds::default().order_id(&scope("k1"), seed)
        );
        assert_ne!(
            UuidIds.order_id(&scope("k1"), seed),
            UuidIds.order_id(&scope("k2"), seed)
        );
        assert_ne!(
            UuidIds.order_id(&scope("k1"), seed),
            UuidIds.order_id(&scope("k1"), Some(OrderSeed(8)))
        );
    }

    #[test]
    fn a_record_without_a_seed_derives_the_id_the_previous_release_derived() {
        // UUID v5 of "acme:alice:POST /orders:k1" in ORDER_ID_NAMESPACE, as
        // the release before ADR 12 computed it for every record.
        let legacy = Uuid::new_v5(&ORDER_ID_NAMESPACE, b"acme:alice:POST /orders:k1").as_u128();
        assert_eq!(UuidIds.order_id(&scope("k1"), None), OrderId::from_u128(legacy));
    }

    #[test]
    fn fresh_hold_ids_are_unique_version_7_uuids() {
        let a = UuidIds.hold_id();
        let b = UuidIds.hold_id();
        assert_ne!(a, b);
        assert!(HoldId::parse(&a.to_string()).is_ok());
    }

    #[test]
    fn sequential_hold_ids_are_valid_and_distinct() {
        let ids = SequentialIds::default();
        let first = ids.hold_id();
        let second = ids.hold_id();
        assert_ne!(first, second);
        assert_eq!(HoldId::parse(&first.to_string()), Ok(first));
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(Timestamp::from_millis(1_000));
        assert_eq!(clock.now(), Timestamp::from_millis(1_000));
        clock.advance(Duration::from_millis(500));
        assert_eq!(clock.now(), Timestamp::from_millis(1_500));
    }

    #[test]
    fn the_system_clock_reads_a_time_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_millis(1_577_836_800_000));
    }
}
