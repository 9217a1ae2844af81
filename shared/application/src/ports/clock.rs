use domain::time::Timestamp;

/// The current time. Injected so tests can move time instead of sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
