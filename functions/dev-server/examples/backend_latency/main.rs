//! Latency of place hold, verify hold, extend hold, create order, cancel order and a best-available
//! hold through the real
//! use cases on local Redis + DynamoDB Local, beside their floor: the time
//! the same requests spent inside their own backend calls (see
//! [`timed_ports`]), measured in the same run; then the same five through a
//! dev-server process over HTTP. Ratios matter; absolute numbers on a shared
//! machine do not.
//!
//! `cargo run --release -p dev-server --example backend_latency [ROUNDS]`
//! Uses `REDIS_URL` / `AWS_ENDPOINT_URL` if set, else starts its own; the
//! HTTP part runs `DEV_SERVER_BIN` (default `target/release/dev-server`).
//! `BENCH_LOGS=1` prints the in-process JSON logs (to see why a request failed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring script: any failure should stop it.

mod timed_ports;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use composition::{Config, Defaults};
use http::{Method, Request};
use http_interface::ServiceName;
use serde_json::{Value, json};
use timed_ports::BackendTime;
use tower::ServiceExt;

/// The sample at `per_mille`/1000 of the sorted list (nearest rank).
fn percentile(samples: &[Duration], per_mille: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[(sorted.len() - 1) * per_mille / 1000]
}

fn micros(duration: Duration) -> String {
    format!("{:.0} µs", duration.as_secs_f64() * 1e6)
}

fn ratio(ours: Duration, floor: Duration) -> f64 {
    ours.as_secs_f64() / floor.as_secs_f64()
}

/// One operation's samples: whole request in-process, its backend calls, over HTTP.
#[derive(Default)]
struct Samples {
    in_process: Vec<Duration>,
    floor: Vec<Duration>,
    http: Vec<Duration>,
}

/// Sends one request either to the in-process router or over HTTP.
enum Target {
    Router(axum::Router),
    Http { client: reqwest::Client, base: String },
}

impl Target {
    async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Value {
        let headers = [
            ("x-tenant-id", "bench"),
            ("x-customer-id", "buyer"),
            ("x-roles", "organizer"),
            ("content-type", "application/json"),
        ];
        let bytes = match self {
            Self::Router(router) => {
                let mut request = Request::builder().method(method).uri(path);
                for (name, value) in headers.into_iter().chain(key.map(|key| ("idempotency-key", key))) {
                    request = request.header(name, value);
                }
                let body = body.map_or_else(axum::body::Body::empty, |b| axum::body::Body::from(b.to_string()));
                let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
                http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap()
                    .to_bytes()
                    .to_vec()
            }
            Self::Http { client, base } => {
                let mut request = client.request(method, format!("{base}{path}"));
                for (name, value) in headers.into_iter().chain(key.map(|key| ("idempotency-key", key))) {
                    request = request.header(name, value);
                }
                if let Some(body) = body {
                    request = request.body(body.to_string());
                }
                request.send().await.unwrap().bytes().await.unwrap().to_vec()
            }
        };
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }
}

/// The timed requests, in the order each round sends them.
const OPERATIONS: usize = 6;

