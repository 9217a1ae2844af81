//! CloudWatch Embedded Metric Format: a function invoked with API Gateway v2
//! events writes exactly one valid EMF document per invocation, as in Lambda
//! (`composition::run_lambda` wires the same recorder and flush layer), and
//! its log lines are what Lambda's JSON log controls read.
//!
//! The EMF recorder is process-wide, so this test needs a process of its
//! own: nextest gives every test one (`scripts/test`); under plain `cargo
//! test`, run it alone (`cargo test -p dev-server --test http emf_metrics`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use composition::telemetry::{self, EmfSink};
use composition::{Config, Defaults};
use domain::time::Timestamp;
use http_interface::ServiceName;
use lambda_http::RequestExt;
use serde_json::Value;
use system_runtime::{ManualClock, SequentialIds};
use tower::ServiceExt;

const NAMESPACE: &str = "SeatHoldsTest";
const PUT_EVENT_ORGANIZER: &str = include_str!("fixtures/apigw_v2_put_event_organizer.json");
const PLACE_HOLD_BUYER: &str = include_str!("fixtures/apigw_v2_place_hold_buyer.json");

/// The EMF rules CloudWatch applies before it extracts metrics from a log line.
fn assert_valid_emf(document: &Value) {
    let aws = &document["_aws"];
    assert!(
        aws["Timestamp"].is_u64(),
        "_aws.Timestamp must be epoch milliseconds: {document}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("_aws.CloudWatchMetrics is an array");
    assert!(!directives.is_empty());
    for directive in directives {
        let namespace = directive["Namespace"].as_str().expect("Namespace is a string");
        assert!(!namespace.is_empty() && namespace.len() <= 1024);
        for set in directive["Dimensions"].as_array().expect("Dimensions is an array") {
            let set = set.as_array().expect("each dimension set is an array");
            assert!(set.len() <= 30, "at most 30 dimensions");
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    document[name].is_string(),
                    "dimension {name} needs a string value: {document}"
                );
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics is an array");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        for metric in metrics {
            let name = metric["Name"].as_str().expect("metric Name is a string");
            let value = &document[name];
            let numeric = value.is_number() || value.as_array().is_some_and(|v| v.iter().all(Value::is_number));
            assert!(
                numeric,
                "metric {name} needs a number or an array of numbers: {document}"
            );
            if let Some(unit) = metric.get("Unit") {
                assert!(["Count", "Milliseconds", "Seconds", "Bytes", "None"].contains(&unit.as_str().unwrap()));
            }
        }
    }
}

