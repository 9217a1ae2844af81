//! Partition and sort keys. Tenant first in every key (I4). Ids cannot
//! contain `#` (see `domain::ids`), so keys never collide across kinds;
//! the free-form idempotency key comes last in its key.

use domain::idempotency::IdempotencyScope;
use domain::ids::{EventId, HoldId, OrderId, SeatId, TenantId};

pub const EVENT_SK: &str = "EVENT";
pub const SEATS_SK_PREFIX: &str = "EVENT#SEATS#";
pub const SOLD_SK_PREFIX: &str = "SOLD#";
pub const HOLD_SK: &str = "HOLD";
pub const ORDER_SK: &str = "ORDER";
pub const IDEMPOTENCY_SK: &str = "IDEM";

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
    use domain::ids::CustomerId;

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
    fn seat_chunks_sort_in_order() {
        assert!(seats_sk(2) < seats_sk(10));
    }
}