/// Creates an event with enough seats, then `rounds` × (place, verify, extend, order, cancel,
/// best available), timing each; `backend` (in-process only) splits out the backend calls.
/// Best-available holds take 2 seats together in section "Best" (rows of 20, after the
/// named seats), and stay: each round's pick walks past the rows the earlier rounds filled.
async fn run(target: &Target, event: &str, rounds: usize, backend: Option<&BackendTime>) -> [Samples; OPERATIONS] {
    let named = (0..rounds * 2).map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 }));
    // Pairs picked from the middle out leave the two end seats of each row of 20 single.
    let mapped = (0..rounds * 3).map(|i| {
        json!({ "id": format!("B{i}"), "priceCents": 100, "section": "Best",
                "row": format!("R{}", i / 20), "number": i % 20 + 1 })
    });
    let seats: Vec<Value> = named.chain(mapped).collect();
    let definition = json!({ "name": "Bench", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR", "seats": seats });
    // A cold emulator (JVM) can miss the 2 s operation timeout on its first writes: retry the setup only.
    let mut created = Value::Null;
    for _ in 0..10 {
        created = target
            .call(Method::PUT, &format!("/events/{event}"), None, Some(definition.clone()))
            .await;
        if created["eventId"] == event {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(created["eventId"], event, "event created: {created}");
    let mut samples: [Samples; OPERATIONS] = Default::default();
    let mut timed = async |operation: usize, call: std::pin::Pin<Box<dyn Future<Output = Value> + '_>>| {
        if let Some(backend) = backend {
            backend.take();
        }
        let started = Instant::now();
        let answer = call.await;
        let elapsed = started.elapsed();
        match backend {
            Some(backend) => {
                samples[operation].in_process.push(elapsed);
                samples[operation].floor.push(backend.take());
            }
            None => samples[operation].http.push(elapsed),
        }
        answer
    };
    for round in 0..rounds {
        let wanted = json!({ "seats": [format!("S{}", 2 * round), format!("S{}", 2 * round + 1)] });
        let path = format!("/events/{event}/holds");
        let hold = timed(0, Box::pin(target.call(Method::POST, &path, None, Some(wanted)))).await;
        let hold_id = hold["holdId"].as_str().expect("hold placed").to_owned();
        let path = format!("/holds/{hold_id}");
        let verified = timed(1, Box::pin(target.call(Method::GET, &path, None, None))).await;
        assert_eq!(verified["status"], "ACTIVE", "{verified}");
        let path = format!("/holds/{hold_id}/extend");
        let extended = timed(
            2,
            Box::pin(target.call(Method::POST, &path, None, Some(json!({ "ttlSeconds": 900 })))),
        )
        .await;
        assert_eq!(extended["valid"], true, "{extended}");
        let key = format!("{event}-k{round}");
        let body = json!({ "holdId": hold_id });
        let created = timed(
            3,
            Box::pin(target.call(Method::POST, "/orders", Some(&key), Some(body))),
        )
        .await;
        assert_eq!(created["status"], "CONFIRMED");
        let path = format!("/orders/{}/cancel", created["orderId"].as_str().expect("order id"));
        let key = format!("{event}-c{round}");
        let cancelled = timed(4, Box::pin(target.call(Method::POST, &path, Some(&key), None))).await;
        assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
        let best = json!({ "bestAvailable": { "quantity": 2, "section": "Best" } });
        let path = format!("/events/{event}/holds");
        let picked = timed(5, Box::pin(target.call(Method::POST, &path, None, Some(best)))).await;
        assert_eq!(picked["seats"].as_array().map(Vec::len), Some(2), "{picked}");
    }
    samples
}

/// A child process killed when dropped, even when the bench panics.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The dev server as its own process (release build), on the same backends.
fn start_dev_server(env: &HashMap<&str, String>) -> (Killed, String) {
    let binary = std::env::var("DEV_SERVER_BIN").unwrap_or_else(|_| "target/release/dev-server".to_owned());
    let mut child = Command::new(&binary)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DEV_SERVER_ADDR", "127.0.0.1:0")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("{binary}: {error} (build it with cargo build --release -p dev-server --features aws)")
        });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Stdout carries JSON log lines; the `server.listening` one has the URL.
    let base = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "{binary} exited before listening"
        );
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["event"] == "server.listening" {
            break event["url"].as_str().unwrap().to_owned();
        }
    };
    // Drain its logs so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in stdout.lines() {});
    (Killed(child), base)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(300);
    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    let env: HashMap<&str, String> = HashMap::from([
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url.clone()),
        ("TABLE_NAME", table.clone()),
        ("AWS_ENDPOINT_URL", endpoint.clone()),
    ]);
    let config = Config::from_lookup(Defaults::DEV_SERVER, |name| env.get(name).cloned()).unwrap();
    if std::env::var("BENCH_LOGS").is_ok() {
        composition::telemetry::init_logs(ServiceName("bench"), "info");
    }
    let backend = BackendTime::default();
    let ports = timed_ports::timed(composition::build_ports(&config).await.unwrap(), &backend);
    let router = Target::Router(composition::app_with_ports(
        ServiceName("bench"),
        functions::all_routes(),
        ports,
        &config,
    ));
    let (server, base) = start_dev_server(&env);
    let http = Target::Http {
        client: reqwest::Client::new(),
        base,
    };

    // Warm both paths (connections, caches), then alternate them in halves.
    run(&router, "warm-a", 20, Some(&backend)).await;
    run(&http, "warm-b", 20, None).await;
    let mut results: [Samples; OPERATIONS] = Default::default();
    for half in 0..2 {
        let in_process = run(&router, &format!("local{half}"), rounds / 2, Some(&backend)).await;
        let over_http = run(&http, &format!("http{half}"), rounds / 2, None).await;
        for (total, (local, remote)) in results.iter_mut().zip(in_process.into_iter().zip(over_http)) {
            total.in_process.extend(local.in_process);
            total.floor.extend(local.floor);
            total.http.extend(remote.http);
        }
    }
    drop(server);

    // A bare round trip of each backend, for scale.
    let mut redis = redis::Client::open(redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let (mut redis_get, mut dynamo_get) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let started = Instant::now();
        let _: Option<String> = redis::cmd("GET")
            .arg(format!("k{round}"))
            .query_async(&mut redis)
            .await
            .unwrap();
        redis_get.push(started.elapsed());
        let started = Instant::now();
        client
            .get_item()
            .table_name(&table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("nothing-{round}")),
            )
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("x".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        dynamo_get.push(started.elapsed());
    }
    print_report(rounds, &results, &redis_get, &dynamo_get);

    redis_down_next_to_up(&router, &backend, &table, &endpoint, rounds).await;
    print_write_model();
}

