//! Cold start, first vs warm invocation, and peak memory of each Lambda
//! binary, beside a hello-world `lambda_runtime` binary built with the same
//! profile — measured in one run under a minimal Lambda Runtime API
//! (the 2018-06-01 protocol the real service speaks), served here.
//!
//! For each start: the binary is spawned with the environment Lambda gives
//! it; **init** is the time until it first asks `GET …/invocation/next` (it
//! is ready for its first invocation); then it is handed an API Gateway v2
//! `GET /ready` event (which reaches Redis and DynamoDB, opening the
//! connections a first real request opens) followed by warm ones; **peak
//! RSS** is the kernel's `VmHWM` after them. Redis and DynamoDB sit behind
//! counting proxies, so a connection made during init is seen.
//!
//! `cold-start BIN_DIR [STARTS] [WARM]` where BIN_DIR holds release builds of
//! `hello-lambda` and every function (one per entry of `functions::LAMBDAS`;
//! `scripts/bench` builds them).
//! Uses `REDIS_URL` / `AWS_ENDPOINT_URL` if set, else starts its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring tool: any failure should stop it.
#![allow(clippy::cast_precision_loss)] // Sizes in KiB, far below f64's 2^52 exact range.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use test_backends::DelayProxy;
use tokio::sync::{Mutex, mpsc};

const HELLO: &str = "hello-lambda";

/// Every Lambda function, by binary name: the route table
/// (`functions::LAMBDAS`), so a new function is measured without editing a list.
fn functions() -> Vec<String> {
    functions::LAMBDAS.iter().map(|lambda| lambda.name.to_owned()).collect()
}

const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the Runtime API saw of one process.
struct RuntimeApi {
    events: Mutex<mpsc::UnboundedReceiver<(String, String)>>,
    first_next: std::sync::Mutex<Option<Instant>>,
    handed_out: std::sync::Mutex<HashMap<String, Instant>>,
    answers: mpsc::UnboundedSender<Answer>,
    /// Connections the backends' proxies had accepted when init ended.
    connections_at_first_next: std::sync::Mutex<Option<usize>>,
    proxies: Arc<Proxies>,
}

struct Answer {
    request_id: String,
    handed_out: Instant,
    answered: Instant,
    outcome: Result<u16, String>,
}

struct Proxies {
    redis: DelayProxy,
    dynamodb: DelayProxy,
}

impl Proxies {
    fn connections(&self) -> usize {
        self.redis.connections() + self.dynamodb.connections()
    }
}

async fn next_invocation(State(api): State<Arc<RuntimeApi>>) -> Result<(HeaderMap, String), StatusCode> {
    {
        let mut first = api.first_next.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            *api.connections_at_first_next.lock().unwrap() = Some(api.proxies.connections());
        }
    }
    // No more events: the bench is done with this process and is killing it.
    let (request_id, event) = api.events.lock().await.recv().await.ok_or(StatusCode::GONE)?;
    api.handed_out
        .lock()
        .unwrap()
        .insert(request_id.clone(), Instant::now());
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + INVOCATION_TIMEOUT.as_millis();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", request_id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:bench".parse().unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    Ok((headers, event))
}

fn answer(api: &RuntimeApi, request_id: String, outcome: Result<u16, String>) -> StatusCode {
    let handed_out = api
        .handed_out
        .lock()
        .unwrap()
        .remove(&request_id)
        .unwrap_or_else(Instant::now);
    let _ = api.answers.send(Answer {
        request_id,
        handed_out,
        answered: Instant::now(),
        outcome,
    });
    StatusCode::ACCEPTED
}

async fn invocation_response(
    State(api): State<Arc<RuntimeApi>>,
    UrlPath(request_id): UrlPath<String>,
    body: String,
) -> StatusCode {
    let status = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|response| response["statusCode"].as_u64())
        .and_then(|status| u16::try_from(status).ok())
        .ok_or_else(|| format!("not an API Gateway response: {body}"));
    answer(&api, request_id, status)
}

