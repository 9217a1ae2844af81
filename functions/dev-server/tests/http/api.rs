//! Every route's success and error paths at the HTTP level: status, problem
//! slug, `Location`, `X-Correlation-Id`, `Idempotent-Replayed`.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::{TestApp, gig_body};
use http::{Method, StatusCode};
use serde_json::{Value, json};

// ---- cross-cutting -----------------------------------------------------------

#[tokio::test]
async fn health_and_ready_answer_without_identity() {
    let app = TestApp::new();
    let health = app.call(Method::GET, "/health").send().await;
    assert_eq!(
        (health.status, health.json.clone()),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    let ready = app.call(Method::GET, "/ready").send().await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json, json!({ "status": "ready", "checks": { "memory": "ok" } }));
}

#[tokio::test]
async fn a_callers_correlation_id_is_echoed_and_one_is_minted_otherwise() {
    let app = TestApp::new();
    let given = app
        .call(Method::GET, "/health")
        .header("x-correlation-id", "trace-42")
        .send()
        .await;
    assert_eq!(given.header("x-correlation-id"), Some("trace-42"));
    let minted = app.call(Method::GET, "/health").send().await;
    assert_eq!(minted.header("x-correlation-id").map(str::len), Some(36));
    let odd = app
        .call(Method::GET, "/health")
        .header("x-correlation-id", "a b")
        .send()
        .await;
    assert_ne!(odd.header("x-correlation-id"), Some("a b"));
}

#[tokio::test]
async fn an_unknown_route_is_not_found_and_a_wrong_method_is_method_not_allowed() {
    let app = TestApp::new();
    app.call(Method::GET, "/nowhere")
        .send()
        .await
        .assert_problem(404, "not-found");
    app.call(Method::PATCH, "/orders")
        .by("acme", "alice")
        .send()
        .await
        .assert_problem(405, "method-not-allowed");
}

#[tokio::test]
async fn a_request_without_identity_is_unauthorized() {
    let app = TestApp::new();
    app.with_gig().await;
    // Every business route the dev server serves (a new one is covered
    // without being listed here); /health and /ready are public.
    let routes: Vec<_> = functions::route_table()
        .into_iter()
        .filter(|route| !http_interface::SERVICE_ROUTES.contains(route))
        .collect();
    assert!(routes.len() > 5, "{routes:?}");
    for (method, template) in routes {
        let path = template
            .replace("{eventId}", "gig")
            .replace("{holdId}", "01890a5d-ac96-774b-bcce-b302099a8057")
            .replace("{orderId}", "01890a5d-ac96-774b-bcce-b302099a8057");
        assert!(
            !path.contains('{'),
            "a path parameter this test does not fill: {template}"
        );
        let response = app
            .call(Method::from_bytes(method.as_bytes()).unwrap(), &path)
            .header("x-tenant-id", "acme")
            .send()
            .await;
        response.assert_problem(401, "unauthorized");
    }
}

#[tokio::test]
async fn a_malformed_identity_header_is_unauthorized() {
    let app = TestApp::new();
    let response = app
        .call(Method::GET, "/events/gig/seats")
        .by("acme", "al ice")
        .send()
        .await;
    response.assert_problem(401, "unauthorized");
}

// ---- events -----------------------------------------------------------------

#[tokio::test]
async fn putting_an_event_creates_it_then_replaces_it() {
    let app = TestApp::new();
    let created = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&gig_body())
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.json["seats"][1], json!({ "id": "A2", "priceCents": 1500 }));
    let replaced = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&gig_body())
        .send()
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
}

