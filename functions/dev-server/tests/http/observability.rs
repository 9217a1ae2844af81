//! What an operator sees: the dev server's JSON log lines, `/metrics` and
//! `/dashboard`, from the real binary.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::process::DevServer;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// The log lines so far, each parsed; waits until `ready` holds for them.
fn logs_when(server: &DevServer, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let parsed: Vec<Value> = server
            .log_lines()
            .iter()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        if ready(&parsed) || started.elapsed() > Duration::from_secs(10) {
            return parsed;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn info_server(env: &[(&str, String)]) -> DevServer {
    let mut env = env.to_vec();
    env.push(("LOG_LEVEL", "info".to_owned()));
    DevServer::start(&env)
}

const EMAIL: &str = "alice.secret@example.com";
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";

struct Sent {
    correlation_id: String,
    status: StatusCode,
    body: Value,
}

async fn send(server: &DevServer, method: reqwest::Method, path: &str, who: &str, body: Option<Value>) -> Sent {
    send_with_key(server, method, path, who, body, "checkout-1").await
}

/// [`send`] with `key` as the Idempotency-Key of an order or cancel.
async fn send_with_key(
    server: &DevServer,
    method: reqwest::Method,
    path: &str,
    who: &str,
    body: Option<Value>,
    key: &str,
) -> Sent {
    let mut request = Client::new()
        .request(method, format!("{}{path}", server.base_url))
        .header("X-Tenant-Id", "acme")
        .header("X-Customer-Id", who)
        .header("Authorization", format!("Bearer {TOKEN}"));
    if who == "boss" {
        request = request.header("X-Roles", "organizer");
    }
    if path == "/orders" || path.ends_with("/cancel") {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let correlation_id = response.headers()["x-correlation-id"].to_str().unwrap().to_owned();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Sent {
        correlation_id,
        status,
        body,
    }
}

async fn sale(server: &DevServer) -> Vec<Sent> {
    use reqwest::Method;
    let event = json!({"name": "Gig", "startsAt": "2027-01-01T20:00:00Z", "currency": "EUR",
        "seats": [{"id": "A1", "priceCents": 1000}, {"id": "A2", "priceCents": 1000}]});
    let mut sent = vec![send(server, Method::PUT, "/events/gig", "boss", Some(event)).await];
    let hold = send(
        server,
        Method::POST,
        "/events/gig/holds",
        "alice",
        Some(json!({"seats": ["A1"]})),
    )
    .await;
    let hold_id = hold.body["holdId"].as_str().unwrap().to_owned();
    sent.push(hold);
    sent.push(
        send(
            server,
            Method::POST,
            "/events/gig/holds",
            "bob",
            Some(json!({"seats": ["A1"]})),
        )
        .await,
    );
    let order = json!({"holdId": hold_id, "buyer": {"email": EMAIL, "name": "Alice"}});
    sent.push(send(server, Method::POST, "/orders", "alice", Some(order.clone())).await);
    sent.push(send(server, Method::POST, "/orders", "alice", Some(order)).await);
    sent
}

/// The server's Prometheus exposition.
async fn metrics_text(server: &DevServer) -> String {
    Client::new()
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn lines_of<'a>(logs: &'a [Value], correlation_id: &str) -> Vec<&'a Value> {
    logs.iter()
        .filter(|line| line["correlationId"] == correlation_id)
        .collect()
}

#[tokio::test]
async fn every_log_line_carries_the_operator_fields_and_the_response_correlation_id() {
    let server = info_server(&[]);
    let sent = sale(&server).await;
    let statuses: Vec<u16> = sent.iter().map(|s| s.status.as_u16()).collect();
    assert_eq!(statuses, [201, 201, 409, 201, 201]);

    let expected_events = [
        "event.saved",
        "hold.placed",
        "hold.rejected",
        "order.created",
        "idempotency.replayed",
    ];
    let logs = logs_when(&server, |logs| {
        expected_events
            .iter()
            .all(|event| logs.iter().any(|l| l["event"] == *event))
    });
    assert!(!logs.is_empty());
    for line in &logs {
        for field in [
            "timestamp",
            "level",
            "severity",
            "service",
            "context",
            "correlationId",
            "event",
            "message",
        ] {
            assert!(line.get(field).is_some(), "log line without {field}: {line}");
        }
        assert_eq!(line["service"], "dev-server");
        assert_eq!(
            line["tenantId"], "acme",
            "the tenant is known for every request here: {line}"
        );
    }
    let mut events = Vec::new();
    for request in &sent {
        let lines = lines_of(&logs, &request.correlation_id);
        assert!(
            (1..=3).contains(&lines.len()),
            "1 to 3 lines per request at info, got {}: {lines:?}",
            lines.len()
        );
        events.extend(lines.iter().map(|line| line["event"].as_str().unwrap().to_owned()));
    }
    for expected in expected_events {
        assert_eq!(
            events.iter().filter(|e| *e == expected).count(),
            1,
            "{expected} logged exactly once: {events:?}"
        );
    }
    let contexts: HashMap<&str, &str> = logs
        .iter()
        .map(|l| (l["event"].as_str().unwrap(), l["context"].as_str().unwrap()))
        .collect();
    assert_eq!(contexts["hold.placed"], "inventory");
    assert_eq!(contexts["order.created"], "ordering");

    let raw = server.log_lines().join("\n");
    assert!(!raw.contains(EMAIL), "a buyer e-mail reached the logs");
    assert!(!raw.contains(TOKEN), "a bearer token reached the logs");
    assert!(!raw.contains("c2VjcmV0LXRva2Vu"), "part of a token reached the logs");
}

#[tokio::test]
async fn a_failing_requests_log_line_names_the_cause_its_503_body_hides() {
    let dead = test_backends::free_port();
    let server = info_server(&[
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", format!("redis://127.0.0.1:{dead}")),
        ("TABLE_NAME", "tickets".to_owned()),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{dead}")),
    ]);
    let sent = send(
        &server,
        reqwest::Method::POST,
        "/events/gig/holds",
        "alice",
        Some(json!({"seats": ["A1"]})),
    )
    .await;
    assert_eq!(sent.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = sent.body.to_string();
    assert!(
        !body.to_lowercase().contains("refused") && !body.contains("dispatch"),
        "503 body leaks internals: {body}"
    );

    let logs = logs_when(&server, |logs| !lines_of(logs, &sent.correlation_id).is_empty());
    let lines = lines_of(&logs, &sent.correlation_id);
    let cause_line = lines
        .iter()
        .find(|line| line["event"] == "backend.unavailable")
        .unwrap_or_else(|| panic!("no backend.unavailable line for the 503: {lines:?}"));
    assert_eq!(cause_line["severity"], "ERROR");
    assert_eq!(cause_line["backend"], "dynamodb");
    let cause = cause_line["cause"].as_str().unwrap();
    assert!(
        !cause.is_empty() && cause.len() > 10,
        "the cause is named: {cause_line}"
    );
}

#[tokio::test]
async fn metrics_show_per_route_latency_histograms_and_error_counters_and_the_dashboard_is_served() {
    let server = info_server(&[]);
    sale(&server).await;
    let text = metrics_text(&server).await;
    let has = |needle: &str| text.lines().any(|line| line.starts_with(needle));
    assert!(
        has(r#"latency_ms_bucket{route="POST /events/{eventId}/holds",outcome="ok",le="1"}"#),
        "{text}"
    );
    assert!(
        has(r#"latency_ms_count{route="POST /orders",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"errors{route="POST /events/{eventId}/holds",outcome="seats-unavailable"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"holds_placed{route="POST /events/{eventId}/holds",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"holds_rejected{route="POST /events/{eventId}/holds",outcome="seats-unavailable"} 1"#),
        "{text}"
    );
    assert!(has(r#"orders_created{route="POST /orders",outcome="ok"} 1"#), "{text}");
    assert!(
        has(r#"idempotent_replays{route="POST /orders",outcome="replayed"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("acme") && !text.contains("alice"),
        "tenants or customers as labels: {text}"
    );

    let dashboard = Client::new()
        .get(format!("{}/dashboard", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard.text().await.unwrap().contains("fetch(\"/metrics\""));
}

/// Stdout is a stream of JSON log lines and nothing else, from the first
/// line (the `server.listening` event, which carries the URL and passes
/// the default `LOG_LEVEL=warn` of these tests) to the last.
#[tokio::test]
async fn every_stdout_line_is_json_including_the_listening_notice() {
    for server in [DevServer::start(&[]), info_server(&[])] {
        sale(&server).await;
        Client::new()
            .get(format!("{}/ready", server.base_url))
            .send()
            .await
            .unwrap();
        let lines = server.stdout_lines();
        for line in &lines {
            assert!(
                serde_json::from_str::<Value>(line).is_ok_and(|value| value.is_object()),
                "not a JSON object on stdout: {line:?}"
            );
        }
        let listening: Vec<Value> = lines
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["event"] == "server.listening")
            .collect();
        assert_eq!(listening.len(), 1, "{lines:?}");
        assert_eq!(listening[0]["url"], server.base_url.as_str());
        assert_eq!(listening[0]["level"], "INFO", "{:?}", listening[0]);
    }
}

/// `/metrics` explains itself: every metric it shows has a description
/// (`# HELP name text`), after traffic that records the request, business
/// and readiness metrics.
#[tokio::test]
async fn every_metric_on_the_metrics_page_has_a_description() {
    use reqwest::Method;
    let server = info_server(&[]);
    sale(&server).await;
    let event = json!({"name": "Gig", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR",
        "maxSeatsPerCustomer": 1,
        "seats": [{"id": "B1", "priceCents": 1000}, {"id": "B2", "priceCents": 1000}]});
    send(&server, Method::PUT, "/events/limited", "boss", Some(event)).await;
    send(
        &server,
        Method::POST,
        "/events/limited/holds",
        "carol",
        Some(json!({"seats": ["B1"]})),
    )
    .await;
    send(
        &server,
        Method::POST,
        "/events/limited/holds",
        "carol",
        Some(json!({"seats": ["B2"]})),
    )
    .await;
    Client::new()
        .get(format!("{}/ready", server.base_url))
        .send()
        .await
        .unwrap();
    let text = metrics_text(&server).await;
    let typed: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let described: HashMap<&str, &str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# HELP "))
        .map(|rest| rest.split_once(' ').unwrap_or((rest, "")))
        .collect();
    for name in ["requests", "latency_ms", "errors", "holds_placed", "holds_over_limit"] {
        assert!(typed.contains(&name), "{name} not recorded by the traffic: {text}");
    }
    for name in &typed {
        let help = described.get(name).map_or("", |help| help.trim());
        assert!(!help.is_empty(), "{name} has no description on /metrics: {text}");
    }
}

/// The page as headless Chromium renders it after a few of its refreshes.
/// The v2 life cycle on one server: each route logs its business event
/// once, in its context, and counts it on its own route.
#[tokio::test]
async fn extend_cancel_and_the_seat_limit_log_their_events_and_count_their_metrics() {
    use reqwest::Method;
    let server = info_server(&[]);
    let event = json!({"name": "Gig", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR",
        "maxSeatsPerCustomer": 1,
        "seats": [{"id": "A1", "priceCents": 1000}, {"id": "A2", "priceCents": 1000}]});
    let saved = send(&server, Method::PUT, "/events/gig", "boss", Some(event)).await;
    let held = send(
        &server,
        Method::POST,
        "/events/gig/holds",
        "alice",
        Some(json!({"seats": ["A1"]})),
    )
    .await;
    let hold_id = held.body["holdId"].as_str().unwrap().to_owned();
    let extended = send(
        &server,
        Method::POST,
        &format!("/holds/{hold_id}/extend"),
        "alice",
        Some(json!({"ttlSeconds": 600})),
    )
    .await;
    let over = send(
        &server,
        Method::POST,
        "/events/gig/holds",
        "alice",
        Some(json!({"seats": ["A2"]})),
    )
    .await;
    let order = send(
        &server,
        Method::POST,
        "/orders",
        "alice",
        Some(json!({"holdId": hold_id})),
    )
    .await;
    let order_id = order.body["orderId"].as_str().unwrap().to_owned();
    let cancelled = send(
        &server,
        Method::POST,
        &format!("/orders/{order_id}/cancel"),
        "alice",
        None,
    )
    .await;
    // Another key: answered by state with the cancelled order, but nothing
    // was cancelled, so it is neither logged nor counted as a cancellation.
    let again = send_with_key(
        &server,
        Method::POST,
        &format!("/orders/{order_id}/cancel"),
        "alice",
        None,
        "checkout-2",
    )
    .await;
    let statuses: Vec<u16> = [&saved, &held, &extended, &over, &order, &cancelled, &again]
        .iter()
        .map(|s| s.status.as_u16())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 409, 201, 200, 200], "{:?}", over.body);
    assert_eq!(again.body, cancelled.body);

    let logs = logs_when(&server, |logs| {
        ["hold.extended", "hold.over_limit", "order.cancelled"]
            .iter()
            .all(|event| logs.iter().any(|l| l["event"] == *event))
    });
    for (request, event, context) in [
        (&extended, "hold.extended", "inventory"),
        (&over, "hold.over_limit", "inventory"),
        (&cancelled, "order.cancelled", "ordering"),
    ] {
        let lines = lines_of(&logs, &request.correlation_id);
        let found: Vec<_> = lines.iter().filter(|line| line["event"] == event).collect();
        assert_eq!(found.len(), 1, "{event} logged once for its request: {lines:?}");
        assert_eq!(found[0]["context"], context, "{event}");
    }
    assert!(
        !lines_of(&logs, &again.correlation_id)
            .iter()
            .any(|line| line["event"] == "order.cancelled"),
        "a cancel that cancelled nothing is not logged as one"
    );

    let text = metrics_text(&server).await;
    let has = |needle: &str| text.lines().any(|line| line.starts_with(needle));
    assert!(
        has(r#"holds_extended{route="POST /holds/{holdId}/extend",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"holds_over_limit{route="POST /events/{eventId}/holds",outcome="customer-limit-reached"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"orders_cancelled{route="POST /orders/{orderId}/cancel",outcome="ok"} 1"#),
        "{text}"
    );
}

fn render_in_chromium(url: &str) -> String {
    // Debian's chromium here; GitHub's runners ship google-chrome instead.
    let browser = ["chromium", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("a headless browser: Debian's chromium (scripts/install-tools.sh) or google-chrome");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ])
        .stderr(Stdio::null())
        .output()
        .expect("Debian's chromium is installed (scripts/install-tools.sh)");
    assert!(output.status.success(), "chromium failed on {url}");
    String::from_utf8(output.stdout).unwrap()
}

fn element_text<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id} in {dom}"))
        + id.len()
        + 6;
    &dom[start..start + dom[start..].find('<').unwrap()]
}

fn cell<'a>(dom: &'a str, route: &str, class: &str) -> &'a str {
    let row = dom
        .find(&format!("data-route=\"{route}\""))
        .unwrap_or_else(|| panic!("no row for {route}: {dom}"));
    let start = row + dom[row..].find(&format!("class=\"{class}")).unwrap();
    let start = start + dom[start..].find('>').unwrap() + 1;
    &dom[start..start + dom[start..].find('<').unwrap()]
}

#[tokio::test]
async fn the_dashboard_renders_numbers_in_a_real_browser_and_they_move_after_traffic() {
    let server = info_server(&[]);
    sale(&server).await;
    let url = format!("{}/dashboard", server.base_url);
    let before = render_in_chromium(&url);
    let requests_before: u64 = element_text(&before, "total-requests").parse().unwrap();
    assert_eq!(requests_before, 5, "{before}");
    let route = "POST /events/{eventId}/holds";
    assert_eq!(cell(&before, route, "requests"), "2");
    let p50: f64 = cell(&before, route, "p50").parse().unwrap();
    assert!(p50 > 0.0, "p50 latency is a number: {p50}");
    assert_eq!(cell(&before, route, "error-rate"), "50.0 %");

    // More traffic: the same page shows new numbers.
    for _ in 0..3 {
        send(
            &server,
            reqwest::Method::POST,
            "/events/gig/holds",
            "carol",
            Some(json!({"seats": ["A1"]})),
        )
        .await;
    }
    let after = render_in_chromium(&url);
    let requests_after: u64 = element_text(&after, "total-requests").parse().unwrap();
    assert_eq!(requests_after, 8, "{after}");
    assert_eq!(cell(&after, route, "requests"), "5");
    assert_eq!(cell(&after, route, "error-rate"), "80.0 %");
}
