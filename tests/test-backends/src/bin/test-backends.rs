//! Starts one `redis-server` and one DynamoDB Local on free ports for a
//! whole test run, the same way each test starts its own ([`RedisServer`],
//! [`DynamoDbLocal`]), prints `REDIS_URL=…` and `AWS_ENDPOINT_URL=…` once
//! both answer, and stops both when the caller says `stop` on its stdin or
//! is gone.
//! `scripts/start-test-backends.sh` runs it; with `TEST_BACKEND=containers`
//! it runs `test-containers` instead, which speaks the same lines.
//!
//! Built without the `sdk` feature it needs nothing but std, so it is ready
//! in seconds, before the test build starts.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::parent_id;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use test_backends::{DynamoDbLocal, RedisServer};

/// DynamoDB Local accepts connections a moment before it answers: wait for
/// a real answer to `ListTables`, as the SDK would send it.
fn dynamodb_answers(endpoint: &str) -> bool {
    let address = endpoint.trim_start_matches("http://");
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.ListTables\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

fn main() {
    let redis = RedisServer::start();
    let dynamodb = DynamoDbLocal::start();
    let started = Instant::now();
    while !dynamodb_answers(&dynamodb.endpoint()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "DynamoDB Local at {} does not answer ListTables",
            dynamodb.endpoint()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "REDIS_URL={}", redis.url());
    let _ = writeln!(out, "AWS_ENDPOINT_URL={}", dynamodb.endpoint());
    let _ = out.flush();
    drop(out);
    // Run until the caller says `stop`, or is gone (we are handed to another
    // parent). Not merely until stdin closes: bash closes a coproc's pipe
    // when it execs a command in its own place (`bash -c 'source …; cargo
    // nextest run'`), and that command, same process, still needs us.
    let caller = parent_id();
    let (stop, stopped) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_ok_and(|line| line.trim() == "stop") {
                let _ = stop.send(());
                return;
            }
        }
    });
    while stopped.recv_timeout(Duration::from_millis(200)).is_err() && parent_id() == caller {}
    // Dropping the handles stops both processes.
    drop(dynamodb);
    drop(redis);
}
