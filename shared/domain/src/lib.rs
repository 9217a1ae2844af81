//! # Domain: the rules of selling reserved seats
//!
//! Everything in this crate is a plain value or a pure function. It knows
//! nothing of async runtimes, HTTP, JSON, Redis or DynamoDB, so every rule can
//! be tested with ordinary unit tests and reused by any adapter.
//!
//! ## Layout
//! - [`ids`]: validated identifiers (tenant, customer, event, seat, hold, order).
//! - [`money`]: ISO 4217 currencies and amounts in minor units.
//! - [`time`]: a millisecond timestamp, so the domain never reads a clock.
//! - [`identity`]: who is calling (tenant, customer, roles).
//! - [`event`]: events with priced seats, and the rules for replacing one.
//! - [`seat_map`]: sections, rows, numbers and categories, and the best-available pick.
//! - [`customer_limit`]: the seat limit per customer and the tally it is checked against.
//! - [`hold`]: a hold on seats and its life cycle (ACTIVE → RELEASED | EXPIRED | CONVERTED).
//! - [`order`]: a confirmed sale of a hold's seats.
//! - [`idempotency`]: keys, scopes and records for exactly-once order creation.

pub mod customer_limit;
pub mod event;
pub mod hold;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod money;
pub mod order;
pub mod seat_map;
pub mod time;
pub mod uuid_text;
