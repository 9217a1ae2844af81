//! What can go wrong with the real backends, through the full HTTP stack:
//! racing buyers, Redis dying or forgetting, DynamoDB down, two checkouts of
//! one hold. Real `redis-server` and DynamoDB Local; tests that kill a
//! backend start their own so shared ones are never disturbed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{TestApp, TestResponse, aws_env};
use application::ports::{SeatLock, SeatLocks};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use test_backends::{DynamoDbLocal, RedisServer, TestTls};

/// The circuit breaker's open period in these tests (5 s by default).
const BREAKER_OPEN: Duration = Duration::from_millis(150);

/// The dev server's router over `BACKEND=aws`, on a fresh table.
async fn aws_app(redis_url: &str, endpoint: &str) -> TestApp {
    aws_app_with(redis_url, endpoint, &[]).await
}

/// [`aws_app`] with more variables set.
async fn aws_app_with(redis_url: &str, endpoint: &str, more: &[(&'static str, String)]) -> TestApp {
    let table = test_backends::fresh_table(&test_backends::dynamodb_client(endpoint).await).await;
    let mut env = aws_env(redis_url, endpoint, &table);
    // Short, so a test waits out the breaker in real time without sleeping seconds.
    env.insert("SEAT_LOCKS_BREAKER_OPEN_MS", BREAKER_OPEN.as_millis().to_string());
    env.extend(more.iter().cloned());
    TestApp::aws(&env, |_| {}).await
}

/// A client of one tenant no other test uses.
struct Client {
    app: TestApp,
    tenant: String,
}

impl Client {
    fn new(app: TestApp) -> Self {
        Self {
            app,
            tenant: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        customer: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut call = self
            .app
            .call(method, path)
            .by(&self.tenant, customer)
            .header("x-roles", "organizer");
        if let Some(key) = key {
            call = call.header("idempotency-key", key);
        }
        if let Some(body) = body {
            call = call.json(&body);
        }
        call.send().await
    }

    async fn event(&self, seat_count: usize) {
        let seats: Vec<Value> = (0..seat_count)
            .map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 + i }))
            .collect();
        let body =
            json!({ "name": "Flash sale", "startsAt": "2027-01-01T20:00:00Z", "currency": "EUR", "seats": seats });
        let created = self.call(Method::PUT, "/events/sale", "boss", None, Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }

    async fn hold(&self, customer: &str, seats: &[String]) -> TestResponse {
        self.call(
            Method::POST,
            "/events/sale/holds",
            customer,
            None,
            Some(json!({ "seats": seats })),
        )
        .await
    }

    async fn order(&self, customer: &str, key: &str, hold_id: &str) -> TestResponse {
        self.call(
            Method::POST,
            "/orders",
            customer,
            Some(key),
            Some(json!({ "holdId": hold_id })),
        )
        .await
    }

    async fn statuses(&self) -> HashMap<String, String> {
        let seats = self.call(Method::GET, "/events/sale/seats", "reader", None, None).await;
        seats.json["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

fn names(ids: &[usize]) -> Vec<String> {
    ids.iter().map(|i| format!("S{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_racing_buyers_never_oversell_and_every_key_makes_one_order() {
    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let client = Arc::new(Client::new(aws_app(&redis_url, &endpoint).await));
    client.event(60).await;

    let mut buyers = Vec::new();
    for buyer in 0..100_usize {
        let client = client.clone();
        buyers.push(tokio::spawn(async move {
            let customer = format!("buyer{buyer}");
            let wanted = names(&[(buyer * 7) % 60, (buyer * 7 + 1) % 60, (buyer * 13 + 5) % 60]);
            let wanted: Vec<String> = wanted.into_iter().collect::<HashSet<_>>().into_iter().collect();
            let held = client.hold(&customer, &wanted).await;
            if held.status != StatusCode::CREATED {
                assert_eq!(held.json["type"], "/problems/seats-unavailable", "{}", held.text);
                return None;
            }
            let hold_id = held.json["holdId"].as_str().unwrap().to_owned();
            if buyer % 10 == 0 {
                let released = client
                    .call(Method::DELETE, &format!("/holds/{hold_id}"), &customer, None, None)
                    .await;
                assert_eq!(released.status, StatusCode::NO_CONTENT);
                return None;
            }
            // The same key sent twice at once, as a retrying client does.
            let key = format!("checkout-{buyer}");
            let (a, b) = tokio::join!(
                client.order(&customer, &key, &hold_id),
                client.order(&customer, &key, &hold_id)
            );
            let mut answers = vec![a, b];
            for answer in &mut answers {
                while answer.status == StatusCode::CONFLICT
                    && answer.json["type"] == "/problems/idempotency-in-progress"
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    *answer = client.order(&customer, &key, &hold_id).await;
                }
            }
            assert_eq!(answers[0].bytes, answers[1].bytes, "one key, one answer");
            // A second key on the same hold never makes a second order.
            let second = client.order(&customer, &format!("other-{buyer}"), &hold_id).await;
            assert_eq!(second.json["type"], "/problems/hold-not-active", "{}", second.text);
            assert_eq!(answers[0].status, StatusCode::CREATED, "{}", answers[0].text);
            Some(answers[0].json.clone())
        }));
    }
    let mut sold = HashSet::new();
    for buyer in buyers {
        if let Some(order) = buyer.await.unwrap() {
            for seat in order["seats"].as_array().unwrap() {
                assert!(sold.insert(seat.as_str().unwrap().to_owned()), "I1: {seat} sold twice");
            }
        }
    }
    assert!(!sold.is_empty());
    let statuses = client.statuses().await;
    for (seat, status) in &statuses {
        assert_eq!(
            status == "SOLD",
            sold.contains(seat),
            "availability of {seat} agrees with the orders"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_redis_serves_the_roots_it_trusts_and_an_untrusted_certificate_degrades_to_dynamodb_alone() {
    let redis = RedisServer::start_tls();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let ca_file = TestTls::shared().ca_file().to_string_lossy().into_owned();

    // Trusting the authority that certified the server (REDIS_CA_FILE).
    // A generous Redis timeout: a handshake on a loaded machine is no failure here.
    let trusting = Client::new(
        aws_app_with(
            &redis.url(),
            &endpoint,
            &[("REDIS_CA_FILE", ca_file), ("REDIS_TIMEOUT_MS", "2000".to_owned())],
        )
        .await,
    );
    trusting.event(2).await;
    let held = trusting.hold("alice", &names(&[0])).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.text);
    let ready = trusting.app.call(Method::GET, "/ready").send().await;
    assert_eq!(ready.json["checks"]["redis"], "ok", "{}", ready.text);

    // The default: only Amazon Trust Services' roots, which never certified
    // this server. The connection is refused, never used unverified; holds
    // go on from DynamoDB alone (I8) and /ready says so.
    let default_trust = Client::new(aws_app(&redis.url(), &endpoint).await);
    default_trust.event(2).await;
    let held = default_trust.hold("alice", &names(&[0])).await;
    assert_eq!(held.status, StatusCode::CREATED, "I8: {}", held.text);
    let refused = default_trust.hold("bob", &names(&[0, 1])).await;
    refused.assert_problem(409, "seats-unavailable");
    let ready = default_trust.app.call(Method::GET, "/ready").send().await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.json["checks"]["redis"], "degraded", "{}", ready.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_dies_every_route_answers_from_dynamodb_fast_and_redis_converges_when_back() {
    let mut redis = RedisServer::start();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let client = Client::new(aws_app(&redis.url(), &endpoint).await);
    client.event(4).await;
    let held = client.hold("alice", &names(&[0, 1])).await;
    let hold_id = held.json["holdId"].as_str().unwrap().to_owned();

    redis.stop();
    let started = Instant::now();
    let placed = client.hold("bob", &names(&[2])).await;
    assert_eq!(placed.status, StatusCode::CREATED, "I8: {}", placed.text);
    let refused = client.hold("carol", &names(&[1, 3])).await;
    refused.assert_problem(409, "seats-unavailable");
    assert_eq!(refused.json["unavailableSeats"], json!(["S1"]), "I7 without Redis");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis must not hang a request"
    );
    let ready = client.app.call(Method::GET, "/ready").send().await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.json["checks"]["redis"], "degraded");
    assert_eq!(ready.json["checks"]["dynamodb"], "ok");
    let verified = client
        .call(Method::GET, &format!("/holds/{hold_id}"), "alice", None, None)
        .await;
    assert_eq!(verified.json["valid"], json!(true), "{}", verified.text);
    let ordered = client.order("alice", "k1", &hold_id).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.text);
    let availability = client
        .call(Method::GET, "/events/sale/seats", "alice", None, None)
        .await;
    let statuses: Vec<&str> = availability.json["seats"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", availability.text))
        .iter()
        .map(|seat| seat["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["SOLD", "SOLD", "HELD", "AVAILABLE"]);

    redis.restart(); // Back, and empty.
    tokio::time::sleep(BREAKER_OPEN + Duration::from_millis(50)).await;
    let sold_seat = client.hold("carol", &names(&[0])).await;
    sold_seat.assert_problem(409, "seats-unavailable");
    let again = client.hold("dave", &names(&[3])).await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "reconnects by itself: {}",
        again.text
    );
    let ready = client.app.call(Method::GET, "/ready").send().await;
    assert_eq!(ready.json["checks"]["redis"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_redis_forgets_a_hold_it_stays_valid_is_refused_to_others_and_sells_once() {
    let mut redis = RedisServer::start();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let client = Client::new(aws_app(&redis.url(), &endpoint).await);
    client.event(3).await;
    let first = client.hold("alice", &names(&[0, 1])).await.json["holdId"]
        .as_str()
        .unwrap()
        .to_owned();

    redis.restart(); // Empty: a failover to a replica that missed the writes.
    let verify = client
        .call(Method::GET, &format!("/holds/{first}"), "alice", None, None)
        .await;
    assert_eq!(
        (verify.json["valid"].clone(), verify.json["reason"].clone()),
        (json!(true), Value::Null),
        "I7: the claims decide"
    );
    let second = client.hold("bob", &names(&[1, 2])).await;
    second.assert_problem(409, "seats-unavailable");
    assert_eq!(second.json["unavailableSeats"], json!(["S1"]));
    let ordered = client.order("alice", "ka", &first).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_dynamodb_is_down_requests_answer_503_and_leave_no_seat_locked() {
    let (redis_url, _redis) = test_backends::redis();
    let mut dynamodb = DynamoDbLocal::start();
    let client = Client::new(aws_app(&redis_url, &dynamodb.endpoint()).await);
    client.event(3).await;
    let held = client.hold("alice", &names(&[0])).await.json["holdId"]
        .as_str()
        .unwrap()
        .to_owned();

    dynamodb.stop();
    client
        .hold("bob", &names(&[1, 2]))
        .await
        .assert_problem(503, "service-unavailable");
    client
        .order("alice", "k1", &held)
        .await
        .assert_problem(503, "service-unavailable");
    let ready = client.app.call(Method::GET, "/ready").send().await;
    ready.assert_problem(503, "service-unavailable");
    // Refused or still retrying when the readiness timeout hits: either way, named.
    assert_ne!(ready.json["checks"]["dynamodb"], "ok");
    assert_eq!(ready.json["checks"]["redis"], "ok");

    let locks = redis_seat_locks::RedisSeatLocks::new(redis_seat_locks::RedisSettings {
        url: redis_url,
        cluster: false,
        timeout: Duration::from_secs(1),
        tls_roots_pem: Vec::new(),
    })
    .unwrap();
    let tenant = domain::ids::TenantId::parse(&client.tenant).unwrap();
    let event = domain::ids::EventId::parse("sale").unwrap();
    let seats: Vec<_> = ["S1", "S2"]
        .iter()
        .map(|s| domain::ids::SeatId::parse(s).unwrap())
        .collect();
    assert_eq!(
        locks.inspect(&tenant, &event, &seats).await.unwrap(),
        [SeatLock::Free, SeatLock::Free],
        "I5"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checkouts_of_one_hold_with_different_keys_make_exactly_one_order() {
    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let client = Client::new(aws_app(&redis_url, &endpoint).await);
    client.event(2).await;
    let hold = client.hold("alice", &names(&[0, 1])).await.json["holdId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = tokio::join!(
        client.order("alice", "tab-1", &hold),
        client.order("alice", "tab-2", &hold)
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.text, b.text);
    let loser = if a.status == StatusCode::CREATED { b } else { a };
    assert_eq!(loser.json["type"], "/problems/hold-not-active");
}