#[tokio::test]
async fn only_an_organizer_may_put_an_event_even_with_a_bad_body() {
    let app = TestApp::new();
    let response = app
        .call(Method::PUT, "/events/gig")
        .by("acme", "alice")
        .raw("nope")
        .send()
        .await;
    response.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn an_event_breaking_rules_is_rejected_naming_every_field() {
    let app = TestApp::new();
    let body = json!({
        "name": "X",
        "startsAt": "tomorrow",
        "currency": "EURO",
        "seats": [{ "id": "A 1", "priceCents": 1 }]
    });
    let response = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&body)
        .send()
        .await;
    response.assert_problem(422, "validation-failed");
    let fields: HashSet<&str> = response.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, HashSet::from(["startsAt", "currency", "seats[0].id"]));

    let duplicate = json!({ "name": "X", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR",
        "seats": [{ "id": "A", "priceCents": 1 }, { "id": "A", "priceCents": 1 }] });
    let response = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&duplicate)
        .send()
        .await;
    response.assert_problem(422, "validation-failed");
    assert_eq!(response.json["errors"][0]["field"], "seats[1].id");

    let negative = json!({ "name": "X", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR",
        "seats": [{ "id": "A", "priceCents": -5 }] });
    let response = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&negative)
        .send()
        .await;
    response.assert_problem(422, "validation-failed");
    assert_eq!(response.json["errors"][0]["field"], "seats[0].priceCents");

    let none = json!({ "name": "X", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR", "seats": [] });
    app.call(Method::PUT, "/events/gig")
        .organizer()
        .json(&none)
        .send()
        .await
        .assert_problem(422, "validation-failed");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400() {
    let app = TestApp::new();
    app.call(Method::PUT, "/events/gig")
        .organizer()
        .raw("{not json")
        .send()
        .await
        .assert_problem(400, "validation-failed");
}

#[tokio::test]
async fn an_event_id_that_cannot_be_an_id_is_event_not_found() {
    let app = TestApp::new();
    app.call(Method::PUT, "/events/bad%20id")
        .organizer()
        .json(&gig_body())
        .send()
        .await
        .assert_problem(404, "event-not-found");
    app.call(Method::GET, "/events/bad%20id/seats")
        .organizer()
        .send()
        .await
        .assert_problem(404, "event-not-found");
    app.call(Method::GET, "/events/%FF/seats")
        .organizer()
        .send()
        .await
        .assert_problem(404, "event-not-found");
}

#[tokio::test]
async fn a_replacement_removing_a_held_seat_is_an_event_conflict() {
    let app = TestApp::new();
    app.with_gig().await;
    app.hold("alice", &["A4"]).await;
    let mut body = gig_body();
    body["seats"].as_array_mut().unwrap().pop();
    let response = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&body)
        .send()
        .await;
    response.assert_problem(409, "event-conflict");
}

#[tokio::test]
async fn availability_shows_every_seat_with_price_and_status_to_any_customer_of_the_tenant() {
    let app = TestApp::new();
    app.with_gig().await;
    app.hold("alice", &["A2"]).await;
    let response = app
        .call(Method::GET, "/events/gig/seats")
        .by("acme", "bob")
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json["currency"], "EUR");
    assert_eq!(response.json["startsAt"], "2027-06-01T19:30:00.000Z");
    assert_eq!(
        response.json["seats"][1],
        json!({ "id": "A2", "priceCents": 1500, "status": "HELD" })
    );
    assert_eq!(
        app.seat_statuses().await,
        ["AVAILABLE", "HELD", "AVAILABLE", "AVAILABLE"]
    );
}

#[tokio::test]
async fn another_tenants_event_is_not_found() {
    let app = TestApp::new();
    app.with_gig().await;
    let response = app
        .call(Method::GET, "/events/gig/seats")
        .by("evil", "mallory")
        .send()
        .await;
    response.assert_problem(404, "event-not-found");
}

// ---- holds ------------------------------------------------------------------

