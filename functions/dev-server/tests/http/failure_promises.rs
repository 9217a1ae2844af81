//! The promises a hold makes when Redis or the network misbehaves (I5, I7,
//! I8), each kept by the real `dev-server` binary with `BACKEND=aws` on real
//! Redis and DynamoDB Local, with a fault proxy ([`FaultProxy`]) between the
//! adapters and each backend. One test per promise, named after it:
//!
//! 1. a slow Redis never leaves seats locked after a non-201, and never
//!    refuses a sale DynamoDB would allow;
//! 2. Redis losing its data never lets a sold seat be held;
//! 3. Redis losing its data never gives a live hold away;
//! 4. a claim whose reply is lost after DynamoDB applied it is recognised
//!    as our own (no self-inflicted `idempotency-in-progress`);
//! 5. Redis refusing connections is degraded service, not an outage.

use std::time::{Duration, Instant};

use crate::support::process::DevServer;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use test_backends::{DynamoDbLocal, FaultProxy, RedisServer};

/// Longer than the dev server's `REDIS_TIMEOUT_MS` below.
const SLOWER_THAN_REDIS_TIMEOUT: Duration = Duration::from_millis(600);
/// Longer than the AWS SDK's attempt timeout (1 s, functions/composition).
const SLOWER_THAN_AN_SDK_ATTEMPT: Duration = Duration::from_millis(1_500);

struct Stage {
    redis: RedisServer,
    redis_proxy: FaultProxy,
    dynamodb_proxy: FaultProxy,
    server: DevServer,
    client: Client,
    tenant: String,
    _dynamodb: DynamoDbLocal,
}

/// `SEAT_LOCKS_BREAKER_OPEN_MS` for these servers (5 s by default).
const BREAKER_OPEN: Duration = Duration::from_millis(150);

