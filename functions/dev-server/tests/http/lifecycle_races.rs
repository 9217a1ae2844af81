//! The v2 life cycle racing itself on real Redis and DynamoDB Local, two
//! instances on one table:
//! - extend hold against a release of the same hold, and against its expiry
//!   as seen by an instance whose clock runs ahead;
//! - cancel order against holds of the seats it frees.
//!
//! Each race ends with a check of the durable state: a seat is never in two
//! live holds or two CONFIRMED orders, and every 2xx kept its promise.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{TestApp, TestResponse, aws_env};
use aws_sdk_dynamodb::types::AttributeValue;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use test_doubles::ClockAhead;

/// The dev server's router over `BACKEND=aws` on `table`, its clock `ahead`.
async fn instance(redis_url: &str, endpoint: &str, table: &str, ahead: Duration) -> TestApp {
    TestApp::aws(&aws_env(redis_url, endpoint, table), |ports| {
        ports.clock = Arc::new(ClockAhead(ahead));
    })
    .await
}

struct Instance {
    app: TestApp,
    tenant: String,
}

/// The table both instances write, read directly: what the races leave
/// behind is checked on the items, not through the API under test.
struct DurableState {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|value| value.as_s().ok()).map(String::as_str)
}

fn seat_ids(item: &Item) -> Vec<String> {
    item["seats"]
        .as_l()
        .unwrap()
        .iter()
        .map(|seat| seat.as_m().unwrap()["id"].as_s().unwrap().clone())
        .collect()
}

impl DurableState {
    async fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The hold each seat's HELD claim names (seats without one are absent).
    async fn claim_holders(&self) -> HashMap<String, String> {
        self.items()
            .await
            .iter()
            .filter(|item| text(item, "state") == Some("HELD"))
            .map(|item| {
                let seat = text(item, "sk").unwrap().trim_start_matches("SEAT#").to_owned();
                (seat, text(item, "holdId").unwrap().to_owned())
            })
            .collect()
    }

    /// I1 on the items: a seat is in at most one CONFIRMED order, every such
    /// seat's claim is SOLD naming that order and no SOLD claim names
    /// anything else; every HELD claim names a recorded ACTIVE hold with
    /// that seat, never a seat of a CONFIRMED order.
    async fn assert_one_owner_per_seat(&self) {
        let items = self.items().await;
        let mut confirmed: HashMap<String, Vec<String>> = HashMap::new();
        let mut active_holds: HashMap<String, Vec<String>> = HashMap::new();
        let mut sold_claims = HashMap::new();
        let mut held_claims = HashMap::new();
        for item in &items {
            let sk = text(item, "sk").unwrap();
            if sk == "ORDER" && !item.contains_key("cancelledAt") {
                for seat in seat_ids(item) {
                    confirmed
                        .entry(seat)
                        .or_default()
                        .push(text(item, "orderId").unwrap().to_owned());
                }
            } else if sk == "HOLD" && text(item, "status") == Some("ACTIVE") {
                active_holds.insert(text(item, "holdId").unwrap().to_owned(), seat_ids(item));
            } else if let Some(seat) = sk.strip_prefix("SEAT#") {
                let state = text(item, "state").unwrap();
                let owner = if state == "SOLD" { "orderId" } else { "holdId" };
                let claims = if state == "SOLD" {
                    &mut sold_claims
                } else {
                    &mut held_claims
                };
                claims.insert(seat.to_owned(), text(item, owner).unwrap().to_owned());
            }
        }
        for (seat, orders) in &confirmed {
            assert_eq!(orders.len(), 1, "I1: seat {seat} is in CONFIRMED orders {orders:?}");
            assert_eq!(
                sold_claims.get(seat),
                Some(&orders[0]),
                "seat {seat}'s claim names its order"
            );
        }
        for (seat, order) in &sold_claims {
            assert!(
                confirmed.contains_key(seat),
                "seat {seat} is claimed SOLD by {order}, no CONFIRMED order has it"
            );
        }
        for (seat, hold) in &held_claims {
            assert!(
                !confirmed.contains_key(seat),
                "sold seat {seat} is also claimed by hold {hold}"
            );
            assert!(
                active_holds.get(hold).is_some_and(|seats| seats.contains(seat)),
                "seat {seat} is claimed by {hold}, which is no ACTIVE hold of it"
            );
        }
    }
}

