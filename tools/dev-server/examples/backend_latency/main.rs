//! Latency of place hold, verify hold and create order through the real
//! use cases on local Redis + DynamoDB Local, beside the raw round trips of
//! the same backends, measured in one run (ratios matter; absolute numbers
//! on a shared machine do not).
//!
//! `cargo run --release -p dev-server --example backend_latency [ROUNDS]`
//! Uses `REDIS_URL` / `AWS_ENDPOINT_URL` if set, else starts its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring script: any failure should stop it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use application::UseCases;
use composition::{Config, Defaults};
use http::{Method, Request};
use http_interface::{AppState, ServiceName, service_router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The sample at `per_mille`/1000 of the sorted list (nearest rank).
fn percentile(samples: &mut [Duration], per_mille: usize) -> Duration {
    samples.sort();
    samples[(samples.len() - 1) * per_mille / 1000]
}

fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 500);
    let p95 = percentile(samples, 950);
    println!(
        "| {name} | {:.0} µs | {:.0} µs |",
        p50.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6
    );
}

async fn call(router: &axum::Router, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Value {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("x-tenant-id", "bench")
        .header("x-customer-id", "buyer")
        .header("x-roles", "organizer")
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let body = body.map_or_else(axum::body::Body::empty, |b| axum::body::Body::from(b.to_string()));
    let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
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
    let state = AppState {
        use_cases: UseCases::new(composition::build_ports(&config).await.unwrap(), config.settings),
        auth: config.auth.clone(),
        service: ServiceName("bench"),
        readiness_timeout: config.readiness_timeout,
    };
    let router = service_router(dev_server::all_routes(), state);
    let seats: Vec<Value> = (0..rounds * 2)
        .map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 }))
        .collect();
    call(
        &router,
        Method::PUT,
        "/events/bench",
        None,
        Some(json!({ "name": "Bench", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR", "seats": seats })),
    )
    .await;

    let (mut place, mut verify, mut order) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let wanted = json!({ "seats": [format!("S{}", 2 * round), format!("S{}", 2 * round + 1)] });
        let started = Instant::now();
        let hold = call(&router, Method::POST, "/events/bench/holds", None, Some(wanted)).await;
        place.push(started.elapsed());
        let hold_id = hold["holdId"].as_str().expect("hold placed").to_owned();
        let started = Instant::now();
        call(&router, Method::GET, &format!("/holds/{hold_id}"), None, None).await;
        verify.push(started.elapsed());
        let started = Instant::now();
        let created = call(
            &router,
            Method::POST,
            "/orders",
            Some(&format!("k{round}")),
            Some(json!({ "holdId": hold_id })),
        )
        .await;
        order.push(started.elapsed());
        assert_eq!(created["status"], "CONFIRMED");
    }

    // The floor: the same backends, one bare round trip each.
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
    println!("{rounds} rounds, in-process router over BACKEND=aws (Redis + DynamoDB Local on loopback)\n");
    println!("| operation | p50 | p95 |\n|---|---:|---:|");
    report("place hold (event read + lock script + hold put)", &mut place);
    report("verify hold (hold get + MGET)", &mut verify);
    report("create order (claim + hold get + transaction + MSET)", &mut order);
    report("floor: Redis GET", &mut redis_get);
    report("floor: DynamoDB GetItem (consistent)", &mut dynamo_get);
}
