//! The ports' test doubles, written once for every suite.
//!
//! - [`delegating`]: one wrapper per port that forwards every call to a real
//!   adapter. A test states only the methods it faults, so a fault reads as
//!   what it is, not as a page of forwarding.
//! - [`SeatLocksDown`]: seat locks whose server is down (I8).
//! - [`clock`]: the one epoch every test clock starts at, the manual clock,
//!   and another instance's clock running ahead.
//! - [`test_binary`]: the check that a one-binary test folder's `main.rs`
//!   declares every file in it.
//!
//! Process harnesses (redis-server, DynamoDB Local, the fault proxy) are
//! `test-backends`; this crate does no I/O.

pub mod clock;
pub mod delegating;
mod seat_locks_down;
pub mod test_binary;

pub use clock::{ClockAhead, EPOCH, ManualClock};
pub use delegating::{
    Delegating, EventCatalogDouble, HoldStoreDouble, IdempotencyStoreDouble, OrderStoreDouble, SeatLocksDouble,
};
pub use seat_locks_down::{SeatLocksDown, unreachable};