#[tokio::test]
async fn placing_a_hold_answers_201_with_location_and_the_hold() {
    let app = TestApp::new();
    app.with_gig().await;
    let response = app
        .call(Method::POST, "/events/gig/holds")
        .by("acme", "alice")
        .json(&json!({ "seats": ["A3", "A1"], "ttlSeconds": 120 }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let hold_id = response.json["holdId"].as_str().unwrap();
    assert_eq!(response.header("location"), Some(format!("/holds/{hold_id}").as_str()));
    assert_eq!(response.json["seats"], json!(["A3", "A1"]));
    assert_eq!(response.json["status"], "ACTIVE");
    assert_eq!(response.json["customerId"], "alice");
    assert_eq!(response.json["createdAt"], "2027-01-15T08:00:00.000Z");
    assert_eq!(response.json["expiresAt"], "2027-01-15T08:02:00.000Z");
}

#[tokio::test]
async fn a_hold_on_an_unknown_event_is_event_not_found() {
    let app = TestApp::new();
    let response = app
        .call(Method::POST, "/events/nope/holds")
        .by("acme", "alice")
        .json(&json!({ "seats": ["A1"] }))
        .send()
        .await;
    response.assert_problem(404, "event-not-found");
}

#[tokio::test]
async fn every_malformed_hold_request_is_a_validation_failure_naming_its_field() {
    let app = TestApp::new();
    app.with_gig().await;
    let cases = [
        (json!({ "seats": [] }), "seats"),
        (
            json!({ "seats": ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "B1", "B2"] }),
            "seats",
        ),
        (json!({ "seats": ["A1", "A1"] }), "seats[1]"),
        (json!({ "seats": ["Z9"] }), "seats"),
        (json!({ "seats": ["A1"], "ttlSeconds": 59 }), "ttlSeconds"),
        (json!({ "seats": ["A1"], "ttlSeconds": 1801 }), "ttlSeconds"),
        (json!({ "seats": ["A1"], "ttlSeconds": -1 }), "ttlSeconds"),
        (json!({ "seats": [1] }), "seats[0]"),
        (json!({ "seats": ["bad seat"] }), "seats[0]"),
        (json!({}), "seats"),
        (json!({ "seats": ["A1"], "bestAvailable": { "quantity": 1 } }), "seats"),
        (json!({ "bestAvailable": { "quantity": 0 } }), "bestAvailable.quantity"),
        (json!({ "bestAvailable": { "quantity": 11 } }), "bestAvailable.quantity"),
        (json!({ "bestAvailable": { "quantity": -1 } }), "bestAvailable.quantity"),
        (
            json!({ "bestAvailable": { "quantity": u64::MAX } }),
            "bestAvailable.quantity",
        ),
        (
            json!({ "bestAvailable": { "quantity": 1_000_000_000 } }),
            "bestAvailable.quantity",
        ),
        (
            json!({ "bestAvailable": { "quantity": 2, "section": " " } }),
            "bestAvailable.section",
        ),
        (
            json!({ "bestAvailable": { "quantity": 2, "category": "x".repeat(33) } }),
            "bestAvailable.category",
        ),
        (
            json!({ "bestAvailable": { "quantity": 2 }, "ttlSeconds": 59 }),
            "ttlSeconds",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .call(Method::POST, "/events/gig/holds")
            .by("acme", "alice")
            .json(&body)
            .send()
            .await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.json["errors"][0]["field"], field, "{body}: {}", response.text);
    }
    assert_eq!(app.seat_statuses().await, ["AVAILABLE"; 4], "nothing was locked");
}

#[tokio::test]
async fn a_conflicting_hold_lists_in_request_order_every_seat_taken_and_locks_none() {
    let app = TestApp::new();
    app.with_gig().await;
    app.hold("alice", &["A1", "A3"]).await;
    let response = app
        .call(Method::POST, "/events/gig/holds")
        .by("acme", "alice")
        .json(&json!({ "seats": ["A3", "A2", "A1"] }))
        .send()
        .await;
    response.assert_problem(409, "seats-unavailable");
    assert_eq!(response.json["unavailableSeats"], json!(["A3", "A1"]));
    assert_eq!(app.seat_statuses().await, ["HELD", "AVAILABLE", "HELD", "AVAILABLE"]);
}

#[tokio::test]
async fn a_seat_limit_per_customer_is_kept_shown_and_answered_with_limit_and_current() {
    let app = TestApp::new();
    for refused in [json!(0), json!(101), json!(-1), json!(2.5), json!("4")] {
        let mut body = gig_body();
        body["maxSeatsPerCustomer"] = refused.clone();
        let response = app
            .call(Method::PUT, "/events/gig")
            .organizer()
            .json(&body)
            .send()
            .await;
        assert!(
            response.status == StatusCode::UNPROCESSABLE_ENTITY || response.status == StatusCode::BAD_REQUEST,
            "{refused}: {}",
            response.text
        );
        assert_eq!(response.json["type"], "/problems/validation-failed", "{refused}");
    }
    let mut body = gig_body();
    body["maxSeatsPerCustomer"] = json!(2);
    let created = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&body)
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["maxSeatsPerCustomer"], 2);
    let seats = app
        .call(Method::GET, "/events/gig/seats")
        .by("acme", "bob")
        .send()
        .await;
    assert_eq!(seats.json["maxSeatsPerCustomer"], 2, "availability shows the limit");

    app.hold("alice", &["A1"]).await;
    let over = app
        .call(Method::POST, "/events/gig/holds")
        .by("acme", "alice")
        .json(&json!({ "seats": ["A2", "A3"] }))
        .send()
        .await;
    over.assert_problem(409, "customer-limit-reached");
    assert_eq!(
        (over.json["limit"].clone(), over.json["current"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        app.seat_statuses().await,
        ["HELD", "AVAILABLE", "AVAILABLE", "AVAILABLE"]
    );
    app.hold("bob", &["A2", "A3"]).await;

    // Once seats are held, a limit can change but not be introduced.
    let unlimited = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&gig_body())
        .send()
        .await;
    assert_eq!(unlimited.status, StatusCode::OK, "lifting it is fine");
    assert!(unlimited.json.get("maxSeatsPerCustomer").is_none());
    let again = app
        .call(Method::PUT, "/events/gig")
        .organizer()
        .json(&body)
        .send()
        .await;
    again.assert_problem(409, "event-conflict");
}

