//! What logging and metrics cost on the hot path: place hold through the
//! real router (in-memory backend, so our own code dominates), with the
//! production JSON logs at `info` and EMF metrics flushed per request
//! ("on"), against no subscriber and a no-op recorder ("off"). Rounds
//! alternate on/off in one process so machine noise hits both alike.
//!
//! `cargo run --release -p dev-server --example observability_cost [memory|aws] [REQUESTS_PER_ROUND] [ROUNDS]`
//! `aws` runs the same on local Redis + DynamoDB Local (`REDIS_URL` /
//! `AWS_ENDPOINT_URL` if set, else its own), where requests cost what they
//! cost in production. Prints a Markdown table; the goal (issue 5) is
//! on/off ≤ 1.05 at p50.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring script: any failure should stop it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use composition::telemetry::{self, EmfSink};
use composition::{Config, Defaults};
use http::{Method, Request};
use http_interface::ServiceName;
use serde_json::json;
use tower::ServiceExt;

const SERVICE: ServiceName = ServiceName("place-hold");

fn percentile(samples: &mut [Duration], per_mille: usize) -> Duration {
    samples.sort();
    samples[(samples.len() - 1) * per_mille / 1000]
}

fn request(method: Method, path: &str, body: &serde_json::Value) -> Request<axum::body::Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("x-tenant-id", "bench")
        .header("x-customer-id", "buyer")
        .header("x-roles", "organizer")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

/// The backends both modes share: in memory, or Redis + DynamoDB Local.
async fn ports(backend: &str, keep_alive: &mut Vec<test_backends::KeepAlive>) -> application::ports::Ports {
    if backend == "memory" {
        return memory_backend::memory_ports(Arc::new(system_runtime::SystemClock), Arc::new(system_runtime::UuidIds));
    }
    let (redis_url, redis) = test_backends::redis();
    let (endpoint, dynamodb) = test_backends::dynamodb();
    keep_alive.extend([redis, dynamodb]);
    let table = test_backends::fresh_table(&test_backends::dynamodb_client(&endpoint).await).await;
    let env = std::collections::HashMap::from([
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url),
        ("TABLE_NAME", table),
        ("AWS_ENDPOINT_URL", endpoint),
    ]);
    let config = Config::from_lookup(Defaults::DEV_SERVER, |name| env.get(name).cloned()).unwrap();
    composition::build_ports(&config).await.unwrap()
}

fn app(ports: application::ports::Ports) -> Router {
    let config = Config::from_lookup(Defaults::DEV_SERVER, |_| None).unwrap();
    composition::app_with_ports(SERVICE, functions::all_routes(), ports, &config)
}

/// Places `count` one-seat holds on a fresh event; returns each request's latency.
/// (Events are unique per run: the aws backend's table may be shared.)
async fn place_holds(router: &Router, round: usize, count: usize) -> Vec<Duration> {
    let seats: Vec<_> = (0..count)
        .map(|i| json!({"id": format!("S{i}"), "priceCents": 1000}))
        .collect();
    let event = json!({"name": "Bench", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR", "seats": seats});
    let path = format!("/events/bench-{}-{round}", std::process::id());
    let created = router
        .clone()
        .oneshot(request(Method::PUT, &path, &event))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let body = json!({"seats": [format!("S{i}")]});
        let started = Instant::now();
        let response = router
            .clone()
            .oneshot(request(Method::POST, &format!("{path}/holds"), &body))
            .await
            .unwrap();
        latencies.push(started.elapsed());
        assert_eq!(response.status(), 201);
    }
    latencies
}

fn main() {
    let backend = std::env::args().nth(1).unwrap_or_else(|| "memory".to_owned());
    assert!(
        ["memory", "aws"].contains(&backend.as_str()),
        "backend is memory or aws"
    );
    let per_round: usize = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let rounds: usize = std::env::args().nth(3).and_then(|n| n.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut keep_alive = Vec::new();
    let ports = runtime.block_on(ports(&backend, &mut keep_alive));

    let collector = telemetry::init_emf("Bench", SERVICE).expect("the only recorder");
    let emf = Arc::new(Mutex::new(Vec::new()));
    let observed = telemetry::flush_metrics_after_each(app(ports.clone()), collector, EmfSink::Buffer(emf.clone()));
    let log_bytes = Arc::new(Mutex::new(0_usize));
    let counted = log_bytes.clone();
    let logs = tracing::Dispatch::new(telemetry::subscriber(SERVICE, "info", move || {
        CountingSink(counted.clone())
    }));
    let bare = app(ports);

    let (mut on, mut off, mut logs_only, mut metrics_only) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let event = |n: usize| round * 4 + n;
        // "on": JSON logs at info to a byte-counting sink, EMF flushed per request.
        tracing::dispatcher::with_default(&logs, || {
            on.extend(runtime.block_on(place_holds(&observed, event(0), per_round)));
        });
        // "off": no subscriber, no-op recorder, no flush layer.
        metrics::with_local_recorder(&metrics::NoopRecorder, || {
            off.extend(runtime.block_on(place_holds(&bare, event(1), per_round)));
        });
        // Each half alone, to see which one costs what.
        tracing::dispatcher::with_default(&logs, || {
            metrics::with_local_recorder(&metrics::NoopRecorder, || {
                logs_only.extend(runtime.block_on(place_holds(&bare, event(2), per_round)));
            });
        });
        metrics_only.extend(runtime.block_on(place_holds(&observed, event(3), per_round)));
        emf.lock().unwrap().clear();
    }
    let total = on.len();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let (off50, off95) = (percentile(&mut off, 500), percentile(&mut off, 950));
    println!("| place hold, {backend} backend | p50 | p95 | p50 ratio to off | p95 ratio to off |");
    println!("|---|---|---|---|---|");
    for (name, samples) in [
        ("logs + metrics off", &mut off),
        ("logs (info) only", &mut logs_only),
        ("EMF metrics only", &mut metrics_only),
        ("logs (info) + EMF per request on", &mut on),
    ] {
        let (p50, p95) = (percentile(samples, 500), percentile(samples, 950));
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.3} | {:.3} |",
            micros(p50),
            micros(p95),
            micros(p50) / micros(off50),
            micros(p95) / micros(off95)
        );
    }
    println!(
        "\n{total} requests per mode in {rounds} alternating rounds; {} log bytes per request",
        *log_bytes.lock().unwrap() / (2 * total)
    );
}

/// A log writer that only counts bytes (the cost measured is formatting, not I/O).
struct CountingSink(Arc<Mutex<usize>>);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.lock().unwrap() += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
