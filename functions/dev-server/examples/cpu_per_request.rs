//! Our own CPU per request: place hold, verify hold and create order through
//! the real router on the in-memory backend (no I/O), with telemetry as
//! deployed — JSON logs at `info` (to a sink that only counts bytes) and one
//! EMF document per request — so what is measured is our code alone.
//!
//! `cargo run --release -p dev-server --example cpu_per_request [REQUESTS]`
//! prints a Markdown table (goal: place hold p50 ≤ 50 µs).
//! `… cpu_per_request REQUESTS place-only` only places holds, for
//! `valgrind --tool=callgrind`: two runs with different REQUESTS give
//! instructions per request by difference (setup cancels out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring script: any failure should stop it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use composition::telemetry::{self, EmfSink};
use composition::{Config, Defaults};
use http::{Method, Request};
use http_interface::ServiceName;
use serde_json::{Value, json};
use tower::ServiceExt;

const SERVICE: ServiceName = ServiceName("dev-server");
/// Seats of the one event; fixed so setup costs the same whatever REQUESTS is.
const SEATS: usize = 4000;

fn request(method: Method, path: &str, key: Option<&str>, body: Option<&Value>) -> Request<axum::body::Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("x-tenant-id", "bench")
        .header("x-customer-id", "buyer")
        .header("x-roles", "organizer")
        .header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder
        .body(body.map_or_else(axum::body::Body::empty, |b| axum::body::Body::from(b.to_string())))
        .unwrap()
}

async fn send(router: &Router, request: Request<axum::body::Body>) -> (u16, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn p(samples: &mut [Duration], per_mille: usize) -> f64 {
    samples.sort();
    samples[(samples.len() - 1) * per_mille / 1000].as_secs_f64() * 1e6
}

fn main() {
    let requests: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let place_only = std::env::args().nth(2).as_deref() == Some("place-only");
    assert!(requests <= SEATS, "at most {SEATS} requests (one seat each)");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config::from_lookup(Defaults::DEV_SERVER, |_| None).unwrap();
    let ports = memory_backend::memory_ports(Arc::new(system_runtime::SystemClock), Arc::new(system_runtime::UuidIds));
    let router = composition::app_with_ports(SERVICE, functions::all_routes(), ports, &config);
    let collector = telemetry::init_emf("Bench", SERVICE).expect("the only recorder");
    let router =
        telemetry::flush_metrics_after_each(router, collector, EmfSink::Buffer(Arc::new(Mutex::new(Vec::new()))));
    let logs = tracing::Dispatch::new(telemetry::subscriber(SERVICE, "info", std::io::sink));

    let seats: Vec<Value> = (0..SEATS)
        .map(|i| json!({"id": format!("S{i}"), "priceCents": 1000}))
        .collect();
    let event = json!({"name": "Bench", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR", "seats": seats});
    let (mut place, mut verify, mut order) = (Vec::new(), Vec::new(), Vec::new());
    tracing::dispatcher::with_default(&logs, || {
        runtime.block_on(async {
            let (status, _) = send(&router, request(Method::PUT, "/events/cpu", None, Some(&event))).await;
            assert_eq!(status, 201);
            for i in 0..requests {
                let body = json!({"seats": [format!("S{i}")]});
                let started = Instant::now();
                let (status, hold) = send(&router, request(Method::POST, "/events/cpu/holds", None, Some(&body))).await;
                place.push(started.elapsed());
                assert_eq!(status, 201, "{hold}");
                if place_only {
                    continue;
                }
                let hold_id = hold["holdId"].as_str().unwrap().to_owned();
                let started = Instant::now();
                let (status, _) = send(&router, request(Method::GET, &format!("/holds/{hold_id}"), None, None)).await;
                verify.push(started.elapsed());
                assert_eq!(status, 200);
                let body = json!({"holdId": hold_id});
                let started = Instant::now();
                let (status, _) = send(
                    &router,
                    request(Method::POST, "/orders", Some(&format!("k{i}")), Some(&body)),
                )
                .await;
                order.push(started.elapsed());
                assert_eq!(status, 201);
            }
        });
    });
    if place_only {
        println!("placed {requests} holds");
        return;
    }
    println!(
        "{requests} of each, in-memory backend, one event of {SEATS} seats, JSON logs at info + one EMF document per request\n"
    );
    println!("| operation | p50 | p95 |\n|---|---:|---:|");
    for (name, samples) in [
        ("place hold", &mut place),
        ("verify hold", &mut verify),
        ("create order", &mut order),
    ] {
        println!("| {name} | {:.1} µs | {:.1} µs |", p(samples, 500), p(samples, 950));
    }
    let place50 = p(&mut place, 500);
    println!(
        "\nGoal place hold p50 ≤ 50 µs: {place50:.1} µs, {}.",
        if place50 <= 50.0 { "met" } else { "**missed**" }
    );
}