fn documents(buffer: &Mutex<Vec<u8>>) -> Vec<Value> {
    let bytes = std::mem::take(&mut *buffer.lock().unwrap());
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Log lines written through [`telemetry::subscriber`], kept for the test.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lambda_request(fixture: &str, request_id: &str, trace_id: Option<&str>) -> lambda_http::Request {
    let mut context = lambda_http::Context::default();
    request_id.clone_into(&mut context.request_id);
    context.xray_trace_id = trace_id.map(str::to_owned);
    context.deadline = u64::try_from(
        (SystemTime::now() + Duration::from_secs(30))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    lambda_http::request::from_str(fixture)
        .unwrap()
        .with_lambda_context(context)
}

#[tokio::test]
async fn each_invocation_writes_exactly_one_valid_emf_document_with_low_cardinality_dimensions() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    // The test runtime has one thread: the default subscriber covers every task.
    let _logging =
        tracing::subscriber::set_default(telemetry::subscriber(ServiceName("place-hold"), "info", move || {
            writer.clone()
        }));
    let env: HashMap<&str, &str> = HashMap::from([("BACKEND", "memory")]);
    let config = Config::from_lookup(Defaults::LAMBDA, |name| env.get(name).map(|v| (*v).to_owned())).unwrap();
    let clock = ManualClock::starting_at(Timestamp::from_millis(1_795_756_260_000));
    let ports = memory_backend::memory_ports(Arc::new(clock), Arc::new(SequentialIds::default()));
    let collector = telemetry::init_emf(NAMESPACE, ServiceName("place-hold")).expect("the only recorder");
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let routes = functions::manage_event::LAMBDA
        .router()
        .merge(functions::place_hold::LAMBDA.router());
    let lambda = telemetry::flush_metrics_after_each(
        composition::app_with_ports(ServiceName("place-hold"), routes, ports, &config),
        collector,
        EmfSink::Buffer(buffer.clone()),
    );

    // Invocation 1 (cold): the organizer creates the event.
    let response = lambda
        .clone()
        .oneshot(lambda_request(PUT_EVENT_ORGANIZER, "req-1", None))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let first = documents(&buffer);
    assert_eq!(first.len(), 1, "one EMF document per invocation: {first:?}");
    assert_valid_emf(&first[0]);
    assert_eq!(first[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
    assert_eq!(
        first[0]["cold_starts"], 1,
        "the first invocation counts the cold start: {}",
        first[0]
    );

    // Invocations 2 and 3: a hold placed, then the same seats rejected.
    for (request_id, trace_header, trace_id, expected_status, business_metric) in [
        ("req-2", Some(TRACE_HEADER), Some(TRACE_ID), 201, "holds_placed"),
        ("req-3", None, None, 409, "holds_rejected"),
    ] {
        let response = lambda
            .clone()
            .oneshot(lambda_request(PLACE_HOLD_BUYER, request_id, trace_header))
            .await
            .unwrap();
        assert_eq!(response.status(), expected_status);
        let written = documents(&buffer);
        assert_eq!(written.len(), 1, "one EMF document per invocation: {written:?}");
        let document = &written[0];
        assert_valid_emf(document);
        assert!(
            document.get("cold_starts").is_none(),
            "only the first invocation is cold"
        );
        assert_eq!(document["function"], "place-hold");
        assert_eq!(document["requestId"], request_id, "the invocation's id, as a property");
        assert_eq!(
            document.get("traceId").and_then(Value::as_str),
            trace_id,
            "the invocation's own trace id, never the previous one's"
        );
        assert_eq!(document["route"], "POST /events/{eventId}/holds");
        assert_eq!(document["requests"], 1);
        assert_eq!(document[business_metric], 1);
        let latency = document["latency_ms"]
            .as_array()
            .expect("latency values for percentiles");
        assert_eq!(latency.len(), 1);
        let dimensions: Vec<&str> = document["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(
            dimensions,
            ["function", "route", "outcome"],
            "never tenant or ids as dimensions"
        );
    }

    assert_each_invocation_logged_its_ids(&logs);
}

/// The log lines: Lambda's `level` on each, and each invocation's lines
/// carry its own request id and, when traced, its trace id.
fn assert_each_invocation_logged_its_ids(logs: &CapturedLogs) {
    let lines: Vec<Value> = String::from_utf8(std::mem::take(&mut *logs.0.lock().unwrap()))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    for (request_id, trace_id, event) in [
        ("req-1", None, "event.saved"),
        ("req-2", Some(TRACE_ID), "hold.placed"),
        ("req-3", None, "hold.rejected"),
    ] {
        let line = lines
            .iter()
            .find(|line| line["event"] == event)
            .unwrap_or_else(|| panic!("a {event} line: {lines:?}"));
        assert_eq!(line["requestId"], request_id, "{line}");
        assert_eq!(line.get("traceId").and_then(Value::as_str), trace_id, "{line}");
    }
    for line in &lines {
        let level = line["level"].as_str().unwrap_or_else(|| panic!("no level: {line}"));
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "a level Lambda's ApplicationLogLevel understands: {line}"
        );
        assert_eq!(line["severity"], level, "{line}");
    }
}

/// The X-Ray trace header, as Lambda passes it in the invocation's context.
const TRACE_HEADER: &str = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1";
/// Its trace id: what lines and documents carry.
const TRACE_ID: &str = "1-67891233-abcdef012345678912345678";
