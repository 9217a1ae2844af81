//! The use cases, one module each, all methods of [`UseCases`].
//!
//! `UseCases` is cheap to clone (ports are `Arc`s) and built once per process
//! by the composition root, then shared by every request.

mod cancel_order;
mod create_order;
mod extend_hold;
mod get_availability;
mod get_order;
mod idempotent_request;
mod owned_resources;
mod pending_undos;
mod place_hold;
mod put_event;
mod release_hold;
mod seat_status;
mod verify_hold;

use std::sync::Arc;
use std::time::Duration;

use domain::hold::HoldPolicy;

use crate::errors::UseCaseError;
use crate::ports::Ports;
use crate::store_admission::{StoreAdmission, Work};
use pending_undos::PendingUndos;

pub use cancel_order::{CANCEL_ORDER_OPERATION, CancelOrder};
pub use create_order::{CREATE_ORDER_OPERATION, CreateOrder, OrderResponses};
pub use get_availability::Availability;
pub use idempotent_request::StoredOutcome;
pub use put_event::PutEventOutcome;
pub use verify_hold::{HoldVerification, InvalidReason};

/// Limits and durations set by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub hold_policy: HoldPolicy,
    /// How long an idempotency record (and its stored answer) counts.
    pub idempotency_ttl: Duration,
    /// The longest an attempt may own an idempotency scope; the Lambda's
    /// remaining time may shorten it per request.
    pub idempotency_lease: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            hold_policy: HoldPolicy {
                max_seats: 10,
                default_ttl: Duration::from_secs(600),
                max_lifetime: Duration::from_secs(1800),
            },
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
            idempotency_lease: Duration::from_secs(30),
        }
    }
}

/// Every use case, over one set of ports.
#[derive(Debug, Clone)]
pub struct UseCases {
    ports: Ports,
    settings: Settings,
    /// Undos of failed placements this instance still owes (I5).
    pending_undos: Arc<PendingUndos>,
    /// Sheds new work while the durable store is failing (`store_admission`).
    admission: Arc<StoreAdmission>,
}

impl UseCases {
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self {
            ports,
            settings,
            pending_undos: Arc::default(),
            admission: Arc::default(),
        }
    }

    /// How many undos of failed placements this instance still owes.
    pub fn pending_undos(&self) -> usize {
        self.pending_undos.len()
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `work` unless the store has been failing lately and this class
    /// of work is being shed (`store_admission`); its outcome feeds the window.
    async fn admitted<T>(
        &self,
        class: Work,
        work: impl Future<Output = Result<T, UseCaseError>>,
    ) -> Result<T, UseCaseError> {
        self.admission
            .admit(class, self.ports.clock.now())
            .map_err(|retry_after| UseCaseError::Overloaded { retry_after })?;
        let result = work.await;
        self.record_for_admission(&result);
        result
    }

    /// Counts a request that reached the store in the admission window:
    /// served unless the store failed (a contended 503 is served).
    fn record_for_admission<T>(&self, result: &Result<T, UseCaseError>) {
        let served = !matches!(result, Err(UseCaseError::Unavailable(error)) if !error.contended);
        self.admission.record(self.ports.clock.now(), served);
    }
}
