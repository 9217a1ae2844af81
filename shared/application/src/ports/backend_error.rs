use std::error::Error;

/// A backend could not be reached, timed out or failed unexpectedly.
///
/// Always answered as 503 `service-unavailable`; `source` goes to the log,
/// never to the client.
#[derive(Debug, thiserror::Error)]
#[error("{backend} is unavailable")]
pub struct BackendError {
    /// Which backend failed, e.g. `"redis"` or `"dynamodb"`. Named in `/ready`.
    pub backend: &'static str,
    #[source]
    pub source: Box<dyn Error + Send + Sync>,
    /// The backend answered, but other writes kept changing what this
    /// request works on ([`BackendError::contended`]): not a sign that the
    /// backend is failing, so load shedding does not count it.
    pub contended: bool,
}

impl BackendError {
    /// The whole chain of causes, for the log line of a 503.
    pub fn causes(&self) -> String {
        let mut causes = Vec::new();
        let mut next: Option<&(dyn Error + 'static)> = Some(self.source.as_ref());
        while let Some(cause) = next {
            causes.push(cause.to_string());
            next = cause.source();
        }
        causes.join(": ")
    }

    pub fn new(backend: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            backend,
            source: source.into(),
            contended: false,
        }
    }

    /// A 503 for a request that gave up after other writes kept changing
    /// what it works on (an event being replaced, a tally moving): the
    /// backend itself is serving.
    pub fn contended(backend: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            contended: true,
            ..Self::new(backend, source)
        }
    }
}
