//! A long-running dev server keeps bounded memory: a soak of 60 000 holds
//! (placed, some released, the rest left to expire) and their idempotency
//! records, one every 15 s over ten simulated days, keeps only what can still
//! change an answer: live claims, locks and records, and the last week of
//! ended holds (as DynamoDB's TTL). Run with `--no-capture` for the figures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::sync::Arc;
use std::time::Duration;

use application::ports::{ClaimRequest, Clock, HoldStore, IdempotencyStore, SeatLocks};
use domain::hold::{HeldSeat, Hold};
use domain::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId};
use domain::ids::{CustomerId, EventId, HoldId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::time::Timestamp;
use memory_backend::{MemorySeatLocks, MemoryStore};
use system_runtime::ManualClock;

const HOLDS: u64 = 60_000;
const EVERY: Duration = Duration::from_secs(15);
const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn sixty_thousand_holds_over_ten_days_keep_a_week_of_ended_holds_and_nothing_else() {
    let clock = ManualClock::starting_at(Timestamp::from_millis(1_800_000_000_000));
    let store = MemoryStore::new();
    let locks = MemorySeatLocks::new(Arc::new(clock.clone()));
    let tenant = TenantId::parse("acme").unwrap();
    let event = EventId::parse("gig").unwrap();
    let mut peak = 0;
    for n in 0..HOLDS {
        let now = clock.now();
        let seat = SeatId::parse(&format!("S{n}")).unwrap();
        let hold = Hold::place(
            HoldId::from_u128((0x7u128 << 76) | (0b10u128 << 62) | u128::from(n + 1)).unwrap(),
            tenant.clone(),
            event.clone(),
            CustomerId::parse("alice").unwrap(),
            vec![HeldSeat {
                id: seat.clone(),
                price: Cents(100),
            }],
            Currency::parse("EUR").unwrap(),
            now,
            TTL,
        );
        locks.lock(&tenant, &event, &[seat], hold.id, TTL).await.unwrap();
        store.place(&hold, now).await.unwrap();
        if n % 3 == 0 {
            store.release(&hold, now).await.unwrap();
        }
        let scope = IdempotencyScope {
            tenant: tenant.clone(),
            customer: CustomerId::parse("alice").unwrap(),
            operation: "POST /orders",
            key: IdempotencyKey::parse(&format!("k{n}")).unwrap(),
        };
        store
            .claim(ClaimRequest {
                scope: &scope,
                fingerprint: Fingerprint([1; 32]),
                lease: LeaseId(u128::from(n)),
                lease_expires_at: now.plus(Duration::from_secs(30)),
                record_expires_at: now.plus(Duration::from_secs(600)),
                now,
            })
            .await
            .unwrap();
        peak = peak.max(store.entries() + locks.entries());
        clock.advance(EVERY);
    }
    let kept = store.entries() + locks.entries();
    println!(
        "soak: {HOLDS} holds and records over {} simulated hours: peak {peak} entries kept, {kept} at the end",
        (EVERY * u32::try_from(HOLDS).unwrap()).as_secs() / 3600
    );
    // A week of ended holds (40 320 at one per 15 s), a few live claims,
    // locks and records (10 min retention: 40), one sweep interval of slack.
    // Without eviction: 60 000 holds + 40 000 lapsed claims + 60 000 records
    // + 60 000 locks = 220 000.
    assert!(peak < 42_500, "memory must stay bounded: peak {peak} entries");
}
