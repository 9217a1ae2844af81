//! The README's run command, for real: starts the `dev-server` binary on a
//! free port and drives it over TCP with a client that follows
//! docs/contract.md ("Requests and answers") to the letter.

use crate::support::process::DevServer;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
    json: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn problem(&self) -> (u16, &str) {
        (
            self.status.as_u16(),
            self.json["type"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("/problems/"),
        )
    }
}

struct Script {
    client: Client,
    base_url: String,
    /// This run's tenants: backends may be shared between test runs.
    run: String,
}

impl Script {
    async fn send(
        &self,
        method: Method,
        path: &str,
        who: Option<(&str, &str, &str)>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base_url));
        if let Some((tenant, customer, roles)) = who {
            let tenant = format!("{tenant}-{}", self.run);
            request = request
                .header("X-Tenant-Id", tenant.as_str())
                .header("X-Customer-Id", customer)
                .header("X-Roles", roles);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            bytes,
            json,
        }
    }

    async fn as_alice(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(method, path, Some(ALICE), &[], body.map(|b| b.to_string()))
            .await
    }

    async fn order(&self, who: (&str, &str, &str), key: Option<&str>, body: &str) -> Answer {
        let headers: Vec<(&str, &str)> = key.map(|k| vec![("Idempotency-Key", k)]).unwrap_or_default();
        self.send(Method::POST, "/orders", Some(who), &headers, Some(body.to_owned()))
            .await
    }
}

const ORGANIZER: (&str, &str, &str) = ("acme", "boss", "organizer");
const ALICE: (&str, &str, &str) = ("acme", "alice", "");
const BOB: (&str, &str, &str) = ("acme", "bob", "");
const MALLORY: (&str, &str, &str) = ("evil", "mallory", "organizer");

#[tokio::test]
async fn a_client_following_the_product_contract_gets_exactly_the_documented_answers() {
    follow_the_contract(&DevServer::start(&[])).await;
}

/// The same script with `BACKEND=aws` against real Redis and DynamoDB Local.
#[tokio::test]
async fn the_same_client_gets_the_same_answers_from_redis_and_dynamodb() {
    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let table = test_backends::fresh_table(&test_backends::dynamodb_client(&endpoint).await).await;
    let server = DevServer::start(&[
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url),
        ("TABLE_NAME", table),
        ("AWS_ENDPOINT_URL", endpoint),
    ]);
    let ready = reqwest::get(format!("{}/ready", server.base_url)).await.unwrap();
    assert_eq!(
        ready.json::<Value>().await.unwrap()["checks"],
        json!({ "redis": "ok", "dynamodb": "ok" })
    );
    follow_the_contract(&server).await;
}