#[tokio::test]
async fn a_body_over_64_kib_is_payload_too_large() {
    let app = TestApp::new();
    app.with_gig().await;
    let huge = format!("{{\"seats\":[\"A1\"],\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let response = app
        .call(Method::POST, "/events/gig/holds")
        .by("acme", "alice")
        .raw(huge)
        .send()
        .await;
    response.assert_problem(413, "payload-too-large");
}

#[tokio::test]
async fn verifying_a_fresh_hold_says_valid_with_the_time_left() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1", "A2"]).await;
    app.clock.advance(Duration::from_secs(90));
    let response = app
        .call(Method::GET, &format!("/holds/{hold}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json,
        json!({ "holdId": hold, "eventId": "gig", "seats": ["A1", "A2"], "status": "ACTIVE", "valid": true,
                "expiresAt": "2027-01-15T08:10:00.000Z", "remainingSeconds": 510 })
    );
}

#[tokio::test]
async fn verifying_a_hold_whose_locks_were_lost_says_valid_and_an_expired_one_says_invalid_and_why() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    app.seat_locks.forget_everything();
    let lost = app
        .call(Method::GET, &format!("/holds/{hold}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(
        (lost.json["valid"].clone(), lost.json.get("reason").cloned()),
        (json!(true), None),
        "I7: the durable claims decide, not the locks"
    );
    app.clock.advance(Duration::from_secs(600));
    let expired = app
        .call(Method::GET, &format!("/holds/{hold}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(expired.json["status"], "EXPIRED");
    assert_eq!(
        (expired.json["valid"].clone(), expired.json["reason"].clone()),
        (json!(false), json!("expired"))
    );
    assert_eq!(expired.json["remainingSeconds"], 0);
}

#[tokio::test]
async fn a_hold_id_that_is_malformed_or_someone_elses_is_hold_not_found() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    for (path, tenant, customer) in [
        ("/holds/not-a-uuid".to_owned(), "acme", "alice"),
        (format!("/holds/{hold}"), "acme", "bob"),
        (format!("/holds/{hold}"), "evil", "alice"),
    ] {
        app.call(Method::GET, &path)
            .by(tenant, customer)
            .send()
            .await
            .assert_problem(404, "hold-not-found");
        app.call(Method::DELETE, &path)
            .by(tenant, customer)
            .send()
            .await
            .assert_problem(404, "hold-not-found");
    }
    assert_eq!(app.seat_statuses().await[0], "HELD", "nobody else could release it");
}

#[tokio::test]
async fn releasing_frees_the_seats_at_once_and_releasing_twice_is_still_204() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1", "A2"]).await;
    for _ in 0..2 {
        let response = app
            .call(Method::DELETE, &format!("/holds/{hold}"))
            .by("acme", "alice")
            .send()
            .await;
        assert_eq!(response.status, StatusCode::NO_CONTENT);
        assert!(response.bytes.is_empty());
    }
    assert_eq!(app.seat_statuses().await, ["AVAILABLE"; 4]);
    app.hold("bob", &["A1", "A2"]).await;
}

#[tokio::test]
async fn releasing_a_converted_hold_is_hold_not_active() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    let order = order(&app, "alice", "k1", &json!({ "holdId": hold })).await;
    assert_eq!(order.status, StatusCode::CREATED);
    app.call(Method::DELETE, &format!("/holds/{hold}"))
        .by("acme", "alice")
        .send()
        .await
        .assert_problem(409, "hold-not-active");
}

