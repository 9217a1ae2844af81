use domain::idempotency::{IdempotencyScope, LeaseId, OrderSeed};
use domain::ids::{HoldId, OrderId};

/// Fresh and derived identifiers.
pub trait IdGenerator: Send + Sync {
    /// A new UUID v7 hold id.
    fn hold_id(&self) -> HoldId;
    /// A new lease id, unique per attempt.
    fn lease_id(&self) -> LeaseId;
    /// The order id for a scope and the seed its idempotency record carries.
    /// MUST be a pure function of both: a retry that takes over a crashed
    /// attempt inherits the record's seed and so lands on the same order id,
    /// while a key reused after its record expired gets a new seed and so a
    /// new id. `None` is a record written before seeds existed (ADR 12).
    fn order_id(&self, scope: &IdempotencyScope, seed: Option<OrderSeed>) -> OrderId;
}
