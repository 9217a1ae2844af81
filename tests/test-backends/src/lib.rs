//! # Real backends for integration tests
//!
//! Tests talk to a real `redis-server` and to DynamoDB Local (AWS's own
//! emulator, `DynamoDBLocal.jar` from the pinned npm package in
//! `dynamodb-local/`), never to mocks.
//!
//! - If `REDIS_URL` / `AWS_ENDPOINT_URL` are set (the test command starts one
//!   of each for the whole run), tests share them.
//! - Otherwise each test starts its own on a free port and stops it when the
//!   handle drops.
//! - Readiness is awaited by polling, never by a fixed sleep.
//! - Isolation: every test gets its own table ([`fresh_table`]) and its own
//!   tenant ids, so nothing depends on what another test or run left.
//!
//! - With the `containers` feature and a Docker engine (or
//!   `TEST_BACKEND=containers`), Redis and LocalStack/DynamoDB Local run in
//!   containers instead ([`containers`]).
//!
//! Tests that stop or restart a backend start their own ([`RedisServer`],
//! [`DynamoDbLocal`]) so they never disturb the shared ones.
//!
//! A second DynamoDB emulator, moto's server ([`MotoServer`]), runs the
//! races too, so that no promise leans on one emulator's behaviour.
//!
//! Redis over TLS (`rediss://`, as ElastiCache Serverless requires):
//! [`RedisServer::start_tls`] and [`RedisServer::start_cluster_tls`] serve
//! only a TLS port, with a certificate from a throwaway certificate
//! authority ([`TestTls`], made with `openssl`).
//!
//! Network faults between an adapter and its backend (slow replies, refused
//! or cut connections, truncated replies) come from a [`FaultProxy`] in
//! between ([`fault_proxy`]).

// A harness that cannot start its backends must fail the test loudly: it panics.
#![allow(clippy::missing_panics_doc, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[cfg(feature = "sdk")]
use aws_sdk_dynamodb::Client;

#[cfg(feature = "containers")]
pub mod containers;
pub mod fault_proxy;

pub use fault_proxy::FaultProxy;

const READY_WITHIN: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(25);

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free local port")
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < READY_WITHIN,
            "{what} not ready within {READY_WITHIN:?}"
        );
        std::thread::sleep(POLL_EVERY);
    }
}

fn accepts_connections(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn redis_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut reply = [0u8; 16];
    stream.write_all(b"PING\r\n").is_ok() && stream.read(&mut reply).is_ok_and(|n| reply[..n].starts_with(b"+PONG"))
}

/// A child process killed when dropped.
#[derive(Debug)]
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A throwaway certificate authority and a server certificate it signed
/// (P-256 keys, valid for two days), in a scratch folder; made with the
/// `openssl` command line. The shared one's certificate names `127.0.0.1`
/// and `localhost`; its private keys are throwaway test keys, left in the
/// system's temp folder when the test process exits.
#[derive(Debug)]
pub struct TestTls {
    dir: PathBuf,
}