#[tokio::test]
async fn extending_a_hold_answers_200_with_the_verify_representation_and_the_new_expiry() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1", "A2"]).await;
    app.clock.advance(Duration::from_secs(90));
    let response = app
        .call(Method::POST, &format!("/holds/{hold}/extend"))
        .by("acme", "alice")
        .json(&json!({ "ttlSeconds": 900 }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(
        response.json,
        json!({ "holdId": hold, "eventId": "gig", "seats": ["A1", "A2"], "status": "ACTIVE", "valid": true,
                "expiresAt": "2027-01-15T08:16:30.000Z", "remainingSeconds": 900 })
    );
    // Past the first expiry (08:10) the seats are still alice's.
    app.clock.advance(Duration::from_secs(700));
    assert_eq!(app.seat_statuses().await[..2], ["HELD", "HELD"]);
    let verify = app
        .call(Method::GET, &format!("/holds/{hold}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(
        (verify.json["valid"].clone(), verify.json["remainingSeconds"].clone()),
        (json!(true), json!(200))
    );
}

#[tokio::test]
async fn an_extension_is_refused_past_the_cap_after_the_hold_ended_and_with_a_bad_ttl() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    let extend = |ttl: Value| {
        let app = &app;
        let hold = hold.clone();
        async move {
            app.call(Method::POST, &format!("/holds/{hold}/extend"))
                .by("acme", "alice")
                .json(&json!({ "ttlSeconds": ttl }))
                .send()
                .await
        }
    };
    for ttl in [json!(59), json!(1801), json!(-1), json!("600"), json!(null)] {
        let refused = extend(ttl.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{ttl}: {}",
            refused.text
        );
        assert_eq!(refused.json["type"], "/problems/validation-failed");
    }
    let capped = extend(json!(1800)).await;
    assert_eq!(
        capped.json["expiresAt"], "2027-01-15T08:30:00.000Z",
        "createdAt + 1800 s"
    );
    extend(json!(60)).await.assert_problem(409, "hold-lifetime-exceeded");
    app.clock.advance(Duration::from_secs(1800));
    extend(json!(60)).await.assert_problem(409, "hold-expired");

    let released = app.hold("alice", &["A2"]).await;
    app.call(Method::DELETE, &format!("/holds/{released}"))
        .by("acme", "alice")
        .send()
        .await;
    app.call(Method::POST, &format!("/holds/{released}/extend"))
        .by("acme", "alice")
        .json(&json!({ "ttlSeconds": 600 }))
        .send()
        .await
        .assert_problem(409, "hold-not-active");
    app.call(Method::POST, "/holds/not-a-uuid/extend")
        .by("acme", "alice")
        .json(&json!({ "ttlSeconds": 600 }))
        .send()
        .await
        .assert_problem(404, "hold-not-found");
}

// ---- orders -----------------------------------------------------------------

async fn order(app: &TestApp, customer: &str, key: &str, body: &Value) -> crate::support::TestResponse {
    app.call(Method::POST, "/orders")
        .by("acme", customer)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn an_order_answers_201_with_location_and_can_be_read_back() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A2", "A4"]).await;
    let created = order(
        &app,
        "alice",
        "k1",
        &json!({ "holdId": hold, "buyer": { "email": "a@example.com", "name": "Alice" } }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let order_id = created.json["orderId"].as_str().unwrap();
    assert_eq!(created.header("location"), Some(format!("/orders/{order_id}").as_str()));
    assert_eq!(created.header("idempotent-replayed"), None);
    assert_eq!(created.json["totalCents"], 4000);
    assert_eq!(created.json["currency"], "EUR");
    assert_eq!(created.json["status"], "CONFIRMED");
    assert_eq!(created.json["seats"], json!(["A2", "A4"]));

    let read = app
        .call(Method::GET, &format!("/orders/{order_id}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json, created.json);
    assert_eq!(app.seat_statuses().await, ["AVAILABLE", "SOLD", "AVAILABLE", "SOLD"]);
}

#[tokio::test]
async fn an_order_without_an_idempotency_key_is_refused_and_changes_nothing() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    let response = app
        .call(Method::POST, "/orders")
        .by("acme", "alice")
        .json(&json!({ "holdId": hold }))
        .send()
        .await;
    response.assert_problem(400, "idempotency-key-missing");
    let too_long = order(&app, "alice", &"k".repeat(256), &json!({ "holdId": hold })).await;
    too_long.assert_problem(400, "validation-failed");
    assert_eq!(app.seat_statuses().await[0], "HELD");
}

#[tokio::test]
async fn a_retry_replays_the_stored_answer_byte_for_byte_with_the_replayed_header() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    let first = order(&app, "alice", "k1", &json!({ "holdId": hold })).await;
    let retry = app
        .call(Method::POST, "/orders")
        .by("acme", "alice")
        .header("idempotency-key", "k1")
        .header("x-correlation-id", "retry-1")
        .raw(format!("{{ \"holdId\" :\n \"{hold}\" }}"))
        .send()
        .await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.header("x-correlation-id"), Some("retry-1"));
}

#[tokio::test]
async fn a_stored_rejection_is_replayed_with_its_original_correlation_id() {
    let app = TestApp::new();
    app.with_gig().await;
    let missing = json!({ "holdId": "01890a5d-ac96-774b-bcce-b302099a8057" });
    let first = order(&app, "alice", "k1", &missing).await;
    first.assert_problem(404, "hold-not-found");
    let retry = order(&app, "alice", "k1", &missing).await;
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_ne!(retry.header("x-correlation-id"), first.header("x-correlation-id"));
    assert_eq!(retry.json["correlationId"], first.json["correlationId"]);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_idempotency_key_reused() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    order(&app, "alice", "k1", &json!({ "holdId": hold })).await;
    let other = order(
        &app,
        "alice",
        "k1",
        &json!({ "holdId": hold, "buyer": { "name": "Eve" } }),
    )
    .await;
    other.assert_problem(422, "idempotency-key-reused");
}

#[tokio::test]
async fn a_second_key_on_a_converted_hold_is_hold_not_active_and_makes_no_second_order() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    order(&app, "alice", "k1", &json!({ "holdId": hold })).await;
    order(&app, "alice", "k2", &json!({ "holdId": hold }))
        .await
        .assert_problem(409, "hold-not-active");
}

#[tokio::test]
async fn ordering_an_expired_hold_is_hold_expired() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    app.clock.advance(Duration::from_secs(600));
    order(&app, "alice", "k1", &json!({ "holdId": hold }))
        .await
        .assert_problem(409, "hold-expired");
    assert_eq!(
        app.seat_statuses().await[0],
        "HELD",
        "claimed for the grace after expiry"
    );
    app.clock.advance(domain::hold::CLAIM_GRACE);
    assert_eq!(app.seat_statuses().await[0], "AVAILABLE");
}

