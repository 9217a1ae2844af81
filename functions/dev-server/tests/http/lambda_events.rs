//! Lambda entry: real API Gateway HTTP API (payload v2) events, decoded by
//! `lambda_http` exactly as in AWS, through each function's own router with
//! the Lambda's default `AUTH_MODE=jwt`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::support::TestResponse;
use axum::Router;
use composition::{Config, Defaults};
use domain::time::Timestamp;
use http::StatusCode;
use http_interface::{AppState, ServiceName, service_router};
use system_runtime::{ManualClock, SequentialIds};
use tower::ServiceExt;

/// One backend shared by every function, as DynamoDB and Redis are in AWS.
struct Functions {
    state: AppState,
}

impl Functions {
    fn new(env: &[(&str, &str)]) -> Self {
        let mut env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        // The Lambda defaults, on the in-memory backend this harness fills.
        env.insert("BACKEND".to_owned(), "memory".to_owned());
        let config = Config::from_lookup(Defaults::LAMBDA, |name| env.get(name).cloned()).unwrap();
        let clock = ManualClock::starting_at(Timestamp::from_millis(1_795_756_260_000));
        let ports = memory_backend::memory_ports(Arc::new(clock), Arc::new(SequentialIds::default()));
        Self {
            state: composition::app_state(ServiceName("lambda-under-test"), ports, &config),
        }
    }

    fn lambda(&self, routes: Router<AppState>) -> Router {
        service_router(routes, self.state.clone())
    }
}

async fn invoke(lambda: &Router, fixture: &str) -> TestResponse {
    let request = lambda_http::request::from_str(fixture).unwrap();
    let response = lambda.clone().oneshot(request).await.unwrap();
    TestResponse::read(response).await
}

const PUT_EVENT_ORGANIZER: &str = include_str!("fixtures/apigw_v2_put_event_organizer.json");
const PUT_EVENT_FORGED_ROLE: &str = include_str!("fixtures/apigw_v2_put_event_buyer_with_forged_role_header.json");
const PLACE_HOLD_BUYER: &str = include_str!("fixtures/apigw_v2_place_hold_buyer.json");
const PLACE_HOLD_NO_AUTHORIZER: &str = include_str!("fixtures/apigw_v2_place_hold_no_authorizer_with_dev_headers.json");
const HEALTH: &str = include_str!("fixtures/apigw_v2_health.json");

#[tokio::test]
async fn jwt_claims_identify_the_tenant_customer_and_roles() {
    let harness = Functions::new(&[]);
    let manage_event = harness.lambda(functions::manage_event::LAMBDA.router());
    let place_hold = harness.lambda(functions::place_hold::LAMBDA.router());
    assert_eq!(
        invoke(&manage_event, PUT_EVENT_ORGANIZER).await.status,
        StatusCode::CREATED
    );
    let hold = invoke(&place_hold, PLACE_HOLD_BUYER).await;
    assert_eq!(hold.status, StatusCode::CREATED, "{}", hold.text);
    assert_eq!(hold.json["customerId"], "alice");
    // Without a caller-supplied id, API Gateway's request id correlates.
    assert_eq!(hold.header("x-correlation-id"), Some("Hold1RequestId="));
}

#[tokio::test]
async fn without_jwt_claims_dev_headers_are_ignored_and_the_call_is_unauthorized() {
    let harness = Functions::new(&[]);
    let place_hold = harness.lambda(functions::place_hold::LAMBDA.router());
    invoke(&place_hold, PLACE_HOLD_NO_AUTHORIZER)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_role_header_cannot_grant_what_the_jwt_does_not() {
    let harness = Functions::new(&[]);
    let manage_event = harness.lambda(functions::manage_event::LAMBDA.router());
    invoke(&manage_event, PUT_EVENT_FORGED_ROLE)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn health_needs_no_authorizer() {
    let harness = Functions::new(&[]);
    let response = invoke(&harness.lambda(functions::verify_hold::LAMBDA.router()), HEALTH).await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn the_tenant_claim_name_comes_from_configuration() {
    let harness = Functions::new(&[("TENANT_CLAIM", "custom:org")]);
    let manage_event = harness.lambda(functions::manage_event::LAMBDA.router());
    // The fixture carries `tenant_id`, not `custom:org`: no tenant, no identity.
    invoke(&manage_event, PUT_EVENT_ORGANIZER)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_function_answers_only_its_own_routes() {
    let harness = Functions::new(&[]);
    let get_order = harness.lambda(functions::get_order::LAMBDA.router());
    invoke(&get_order, PLACE_HOLD_BUYER)
        .await
        .assert_problem(404, "not-found");
}

/// The ids the `events/` files carry; the test, like a reader, swaps in the
/// ones the API hands out.
const EVENTS_HOLD_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
const EVENTS_ORDER_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8058";

/// `events/` (for `sam local invoke -e` and `cargo lambda invoke
/// --data-file`) holds real API Gateway v2 payloads with dev identity
/// headers: in order, they walk the whole flow on `AUTH_MODE=dev`.
#[tokio::test]
async fn the_events_folder_walks_the_whole_flow_with_dev_identity() {
    let harness = Functions::new(&[("AUTH_MODE", "dev")]);
    let api = harness.lambda(functions::all_routes());
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut hold_id = String::new();
    let mut order_id = String::new();
    let steps = [
        ("health", StatusCode::OK),
        ("ready", StatusCode::OK),
        ("put-event", StatusCode::CREATED),
        ("get-seats", StatusCode::OK),
        ("place-hold", StatusCode::CREATED),
        ("verify-hold", StatusCode::OK),
        ("extend-hold", StatusCode::OK),
        ("create-order", StatusCode::CREATED),
        ("get-order", StatusCode::OK),
        ("cancel-order", StatusCode::OK),
        // The hold was sold: releasing it is refused, by name.
        ("release-hold", StatusCode::CONFLICT),
    ];
    for (name, expected) in steps {
        let text = std::fs::read_to_string(folder.join(format!("{name}.json")))
            .unwrap_or_else(|error| panic!("events/{name}.json: {error}"))
            .replace(EVENTS_HOLD_ID, &hold_id)
            .replace(EVENTS_ORDER_ID, &order_id);
        let response = invoke(&api, &text).await;
        assert_eq!(response.status, expected, "events/{name}.json: {}", response.text);
        if name == "place-hold" {
            response.json["holdId"].as_str().unwrap().clone_into(&mut hold_id);
        }
        if name == "create-order" {
            response.json["orderId"].as_str().unwrap().clone_into(&mut order_id);
        }
    }
    let files = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(files, steps.len(), "every file in events/ is walked");
}
