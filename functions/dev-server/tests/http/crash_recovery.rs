//! A create-order attempt that dies half-way (the Lambda is killed, times
//! out, or loses its network) on real Redis + DynamoDB Local: the retry,
//! once the lease has run out, gets the one order — never a second one and
//! never a lost one. The "crash" is the request future being dropped at the
//! chosen point, exactly what a killed process does to in-flight work.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{TestApp, TestResponse, aws_env};
use application::ports::{CommitError, OrderCommit, OrderStore, Ports};
use async_trait::async_trait;
use domain::hold::SeatClaim;
use domain::ids::{EventId, OrderId, SeatId, TenantId};
use http::{Method, StatusCode};
use serde_json::json;
use test_doubles::{ClockAhead, Delegating, OrderStoreDouble};

/// Where the attempt dies.
#[derive(Clone, Copy, Debug)]
enum CrashPoint {
    /// After the idempotency claim, before the commit reaches DynamoDB.
    BeforeCommit,
    /// After the commit succeeded, before the answer leaves the function.
    AfterCommit,
}

/// An order store whose commit never finishes, before or after doing its
/// work; `reached` fires when the attempt is at its crash point.
struct Dies {
    inner: Arc<dyn OrderStore>,
    at: CrashPoint,
    reached: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl OrderStoreDouble for Dies {
    fn inner(&self) -> &dyn OrderStore {
        &*self.inner
    }
    async fn commit(&self, commit: OrderCommit<'_>) -> Result<(), CommitError> {
        if let CrashPoint::AfterCommit = self.at {
            self.inner.commit(commit).await?;
        }
        self.reached.notify_one();
        std::future::pending().await
    }
}

const LEASE: Duration = Duration::from_secs(5);

/// One "function instance" over the shared backends, its clock `ahead`
/// (an instance that asks once the lease has run out, without the test
/// sleeping through it); `crash` wraps its order store. Also returns the
/// ports without the crash, to read the store.
async fn instance(
    env: &HashMap<&'static str, String>,
    crash: Option<(CrashPoint, Arc<tokio::sync::Notify>)>,
    ahead: Duration,
) -> (TestApp, Ports) {
    let app = TestApp::aws(env, |ports| {
        ports.clock = Arc::new(ClockAhead(ahead));
        if let Some((at, reached)) = crash {
            ports.orders = Arc::new(Delegating(Dies {
                inner: ports.orders.clone(),
                at,
                reached,
            }));
        }
    })
    .await;
    let clean = app.ports.clone();
    (app, clean)
}

async fn order(app: &TestApp, tenant: &str, hold_id: &str) -> TestResponse {
    app.call(Method::POST, "/orders")
        .by(tenant, "alice")
        .header("idempotency-key", "checkout-1")
        .json(&json!({ "holdId": hold_id }))
        .send()
        .await
}

async fn crash_then_retry(at: CrashPoint) {
    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let table = test_backends::fresh_table(&test_backends::dynamodb_client(&endpoint).await).await;
    let mut env = aws_env(&redis_url, &endpoint, &table);
    env.insert("IDEMPOTENCY_LEASE_SECONDS", LEASE.as_secs().to_string());
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let reached = Arc::new(tokio::sync::Notify::new());
    let (dying, ports) = instance(&env, Some((at, reached.clone())), Duration::ZERO).await;
    let created = dying
        .call(Method::PUT, "/events/gig")
        .by(&tenant, "boss")
        .header("x-roles", "organizer")
        .json(&json!({"name": "Gig", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR",
            "seats": [{"id": "A1", "priceCents": 1000}, {"id": "A2", "priceCents": 1000}, {"id": "A3", "priceCents": 1000}]}))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let hold = dying
        .call(Method::POST, "/events/gig/holds")
        .by(&tenant, "alice")
        .json(&json!({"seats": ["A1", "A2"], "ttlSeconds": 300}))
        .send()
        .await;
    let hold_id = hold.json["holdId"].as_str().unwrap().to_owned();

    // The attempt dies at the crash point: its future is dropped there, as a
    // killed process drops its in-flight work, and its caller never gets an answer.
    {
        let attempt = order(&dying, &tenant, &hold_id);
        tokio::pin!(attempt);
        tokio::select! {
            answer = &mut attempt => panic!("{at:?}: the attempt was meant to die, it answered {}", answer.text),
            () = reached.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(20)) => panic!("{at:?}: the attempt never reached its crash point"),
        }
    }

    // A retry on another instance while the dead attempt's lease still runs:
    // told to wait if nothing was committed; the stored answer if it was.
    let (survivor, _) = instance(&env, None, Duration::ZERO).await;
    let early = order(&survivor, &tenant, &hold_id).await;
    match at {
        CrashPoint::BeforeCommit => early.assert_problem(409, "idempotency-in-progress"),
        CrashPoint::AfterCommit => {
            assert_eq!(early.status, StatusCode::CREATED, "{}", early.text);
            assert_eq!(early.header("idempotent-replayed"), Some("true"));
        }
    }

    // After the lease (an instance whose clock is past it): exactly one
    // order, whatever point the crash hit.
    let (survivor, _) = instance(&env, None, LEASE + Duration::from_secs(1)).await;
    let retried = order(&survivor, &tenant, &hold_id).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{at:?}: {}", retried.text);
    let replayed = retried.header("idempotent-replayed") == Some("true");
    match at {
        CrashPoint::BeforeCommit => assert!(!replayed, "nothing was committed: the retry creates the order"),
        CrashPoint::AfterCommit => assert!(replayed, "the commit stored the answer: the retry replays it"),
    }
    let again = order(&survivor, &tenant, &hold_id).await;
    assert_eq!(again.bytes, retried.bytes, "every later retry replays the same answer");

    let order_id = OrderId::parse(retried.json["orderId"].as_str().unwrap()).unwrap();
    let tenant_id = TenantId::parse(&tenant).unwrap();
    let stored = ports
        .orders
        .get(&tenant_id, order_id)
        .await
        .unwrap()
        .expect("the order exists");
    let sold: HashSet<SeatId> = ports
        .holds
        .seat_claims(&tenant_id, &EventId::parse("gig").unwrap(), ports.clock.now())
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, claim)| *claim == SeatClaim::Sold)
        .map(|(seat, _)| seat)
        .collect();
    assert_eq!(
        sold,
        stored.seats.iter().map(|seat| seat.id.clone()).collect::<HashSet<_>>(),
        "I1/I3: sold seats are exactly the one order's seats"
    );
    assert_eq!(sold.len(), 2);
    let availability = survivor
        .call(Method::GET, "/events/gig/seats")
        .by(&tenant, "alice")
        .send()
        .await;
    let statuses: Vec<&str> = availability.json["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["SOLD", "SOLD", "AVAILABLE"],
        "availability agrees with the order"
    );
}

#[tokio::test]
async fn a_crash_after_the_claim_and_before_the_commit_leaves_the_retry_to_create_the_one_order() {
    crash_then_retry(CrashPoint::BeforeCommit).await;
}

#[tokio::test]
async fn a_crash_after_the_commit_and_before_the_answer_leaves_the_retry_the_stored_order() {
    crash_then_retry(CrashPoint::AfterCommit).await;
}
