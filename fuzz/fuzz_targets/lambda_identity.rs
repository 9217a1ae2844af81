//! Identity extraction from API Gateway HTTP API (payload v2) events with
//! fuzzed JWT claims (sub, tenant, roles, groups) and fuzzed dev identity
//! headers, decoded by lambda_http as in Lambda. Never a panic; an identity,
//! when found, is made of valid ids; in JWT mode it comes from the claims,
//! never from the dev headers.
//!
//! The event's host, path and forwarded protocol stay those of a real
//! event: lambda_http 1.3.2 panics while building the request URI from
//! malformed ones (found by an earlier version of this target; in Lambda the
//! runtime turns that panic into an invocation error, and API Gateway sets
//! those values itself).

#![no_main]

use http_interface::identity::{AuthMode, identify};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const EVENT: &str = include_str!("../../functions/dev-server/tests/http/fixtures/apigw_v2_place_hold_buyer.json");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().unwrap_or("").to_owned();
    let (sub, tenant, groups, roles, header_tenant, header_customer) = (next(), next(), next(), next(), next(), next());

    let mut event: Value = serde_json::from_str(EVENT).unwrap();
    let mut claims = serde_json::Map::new();
    for (name, value) in [("sub", &sub), ("tenant_id", &tenant), ("cognito:groups", &groups), ("roles", &roles)] {
        if !value.is_empty() {
            claims.insert(name.to_owned(), json!(value));
        }
    }
    event["requestContext"]["authorizer"]["jwt"]["claims"] = Value::Object(claims);
    // Header values as a client could send them (visible ASCII and spaces).
    let printable = |s: &str| s.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect::<String>();
    event["headers"]["x-tenant-id"] = json!(printable(&header_tenant));
    event["headers"]["x-customer-id"] = json!(printable(&header_customer));
    event["headers"]["x-roles"] = json!("organizer");

    let Ok(request) = lambda_http::request::from_str(&event.to_string()) else {
        return;
    };
    let (parts, _) = request.into_parts();
    let jwt = AuthMode::Jwt {
        tenant_claim: "tenant_id".to_owned(),
    };
    if let Some(identity) = identify(&parts, &jwt) {
        // Identity values are trimmed of surrounding whitespace, nothing else.
        assert_eq!(identity.tenant.as_str(), tenant.trim(), "JWT mode: the tenant comes from the claim");
        assert_eq!(identity.customer.as_str(), sub.trim(), "JWT mode: the customer comes from sub");
        let organizer_claimed = roles.contains("organizer") || groups.contains("organizer");
        assert!(
            !identity.is_organizer() || organizer_claimed,
            "JWT mode: the X-Roles header granted a role the token does not carry"
        );
    }
    if let Some(identity) = identify(&parts, &AuthMode::Dev) {
        assert!(!identity.tenant.as_str().is_empty() && !identity.customer.as_str().is_empty());
    }
});