#[tokio::test]
async fn someone_elses_hold_cannot_be_ordered_and_someone_elses_order_cannot_be_read() {
    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    order(&app, "bob", "k1", &json!({ "holdId": hold }))
        .await
        .assert_problem(404, "hold-not-found");
    let created = order(&app, "alice", "k1", &json!({ "holdId": hold })).await;
    let path = format!("/orders/{}", created.json["orderId"].as_str().unwrap());
    app.call(Method::GET, &path)
        .by("acme", "bob")
        .send()
        .await
        .assert_problem(404, "order-not-found");
    app.call(Method::GET, &path)
        .by("evil", "alice")
        .send()
        .await
        .assert_problem(404, "order-not-found");
    app.call(Method::GET, "/orders/nope")
        .by("acme", "alice")
        .send()
        .await
        .assert_problem(404, "order-not-found");
}

#[tokio::test]
async fn a_malformed_order_body_is_a_validation_failure() {
    let app = TestApp::new();
    app.with_gig().await;
    order(&app, "alice", "k1", &json!({ "holdId": "nope" }))
        .await
        .assert_problem(422, "validation-failed");
    order(&app, "alice", "k2", &json!({ "hold": "x" }))
        .await
        .assert_problem(422, "validation-failed");
    let response = app
        .call(Method::POST, "/orders")
        .by("acme", "alice")
        .header("idempotency-key", "k3")
        .raw("[")
        .send()
        .await;
    response.assert_problem(400, "validation-failed");
}

