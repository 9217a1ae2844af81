//! `ops create-table` against DynamoDB Local, as an operator runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed unwrap is a failed test.

use std::process::Command;

fn ops(endpoint: &str, table: &str, command: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ops"))
        .arg(command)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("CACHE_NAME")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn create_table_creates_it_once_and_then_says_it_exists() {
    let (endpoint, _emulator) = test_backends::dynamodb();
    let _client = test_backends::dynamodb_client(&endpoint).await;
    let table = format!("ops-{}", uuid::Uuid::new_v4().simple());
    let (ok, first) = ops(&endpoint, &table, "create-table");
    assert!(ok && first.contains(&format!("created table {table}")), "{first}");
    let (ok, second) = ops(&endpoint, &table, "create-table");
    assert!(ok && second.contains("already exists"), "{second}");
    let (ok, status) = ops(&endpoint, &table, "status");
    assert!(ok && status.contains(&format!("table {table}: ACTIVE")), "{status}");
}

#[test]
fn an_unknown_command_prints_usage_and_fails() {
    let (ok, text) = ops("http://127.0.0.1:9", "x", "frobnicate");
    assert!(!ok && text.contains("usage: ops create-table"), "{text}");
}
