//! Who is calling, from the JWT authorizer's claims, or, only when
//! `AUTH_MODE=dev`, from plain headers.
//!
//! In AWS, API Gateway validates the JWT before the Lambda runs and passes
//! the claims in the request context; the function trusts only those. The
//! dev headers exist for the local dev server and are ignored in JWT mode,
//! so a deployed function cannot be fooled by a client setting them.

use axum::extract::FromRequestParts;
use domain::identity::{Identity, Role};
use domain::ids::{CustomerId, TenantId};
use http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::problem::ApiError;

/// Where identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// API Gateway JWT authorizer claims; the tenant is in claim `tenant_claim`.
    Jwt { tenant_claim: String },
    /// `X-Tenant-Id`, `X-Customer-Id`, `X-Roles` headers. Local use only.
    Dev,
}

pub const TENANT_HEADER: &str = "x-tenant-id";
pub const CUSTOMER_HEADER: &str = "x-customer-id";
pub const ROLES_HEADER: &str = "x-roles";

/// The state a router needs to identify callers: how identity is read. The
/// service's `AppState` implements it; this module does not name it, so
/// identity stays below the service wiring.
pub trait IdentifiesCallers {
    fn auth_mode(&self) -> &AuthMode;
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl<S> FromRequestParts<S> for Caller
where
    S: IdentifiesCallers + Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let identity = identify(parts, state.auth_mode()).ok_or_else(ApiError::unauthorized)?;
        // Every later log line of the request names the tenant (never the customer).
        tracing::Span::current().record("tenantId", identity.tenant.as_str());
        Ok(Caller(identity))
    }
}

/// The identity a request carries under `mode`, if any.
pub fn identify(parts: &Parts, mode: &AuthMode) -> Option<Identity> {
    match mode {
        AuthMode::Dev => {
            let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
            build(header(TENANT_HEADER)?, header(CUSTOMER_HEADER)?, header(ROLES_HEADER))
        }
        AuthMode::Jwt { tenant_claim } => {
            let Some(RequestContext::ApiGatewayV2(context)) = parts.request_context_ref() else {
                return None;
            };
            let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
            let roles = claims.get("roles").or_else(|| claims.get("cognito:groups"));
            build(claims.get(tenant_claim)?, claims.get("sub")?, roles.map(String::as_str))
        }
    }
}

fn build(tenant: &str, customer: &str, roles: Option<&str>) -> Option<Identity> {
    Some(Identity {
        tenant: TenantId::parse(tenant.trim()).ok()?,
        customer: CustomerId::parse(customer.trim()).ok()?,
        roles: roles.map(parse_roles).unwrap_or_default(),
    })
}

/// Roles arrive as `a,b` (dev header), `[a b]` (how API Gateway flattens a
/// JWT array claim) or `["a","b"]` (a JSON array in a string claim).
pub fn parse_roles(text: &str) -> Vec<Role> {
    text.split(|c: char| c == ',' || c == '[' || c == ']' || c == '"' || c.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(Role::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<Role> {
        parse_roles(text)
    }

    #[test]
    fn roles_are_read_from_every_shape_api_gateway_and_clients_send() {
        let expected = vec![Role::Organizer, Role::Other("buyer".to_owned())];
        assert_eq!(names("organizer,buyer"), expected);
        assert_eq!(names("[organizer buyer]"), expected);
        assert_eq!(names(r#"["organizer","buyer"]"#), expected);
        assert_eq!(names(" organizer , buyer "), expected);
        assert!(names("").is_empty());
    }

    #[test]
    fn an_identity_with_a_malformed_tenant_or_customer_is_no_identity() {
        assert!(build("acme", "alice", None).is_some());
        assert!(build("ac me", "alice", None).is_none());
        assert!(build("acme", "", None).is_none());
    }
}
