//! What one DynamoDB transaction can hold, and so the largest hold this
//! store can sell: `TransactWriteItems` takes at most 100 items, and an
//! order commit writes a fixed few plus some per seat. The composition root
//! hands [`MAX_SEATS_PER_HOLD_LIMIT`] to the configuration, which refuses a
//! larger `MAX_SEATS_PER_HOLD`.

/// The most items one atomic write may touch (DynamoDB `TransactWriteItems`).
pub const MAX_ATOMIC_WRITE_ITEMS: usize = 100;
/// Items of an order commit that do not depend on the seat count: the order,
/// the hold, the idempotency record and the customer's tally.
pub const ORDER_COMMIT_FIXED_ITEMS: usize = 4;
/// Items of an order cancellation: the order, the idempotency record and
/// the customer's tally, plus per seat its claim and the previous release's
/// sold record.
pub const ORDER_CANCEL_FIXED_ITEMS: usize = 3;

/// Items per seat of an order commit: its claim and, until the contract step
/// of ADR 12, the sold record of the previous release.
pub const ORDER_COMMIT_ITEMS_PER_SEAT: usize = 2;
/// The largest hold whose order commit fits in one atomic write (48); the
/// hold's own write (hold + one claim per seat) is smaller.
pub const MAX_SEATS_PER_HOLD_LIMIT: usize =
    (MAX_ATOMIC_WRITE_ITEMS - ORDER_COMMIT_FIXED_ITEMS) / ORDER_COMMIT_ITEMS_PER_SEAT;