#[tokio::test]
async fn sigterm_from_docker_stop_ends_the_server_cleanly_and_promptly() {
    let mut server = DevServer::start(&[]);
    let health = reqwest::get(format!("{}/health", server.base_url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let status = server.terminate(std::time::Duration::from_secs(5));
    assert!(
        status.is_some_and(|status| status.success()),
        "dev-server should exit 0 within 5 s of SIGTERM, got {status:?}"
    );
}

async fn follow_the_contract(server: &DevServer) {
    let s = Script {
        client: Client::new(),
        base_url: server.base_url.clone(),
        run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
    };
    basics(&s).await;
    events(&s).await;
    let hold_id = holds(&s).await;
    let order_path = orders(&s, &hold_id).await;
    reads(&s, &order_path).await;
}

/// Cancel: 200 CANCELLED, replayed byte for byte, the seats back on sale.
async fn cancels(s: &Script, order_path: &str) {
    let cancel = format!("{order_path}/cancel");
    let key = [("idempotency-key", "undo-1")];
    let cancelled = s.send(Method::POST, &cancel, Some(ALICE), &key, None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.json);
    assert_eq!(cancelled.json["status"], "CANCELLED");
    let replayed = s.send(Method::POST, &cancel, Some(ALICE), &key, None).await;
    assert_eq!(replayed.bytes, cancelled.bytes);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    let seats = s.send(Method::GET, "/events/opening/seats", Some(BOB), &[], None).await;
    assert!(
        seats.json["seats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|seat| seat["status"] == "AVAILABLE"),
        "{}",
        seats.json
    );
}

async fn basics(s: &Script) {
    assert_eq!(
        s.send(Method::GET, "/health", None, &[], None).await.json,
        json!({ "status": "ok" })
    );
    assert_eq!(
        s.send(Method::GET, "/ready", None, &[], None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.send(Method::GET, "/nope", Some(ALICE), &[], None).await.problem(),
        (404, "not-found")
    );
}

async fn events(s: &Script) {
    let seats: Vec<Value> = (1..=6)
        .map(|i| json!({ "id": format!("A{i}"), "priceCents": 1000 * i }))
        .collect();
    let event =
        json!({ "name": "Opening Night", "startsAt": "2027-03-01T20:00:00+01:00", "currency": "EUR", "seats": seats });
    let put = |who| s.send(Method::PUT, "/events/opening", who, &[], Some(event.to_string()));
    assert_eq!(put(Some(ORGANIZER)).await.status, StatusCode::CREATED);
    assert_eq!(put(Some(ORGANIZER)).await.status, StatusCode::OK);
    assert_eq!(put(Some(ALICE)).await.problem(), (403, "forbidden"));
    assert_eq!(put(None).await.problem(), (401, "unauthorized"));
}

const HOLDS: &str = "/events/opening/holds";

/// Every 422 case, a hold, a 409 that takes nothing, verify and release.
/// Returns alice's active hold on A1 and A2.
async fn holds(s: &Script) -> String {
    for body in [
        json!({ "seats": ["Z1"] }),
        json!({ "seats": ["A1", "A1"] }),
        json!({ "seats": ["A1", "A2", "A3", "A4", "A5", "A6", "A1x", "A2x", "A3x", "A4x", "A5x"] }),
        json!({ "seats": ["A1"], "ttlSeconds": 30 }),
        json!({ "seats": [] }),
    ] {
        assert_eq!(
            s.as_alice(Method::POST, HOLDS, Some(body)).await.problem(),
            (422, "validation-failed")
        );
    }
    let missing = s
        .as_alice(Method::POST, "/events/missing/holds", Some(json!({ "seats": ["A1"] })))
        .await;
    assert_eq!(missing.problem(), (404, "event-not-found"));
    let held = s
        .as_alice(
            Method::POST,
            HOLDS,
            Some(json!({ "seats": ["A1", "A2"], "ttlSeconds": 300 })),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED);
    let hold_id = held.json["holdId"].as_str().unwrap().to_owned();
    assert_eq!(held.header("location"), Some(format!("/holds/{hold_id}").as_str()));

    // 409 lists exactly the conflicting seats, and takes none (all-or-nothing).
    let clash = s
        .send(
            Method::POST,
            HOLDS,
            Some(BOB),
            &[],
            Some(json!({ "seats": ["A3", "A2", "A1"] }).to_string()),
        )
        .await;
    assert_eq!(clash.problem(), (409, "seats-unavailable"));
    assert_eq!(clash.json["unavailableSeats"], json!(["A2", "A1"]));
    let bobs = s
        .send(
            Method::POST,
            HOLDS,
            Some(BOB),
            &[],
            Some(json!({ "seats": ["A3"] }).to_string()),
        )
        .await;
    assert_eq!(bobs.status, StatusCode::CREATED);
    let bobs_hold = bobs.json["holdId"].as_str().unwrap().to_owned();

    let verified = s.as_alice(Method::GET, &format!("/holds/{hold_id}"), None).await;
    assert_eq!(
        (verified.json["valid"].clone(), verified.json["status"].clone()),
        (json!(true), json!("ACTIVE"))
    );
    let extended = s
        .as_alice(
            Method::POST,
            &format!("/holds/{hold_id}/extend"),
            Some(json!({ "ttlSeconds": 900 })),
        )
        .await;
    assert_eq!(extended.status, StatusCode::OK, "{}", extended.json);
    assert_eq!(
        (
            extended.json["valid"].clone(),
            extended.json["remainingSeconds"].as_u64().map(|s| s > 600)
        ),
        (json!(true), Some(true)),
        "extended past its first 600 s"
    );
    assert_eq!(
        s.as_alice(Method::GET, &format!("/holds/{bobs_hold}"), None)
            .await
            .problem(),
        (404, "hold-not-found")
    );
    let mallory_sees = s
        .send(Method::GET, &format!("/holds/{hold_id}"), Some(MALLORY), &[], None)
        .await;
    assert_eq!(mallory_sees.problem(), (404, "hold-not-found"));
    for _ in 0..2 {
        let released = s
            .send(Method::DELETE, &format!("/holds/{bobs_hold}"), Some(BOB), &[], None)
            .await;
        assert_eq!(released.status, StatusCode::NO_CONTENT);
    }
    hold_id
}

/// Missing key, create, replay, reuse, second key on a converted hold.
/// Returns the order's path.
async fn orders(s: &Script, hold_id: &str) -> String {
    let body = format!("{{\"holdId\":\"{hold_id}\"}}");
    assert_eq!(
        s.order(ALICE, None, &body).await.problem(),
        (400, "idempotency-key-missing")
    );
    let created = s.order(ALICE, Some("checkout-1"), &body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.json["totalCents"], 3000);
    let order_path = created.header("location").unwrap().to_owned();
    let replay = s
        .order(ALICE, Some("checkout-1"), &format!("{{ \"holdId\": \"{hold_id}\" }}"))
        .await;
    assert_eq!(
        (replay.status, replay.bytes.clone()),
        (StatusCode::CREATED, created.bytes.clone())
    );
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.header("location"), Some(order_path.as_str()));
    let other_body = format!("{{\"holdId\":\"{hold_id}\",\"buyer\":{{\"name\":\"A\"}}}}");
    assert_eq!(
        s.order(ALICE, Some("checkout-1"), &other_body).await.problem(),
        (422, "idempotency-key-reused")
    );
    assert_eq!(
        s.order(ALICE, Some("checkout-2"), &body).await.problem(),
        (409, "hold-not-active")
    );
    let release = s.as_alice(Method::DELETE, &format!("/holds/{hold_id}"), None).await;
    assert_eq!(release.problem(), (409, "hold-not-active"));
    let read = s.as_alice(Method::GET, &order_path, None).await;
    assert_eq!((read.status, read.json.clone()), (StatusCode::OK, created.json.clone()));
    order_path
}

/// Cross-customer and cross-tenant reads, availability, 413.
async fn reads(s: &Script, order_path: &str) {
    assert_eq!(
        s.send(Method::GET, order_path, Some(BOB), &[], None).await.problem(),
        (404, "order-not-found")
    );
    assert_eq!(
        s.send(Method::GET, order_path, Some(MALLORY), &[], None)
            .await
            .problem(),
        (404, "order-not-found")
    );

    let seats = s.send(Method::GET, "/events/opening/seats", Some(BOB), &[], None).await;
    let statuses: Vec<&str> = seats.json["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["SOLD", "SOLD", "AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"]
    );
    let foreign = s
        .send(Method::GET, "/events/opening/seats", Some(MALLORY), &[], None)
        .await;
    assert_eq!(foreign.problem(), (404, "event-not-found"));
    cancels(s, order_path).await;

    // Last: the server closes the connection after a 413.
    let huge = format!("{{\"seats\":[\"A4\"],\"pad\":\"{}\"}}", "x".repeat(65 * 1024));
    let too_big = s.send(Method::POST, HOLDS, Some(ALICE), &[], Some(huge)).await;
    assert_eq!(too_big.problem(), (413, "payload-too-large"));
}
