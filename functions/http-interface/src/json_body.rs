//! Request bodies: size limit, JSON decoding with precise errors, and the
//! canonical fingerprint of a body for idempotency.
//!
//! - More than [`MAX_BODY_BYTES`] → 413 `payload-too-large`.
//! - Not JSON at all → 400 `validation-failed`.
//! - JSON of the wrong shape → 422 `validation-failed`, naming the field
//!   (`serde_path_to_error` gives the path, e.g. `seats[2].priceCents`).

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use domain::idempotency::Fingerprint;
use http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::problem::{ApiError, FieldError};

/// Largest accepted request body (docs/contract.md, Requests and answers).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest accepted event definition: 20 000 seats do not fit in 64 KiB, so
/// `PUT /events/{id}` alone accepts up to 4 MiB, room for 20 000 seats with
/// their seat map (docs/adr/0005-http-contract-details.md, ADR 15).
pub const MAX_EVENT_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A decoded JSON body of at most `LIMIT` bytes, with the parsed document
/// kept for fingerprinting.
#[derive(Debug, Clone)]
pub struct JsonBody<T, const LIMIT: usize = MAX_BODY_BYTES> {
    pub value: T,
    pub document: Value,
}

impl<T: DeserializeOwned, S: Send + Sync, const LIMIT: usize> FromRequest<S> for JsonBody<T, LIMIT> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > LIMIT) {
            return Err(ApiError::payload_too_large(LIMIT));
        }
        let bytes = to_bytes(request.into_body(), LIMIT)
            .await
            .map_err(|_| ApiError::payload_too_large(LIMIT))?;
        decode(&bytes)
    }
}

/// Decodes bytes into `T`, keeping the JSON document.
pub fn decode<T: DeserializeOwned, const LIMIT: usize>(bytes: &[u8]) -> Result<JsonBody<T, LIMIT>, ApiError> {
    let document: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::malformed_json(format!("The body is not JSON: {error}.")))?;
    let value = serde_path_to_error::deserialize(&document).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ApiError::validation(vec![FieldError::new(field, error.inner())])
    })?;
    Ok(JsonBody { value, document })
}

/// SHA-256 of the canonical form of a JSON document: object keys sorted,
/// no insignificant whitespace. The same JSON value in any key order or
/// spacing has the same fingerprint.
pub fn fingerprint(document: &Value) -> Fingerprint {
    let mut canonical = Vec::new();
    write_canonical(document, &mut canonical);
    Fingerprint(Sha256::digest(&canonical).into())
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(bytes: &[u8]) -> Fingerprint {
        fingerprint(&serde_json::from_slice(bytes).unwrap())
    }

    #[test]
    fn the_same_body_in_any_key_order_or_spacing_has_the_same_fingerprint() {
        let a = print(br#"{"holdId":"h","buyer":{"name":"A","email":"a@x"}}"#);
        let b = print(b"{ \"buyer\" : { \"email\":\"a@x\",\n \"name\":\"A\" }, \"holdId\" : \"h\" }");
        assert_eq!(a, b);
    }

    #[test]
    fn a_different_value_has_a_different_fingerprint() {
        assert_ne!(print(br#"{"holdId":"h1"}"#), print(br#"{"holdId":"h2"}"#));
        assert_ne!(print(br#"{"a":[1,2]}"#), print(br#"{"a":[2,1]}"#));
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // Fields exist to be decoded.
    struct Shape {
        seats: Vec<u64>,
    }

    #[test]
    fn a_body_that_is_not_json_is_a_400_and_the_wrong_shape_a_422_naming_the_field() {
        let not_json = decode::<Shape, MAX_BODY_BYTES>(b"{nope").unwrap_err();
        assert_eq!(
            (not_json.status().as_u16(), not_json.slug()),
            (400, "validation-failed")
        );
        let wrong = decode::<Shape, MAX_BODY_BYTES>(br#"{"seats":[1,"x"]}"#).unwrap_err();
        assert_eq!(wrong.status().as_u16(), 422);
        let body: Value = serde_json::from_slice(&wrong.body()).unwrap();
        assert_eq!(body["errors"][0]["field"], "seats[1]");
    }
}