#[tokio::test]
async fn a_key_still_in_flight_is_idempotency_in_progress_with_retry_after() {
    use application::ports::{ClaimRequest, Clock};
    use domain::idempotency::{IdempotencyKey, IdempotencyScope, LeaseId};
    use domain::ids::{CustomerId, TenantId};

    let app = TestApp::new();
    app.with_gig().await;
    let hold = app.hold("alice", &["A1"]).await;
    let body = json!({ "holdId": hold });
    let scope = IdempotencyScope {
        tenant: TenantId::parse("acme").unwrap(),
        customer: CustomerId::parse("alice").unwrap(),
        operation: application::use_cases::CREATE_ORDER_OPERATION,
        key: IdempotencyKey::parse("k1").unwrap(),
    };
    let now = app.clock.now();
    // Another instance claimed the key and is still working (or crashed).
    app.ports
        .idempotency
        .claim(ClaimRequest {
            scope: &scope,
            fingerprint: http_interface::json_body::fingerprint(&body),
            lease: LeaseId(7),
            lease_expires_at: now.plus(Duration::from_secs(30)),
            record_expires_at: now.plus(Duration::from_secs(86_400)),
            now,
        })
        .await
        .unwrap();
    let busy = order(&app, "alice", "k1", &body).await;
    busy.assert_problem(409, "idempotency-in-progress");
    assert_eq!(busy.header("retry-after"), Some("30"));
    app.clock.advance(Duration::from_secs(30));
    let taken_over = order(&app, "alice", "k1", &body).await;
    assert_eq!(taken_over.status, StatusCode::CREATED, "{}", taken_over.text);
}

