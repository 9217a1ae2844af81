//! Every adapter against the port contracts of `port-conformance`, one
//! module per adapter, in one test binary: the SDK and the Redis client
//! link once instead of four times.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

mod dynamodb;
mod dynamodb_previous_release;
mod memory;
mod redis;

#[test]
fn every_file_of_this_test_binary_is_a_module_of_it() {
    test_doubles::test_binary::assert_every_file_is_a_module(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adapters"),
    );
}
