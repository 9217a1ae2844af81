//! Partition and sort keys. Tenant first in every key (I4). Ids cannot
//! contain `#` (see `domain::ids`), so keys never collide across kinds;
//! the free-form idempotency key comes last in its key.

use domain::idempotency::IdempotencyScope;
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};

pub const EVENT_SK: &str = "EVENT";
pub const SEATS_SK_PREFIX: &str = "EVENT#SEATS#";
pub const SOLD_SK_PREFIX: &str = "SOLD#";
pub const HOLD_SK: &str = "HOLD";
pub const ORDER_SK: &str = "ORDER";
pub const IDEMPOTENCY_SK: &str = "IDEM";
pub const CLAIM_SK_PREFIX: &str = "SEAT#";
pub const TALLY_SK: &str = "TALLY";

/// Partitions an event's seat claims are spread over: a 50 000-seat on-sale
/// writes to 16 partition keys (16 × 1 000 WCU/s), and availability reads
/// them with 16 Queries. Part of the stored data's shape: changing it needs
/// a migration (ADR 12).
pub const CLAIM_SHARDS: u32 = 16;

/// The shard of a seat's claim: FNV-1a (32 bit) of the seat id, modulo
/// [`CLAIM_SHARDS`]. Stable across releases and platforms, never `Hash`.
pub fn claim_shard(seat: &SeatId) -> u32 {
    let hash = seat.to_string().bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % CLAIM_SHARDS
}

pub fn claims_pk(tenant: &TenantId, event: &EventId, shard: u32) -> String {
    format!("T#{tenant}#EVENT#{event}#CLAIMS#{shard:02}")
}

/// Partition and sort key of one seat's claim.
pub fn claim_key(tenant: &TenantId, event: &EventId, seat: &SeatId) -> (String, String) {
    (
        claims_pk(tenant, event, claim_shard(seat)),
        format!("{CLAIM_SK_PREFIX}{seat}"),
    )
}

/// A customer's tally of an event (the seat limit per customer): its own
/// partition, so a busy on-sale's tallies spread like its customers.
pub fn tally_pk(tenant: &TenantId, event: &EventId, customer: &CustomerId) -> String {
    format!("T#{tenant}#EVENT#{event}#CUSTOMER#{customer}")
}

pub fn event_pk(tenant: &TenantId, event: &EventId) -> String {
    format!("T#{tenant}#EVENT#{event}")
}

pub fn seats_sk(chunk: usize) -> String {
    format!("{SEATS_SK_PREFIX}{chunk:03}")
}

pub fn sold_sk(seat: &SeatId) -> String {
    format!("{SOLD_SK_PREFIX}{seat}")
}

pub fn hold_pk(tenant: &TenantId, hold: HoldId) -> String {
    format!("T#{tenant}#HOLD#{hold}")
}

pub fn order_pk(tenant: &TenantId, order: OrderId) -> String {
    format!("T#{tenant}#ORDER#{order}")
}

pub fn idempotency_pk(scope: &IdempotencyScope) -> String {
    format!(
        "T#{}#IDEM#{}#{}#{}",
        scope.tenant,
        scope.customer,
        scope.operation,
        scope.key.as_str()
    )
}

#[cfg(test)]
mod tests {
    use domain::idempotency::IdempotencyKey;

    use super::*;

    #[test]
    fn every_key_starts_with_the_tenant() {
        let tenant = TenantId::parse("acme").unwrap();
        let event = EventId::parse("gig").unwrap();
        assert_eq!(event_pk(&tenant, &event), "T#acme#EVENT#gig");
        assert_eq!(
            hold_pk(&tenant, HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap()),
            "T#acme#HOLD#01890a5d-ac96-774b-bcce-b302099a8057"
        );
        let scope = IdempotencyScope {
            tenant,
            customer: CustomerId::parse("alice").unwrap(),
            operation: "POST /orders",
            key: IdempotencyKey::parse("k#1").unwrap(),
        };
        assert_eq!(idempotency_pk(&scope), "T#acme#IDEM#alice#POST /orders#k#1");
    }

    #[test]
    fn a_seat_claim_lives_in_one_of_sixteen_shards_chosen_by_a_stable_hash() {
        let tenant = TenantId::parse("acme").unwrap();
        let event = EventId::parse("gig").unwrap();
        // FNV-1a of "A1" is 0x9bd5d047, shard 7: pinned so a change of the
        // function (which would orphan every stored claim) fails here.
        let (pk, sk) = claim_key(&tenant, &event, &SeatId::parse("A1").unwrap());
        assert_eq!(sk, "SEAT#A1");
        assert_eq!(pk, "T#acme#EVENT#gig#CLAIMS#07");
        let shards: std::collections::HashSet<u32> = (0..1000)
            .map(|n| claim_shard(&SeatId::parse(&format!("S{n}")).unwrap()))
            .collect();
        assert_eq!(shards.len(), 16, "a thousand seats use every shard");
    }

    #[test]
    fn seat_chunks_sort_in_order() {
        assert!(seats_sk(2) < seats_sk(10));
    }
}
