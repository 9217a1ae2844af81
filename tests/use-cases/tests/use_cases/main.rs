//! The use cases against the in-memory backend, a manual clock and
//! sequential ids, one module per concern; `support` is the world they
//! share. One test binary: a module per file links once instead of nine
//! times. Here rather than in `shared/application/tests` so that
//! `application` has no dev-dependency on an adapter (no dependency cycle;
//! ARCHITECTURE, "Folders are layers").

mod support;

mod best_available;
mod cancel_order;
mod circuit_breaker;
mod customer_limit;
mod event_changes;
mod extend_hold;
mod failures;
mod store_failures;
mod use_cases;