/// The same requests with Redis down (nothing listens on its port) next to
/// Redis up: the circuit breaker fails the seat-lock calls at once and
/// DynamoDB decides.
async fn redis_down_next_to_up(router: &Target, backend: &BackendTime, table: &str, endpoint: &str, rounds: usize) {
    let dead_redis = format!("redis://127.0.0.1:{}", test_backends::free_port());
    let down_env: HashMap<&str, String> = HashMap::from([
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", dead_redis),
        ("TABLE_NAME", table.to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ]);
    let down_config = Config::from_lookup(Defaults::DEV_SERVER, |name| down_env.get(name).cloned()).unwrap();
    let down_backend = BackendTime::default();
    let down_ports = timed_ports::timed(composition::build_ports(&down_config).await.unwrap(), &down_backend);
    let down = Target::Router(composition::app_with_ports(
        ServiceName("bench"),
        functions::all_routes(),
        down_ports,
        &down_config,
    ));
    run(&down, "warm-down", 20, Some(&down_backend)).await;
    let mut up: [Samples; OPERATIONS] = Default::default();
    let mut without: [Samples; OPERATIONS] = Default::default();
    for half in 0..2 {
        for (total, part) in up
            .iter_mut()
            .zip(run(router, &format!("up{half}"), rounds / 2, Some(backend)).await)
        {
            total.in_process.extend(part.in_process);
        }
        for (total, part) in without
            .iter_mut()
            .zip(run(&down, &format!("down{half}"), rounds / 2, Some(&down_backend)).await)
        {
            total.in_process.extend(part.in_process);
        }
    }
    print_degraded(&up, &without);
}

/// Redis up next to Redis down, same run, in-process.
fn print_degraded(up: &[Samples; OPERATIONS], down: &[Samples; OPERATIONS]) {
    println!("\n### Redis down next to Redis up (I8)\n");
    println!("Same requests, same DynamoDB Local, in-process; Redis down = `REDIS_URL` at a port nobody listens on.\n");
    println!("| operation | up p50 | down p50 | ratio | up p99 | down p99 | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, (up, down)) in [
        "place hold",
        "verify hold",
        "extend hold",
        "create order",
        "cancel order",
        "best-available hold",
    ]
    .iter()
    .zip(up.iter().zip(down))
    {
        let (u50, d50) = (percentile(&up.in_process, 500), percentile(&down.in_process, 500));
        let (u99, d99) = (percentile(&up.in_process, 990), percentile(&down.in_process, 990));
        println!(
            "| {name} | {} | {} | {:.2} | {} | {} | {:.2} |",
            micros(u50),
            micros(d50),
            ratio(d50, u50),
            micros(u99),
            micros(d99),
            ratio(d99, u99)
        );
    }
}

/// Items and write units per hold and per order, from the transaction shapes
/// (ADR 12's capacity model; transactional writes cost 2 WCU per item < 1 KB,
/// and condition checks are counted the same, the conservative assumption).
fn print_write_model() {
    use dynamodb_store::limits::{ORDER_COMMIT_FIXED_ITEMS, ORDER_COMMIT_ITEMS_PER_SEAT};
    println!("\n### DynamoDB writes per request (from the transaction shapes)\n");
    println!("| request | seats | items written | WCU |");
    println!("|---|---:|---:|---:|");
    for seats in [1, 4, 10] {
        // Hold, one claim per seat, and (expand step of ADR 12) one condition
        // check per seat on the previous release's sold record.
        let hold_items = 1 + 2 * seats;
        let order_items = ORDER_COMMIT_FIXED_ITEMS + ORDER_COMMIT_ITEMS_PER_SEAT * seats;
        println!(
            "| place hold (hold + claims, one transaction) | {seats} | {hold_items} | {} |",
            2 * hold_items
        );
        println!(
            "| create order (idempotency claim + one transaction) | {seats} | 1 + {order_items} | {} |",
            1 + 2 * order_items
        );
    }
}

fn print_report(rounds: usize, results: &[Samples; OPERATIONS], redis_get: &[Duration], dynamo_get: &[Duration]) {
    let names = [
        "place hold (event read + lock script + hold and claims transaction + change marks + lock extend)",
        "verify hold (hold get + MGET)",
        "extend hold (hold get + hold and claims transaction + lock PEXPIRE script)",
        "create order (claim + hold get + transaction + sold-marker script)",
        "cancel order (claim + order get + event item get + unmark script + transaction + unmark script)",
        "best-available hold (event read + index script + place hold's calls)",
    ];
    println!(
        "{rounds} requests of each kind per path, BACKEND=aws (Redis + DynamoDB Local on loopback), logs at info and \
         metrics on. *Floor* = the time the same requests spent inside their own backend calls.\n"
    );
    println!(
        "| operation | floor p50 | in-process p50 | ratio | floor p99 | in-process p99 | ratio | HTTP p50 | ratio | HTTP p99 | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut worst = (0.0_f64, 0.0_f64);
    for (name, samples) in names.iter().zip(results) {
        let floor = (percentile(&samples.floor, 500), percentile(&samples.floor, 990));
        let local = (
            percentile(&samples.in_process, 500),
            percentile(&samples.in_process, 990),
        );
        let http = (percentile(&samples.http, 500), percentile(&samples.http, 990));
        worst = (
            worst.0.max(ratio(local.0, floor.0)),
            worst.1.max(ratio(local.1, floor.1)),
        );
        println!(
            "| {name} | {} | {} | {:.2} | {} | {} | {:.2} | {} | {:.2} | {} | {:.2} |",
            micros(floor.0),
            micros(local.0),
            ratio(local.0, floor.0),
            micros(floor.1),
            micros(local.1),
            ratio(local.1, floor.1),
            micros(http.0),
            ratio(http.0, floor.0),
            micros(http.1),
            ratio(http.1, floor.1),
        );
    }
    println!();
    println!(
        "Bare round trips for scale: Redis GET p50 {} / p99 {}; DynamoDB GetItem (consistent) p50 {} / p99 {}.\n",
        micros(percentile(redis_get, 500)),
        micros(percentile(redis_get, 990)),
        micros(percentile(dynamo_get, 500)),
        micros(percentile(dynamo_get, 990)),
    );
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    println!("| goal (in-process vs floor) | worst | |\n|---|---:|---|");
    println!("| p50 ratio ≤ 1.10 | {:.2} | {} |", worst.0, verdict(worst.0 <= 1.10));
    println!("| p99 ratio ≤ 1.5 | {:.2} | {} |", worst.1, verdict(worst.1 <= 1.5));
}