impl Stage {
    /// Fresh backends, proxies in front of both, one dev server, one event of four seats.
    async fn start() -> Self {
        let redis = RedisServer::start();
        let dynamodb = DynamoDbLocal::start();
        let redis_port: u16 = redis.url().rsplit(':').next().unwrap().parse().unwrap();
        let dynamodb_port: u16 = dynamodb.endpoint().rsplit(':').next().unwrap().parse().unwrap();
        let redis_proxy = FaultProxy::start(redis_port);
        let dynamodb_proxy = FaultProxy::start(dynamodb_port);
        let table = test_backends::fresh_table(&test_backends::dynamodb_client(&dynamodb.endpoint()).await).await;
        let server = DevServer::start(&[
            ("BACKEND", "aws".to_owned()),
            ("REDIS_URL", format!("redis://127.0.0.1:{}", redis_proxy.port())),
            ("REDIS_TIMEOUT_MS", "250".to_owned()),
            // The breaker's open period, short: the tests wait it out in
            // real time (the server is another process, its clock the system's).
            ("SEAT_LOCKS_BREAKER_OPEN_MS", BREAKER_OPEN.as_millis().to_string()),
            ("TABLE_NAME", table),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", dynamodb_proxy.port()),
            ),
        ]);
        let stage = Self {
            redis,
            redis_proxy,
            dynamodb_proxy,
            server,
            client: Client::new(),
            tenant: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            _dynamodb: dynamodb,
        };
        let seats: Vec<Value> = (1..=4)
            .map(|n| json!({"id": format!("A{n}"), "priceCents": 1000}))
            .collect();
        let created = stage
            .send(
                "boss",
                reqwest::Method::PUT,
                "/events/gig",
                None,
                Some(json!({
                "name": "Gig", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR", "seats": seats})),
            )
            .await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        stage
    }

    async fn send(
        &self,
        customer: &str,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.server.base_url))
            .header("X-Tenant-Id", &self.tenant)
            .header("X-Customer-Id", customer)
            .header("X-Roles", "organizer");
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn hold(&self, customer: &str, seats: &[&str]) -> (StatusCode, Value) {
        self.send(
            customer,
            reqwest::Method::POST,
            "/events/gig/holds",
            None,
            Some(json!({ "seats": seats })),
        )
        .await
    }

    async fn order(&self, customer: &str, key: &str, hold: &str) -> (StatusCode, Value) {
        self.send(
            customer,
            reqwest::Method::POST,
            "/orders",
            Some(key),
            Some(json!({ "holdId": hold })),
        )
        .await
    }

    async fn statuses(&self) -> Vec<String> {
        let (status, body) = self
            .send("alice", reqwest::Method::GET, "/events/gig/seats", None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|seat| seat["status"].as_str().unwrap().to_owned())
            .collect()
    }

    fn flush_redis(&self) {
        let port = self.redis.url().rsplit(':').next().unwrap().to_owned();
        let flushed = std::process::Command::new("redis-cli")
            .args(["-p", &port, "FLUSHALL"])
            .output()
            .expect("redis-cli runs");
        assert!(flushed.status.success(), "FLUSHALL: {flushed:?}");
    }

    fn redis_get(&self, key: &str) -> String {
        let port = self.redis.url().rsplit(':').next().unwrap().to_owned();
        let value = std::process::Command::new("redis-cli")
            .args(["-p", &port, "GET", key])
            .output()
            .expect("redis-cli runs");
        String::from_utf8(value.stdout).unwrap().trim().to_owned()
    }

    /// Waits out the circuit breaker's open period after a Redis failure.
    async fn let_the_breaker_close(&self) {
        tokio::time::sleep(BREAKER_OPEN + Duration::from_millis(50)).await;
    }
}

fn hold_id(body: &Value) -> String {
    body["holdId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_never_leaves_seats_locked_after_a_non_201_nor_refuses_a_sale_dynamodb_allows() {
    let stage = Stage::start().await;
    // Redis applies every command but answers after the timeout.
    stage.redis_proxy.delay_replies(SLOWER_THAN_REDIS_TIMEOUT);
    let held = stage.hold("alice", &["A1", "A2"]).await;
    assert_eq!(held.0, StatusCode::CREATED, "I8: served from DynamoDB: {}", held.1);
    let refused = stage.hold("bob", &["A2", "A3"]).await;
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    assert_eq!(refused.1["unavailableSeats"], json!(["A2"]));

    // Now DynamoDB fails too: the hold answers 503 and must leave nothing.
    stage.dynamodb_proxy.refuse(true);
    let failed = stage.hold("carol", &["A3", "A4"]).await;
    assert_eq!(failed.0, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.1);
    stage.dynamodb_proxy.heal();
    stage.redis_proxy.heal();
    stage.let_the_breaker_close().await;
    assert_eq!(stage.statuses().await, ["HELD", "HELD", "AVAILABLE", "AVAILABLE"]);
    let after = stage.hold("dave", &["A3", "A4"]).await;
    assert_eq!(after.0, StatusCode::CREATED, "I5: no seat stayed locked: {}", after.1);
    let bought = stage.order("alice", "k1", &hold_id(&held.1)).await;
    assert_eq!(bought.0, StatusCode::CREATED, "{}", bought.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_seat_is_refused_to_every_later_hold_even_after_redis_loses_its_data() {
    let stage = Stage::start().await;
    let held = stage.hold("alice", &["A1"]).await;
    let bought = stage.order("alice", "k1", &hold_id(&held.1)).await;
    assert_eq!(bought.0, StatusCode::CREATED, "{}", bought.1);
    stage.flush_redis();
    let refused = stage.hold("bob", &["A1"]).await;
    assert_eq!(refused.0, StatusCode::CONFLICT, "I7: sold is sold: {}", refused.1);
    assert_eq!(refused.1["type"], "/problems/seats-unavailable");
    assert_eq!(stage.statuses().await[0], "SOLD", "availability agrees");
    // The refusal wrote the sold marker back: the next loser stops at Redis.
    assert_eq!(stage.redis_get(&format!("hold:{{{}:gig}}:A1", stage.tenant)), "SOLD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_hold_is_never_given_away_even_after_redis_loses_its_data() {
    let stage = Stage::start().await;
    let held = stage.hold("alice", &["A1", "A2"]).await;
    stage.flush_redis();
    let refused = stage.hold("bob", &["A2", "A3"]).await;
    assert_eq!(
        refused.0,
        StatusCode::CONFLICT,
        "I7: a 201 hold is a promise: {}",
        refused.1
    );
    assert_eq!(refused.1["unavailableSeats"], json!(["A2"]));
    let (status, verified) = stage
        .send(
            "alice",
            reqwest::Method::GET,
            &format!("/holds/{}", hold_id(&held.1)),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, verified["valid"].clone()),
        (StatusCode::OK, json!(true)),
        "{verified}"
    );
    let bought = stage.order("alice", "k1", &hold_id(&held.1)).await;
    assert_eq!(bought.0, StatusCode::CREATED, "its owner can buy it: {}", bought.1);
    let bob_again = stage.hold("bob", &["A3"]).await;
    assert_eq!(
        bob_again.0,
        StatusCode::CREATED,
        "A3 was never left locked: {}",
        bob_again.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_claim_reply_is_lost_after_it_was_applied_is_not_locked_out_by_itself() {
    let stage = Stage::start().await;
    let held = stage.hold("alice", &["A1"]).await;
    let hold_id = hold_id(&held.1);
    // The claim's PutItem reaches DynamoDB at once; its reply comes after the
    // SDK's attempt timeout, so the SDK sends it again on a new connection.
    stage.dynamodb_proxy.delay_replies(SLOWER_THAN_AN_SDK_ATTEMPT);
    // Healed once the claim's reply is being held, so the retry is answered
    // at once.
    let healer = async {
        while stage.dynamodb_proxy.replies_held() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stage.dynamodb_proxy.heal();
    };
    let started = Instant::now();
    let (first, ()) = tokio::join!(stage.order("alice", "k1", &hold_id), healer);
    assert_eq!(
        first.0,
        StatusCode::CREATED,
        "the SDK's retry found our own IN_PROGRESS record and went on: {}",
        first.1
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let retried = stage.order("alice", "k1", &hold_id).await;
    assert_eq!(retried.0, StatusCode::CREATED);
    assert_eq!(retried.1, first.1, "the client's retry replays the same order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refusing_connections_is_degraded_service_not_an_outage() {
    let stage = Stage::start().await;
    stage.redis_proxy.refuse(true);
    let held = stage.hold("alice", &["A1", "A2"]).await;
    assert_eq!(held.0, StatusCode::CREATED, "I8: {}", held.1);
    let refused = stage.hold("bob", &["A2"]).await;
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    let (status, ready) = stage.send("alice", reqwest::Method::GET, "/ready", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["checks"], json!({"dynamodb": "ok", "redis": "degraded"}));
    let bought = stage.order("alice", "k1", &hold_id(&held.1)).await;
    assert_eq!(bought.0, StatusCode::CREATED, "{}", bought.1);
    let (status, _) = stage
        .send(
            "bob",
            reqwest::Method::DELETE,
            &format!("/holds/{}", hold_id(&held.1)),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's hold");
    assert_eq!(stage.statuses().await, ["SOLD", "SOLD", "AVAILABLE", "AVAILABLE"]);
    assert!(
        stage
            .server
            .log_lines()
            .iter()
            .any(|line| line.contains("seat_locks.degraded")),
        "one WARN says Redis is degraded"
    );

    stage.redis_proxy.heal();
    stage.let_the_breaker_close().await;
    let (_, ready) = stage.send("alice", reqwest::Method::GET, "/ready", None, None).await;
    assert_eq!(ready["checks"]["redis"], "ok");
    let refused = stage.hold("carol", &["A1"]).await;
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
}
