//! What an attacker can send, route by route: someone else's resources,
//! hostile bodies and hostile ids. Every answer is a documented 4xx
//! problem+json (never a 5xx, never a panic) and nothing changes.
//! (Lambda-mode identity: lambda_events.rs; secrets in logs: observability.rs.)

use crate::support::TestApp;
use http::Method;
use serde_json::json;

/// acme/alice owns a hold and an order on acme's event `gig`; returns (hold, order path).
async fn alices_things(app: &TestApp) -> (String, String, String) {
    app.with_gig().await;
    let ordered = app.hold("alice", &["A1"]).await;
    let order = app
        .call(Method::POST, "/orders")
        .by("acme", "alice")
        .header("idempotency-key", "k1")
        .json(&json!({ "holdId": ordered }))
        .send()
        .await;
    assert_eq!(order.status, 201, "{}", order.text);
    let held = app.hold("alice", &["A2"]).await;
    (held, ordered, order.header("location").unwrap().to_owned())
}

#[tokio::test]
async fn every_resource_route_answers_404_to_another_tenant_and_to_another_customer() {
    let app = TestApp::new();
    let (held, ordered, order_path) = alices_things(&app).await;
    let statuses_before = app.seat_statuses().await;

    let intruders = [("evil", "alice"), ("evil", "mallory"), ("acme", "bob")];
    for (tenant, customer) in intruders {
        let other_tenant = tenant != "acme";
        let mut attempts = vec![
            (Method::GET, format!("/holds/{held}"), None),
            (Method::DELETE, format!("/holds/{held}"), None),
            (
                Method::POST,
                format!("/holds/{held}/extend"),
                Some(json!({ "ttlSeconds": 1800 })),
            ),
            (Method::GET, order_path.clone(), None),
            (Method::POST, "/orders".to_owned(), Some(json!({ "holdId": held }))),
            (Method::POST, "/orders".to_owned(), Some(json!({ "holdId": ordered }))),
        ];
        if other_tenant {
            // Events are shared by the customers of one tenant, invisible to any other.
            attempts.push((Method::GET, "/events/gig/seats".to_owned(), None));
            // An organizer may cancel any order of their own tenant only.
            attempts.push((Method::POST, format!("{order_path}/cancel"), None));
            attempts.push((
                Method::POST,
                "/events/gig/holds".to_owned(),
                Some(json!({ "seats": ["A3"] })),
            ));
        }
        for (attempt, (method, path, body)) in attempts.into_iter().enumerate() {
            let mut call = app
                .call(method.clone(), &path)
                .by(tenant, customer)
                .header("x-roles", "organizer")
                .header("idempotency-key", &format!("intruder-{attempt}"));
            if let Some(body) = &body {
                call = call.json(body);
            }
            let response = call.send().await;
            assert_eq!(
                response.status, 404,
                "I4 tenant isolation: {tenant}/{customer} {method} {path} must be 404, got {}",
                response.text
            );
            assert_eq!(response.header("content-type"), Some("application/problem+json"));
            assert!(
                !response.text.contains("alice") && !response.text.contains(&held),
                "a 404 must not leak the resource: {}",
                response.text
            );
        }
    }
    let bob_cancels = app
        .call(Method::POST, &format!("{order_path}/cancel"))
        .by("acme", "bob")
        .header("idempotency-key", "bobs-cancel")
        .send()
        .await;
    assert_eq!(bob_cancels.status, 404, "another customer: {}", bob_cancels.text);
    assert_eq!(app.seat_statuses().await, statuses_before, "intruders changed nothing");
    let verify = app
        .call(Method::GET, &format!("/holds/{held}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(verify.json["valid"], true, "alice's hold is untouched");
}

#[tokio::test]
async fn hostile_bodies_get_a_4xx_problem_on_every_route_that_reads_one() {
    let app = TestApp::new();
    let (held, _, _) = alices_things(&app).await;
    let statuses_before = app.seat_statuses().await;
    let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not UTF-8", vec![0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        ("deeply nested arrays", nested.into_bytes()),
        ("deeply nested objects", deep_object.into_bytes()),
        (
            "wrong types",
            br#"{"seats": 7, "holdId": [], "name": {}, "currency": 1, "ttlSeconds": "x"}"#.to_vec(),
        ),
        ("a bare string", br#""hello""#.to_vec()),
        ("null", b"null".to_vec()),
        ("trailing garbage", br#"{"seats":["A3"]} {"#.to_vec()),
        (
            "over 4 MiB",
            format!(r#"{{"pad":"{}"}}"#, "x".repeat(4 * 1024 * 1024 + 16)).into_bytes(),
        ),
    ];
    let routes = [
        (Method::PUT, "/events/gig".to_owned()),
        (Method::POST, "/events/gig/holds".to_owned()),
        (Method::POST, "/orders".to_owned()),
        (Method::POST, format!("/holds/{held}/extend")),
    ];
    for (what, body) in &bodies {
        for (method, path) in &routes {
            let response = app
                .call(method.clone(), path)
                .organizer()
                .header("content-type", "application/json")
                .header("idempotency-key", &format!("hostile-{}", what.replace(' ', "-")))
                .raw(body.clone())
                .send()
                .await;
            let status = response.status.as_u16();
            assert!(
                [400, 413, 422].contains(&status),
                "{what} to {method} {path}: expected 400/413/422, got {status} {}",
                response.text.chars().take(300).collect::<String>()
            );
            assert_eq!(
                response.header("content-type"),
                Some("application/problem+json"),
                "{what}"
            );
            assert!(response.json["correlationId"].is_string(), "{what}: a problem body");
        }
    }
    assert_eq!(
        app.seat_statuses().await,
        statuses_before,
        "no hostile body changed anything"
    );
    let verify = app
        .call(Method::GET, &format!("/holds/{held}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(verify.json["valid"], true);
}

#[tokio::test]
async fn ids_outside_the_alphabet_are_refused_before_they_reach_a_key() {
    let app = TestApp::new();
    app.with_gig().await;
    let statuses_before = app.seat_statuses().await;
    // Path traversal, the single-table key delimiter, Redis hash-tag braces, wildcards, control bytes.
    let hostile_ids = [
        "..%2F..%2Forders",
        "gig%23SOLD%23A1",
        "%7Bgig%7D",
        "gig%7D%3AA1",
        "g*",
        "gig%00",
        "%2e%2e",
        "T%23acme%23EVENT%23gig",
        &"x".repeat(300),
    ];
    for id in hostile_ids {
        for (method, path) in [
            (Method::GET, format!("/events/{id}/seats")),
            (Method::POST, format!("/events/{id}/holds")),
            (Method::GET, format!("/holds/{id}")),
            (Method::DELETE, format!("/holds/{id}")),
            (Method::GET, format!("/orders/{id}")),
        ] {
            let response = app
                .call(method.clone(), &path)
                .by("acme", "alice")
                .json(&json!({ "seats": ["A1"] }))
                .send()
                .await;
            assert_eq!(response.status, 404, "{method} {path}: {}", response.text);
            assert_eq!(response.header("content-type"), Some("application/problem+json"));
        }
        let put = app
            .call(Method::PUT, &format!("/events/{id}"))
            .organizer()
            .json(
                &json!({"name": "X", "startsAt": "2030-01-01T00:00:00Z", "currency": "EUR",
                "seats": [{"id": "A1", "priceCents": 1}]}),
            )
            .send()
            .await;
        assert!(
            [404, 422].contains(&put.status.as_u16()),
            "PUT /events/{id}: {}",
            put.text
        );
    }
    for seat in ["A#1", "{A1}", "A1:SOLD", "../A1", "A 1", "A1\u{0}"] {
        let hold = app
            .call(Method::POST, "/events/gig/holds")
            .by("acme", "alice")
            .json(&json!({ "seats": [seat] }))
            .send()
            .await;
        hold.assert_problem(422, "validation-failed");
        let put = app
            .call(Method::PUT, "/events/other")
            .organizer()
            .json(
                &json!({"name": "X", "startsAt": "2030-01-01T00:00:00Z", "currency": "EUR",
                "seats": [{"id": seat, "priceCents": 1}]}),
            )
            .send()
            .await;
        put.assert_problem(422, "validation-failed");
    }
    for (tenant, customer) in [
        ("acme#EVENT", "alice"),
        ("{acme}", "alice"),
        ("acme", "a:b"),
        ("acme", "../x"),
    ] {
        let response = app
            .call(Method::GET, "/events/gig/seats")
            .by(tenant, customer)
            .send()
            .await;
        assert_eq!(response.status, 401, "identity {tenant}/{customer}: {}", response.text);
    }
    assert_eq!(
        app.seat_statuses().await,
        statuses_before,
        "no hostile id changed anything"
    );
}
