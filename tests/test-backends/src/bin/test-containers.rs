//! Starts Redis and LocalStack (or DynamoDB Local's image) through
//! testcontainers for a whole test run, prints `REDIS_URL=…` and
//! `AWS_ENDPOINT_URL=…` lines, and removes both when stdin closes.
//! `scripts/start-test-backends.sh` uses it when `TEST_BACKEND=containers`.

use std::io::{BufRead, Write};

fn main() {
    let running = test_backends::containers::start();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "REDIS_URL={}", running.redis_url);
    let _ = writeln!(out, "AWS_ENDPOINT_URL={}", running.dynamodb_endpoint);
    let _ = out.flush();
    drop(out);
    // Block until the caller closes our stdin (or exits), then drop the containers.
    for _line in std::io::stdin().lock().lines() {}
    drop(running);
}
