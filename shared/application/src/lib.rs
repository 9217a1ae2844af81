//! # Application: the use cases and the ports they need
//!
//! Each use case is one method on [`UseCases`]. A use case reads and writes
//! only through the traits in [`ports`], so the same code runs on the
//! in-memory backend, on Redis + DynamoDB, and under tests with a manual
//! clock. Which adapters fill the ports is decided in exactly one place, the
//! composition root.
//!
//! ## Layout
//! - [`ports`]: the outbound traits, each with a written contract.
//! - [`use_cases`]: place, verify, extend and release holds; create, read and
//!   cancel orders; put events and read availability.
//! - [`errors`]: what a use case can answer besides success.
//! - [`degraded_seat_locks`]: the circuit breaker that keeps a dead Redis
//!   from adding its timeout to every request (I8).
//! - [`store_admission`]: sheds new work while DynamoDB is failing, so the
//!   rest is served in time.

pub mod degraded_seat_locks;
pub mod errors;
pub mod ports;
pub mod store_admission;
pub mod use_cases;

pub use errors::{Rejection, UseCaseError};
pub use use_cases::{Settings, UseCases};
