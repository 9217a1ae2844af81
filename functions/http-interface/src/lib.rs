//! # HTTP interface: what every function does the same way
//!
//! Each Lambda is an axum `Router` of its own routes wrapped by
//! [`service_router`], which adds, once for all of them:
//! - correlation ids ([`correlation`]): read or minted, echoed, in every problem;
//! - one span, one summary log line and one set of metrics per request
//!   ([`request_telemetry`]);
//! - identity ([`identity`]): JWT authorizer claims, or dev headers only when
//!   `AUTH_MODE=dev`;
//! - request bodies ([`json_body`]): the 64 KiB limit, 400 vs 422, and the
//!   canonical fingerprint used for idempotency;
//! - errors ([`problem`]): every use-case error → one problem+json answer;
//! - `/health`, `/ready`, and problem answers for unknown routes and methods.
//!
//! Handlers stay short: extract (request bodies into domain values:
//! [`hold_request`], [`event_body`], [`request_fields`]), call one use case,
//! render ([`representations`], [`stored_reply`]).

pub mod correlation;
pub mod event_body;
pub mod hold_request;
pub mod identity;
pub mod json_body;
pub mod path;
pub mod problem;
pub mod remaining_time;
pub mod representations;
pub mod request_fields;
pub mod request_telemetry;
mod service;
pub mod stored_reply;

pub use service::{AppState, SERVICE_ROUTES, ServiceName, service_router};