async fn invocation_error(
    State(api): State<Arc<RuntimeApi>>,
    UrlPath(request_id): UrlPath<String>,
    body: String,
) -> StatusCode {
    answer(&api, request_id, Err(body))
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: String) -> StatusCode {
    answer(&api, "init".to_owned(), Err(format!("init error: {body}")))
}

/// One start of one binary.
struct Start {
    init: Duration,
    first_invocation: Duration,
    warm: Vec<Duration>,
    peak_rss_kib: u64,
    connections_during_init: usize,
}

fn ready_event(request_number: usize) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "GET /ready",
        "rawPath": "/ready",
        "rawQueryString": "",
        "headers": { "accept": "application/json", "host": "bench.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": { "method": "GET", "path": "/ready", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench" },
            "requestId": format!("bench-{request_number}"), "routeKey": "GET /ready", "stage": "$default",
            "time": "27/Nov/2026:05:11:00 +0000", "timeEpoch": 1_795_756_260_000_u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

async fn start_once(
    binary: &Path,
    name: &str,
    backend_env: &[(&str, String)],
    proxies: &Arc<Proxies>,
    warm: usize,
) -> Start {
    let (events, queue) = mpsc::unbounded_channel();
    let (answers, mut answered) = mpsc::unbounded_channel();
    let api = Arc::new(RuntimeApi {
        events: Mutex::new(queue),
        first_next: std::sync::Mutex::new(None),
        handed_out: std::sync::Mutex::new(HashMap::new()),
        answers,
        connections_at_first_next: std::sync::Mutex::new(None),
        proxies: proxies.clone(),
    });
    let routes = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let runtime_api = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move { axum::serve(listener, routes).await });

    let connections_before = proxies.connections();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .envs(backend_env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("{}: {error}", binary.display()));

    let mut latencies = Vec::with_capacity(warm + 1);
    for number in 0..=warm {
        let request_id = format!("{name}-{number}");
        events.send((request_id.clone(), ready_event(number))).unwrap();
        let answer = tokio::time::timeout(INVOCATION_TIMEOUT, answered.recv())
            .await
            .unwrap_or_else(|_| panic!("{name}: no answer to invocation {number} within {INVOCATION_TIMEOUT:?}"))
            .unwrap();
        assert_eq!(answer.request_id, request_id, "{name}: answered another invocation");
        match answer.outcome {
            Ok(status) if status < 500 || name == HELLO => {}
            Ok(status) => panic!("{name}: GET /ready answered {status}; are both backends up?"),
            Err(error) => panic!("{name}: invocation {number} failed: {error}"),
        }
        latencies.push(answer.answered - answer.handed_out);
    }
    let peak_rss_kib = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    let init = api.first_next.lock().unwrap().expect("asked for an invocation") - started;
    let connections_during_init = api.connections_at_first_next.lock().unwrap().unwrap() - connections_before;
    Start {
        init,
        first_invocation: latencies[0],
        warm: latencies[1..].to_vec(),
        peak_rss_kib,
        connections_during_init,
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() - 1) / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

fn size_kib(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len() / 1024
}

fn backend_port(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin_dir = PathBuf::from(args.next().expect("usage: cold-start BIN_DIR [STARTS] [WARM]"));
    let starts: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let warm: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);

    let (redis_url, _redis) = test_backends::redis();
    let (endpoint, _dynamodb) = test_backends::dynamodb();
    let table = test_backends::fresh_table(&test_backends::dynamodb_client(&endpoint).await).await;
    let proxies = Arc::new(Proxies {
        redis: DelayProxy::start(backend_port(&redis_url)),
        dynamodb: DelayProxy::start(backend_port(&endpoint)),
    });
    let backend_env = [
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", format!("redis://127.0.0.1:{}", proxies.redis.port())),
        (
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", proxies.dynamodb.port()),
        ),
        ("TABLE_NAME", table),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
    ];

    let functions = functions();
    let functions: Vec<&str> = functions.iter().map(String::as_str).collect();
    let names: Vec<&str> = std::iter::once(HELLO).chain(functions.iter().copied()).collect();
    let mut results: HashMap<&str, Vec<Start>> = HashMap::new();
    // Round-robin, so the machine's noise spreads over every binary alike.
    for _ in 0..starts {
        for name in &names {
            let start = start_once(&bin_dir.join(name), name, &backend_env, &proxies, warm).await;
            results.entry(name).or_default().push(start);
        }
    }
    print_report(&bin_dir, &names, &functions, &results, starts, warm);
}

/// `names` is every binary measured (hello world first); `functions`, the
/// Lambda functions among them, are the ones held to the goals.
fn print_report(
    bin_dir: &Path,
    names: &[&str],
    functions: &[&str],
    results: &HashMap<&str, Vec<Start>>,
    starts: usize,
    warm: usize,
) {
    let summary = |name: &str| {
        let runs = &results[name];
        let mut init: Vec<Duration> = runs.iter().map(|run| run.init).collect();
        let mut first: Vec<Duration> = runs.iter().map(|run| run.first_invocation).collect();
        let mut warm: Vec<Duration> = runs.iter().flat_map(|run| run.warm.iter().copied()).collect();
        let rss = runs.iter().map(|run| run.peak_rss_kib).max().unwrap();
        let connections = runs.iter().map(|run| run.connections_during_init).max().unwrap();
        (
            median(&mut init),
            median(&mut first),
            median(&mut warm),
            rss,
            connections,
        )
    };
    let hello = summary(HELLO);
    let hello_size = size_kib(&bin_dir.join(HELLO));
    println!(
        "{starts} starts per binary (round-robin), each followed by 1 + {warm} invocations of `GET /ready`; \
         binaries from {} on this machine.\n",
        bin_dir.display()
    );
    println!(
        "| binary | size | size × hello | init p50 | init × hello | first invocation p50 | warm p50 | peak RSS | RSS × hello | connections during init |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for name in names {
        let (init, first, warm, rss, connections) = summary(name);
        let size = size_kib(&bin_dir.join(name));
        println!(
            "| {name} | {size} KiB | {:.1} | {} | {:.2} | {} | {} | {:.1} MiB | {:.2} | {connections} |",
            size as f64 / hello_size as f64,
            millis(init),
            init.as_secs_f64() / hello.0.as_secs_f64(),
            millis(first),
            millis(warm),
            rss as f64 / 1024.0,
            rss as f64 / hello.3 as f64,
        );
    }
    let worst = |pick: fn(&(Duration, Duration, Duration, u64, usize)) -> f64| {
        functions
            .iter()
            .map(|name| pick(&summary(name)))
            .fold(0.0_f64, f64::max)
    };
    let worst_init = worst(|s| s.0.as_secs_f64()) / hello.0.as_secs_f64();
    let worst_size = functions
        .iter()
        .map(|name| size_kib(&bin_dir.join(name)) as f64 / hello_size as f64)
        .fold(0.0_f64, f64::max);
    let worst_rss_kib = worst(|s| s.3 as f64);
    let init_connections = functions.iter().map(|name| summary(name).4).max().unwrap();
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    println!();
    println!("| goal | worst function | |\n|---|---:|---|");
    println!(
        "| init ≤ 2× hello world | {worst_init:.2}× | {} |",
        verdict(worst_init <= 2.0)
    );
    println!(
        "| no network during init | {init_connections} connections | {} |",
        verdict(init_connections == 0)
    );
    println!(
        "| size ≤ 5× hello world | {worst_size:.1}× | {} |",
        verdict(worst_size <= 5.0)
    );
    println!(
        "| peak RSS ≤ 2× hello world and ≤ 40 MB | {:.2}×, {:.1} MiB | {} |",
        worst_rss_kib / hello.3 as f64,
        worst_rss_kib / 1024.0,
        verdict(worst_rss_kib / hello.3 as f64 <= 2.0 && worst_rss_kib <= 40.0 * 1000.0 * 1000.0 / 1024.0)
    );
}
