use super::BackendError;
use async_trait::async_trait;

/// A backend `/ready` checks.
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// The backend's name as shown by `/ready`.
    fn name(&self) -> &'static str;
    /// Succeeds if the backend answers now.
    async fn check(&self) -> Result<(), BackendError>;
    /// Whether the service is down without this backend. An advisory one
    /// (the seat locks, I8) failing makes `/ready` say `"degraded"` with 200.
    fn required(&self) -> bool {
        true
    }
}
