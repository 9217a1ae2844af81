//! The in-memory adapters against the port contracts (`port-conformance`).

use std::sync::Arc;
use std::time::Duration;

use memory_backend::{MemorySeatLocks, MemoryStore};
use port_conformance::{SeatLockFixture, StoreFixture, TimeControl};
use system_runtime::ManualClock;

struct Manual(ManualClock);

impl TimeControl for Manual {
    fn advance(&self, by: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.0.advance(by);
        Box::pin(std::future::ready(()))
    }
}

async fn seat_locks() -> SeatLockFixture {
    let clock = test_doubles::clock::manual_clock();
    SeatLockFixture {
        locks: Arc::new(MemorySeatLocks::new(Arc::new(clock.clone()))),
        time: Arc::new(Manual(clock)),
        keep_alive: Box::new(()),
    }
}

async fn store() -> StoreFixture {
    let store = Arc::new(MemoryStore::new());
    StoreFixture {
        events: store.clone(),
        holds: store.clone(),
        orders: store.clone(),
        idempotency: store,
        keep_alive: Box::new(()),
    }
}

mod seat_locks {
    use super::seat_locks as setup;
    port_conformance::seat_lock_conformance!(setup);
}

mod store {
    use super::store as setup;
    port_conformance::store_conformance!(setup);
}
