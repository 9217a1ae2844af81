//! Path ids. A path segment that does not parse as the resource's id is a
//! 404 of that resource (docs/contract.md, Identity and tenancy): never a
//! 400, 422 or 500, so probing ids reveals nothing.

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;

use crate::problem::ApiError;

/// The single `{id}` of a route, undecoded-safe: a segment axum cannot even
/// decode (bad UTF-8) becomes an empty string, which no id parser accepts.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Path::<String>::from_request_parts(parts, state).await;
        Ok(Self(raw.map(|Path(segment)| segment).unwrap_or_default()))
    }
}

impl PathId {
    /// Parses the segment, mapping any failure to `not_found()`.
    pub fn parse<T, E>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, E>,
        not_found: fn() -> ApiError,
    ) -> Result<T, ApiError> {
        parse(&self.0).map_err(|_| not_found())
    }
}
