//! Arbitrary bytes as an API Gateway HTTP API (payload v2) event: decoding
//! by lambda_http, then identity extraction in JWT mode and in dev mode.
//! Never a panic; an identity, when found, is made of valid ids; in JWT
//! mode the dev headers are never the source of an identity.

#![no_main]

use http_interface::identity::{AuthMode, identify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(request) = lambda_http::request::from_str(text) else {
        return;
    };
    let (parts, _) = request.into_parts();
    let jwt = AuthMode::Jwt {
        tenant_claim: "tenant_id".to_owned(),
    };
    if let Some(identity) = identify(&parts, &jwt) {
        assert!(!identity.tenant.as_str().is_empty());
        assert!(!identity.customer.as_str().is_empty());
        let from_header = parts.headers.get("x-tenant-id").and_then(|v| v.to_str().ok());
        if from_header == Some(identity.tenant.as_str()) {
            // Only fine if the claims say the same.
            let claims = text.contains(&format!("\"{}\"", identity.tenant.as_str()));
            assert!(claims, "JWT mode took the tenant from a header");
        }
    }
    let _ = identify(&parts, &AuthMode::Dev);
});
