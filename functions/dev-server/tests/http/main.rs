//! The product through HTTP: the dev server's router in process (over the
//! in-memory backend or the real ones) and the dev server as a process,
//! one module per concern; `support` is the harness they share. One test
//! binary: the modules link once instead of fifteen times. Here, beside the
//! dev server, because the process tests start its binary
//! (`CARGO_BIN_EXE_dev-server`), which Cargo hands only to this package's
//! tests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

mod support;

mod api;
mod aws_backend;
mod best_available;
mod best_available_race;
mod crash_recovery;
mod customer_limit_race;
mod emf_metrics;
mod failure_promises;
mod flash_sale;
mod lambda_events;
mod lifecycle_races;
mod observability;
mod openapi_routes;
mod scripted_client;
mod security;

#[test]
fn every_file_of_this_test_binary_is_a_module_of_it() {
    test_doubles::test_binary::assert_every_file_is_a_module(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http"),
    );
}
