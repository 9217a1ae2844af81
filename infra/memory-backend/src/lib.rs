//! # In-memory backend
//!
//! Production-quality, in-process adapters for every storage port: the dev
//! server's embedded backend and the reference semantics the Redis and
//! DynamoDB adapters must match (the conformance suite in `tests/` runs
//! against all of them).
//!
//! - [`MemorySeatLocks`] plays Redis: per-seat locks with a TTL read from the
//!   clock port, and permanent sold markers.
//! - [`MemoryStore`] plays DynamoDB: events, holds, orders, sold seats and
//!   idempotency records behind ONE mutex, which is what makes the order
//!   commit a single atomic step like `TransactWriteItems`.
//!
//! Both use `std::sync::Mutex`: no lock is ever held across an `.await`, and
//! every critical section is a few map operations, so an async mutex would
//! only add overhead.

mod seat_locks;
mod store;

pub use seat_locks::MemorySeatLocks;
pub use store::MemoryStore;

use std::sync::Arc;

use application::ports::{Clock, IdGenerator, Ports};

/// The largest hold the embedded backend is configured for: DynamoDB's
/// (`dynamodb_store::limits`), so a dev server refuses the
/// `MAX_SEATS_PER_HOLD` a deployment would. The composition root's tests
/// keep the two equal; this crate cannot name the SDK-bound adapter.
pub const MAX_SEATS_PER_HOLD_LIMIT: usize = 48;

/// Ports filled entirely in memory, sharing one clock.
pub fn memory_ports(clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Ports {
    memory_ports_with_handles(clock, ids).0
}

/// The adapters behind [`memory_ports_with_handles`]'s ports, for a test that
/// reaches past the ports (empties the seat locks as a Redis flush would,
/// counts entries). They are the very adapters the ports use, never
/// second copies.
#[derive(Debug, Clone)]
pub struct MemoryHandles {
    pub seat_locks: Arc<MemorySeatLocks>,
    pub store: Arc<MemoryStore>,
}

/// [`memory_ports`], and handles on the adapters that fill them.
pub fn memory_ports_with_handles(clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> (Ports, MemoryHandles) {
    let store = Arc::new(MemoryStore::new());
    let seat_locks = Arc::new(MemorySeatLocks::new(clock.clone()));
    let ports = Ports {
        seat_locks: seat_locks.clone(),
        events: store.clone(),
        holds: store.clone(),
        orders: store.clone(),
        idempotency: store.clone(),
        probes: vec![store.clone()],
        clock,
        ids,
    };
    (ports, MemoryHandles { seat_locks, store })
}