impl Instance {
    async fn call(&self, method: Method, path: &str, customer: &str, body: Option<Value>) -> TestResponse {
        let mut call = self
            .app
            .call(method, path)
            .by(&self.tenant, customer)
            .header("x-roles", "organizer");
        if let Some(body) = body {
            call = call.json(&body);
        }
        call.send().await
    }

    async fn hold(&self, customer: &str, seats: &[String], ttl: u64) -> TestResponse {
        let body = json!({ "seats": seats, "ttlSeconds": ttl });
        self.call(Method::POST, "/events/sale/holds", customer, Some(body))
            .await
    }

    async fn order(&self, customer: &str, key: &str, hold: &str) -> TestResponse {
        self.app
            .call(Method::POST, "/orders")
            .by(&self.tenant, customer)
            .header("idempotency-key", key)
            .json(&json!({ "holdId": hold }))
            .send()
            .await
    }

    async fn cancel(&self, order: &str, key: &str) -> TestResponse {
        self.app
            .call(Method::POST, &format!("/orders/{order}/cancel"))
            .by(&self.tenant, "alice")
            .header("idempotency-key", key)
            .send()
            .await
    }

    async fn extend(&self, hold: &str, ttl: u64) -> TestResponse {
        let path = format!("/holds/{hold}/extend");
        self.call(Method::POST, &path, "alice", Some(json!({ "ttlSeconds": ttl })))
            .await
    }

