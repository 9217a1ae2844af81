//! How long the current invocation may still run.
//!
//! In Lambda the runtime passes a deadline; create-order bounds its
//! idempotency lease by it, so a retry never has to wait for a lease that
//! outlives the attempt that took it (docs/contract.md, Idempotency rule 4).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use http::request::Parts;
use lambda_http::RequestExt;

/// Time kept back from the deadline for answering and flushing logs.
const SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// The invocation's remaining time, if the runtime knows a deadline.
#[derive(Debug, Clone, Copy)]
pub struct RemainingTime(pub Option<Duration>);

impl<S: Send + Sync> FromRequestParts<S> for RemainingTime {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let remaining = parts.lambda_context_ref().map(|context| {
            let deadline = UNIX_EPOCH + Duration::from_millis(context.deadline);
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .saturating_sub(SAFETY_MARGIN)
                .max(Duration::from_secs(1))
        });
        Ok(Self(remaining))
    }
}
