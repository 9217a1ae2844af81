//! The seat limit per customer under fire: one customer's holds fired at
//! once through TWO dev-server processes on real Redis and DynamoDB Local
//! (concurrent Lambda instances), against `maxSeatsPerCustomer` = 4.
//!
//! After each volley the durable state is checked, not just the answers:
//! the seats the event shows HELD or SOLD (read from the DynamoDB claims)
//! are exactly those of the 201 holds and orders, never more than the limit
//! for the customer, and the customer's tally item agrees.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::support::process::DevServer;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const LIMIT: usize = 4;
const VOLLEY: usize = 20;

struct Sale {
    servers: Vec<DevServer>,
    client: Client,
    tenant: String,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

impl Sale {
    async fn send(
        &self,
        server: usize,
        method: Method,
        path: &str,
        customer: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(
                method,
                format!("{}{path}", self.servers[server % self.servers.len()].base_url),
            )
            .header("X-Tenant-Id", &self.tenant)
            .header("X-Customer-Id", customer)
            .header("X-Roles", "organizer")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .timeout(Duration::from_secs(20));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("every request gets an answer");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Fires `VOLLEY` holds of `customer` at once, alternating servers, on
    /// seats `first..`: one or two seats each. Returns the seats of each 201.
    async fn volley(self: &Arc<Self>, customer: &'static str, first: usize) -> Vec<(String, Vec<String>)> {
        let mut requests = tokio::task::JoinSet::new();
        let mut next = first;
        for i in 0..VOLLEY {
            let size = 1 + i % 2;
            let seats: Vec<String> = (next..next + size).map(|n| format!("S{n}")).collect();
            next += size;
            let sale = Arc::clone(self);
            requests.spawn(async move {
                let body = json!({ "seats": seats, "ttlSeconds": 300 });
                let (status, answer) = sale
                    .send(i, Method::POST, "/events/sale/holds", customer, Some(body))
                    .await;
                (status, answer, seats)
            });
        }
        let mut granted = Vec::new();
        for (status, answer, seats) in requests.join_all().await {
            match status {
                StatusCode::CREATED => granted.push((answer["holdId"].as_str().unwrap().to_owned(), seats)),
                StatusCode::CONFLICT => {
                    assert_eq!(answer["type"], "/problems/customer-limit-reached", "{answer}");
                    assert_eq!(answer["limit"], LIMIT, "{answer}");
                    let current = usize::try_from(answer["current"].as_u64().unwrap()).unwrap();
                    assert!(current <= LIMIT, "the refusal saw {current} seats: over the limit");
                    assert!(
                        current + seats.len() > LIMIT,
                        "refused {} seats at {current} of {LIMIT}: they fitted",
                        seats.len()
                    );
                }
                other => panic!("a hold answered {other}: {answer}"),
            }
        }
        granted
    }

    /// Seats the event shows HELD or SOLD, from the DynamoDB claims.
    async fn taken_seats(&self) -> HashSet<String> {
        let (status, seats) = self.send(0, Method::GET, "/events/sale/seats", "reader", None).await;
        assert_eq!(status, StatusCode::OK);
        seats["seats"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|seat| seat["status"] != "AVAILABLE")
            .map(|seat| seat["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The customer's tally item, as stored: (hold entries, order entries).
    async fn tally(&self, customer: &str) -> (usize, usize) {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("T#{}#EVENT#sale#CUSTOMER#{customer}", self.tenant)),
            )
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("TALLY".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        (
            item.keys().filter(|name| name.starts_with("H#")).count(),
            item.keys().filter(|name| name.starts_with("O#")).count(),
        )
    }
}

async fn sale() -> (Arc<Sale>, [test_backends::KeepAlive; 2]) {
    let (redis_url, redis) = test_backends::redis();
    let (endpoint, dynamodb) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    let env = [
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url),
        ("TABLE_NAME", table.clone()),
        ("AWS_ENDPOINT_URL", endpoint),
        (
            "DYNAMODB_TIMEOUT_MS",
            test_backends::EMULATOR_DYNAMODB_TIMEOUT_MS.to_owned(),
        ),
    ];
    let sale = Sale {
        servers: vec![DevServer::start(&env), DevServer::start(&env)],
        client: Client::builder().pool_max_idle_per_host(VOLLEY).build().unwrap(),
        tenant: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        dynamodb: client,
        table,
    };
    let seats: Vec<Value> = (0..200)
        .map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 }))
        .collect();
    let body = json!({
        "name": "Sale", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR",
        "maxSeatsPerCustomer": LIMIT, "seats": seats,
    });
    let (status, created) = sale.send(0, Method::PUT, "/events/sale", "boss", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["maxSeatsPerCustomer"], LIMIT);
    (Arc::new(sale), [redis, dynamodb])
}

fn seat_count(granted: &[(String, Vec<String>)]) -> usize {
    granted.iter().map(|(_, seats)| seats.len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_customers_twenty_concurrent_holds_on_two_instances_never_exceed_the_limit() {
    let (sale, _backends) = sale().await;

    // Volley 1: nothing held yet.
    let granted = sale.volley("alice", 0).await;
    // Half the requests are for one seat: one of them always fits until the
    // limit is reached, so the volley ends exactly at it, never above.
    assert_eq!(seat_count(&granted), LIMIT, "alice's seats after the first volley");
    let expected: HashSet<String> = granted.iter().flat_map(|(_, seats)| seats.clone()).collect();
    assert_eq!(
        sale.taken_seats().await,
        expected,
        "DynamoDB's claims are exactly the granted holds"
    );
    assert_eq!(sale.tally("alice").await, (granted.len(), 0));

    // Another customer is not limited by alice.
    let (status, _) = sale
        .send(
            1,
            Method::POST,
            "/events/sale/holds",
            "bob",
            Some(json!({ "seats": ["S150", "S151", "S152", "S153"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "bob's own four seats");

    // One hold becomes an order (still counts), the others are released
    // (stop counting): the next volley may add up to the limit minus the order.
    let (ordered_hold, ordered_seats) = granted[0].clone();
    let (status, order) = sale
        .send(
            0,
            Method::POST,
            "/orders",
            "alice",
            Some(json!({ "holdId": ordered_hold })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    for (hold, _) in &granted[1..] {
        let (status, _) = sale
            .send(1, Method::DELETE, &format!("/holds/{hold}"), "alice", None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let granted = sale.volley("alice", 60).await;
    assert_eq!(
        seat_count(&granted) + ordered_seats.len(),
        LIMIT,
        "the order counts, the released holds do not"
    );
    let mut expected: HashSet<String> = granted.iter().flat_map(|(_, seats)| seats.clone()).collect();
    expected.extend(ordered_seats.iter().cloned());
    expected.extend(["S150", "S151", "S152", "S153"].map(str::to_owned));
    assert_eq!(
        sale.taken_seats().await,
        expected,
        "claims: alice's order and holds, and bob's hold"
    );
    assert_eq!(sale.tally("alice").await, (granted.len(), 1));

    // Cancelling the order frees its seats from the count too.
    let order_id = order["orderId"].as_str().unwrap();
    let (status, cancelled) = sale
        .send(1, Method::POST, &format!("/orders/{order_id}/cancel"), "alice", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    for (hold, _) in &granted {
        let (status, _) = sale
            .send(0, Method::DELETE, &format!("/holds/{hold}"), "alice", None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let granted = sale.volley("alice", 120).await;
    assert_eq!(seat_count(&granted), LIMIT, "the cancelled order stopped counting");
    assert_eq!(sale.tally("alice").await, (granted.len(), 0));
}
