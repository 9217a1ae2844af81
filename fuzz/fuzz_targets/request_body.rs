//! Arbitrary bytes as the body of every route that reads one, through the
//! real routers on the in-memory backend. Whatever arrives, the answer is a
//! success or a 4xx problem+json: never a 5xx, never a panic.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use domain::time::Timestamp;
use http::{Method, Request};
use composition::{Config, Defaults};
use http_interface::ServiceName;
use libfuzzer_sys::fuzz_target;
use system_runtime::{ManualClock, SequentialIds};
use tower::ServiceExt;

struct World {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let clock = ManualClock::starting_at(Timestamp::from_millis(1_800_000_000_000));
        let ports = memory_backend::memory_ports(Arc::new(clock), Arc::new(SequentialIds::default()));
        // The dev server's defaults: header identity, default settings.
        let mut config = Config::from_lookup(Defaults::DEV_SERVER, |_| None).unwrap();
        config.readiness_timeout = Duration::from_millis(100);
        let routes = functions::all_routes();
        let world = World {
            runtime: tokio::runtime::Builder::new_current_thread().build().unwrap(),
            router: composition::app_with_ports(ServiceName("fuzz"), routes, ports, &config),
        };
        // An event to hold seats on, so bodies reach the deeper rules too.
        let event = br#"{"name":"Gig","startsAt":"2030-01-01T20:00:00Z","currency":"EUR","seats":[{"id":"A1","priceCents":100},{"id":"A2","priceCents":100}]}"#;
        let status = world.runtime.block_on(send(&world.router, Method::PUT, "/events/gig", event));
        assert_eq!(status.0, 201);
        world
    })
}

async fn send(router: &Router, method: Method, path: &str, body: &[u8]) -> (u16, Option<String>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("x-tenant-id", "fuzz")
        .header("x-customer-id", "buyer")
        .header("x-roles", "organizer")
        .header("idempotency-key", "fuzz-key")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status().as_u16();
    let _ = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
    (status, content_type)
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    // The first byte picks the route; the rest is the body.
    let (route, body) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    let (method, path) = match route % 4 {
        0 => (Method::PUT, "/events/fuzzed"),
        1 => (Method::POST, "/events/gig/holds"),
        2 => (Method::POST, "/orders"),
        _ => (Method::POST, "/holds/01890a5d-ac96-774b-bcce-b302099a8057/extend"),
    };
    let (status, content_type) = world.runtime.block_on(send(&world.router, method.clone(), path, body));
    assert!(status < 500, "{method} {path} answered {status}");
    if status >= 400 {
        assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{method} {path} {status}");
    }
});