impl TestTls {
    /// One authority for the whole test process: servers started with
    /// [`RedisServer::start_tls`] present its certificate.
    pub fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<TestTls>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(Self::generate())).clone()
    }

    /// A new authority of its own, certifying `127.0.0.1` and `localhost`:
    /// a client trusting it must refuse a server the shared one certified
    /// (the "wrong CA" case).
    pub fn generate() -> Self {
        Self::generate_for("IP:127.0.0.1,DNS:localhost")
    }

    /// A new authority whose server certificate names only `names` (an
    /// openssl subjectAltName list, e.g. `DNS:cache.example`).
    pub fn generate_for(names: &str) -> Self {
        let id = uuid::Uuid::new_v4();
        let dir = std::env::temp_dir().join(format!("redis-test-tls-{id}"));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let tls = Self { dir };
        // A name of its own: another authority is then an unknown issuer,
        // not a namesake whose signature fails.
        let subject = format!("/CN=seat-locks test CA {id}");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        tls.openssl(&[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                &subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]);
        tls.openssl(&[
            &["req"],
            &ec[..],
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ]);
        std::fs::write(
            tls.dir.join("server.ext"),
            format!(
                "subjectAltName={names}\nbasicConstraints=CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .expect("the extensions file");
        tls.openssl(&[&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]]);
        tls
    }

    fn openssl(&self, parts: &[&[&str]]) {
        let output = Command::new("openssl")
            .args(parts.concat())
            .current_dir(&self.dir)
            .output()
            .expect("openssl is installed");
        assert!(
            output.status.success(),
            "openssl {:?}: {}",
            parts.concat(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The authority's certificate (PEM file): what a client trusts.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The authority's certificate, PEM.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.ca_file()).expect("the CA certificate")
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TestTls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `redis-server` of the test's own, on a free port, keeping nothing on disk.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    cluster: bool,
    /// Serves only TLS, with a certificate of this authority.
    tls: Option<Arc<TestTls>>,
    /// Only these TLS versions (`redis-server --tls-protocols`), if set.
    tls_protocols: Option<&'static str>,
    process: Option<Owned>,
    dir: PathBuf,
}

impl RedisServer {
    /// A standalone server.
    pub fn start() -> Self {
        Self::launch(false, None, None)
    }

    /// A one-node cluster owning all 16 384 slots: the cluster protocol, as
    /// ElastiCache Serverless speaks it, on one local process.
    pub fn start_cluster() -> Self {
        Self::launch(true, None, None)
    }

    /// A standalone server speaking only TLS ([`TestTls::shared`]).
    pub fn start_tls() -> Self {
        Self::launch(false, Some(TestTls::shared()), None)
    }

    /// A standalone server speaking only TLS, presenting `tls`'s certificate.
    pub fn start_tls_with(tls: Arc<TestTls>) -> Self {
        Self::launch(false, Some(tls), None)
    }

    /// A one-node cluster speaking only TLS, its cluster bus and the
    /// addresses it announces included, as ElastiCache Serverless does.
    pub fn start_cluster_tls() -> Self {
        Self::launch(true, Some(TestTls::shared()), None)
    }

    /// A standalone TLS server that speaks TLS 1.2 and nothing newer, as a
    /// server that predates TLS 1.3 does.
    pub fn start_tls12_only() -> Self {
        Self::launch(false, Some(TestTls::shared()), Some("TLSv1.2"))
    }

    fn launch(cluster: bool, tls: Option<Arc<TestTls>>, tls_protocols: Option<&'static str>) -> Self {
        let dir = std::env::temp_dir().join(format!("redis-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let mut server = Self {
            port: free_port(),
            cluster,
            tls,
            tls_protocols,
            process: None,
            dir,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://…` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `redis-cli` against this server, TLS and its authority included.
    fn cli(&self) -> Command {
        // Bounded: a server that accepts but never answers must not hang the
        // wait (redis-cli 7.0 has no timeout option of its own).
        let mut command = Command::new("timeout");
        command.args(["5", "redis-cli", "-p", &self.port.to_string()]);
        if let Some(tls) = &self.tls {
            command.args(["--tls", "--cacert", &tls.file("ca.crt")]);
        }
        command
    }

    fn answers(&self) -> bool {
        match &self.tls {
            None => redis_answers(self.port),
            Some(_) => self
                .cli()
                .arg("ping")
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|out| out.stdout.starts_with(b"PONG")),
        }
    }

    /// Kills the server (as a crash or failover would). Data is lost.
    pub fn stop(&mut self) {
        self.process = None;
        wait_until("redis to stop", || !accepts_connections(self.port));
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.process = None;
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &self.tls {
            None => command.args(["--port", &port]),
            Some(tls) => command.args([
                "--port",
                "0",
                "--tls-port",
                &port,
                "--tls-cert-file",
                &tls.file("server.crt"),
                "--tls-key-file",
                &tls.file("server.key"),
                "--tls-ca-cert-file",
                &tls.file("ca.crt"),
                "--tls-auth-clients",
                "no",
                "--tls-cluster",
                "yes",
                "--tls-protocols",
                self.tls_protocols.unwrap_or("TLSv1.2 TLSv1.3"),
            ]),
        };
        if self.cluster {
            let _ = std::fs::remove_file(self.dir.join("nodes.conf"));
            // The bus port is given: port + 10 000 may not exist above 55 535.
            let bus_port = free_port().to_string();
            command.args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-port",
                &bus_port,
            ]);
        }
        self.process = Some(Owned(
            command
                .spawn()
                .expect("redis-server is installed (scripts/install-tools.sh)"),
        ));
        wait_until("redis", || self.answers());
        if self.cluster {
            let status = self
                .cli()
                .args(["cluster", "addslotsrange", "0", "16383"])
                .stdout(Stdio::null())
                .status()
                .expect("redis-cli is installed");
            assert!(status.success(), "assigning cluster slots");
            wait_until("redis cluster", || {
                self.cli()
                    .args(["cluster", "info"])
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok"))
            });
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.process = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// DynamoDB Local of the test's own, on a free port: in memory, or on disk
/// ([`DynamoDbLocal::start_on_disk`]) so its data survives a stop/restart.
#[derive(Debug)]
pub struct DynamoDbLocal {
    port: u16,
    process: Option<Owned>,
    data_dir: Option<PathBuf>,
}

/// Where the pinned npm package puts the emulator.
pub fn dynamodb_local_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator")
}

impl DynamoDbLocal {
    pub fn start() -> Self {
        let mut emulator = Self {
            port: free_port(),
            process: None,
            data_dir: None,
        };
        emulator.restart();
        emulator
    }

    /// Keeps its tables in a scratch folder: a stop and restart (an outage)
    /// loses nothing.
    pub fn start_on_disk() -> Self {
        let dir = std::env::temp_dir().join(format!("dynamodb-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let mut emulator = Self {
            port: free_port(),
            process: None,
            data_dir: Some(dir),
        };
        emulator.restart();
        emulator
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the emulator. In-memory data is lost.
    pub fn stop(&mut self) {
        self.process = None;
        wait_until("DynamoDB Local to stop", || !accepts_connections(self.port));
    }

    /// Starts it again on the same port: empty in memory, as it was on disk.
    pub fn restart(&mut self) {
        self.process = None;
        let dir = dynamodb_local_dir();
        let mut command = Command::new("java");
        command
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .args(["-jar", &dir.join("DynamoDBLocal.jar").display().to_string()]);
        match &self.data_dir {
            Some(data) => command.arg("-dbPath").arg(data),
            None => command.arg("-inMemory"),
        };
        let child = command
            .args(["-sharedDb", "-port"])
            .arg(self.port.to_string())
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java and DynamoDB Local are installed (scripts/install-tools.sh)");
        self.process = Some(Owned(child));
        wait_until("DynamoDB Local", || accepts_connections(self.port));
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        self.process = None;
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// moto's server (`moto_server`, a Python emulator of AWS, from the pinned
/// `moto-requirements.txt`) on a free port: the second DynamoDB emulator the
/// races run on. It is a different implementation from DynamoDB Local (its
/// own conditions, transactions and timing: a Python Flask server, far
/// slower per call), so a promise that holds on both does not lean on
/// one emulator's quirks. In memory: a stop loses everything. Served one
/// request at a time (see [`MotoServer::start`]).
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    _process: Owned,
}

/// The Python of moto's virtualenv, where `scripts/install-tools.sh` links it.
pub fn moto_python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/moto-venv/bin/python")
}

impl MotoServer {
    /// moto's server, one request at a time (`moto/serialized_server.py`
    /// says why: as shipped, a cancelled transaction's rollback erases
    /// other requests' commits).
    pub fn start() -> Self {
        let port = free_port();
        let binary = moto_python();
        let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto/serialized_server.py");
        let child = Command::new(&binary)
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "moto's server ({}) does not start ({error}): run scripts/install-tools.sh",
                    binary.display()
                )
            });
        let server = Self {
            port,
            _process: Owned(child),
        };
        // Flask listens a moment after the process starts.
        wait_until("moto_server", || accepts_connections(port));
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The proxy the flash-sale test slows Redis with; now a name for
/// [`FaultProxy`], whose [`set_delay`](FaultProxy::set_delay) delays every
/// forwarded chunk in both directions.
pub type DelayProxy = FaultProxy;

/// Keeps a test's backend alive until dropped: nothing (a shared backend),
/// a local process, or containers.
#[derive(Debug)]
pub struct KeepAlive(#[allow(dead_code)] Option<Box<dyn std::fmt::Debug + Send>>);

#[cfg(feature = "containers")]
fn shared_containers() -> std::sync::Arc<containers::Containers> {
    use std::sync::{Arc, Mutex, Weak};
    // One set of containers for as long as any test in this process holds a handle.
    static RUNNING: Mutex<Weak<containers::Containers>> = Mutex::new(Weak::new());
    let mut running = RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = running.upgrade() {
        return existing;
    }
    let started = Arc::new(containers::start());
    *running = Arc::downgrade(&started);
    started
}

/// `DYNAMODB_TIMEOUT_MS` for app instances that race many requests on
/// DynamoDB Local. The emulator is one JVM sharing two cores with the test;
/// under a hundred concurrent transactions (slower still in the coverage
/// build) an answer can take longer than the 2 s the service allows real
/// DynamoDB, and the race would see a 503 that says nothing about the code.
pub const EMULATOR_DYNAMODB_TIMEOUT_MS: &str = "15000";

/// A Redis URL for a test: the shared `REDIS_URL`; else containers (feature
/// `containers`, see [`containers::wanted`]); else a server of its own.
pub fn redis() -> (String, KeepAlive) {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => (url, KeepAlive(None)),
        _ => {
            #[cfg(feature = "containers")]
            if containers::wanted() {
                let running = shared_containers();
                return (running.redis_url.clone(), KeepAlive(Some(Box::new(running))));
            }
            let server = RedisServer::start();
            (server.url(), KeepAlive(Some(Box::new(server))))
        }
    }
}

/// A DynamoDB endpoint for a test: the shared `AWS_ENDPOINT_URL`; else
/// containers (feature `containers`); else an emulator of its own.
pub fn dynamodb() -> (String, KeepAlive) {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => (url, KeepAlive(None)),
        _ => {
            #[cfg(feature = "containers")]
            if containers::wanted() {
                let running = shared_containers();
                return (running.dynamodb_endpoint.clone(), KeepAlive(Some(Box::new(running))));
            }
            let emulator = DynamoDbLocal::start();
            (emulator.endpoint(), KeepAlive(Some(Box::new(emulator))))
        }
    }
}

/// An SDK client for an emulator endpoint, with its placeholder region and
/// credentials, built as every DynamoDB client is (`dynamodb_store::client`).
#[cfg(feature = "sdk")]
pub async fn dynamodb_client(endpoint: &str) -> Client {
    let config = dynamodb_store::client::sdk_config(&dynamodb_store::client::ClientSettings {
        endpoint: Some(endpoint.to_owned()),
        emulator_defaults: true,
        ..Default::default()
    })
    .await;
    let mut last_error = None;
    // The JVM accepts connections a moment before it answers requests.
    for _ in 0..200 {
        let client = Client::new(&config);
        match client.list_tables().limit(1).send().await {
            Ok(_) => return client,
            Err(error) => last_error = Some(error),
        }
        // Async: a blocking sleep here would stall the runtime's worker.
        tokio::time::sleep(POLL_EVERY).await;
    }
    panic!("DynamoDB Local at {endpoint} does not answer: {last_error:?}");
}

/// A new table with a unique name, created from THE table definition.
#[cfg(feature = "sdk")]
pub async fn fresh_table(client: &Client) -> String {
    let name = format!("test-{}", uuid::Uuid::new_v4().simple());
    dynamodb_store::table::create_table(client, &name)
        .await
        .expect("creating the test table");
    name
}
