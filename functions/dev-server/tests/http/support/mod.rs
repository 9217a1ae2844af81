//! In-process harness: the dev server's full router, over a fresh in-memory
//! backend with a manual clock ([`TestApp::new`]) or over the real backends
//! ([`TestApp::aws`]), driven through `tower::ServiceExt::oneshot`. Each
//! test builds its own app, so tests never share state.

pub mod process;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use composition::{Config, Defaults};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use http_interface::ServiceName;
use http_interface::identity::AuthMode;
use serde_json::{Value, json};
use system_runtime::SequentialIds;
use test_doubles::ManualClock;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub ports: application::ports::Ports,
    pub clock: ManualClock,
    pub seat_locks: Arc<memory_backend::MemorySeatLocks>,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_auth(AuthMode::Dev)
    }

    pub fn with_auth(auth: AuthMode) -> Self {
        let clock = test_doubles::clock::manual_clock();
        let (ports, handles) =
            memory_backend::memory_ports_with_handles(Arc::new(clock.clone()), Arc::new(SequentialIds::default()));
        // The dev server's defaults (default settings, 500 ms readiness), with `auth`.
        let mut config = Config::from_lookup(Defaults::DEV_SERVER, |_| None).expect("the defaults are valid");
        config.auth = auth;
        Self {
            router: composition::app_with_ports(
                ServiceName("dev-server"),
                functions::all_routes(),
                ports.clone(),
                &config,
            ),
            ports,
            clock,
            seat_locks: handles.seat_locks,
        }
    }

    /// The dev server's router over the real backends `env` names (see
    /// [`aws_env`]); `adjust` may replace ports first (another instance's
    /// clock, a store that dies mid-commit). `ports` are the ones built,
    /// before `adjust`; `clock` and `seat_locks` are then placeholders
    /// nobody else reads.
    pub async fn aws(env: &HashMap<&'static str, String>, adjust: impl FnOnce(&mut application::ports::Ports)) -> Self {
        // WARN and ERROR lines (a 503's cause) show with a failing test's output.
        composition::telemetry::init_logs(ServiceName("dev-server"), "warn");
        let config = Config::from_lookup(Defaults::DEV_SERVER, |name| env.get(name).cloned()).unwrap();
        let built = composition::build_ports(&config).await.unwrap();
        let mut ports = built.clone();
        adjust(&mut ports);
        let mut app = Self::new();
        app.router = composition::app_with_ports(ServiceName("dev-server"), functions::all_routes(), ports, &config);
        app.ports = built;
        app
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    /// `PUT /events/gig` with seats A1..A4 priced 1000..2500 EUR, as tenant acme.
    pub async fn with_gig(&self) {
        let response = self
            .call(Method::PUT, "/events/gig")
            .organizer()
            .json(&gig_body())
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }

    /// Places a hold for `customer` (tenant acme) and returns its id.
    pub async fn hold(&self, customer: &str, seats: &[&str]) -> String {
        let response = self
            .call(Method::POST, "/events/gig/holds")
            .by("acme", customer)
            .json(&json!({ "seats": seats }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.json["holdId"].as_str().unwrap().to_owned()
    }

    pub async fn seat_statuses(&self) -> Vec<String> {
        let response = self
            .call(Method::GET, "/events/gig/seats")
            .by("acme", "reader")
            .send()
            .await;
        response.json["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// `BACKEND=aws` on these backends and table, with the emulators' DynamoDB
/// timeout; a test adds or replaces variables before [`TestApp::aws`].
pub fn aws_env(redis_url: &str, endpoint: &str, table: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url.to_owned()),
        ("TABLE_NAME", table.to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        (
            "DYNAMODB_TIMEOUT_MS",
            test_backends::EMULATOR_DYNAMODB_TIMEOUT_MS.to_owned(),
        ),
    ])
}

pub fn gig_body() -> Value {
    json!({
        "name": "The Gig",
        "startsAt": "2027-06-01T19:30:00Z",
        "currency": "EUR",
        "seats": [
            { "id": "A1", "priceCents": 1000 },
            { "id": "A2", "priceCents": 1500 },
            { "id": "A3", "priceCents": 2000 },
            { "id": "A4", "priceCents": 2500 }
        ]
    })
}

pub struct Call<'a> {
    app: &'a TestApp,
    request: http::request::Builder,
    body: Body,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn by(self, tenant: &str, customer: &str) -> Self {
        self.header("x-tenant-id", tenant).header("x-customer-id", customer)
    }

    pub fn organizer(self) -> Self {
        self.by("acme", "boss").header("x-roles", "organizer")
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self.request.header("content-type", "application/json");
        self.body = Body::from(serde_json::to_vec(body).unwrap());
        self
    }

    pub fn raw(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.request.body(self.body).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        TestResponse::read(response).await
    }
}

#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub text: String,
    pub json: Value,
}

impl TestResponse {
    pub async fn read(response: http::Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Self {
            status: parts.status,
            headers: parts.headers,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            bytes,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem answer: status, slug, content type, correlation id in body and header.
    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.json["type"], format!("/problems/{slug}"), "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        assert_eq!(self.json["status"], status);
        let correlation = self.header("x-correlation-id").expect("correlation header");
        assert_eq!(self.json["correlationId"], correlation);
    }
}