// ---- concurrency on the embedded backend -----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_racing_multi_seat_holds_never_put_one_seat_in_two_holds() {
    let app = std::sync::Arc::new(TestApp::new());
    let seats: Vec<Value> = (0..30)
        .map(|i| json!({ "id": format!("S{i}"), "priceCents": 100 }))
        .collect();
    let event = json!({ "name": "Race", "startsAt": "2027-01-01T00:00:00Z", "currency": "EUR", "seats": seats });
    assert_eq!(
        app.call(Method::PUT, "/events/race")
            .organizer()
            .json(&event)
            .send()
            .await
            .status,
        StatusCode::CREATED
    );
    let mut tasks = Vec::new();
    for buyer in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let wanted: Vec<String> = (0..4).map(|k| format!("S{}", (buyer * 5 + k * 7) % 30)).collect();
            let response = app
                .call(Method::POST, "/events/race/holds")
                .by("acme", &format!("buyer{buyer}"))
                .json(&json!({ "seats": wanted }))
                .send()
                .await;
            (wanted, response)
        }));
    }
    let mut held = HashSet::new();
    for task in tasks {
        let (wanted, response) = task.await.unwrap();
        match response.status.as_u16() {
            201 => {
                assert_eq!(response.json["seats"], json!(wanted), "all or nothing");
                for seat in wanted {
                    assert!(held.insert(seat.clone()), "{seat} is in two holds");
                }
            }
            409 => assert_eq!(response.json["type"], "/problems/seats-unavailable"),
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    let seats = app.call(Method::GET, "/events/race/seats").by("acme", "x").send().await;
    let held_now = seats.json["seats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "HELD")
        .count();
    assert_eq!(held_now, held.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_identical_orders_make_one_order_and_identical_answers() {
    let app = std::sync::Arc::new(TestApp::new());
    app.with_gig().await;
    let hold = app.hold("alice", &["A1", "A2"]).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        let body = json!({ "holdId": hold });
        tasks.push(tokio::spawn(async move {
            loop {
                let response = order(&app, "alice", "same-key", &body).await;
                if response.status != StatusCode::CONFLICT {
                    return response;
                }
                assert_eq!(response.json["type"], "/problems/idempotency-in-progress");
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut bodies = HashSet::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        bodies.insert(response.bytes);
    }
    assert_eq!(bodies.len(), 1, "every answer is the same order, byte for byte");
    assert_eq!(app.seat_statuses().await, ["SOLD", "SOLD", "AVAILABLE", "AVAILABLE"]);
}

// ---- cancel order -------------------------------------------------------------

/// Alice's order of `seat`, bought under key `k-<seat>`; returns its id.
async fn bought(app: &TestApp, seat: &str) -> String {
    let hold = app.hold("alice", &[seat]).await;
    let created = order(app, "alice", &format!("k-{seat}"), &json!({ "holdId": hold })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json["orderId"].as_str().unwrap().to_owned()
}

async fn cancel(app: &TestApp, who: (&str, &str), key: Option<&str>, order_id: &str) -> crate::support::TestResponse {
    let mut call = app
        .call(Method::POST, &format!("/orders/{order_id}/cancel"))
        .by(who.0, who.1);
    if let Some(key) = key {
        call = call.header("idempotency-key", key);
    }
    call.send().await
}

#[tokio::test]
async fn cancelling_answers_200_with_the_cancelled_order_and_its_seats_sell_again() {
    let app = TestApp::new();
    app.with_gig().await;
    let order_id = bought(&app, "A1").await;
    app.clock.advance(Duration::from_secs(60));
    let cancelled = cancel(&app, ("acme", "alice"), Some("c1"), &order_id).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "CANCELLED");
    assert_eq!(cancelled.json["cancelledAt"], "2027-01-15T08:01:00.000Z");
    assert_eq!(cancelled.json["orderId"], order_id.as_str());
    let read = app
        .call(Method::GET, &format!("/orders/{order_id}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(read.json, cancelled.json);
    assert_eq!(app.seat_statuses().await[0], "AVAILABLE");
    let again = app.hold("bob", &["A1"]).await;
    let resold = order(&app, "bob", "bobs", &json!({ "holdId": again })).await;
    assert_eq!(resold.status, StatusCode::CREATED, "{}", resold.text);
    assert_ne!(resold.json["orderId"], order_id.as_str());
}

#[tokio::test]
async fn a_cancel_is_idempotent_by_key_and_by_state_and_refused_after_the_start() {
    let app = TestApp::new();
    app.with_gig().await;
    let order_id = bought(&app, "A1").await;
    let first = cancel(&app, ("acme", "alice"), Some("c1"), &order_id).await;
    let replay = cancel(&app, ("acme", "alice"), Some("c1"), &order_id).await;
    assert_eq!(replay.bytes, first.bytes, "byte for byte");
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let by_state = app
        .call(Method::POST, &format!("/orders/{order_id}/cancel"))
        .organizer()
        .header("idempotency-key", "refund")
        .send()
        .await;
    let by_state_body = by_state.text.clone();
    assert_eq!(
        (by_state.status, by_state.header("idempotent-replayed")),
        (StatusCode::OK, None)
    );
    assert_eq!(
        by_state.json["cancelledAt"], first.json["cancelledAt"],
        "{by_state_body}"
    );

    let other = bought(&app, "A2").await;
    cancel(&app, ("acme", "alice"), None, &other)
        .await
        .assert_problem(400, "idempotency-key-missing");
    cancel(&app, ("acme", "alice"), Some("c1"), &other)
        .await
        .assert_problem(422, "idempotency-key-reused");
    cancel(&app, ("acme", "alice"), Some("c9"), "not-an-order")
        .await
        .assert_problem(404, "order-not-found");
    cancel(&app, ("acme", "bob"), Some("c9"), &other)
        .await
        .assert_problem(404, "order-not-found");
    // The gig starts 2027-06-01T19:30Z.
    app.clock.advance(Duration::from_secs(140 * 86_400));
    cancel(&app, ("acme", "alice"), Some("late"), &other)
        .await
        .assert_problem(409, "order-not-cancellable");
    assert_eq!(app.seat_statuses().await[1], "SOLD");
}
