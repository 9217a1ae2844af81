//! # Backends in containers (feature `containers`)
//!
//! For people with a Docker engine: Redis and LocalStack (or, without a
//! LocalStack auth token, the `amazon/dynamodb-local` image) started through
//! testcontainers instead of local processes.
//!
//! Chosen when `TEST_BACKEND=containers`, or when `TEST_BACKEND` is unset and a
//! Docker engine answers (`DOCKER_HOST` or `/var/run/docker.sock`). The
//! project's own machine has the Docker client but no engine, so this path
//! compiles in CI (`cargo check --all-features`) but has not run there.
//!
//! testcontainers removes a container when its handle drops, which needs an
//! async runtime; tests call this from inside their own runtime, so the
//! containers live on a thread of their own with its own runtime, and the
//! returned [`Containers`] handle stops that thread (and the containers) on
//! drop.

use std::sync::mpsc;
use std::thread::JoinHandle;

use testcontainers_modules::localstack::LocalStack;
use testcontainers_modules::redis::{REDIS_PORT, Redis};
use testcontainers_modules::testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{GenericImage, ImageExt};

/// Redis image tag: the major version ElastiCache Serverless (Valkey 8) is compatible with.
const REDIS_TAG: &str = "7.2";
const LOCALSTACK_PORT: u16 = 4566;
const DYNAMODB_LOCAL_IMAGE: (&str, &str) = ("amazon/dynamodb-local", "2.6.1");
const DYNAMODB_LOCAL_PORT: u16 = 8000;

/// Whether the integration tests should use containers rather than local processes.
pub fn wanted() -> bool {
    match std::env::var("TEST_BACKEND").as_deref() {
        Ok("containers") => true,
        Ok(_) => false,
        Err(_) => docker_engine_present(),
    }
}

fn docker_engine_present() -> bool {
    std::env::var_os("DOCKER_HOST").is_some() || std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok()
}

/// Running containers, removed when this drops.
#[derive(Debug)]
pub struct Containers {
    pub redis_url: String,
    pub dynamodb_endpoint: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Containers {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts Redis and a DynamoDB endpoint (LocalStack when `LOCALSTACK_AUTH_TOKEN`
/// is set, since its image needs one now; DynamoDB Local's image otherwise).
pub fn start() -> Containers {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the containers");
        runtime.block_on(async move {
            let redis = Redis::default()
                .with_tag(REDIS_TAG)
                .start()
                .await
                .expect("starting Redis (is the Docker engine running?)");
            let redis_url = format!(
                "redis://{}:{}",
                redis.get_host().await.expect("redis host"),
                redis.get_host_port_ipv4(REDIS_PORT).await.expect("redis port")
            );
            let (dynamodb_endpoint, dynamodb) = match std::env::var("LOCALSTACK_AUTH_TOKEN") {
                Ok(token) if !token.is_empty() => {
                    let localstack = LocalStack::default()
                        .with_env_var("SERVICES", "dynamodb")
                        .with_env_var("LOCALSTACK_AUTH_TOKEN", token)
                        .start()
                        .await
                        .expect("starting LocalStack");
                    let endpoint = format!(
                        "http://{}:{}",
                        localstack.get_host().await.expect("localstack host"),
                        localstack
                            .get_host_port_ipv4(LOCALSTACK_PORT)
                            .await
                            .expect("localstack port")
                    );
                    (endpoint, Box::new(localstack) as Box<dyn std::any::Any>)
                }
                _ => {
                    let (name, tag) = DYNAMODB_LOCAL_IMAGE;
                    let emulator = GenericImage::new(name, tag)
                        .with_exposed_port(DYNAMODB_LOCAL_PORT.tcp())
                        .with_wait_for(WaitFor::message_on_stdout("Initializing DynamoDB Local"))
                        .with_cmd(["-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb"])
                        .start()
                        .await
                        .expect("starting DynamoDB Local");
                    let endpoint = format!(
                        "http://{}:{}",
                        emulator.get_host().await.expect("dynamodb host"),
                        emulator
                            .get_host_port_ipv4(DYNAMODB_LOCAL_PORT)
                            .await
                            .expect("dynamodb port")
                    );
                    (endpoint, Box::new(emulator) as Box<dyn std::any::Any>)
                }
            };
            let _ = ready_tx.send((redis_url, dynamodb_endpoint));
            // Hold both until the handle drops (the sender disconnects).
            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            drop(dynamodb);
            drop(redis);
        });
    });
    let (redis_url, dynamodb_endpoint) = ready_rx
        .recv()
        .expect("containers failed to start (see the panic above)");
    Containers {
        redis_url,
        dynamodb_endpoint,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}
