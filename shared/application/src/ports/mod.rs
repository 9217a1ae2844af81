//! Ports: what the use cases need from the outside world.
//!
//! Every trait is capability-sized and states its contract in `# Errors`.
//! Adapters MUST honour these contracts exactly; the conformance suite in
//! `tests/port-conformance` is the executable version of them, and every
//! adapter of a port runs it.
//!
//! The traits are object-safe (`async_trait`) because the backend is chosen at
//! start from configuration (memory or AWS) and held as `Arc<dyn Port>`; see
//! `docs/adr/0002-ports-and-layout.md`.

mod backend_error;
mod clock;
mod event_catalog;
mod hold_store;
mod idempotency_store;
mod ids;
mod order_store;
mod readiness;
mod seat_locks;

pub use backend_error::*;
pub use clock::*;
pub use event_catalog::*;
pub use hold_store::*;
pub use idempotency_store::*;
pub use ids::*;
pub use order_store::*;
pub use readiness::*;
pub use seat_locks::*;

use std::sync::Arc;

/// Every port, filled by the composition root.
#[derive(Clone)]
pub struct Ports {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub seat_locks: Arc<dyn SeatLocks>,
    pub events: Arc<dyn EventCatalog>,
    pub holds: Arc<dyn HoldStore>,
    pub orders: Arc<dyn OrderStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub probes: Vec<Arc<dyn ReadinessProbe>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let probes: Vec<&str> = self.probes.iter().map(|p| p.name()).collect();
        f.debug_struct("Ports").field("probes", &probes).finish_non_exhaustive()
    }
}