    async fn statuses(&self) -> HashMap<String, String> {
        let seats = self.call(Method::GET, "/events/sale/seats", "reader", None).await;
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

/// Two instances on one table and one Redis, one tenant; the second's clock
/// runs `ahead` of the first's.
async fn two_instances(
    ahead: Duration,
    seat_count: usize,
) -> (Instance, Instance, DurableState, [test_backends::KeepAlive; 2]) {
    let (redis_url, redis) = test_backends::redis();
    let (endpoint, dynamodb) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let first = Instance {
        app: instance(&redis_url, &endpoint, &table, Duration::ZERO).await,
        tenant: tenant.clone(),
    };
    let second = Instance {
        app: instance(&redis_url, &endpoint, &table, ahead).await,
        tenant,
    };
    let seats: Vec<Value> = (0..seat_count)
        .map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 }))
        .collect();
    let body = json!({ "name": "Sale", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR", "seats": seats });
    let created = first.call(Method::PUT, "/events/sale", "boss", Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    (first, second, DurableState { client, table }, [redis, dynamodb])
}

fn seat(i: usize) -> Vec<String> {
    vec![format!("S{i}")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_extend_racing_a_release_of_its_hold_never_keeps_a_released_seat() {
    const HOLDS: usize = 16;
    let (one, other, durable, _backends) = two_instances(Duration::ZERO, HOLDS).await;
    let mut holds = Vec::new();
    for i in 0..HOLDS {
        let placed = one.hold("alice", &seat(i), 300).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text);
        holds.push(placed.json["holdId"].as_str().unwrap().to_owned());
    }
    // One hold at a time, its extend and its release at once on two instances.
    for hold in &holds {
        let path = format!("/holds/{hold}");
        let (extended, released) =
            tokio::join!(one.extend(hold, 1800), other.call(Method::DELETE, &path, "alice", None));
        assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
        assert!(
            extended.status == StatusCode::OK || extended.json["type"] == "/problems/hold-not-active",
            "an extend either lands before the release or finds the hold released: {}",
            extended.text
        );
    }
    // Durable state: every seat free, every hold RELEASED; and the seats can
    // be held at once (no lock an extend revived blocks them).
    assert!(one.statuses().await.values().all(|s| s == "AVAILABLE"));
    assert!(
        durable.claim_holders().await.is_empty(),
        "no claim outlives its released hold"
    );
    for hold in &holds {
        let verified = one.call(Method::GET, &format!("/holds/{hold}"), "alice", None).await;
        assert_eq!(verified.json["status"], "RELEASED", "{}", verified.text);
    }
    for i in 0..HOLDS {
        let again = other.hold("bob", &seat(i), 60).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    }
    durable.assert_one_owner_per_seat().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_extend_racing_its_holds_expiry_on_a_clock_ahead_gives_each_seat_to_one_hold() {
    // The second instance's clock is past the hold's expiry and grace: to
    // it, the seat is free. The first still sees the hold active.
    const ROUNDS: usize = 12;
    let (one, ahead, durable, _backends) = two_instances(Duration::from_secs(60 + 6), ROUNDS).await;
    let mut extends_won = 0;
    for i in 0..ROUNDS {
        let placed = one.hold("alice", &seat(i), 60).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text);
        let hold = placed.json["holdId"].as_str().unwrap().to_owned();
        let seats = seat(i);
        // Staggered from 0 to 22 ms, so both orders happen.
        let stagger = Duration::from_millis(2 * i as u64);
        let late_extend = async {
            tokio::time::sleep(stagger).await;
            one.extend(&hold, 1800).await
        };
        let (extended, taken) = tokio::join!(late_extend, ahead.hold("bob", &seats, 600));
        let extended_first = extended.status == StatusCode::OK;
        let taken_first = taken.status == StatusCode::CREATED;
        let winner = if taken_first {
            taken.json["holdId"].as_str().unwrap_or_default().to_owned()
        } else {
            hold.clone()
        };
        assert_eq!(
            durable.claim_holders().await.get(&seats[0]),
            Some(&winner),
            "round {i}: the seat's claim names the hold whose request won"
        );
        assert!(
            extended_first != taken_first,
            "round {i}: exactly one may keep the seat: extend {} / hold {}",
            extended.text,
            taken.text
        );
        if extended_first {
            extends_won += 1;
            taken.assert_problem(409, "seats-unavailable");
        } else {
            extended.assert_problem(409, "seats-unavailable");
        }
        // The durable claims agree with the answers, seen from the first
        // instance (to which alice's hold has not expired).
        let verified = one.call(Method::GET, &format!("/holds/{hold}"), "alice", None).await;
        assert_eq!(
            verified.json["valid"],
            json!(extended_first),
            "round {i}: alice's hold is valid exactly when her extend won: {}",
            verified.text
        );
        assert_eq!(one.statuses().await[&format!("S{i}")], "HELD");
    }
    durable.assert_one_owner_per_seat().await;
    eprintln!("extends won {extends_won} of {ROUNDS} rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_racing_holds_of_its_seats_frees_them_once_and_they_sell_once_more() {
    const ROUNDS: usize = 8;
    let (one, other, durable, _backends) = two_instances(Duration::ZERO, 2 * ROUNDS).await;
    for round in 0..ROUNDS {
        let wanted = vec![format!("S{}", 2 * round), format!("S{}", 2 * round + 1)];
        let held = one.hold("alice", &wanted, 300).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.text);
        let bought = one
            .order("alice", &format!("buy-{round}"), held.json["holdId"].as_str().unwrap())
            .await;
        assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.text);
        let order = bought.json["orderId"].as_str().unwrap().to_owned();

        // Bob keeps trying to hold the seats while alice's cancel runs; the
        // cancel is staggered 0–14 ms so his tries land before, during and after.
        let stagger = Duration::from_millis(2 * round as u64);
        let late_cancel = async {
            tokio::time::sleep(stagger).await;
            one.cancel(&order, &format!("undo-{round}")).await
        };
        let bob_tries = async {
            for _ in 0..200 {
                let attempt = other.hold("bob", &wanted, 300).await;
                if attempt.status == StatusCode::CREATED {
                    return Some(attempt);
                }
                attempt.assert_problem(409, "seats-unavailable");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            None
        };
        let (cancelled, bobs) = tokio::join!(late_cancel, bob_tries);
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
        let bobs = bobs.expect("the freed seats can be held within a second");
        let bobs_hold = bobs.json["holdId"].as_str().unwrap().to_owned();
        // Only bob's hold has the seats; alice's order stays cancelled while
        // bob buys them: one CONFIRMED order per seat.
        let resold = other.order("bob", &format!("bob-{round}"), &bobs_hold).await;
        assert_eq!(resold.status, StatusCode::CREATED, "{}", resold.text);
        let alices = one.call(Method::GET, &format!("/orders/{order}"), "alice", None).await;
        assert_eq!(alices.json["status"], "CANCELLED");
        let statuses = one.statuses().await;
        assert!(wanted.iter().all(|seat| statuses[seat] == "SOLD"), "{statuses:?}");
        let someone_else = other.hold("carol", &wanted, 300).await;
        someone_else.assert_problem(409, "seats-unavailable");
        durable.assert_one_owner_per_seat().await;
    }
}
