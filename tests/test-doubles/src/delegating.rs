//! A delegating wrapper per port: a test overrides only the methods it
//! faults, and every other call reaches the real adapter unchanged.
//!
//! ```ignore
//! struct PlacementsTimeOut(Arc<dyn HoldStore>);
//!
//! #[async_trait]
//! impl HoldStoreDouble for PlacementsTimeOut {
//!     fn inner(&self) -> &dyn HoldStore { &*self.0 }
//!     async fn place(&self, _: &Hold, _: Timestamp) -> Result<(), PlaceHoldError> {
//!         Err(BackendError::new("dynamodb", "timed out").into())
//!     }
//! }
//!
//! ports.holds = Arc::new(Delegating(PlacementsTimeOut(ports.holds.clone())));
//! ```
//!
//! Each `<Port>Double` trait has every method of its port, each defaulting
//! to the same call on [`inner`](HoldStoreDouble::inner); [`Delegating`]
//! turns a double into the port. The port's methods are listed once, in the
//! macro call below: a method added to a port without a default fails to
//! compile here until it is listed.

use std::collections::HashMap;
use std::time::Duration;

use application::ports::{
    BackendError, CancelError, ChangeMarks, Claim, ClaimRequest, CommitError, CustomerTally, EventCatalog,
    ExtendHoldError, HoldStore, IdempotencyStore, LeaseError, LockError, MirroredLock, OrderCancellation, OrderCommit,
    OrderStore, PlaceHoldError, PutEventError, SeatLock, SeatLocks, StoredEvent, StoredResponse, TakenSeats,
};
use async_trait::async_trait;
use domain::event::Event;
use domain::hold::{Hold, SeatClaim};
use domain::idempotency::{IdempotencyScope, LeaseId};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

/// A port double as the port itself: `Arc::new(Delegating(double))` fills a
/// slot of `Ports` (`Delegating(Arc::clone(&double))` when the test keeps
/// the double to read what it saw). (A wrapper because Rust lets no crate but
/// `application` implement its ports for every double at once.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Delegating<T>(pub T);

/// Declares `$double` with a default per method that forwards to `inner`,
/// and implements `$port` for `Delegating<T: $double>` by calling it.
macro_rules! delegating_port {
    ($port:ident => $double:ident { $( fn $method:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )* }) => {
        #[doc = concat!("[`", stringify!($port), "`] forwarding to `inner` every method a test leaves alone.")]
        #[async_trait]
        pub trait $double: Send + Sync {
            /// The real adapter the calls not overridden go to.
            fn inner(&self) -> &dyn $port;
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    self.inner().$method($($arg),*).await
                }
            )*
        }

        /// A double shared with the test (to read what it saw) is a double too.
        #[async_trait]
        impl<T: $double + ?Sized> $double for std::sync::Arc<T> {
            fn inner(&self) -> &dyn $port {
                $double::inner(&**self)
            }
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    $double::$method(&**self $(, $arg)*).await
                }
            )*
        }

        #[async_trait]
        impl<T: $double> $port for Delegating<T> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    $double::$method(&self.0 $(, $arg)*).await
                }
            )*
        }
    };
}

delegating_port!(HoldStore => HoldStoreDouble {
    fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError>;
    fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError>;
    fn customer_tally(&self, tenant: &TenantId, event: &EventId, customer: &CustomerId) -> Result<CustomerTally, BackendError>;
    fn forget_in_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError>;
    fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError>;
    fn release(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError>;
    fn abandon_placement(&self, hold: &Hold, now: Timestamp) -> Result<(), BackendError>;
    fn extend(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<(), ExtendHoldError>;
    fn free_claims(&self, hold: &Hold) -> Result<(), BackendError>;
    fn claims_of(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId]) -> Result<Vec<Option<SeatClaim>>, BackendError>;
    fn seat_claims(&self, tenant: &TenantId, event: &EventId, now: Timestamp) -> Result<HashMap<SeatId, SeatClaim>, BackendError>;
});

delegating_port!(SeatLocks => SeatLocksDouble {
    fn lock(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId], hold: HoldId, ttl: Duration) -> Result<(), LockError>;
    fn release(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId], hold: HoldId) -> Result<(), BackendError>;
    fn inspect(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId]) -> Result<Vec<SeatLock>, BackendError>;
    fn mark_sold(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId], ttl: Duration) -> Result<(), BackendError>;
    fn extend(&self, tenant: &TenantId, event: &EventId, seats: &[SeatId], hold: HoldId, ttl: Duration) -> Result<(), BackendError>;
    fn mirror(&self, tenant: &TenantId, event: &EventId, locks: &[(SeatId, MirroredLock)]) -> Result<(), BackendError>;
    fn taken(&self, tenant: &TenantId, event: &EventId) -> Result<TakenSeats, BackendError>;
    fn rebuild_taken(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        fresh_for: Duration,
    ) -> Result<(), BackendError>;
});

delegating_port!(EventCatalog => EventCatalogDouble {
    fn get(&self, tenant: &TenantId, event: &EventId) -> Result<Option<StoredEvent>, BackendError>;
    fn put(&self, event: &Event, expected: Option<u64>, under_freeze: Option<Timestamp>, held_repriced: &[SeatId]) -> Result<u64, PutEventError>;
    fn change_marks(&self, tenant: &TenantId, event: &EventId) -> Result<Option<ChangeMarks>, BackendError>;
    fn freeze(&self, tenant: &TenantId, event: &EventId, version: u64, until: Timestamp, now: Timestamp) -> Result<bool, BackendError>;
    fn unfreeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError>;
    fn break_freeze(&self, tenant: &TenantId, event: &EventId, until: Timestamp) -> Result<(), BackendError>;
});

delegating_port!(OrderStore => OrderStoreDouble {
    fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError>;
    fn get(&self, tenant: &TenantId, order: OrderId) -> Result<Option<Order>, BackendError>;
    fn cancel(&self, cancellation: OrderCancellation<'_>) -> Result<(), CancelError>;
});

delegating_port!(IdempotencyStore => IdempotencyStoreDouble {
    fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, BackendError>;
    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseId,
        response: &StoredResponse,
        record_expires_at: Timestamp,
    ) -> Result<(), LeaseError>;
    fn abandon(&self, scope: &IdempotencyScope, lease: LeaseId) -> Result<(), BackendError>;
});
