//! The Redis adapter against the seat-lock contract, on a real redis-server:
//! standalone, and a one-node cluster (the protocol ElastiCache Serverless
//! speaks), each in plain text and over TLS (`rediss://`, a throwaway
//! certificate authority), as ElastiCache Serverless requires.

use std::sync::Arc;
use std::time::Duration;

use port_conformance::{RealTime, SeatLockFixture};
use redis_seat_locks::{RedisSeatLocks, RedisSettings};
use test_backends::{RedisServer, TestTls};

fn fixture(url: String, cluster: bool, keep_alive: Box<dyn std::any::Any + Send>) -> SeatLockFixture {
    let settings = RedisSettings {
        url,
        cluster,
        timeout: Duration::from_secs(2),
        tls_roots_pem: TestTls::shared().ca_pem(),
    };
    SeatLockFixture {
        locks: Arc::new(RedisSeatLocks::new(settings).unwrap()),
        time: Arc::new(RealTime),
        keep_alive,
    }
}

async fn standalone() -> SeatLockFixture {
    let (url, server) = test_backends::redis();
    fixture(url, false, Box::new(server))
}

async fn cluster() -> SeatLockFixture {
    let server = RedisServer::start_cluster();
    fixture(server.url(), true, Box::new(server))
}

async fn standalone_tls() -> SeatLockFixture {
    let server = RedisServer::start_tls();
    fixture(server.url(), false, Box::new(server))
}

async fn cluster_tls() -> SeatLockFixture {
    let server = RedisServer::start_cluster_tls();
    fixture(server.url(), true, Box::new(server))
}

mod standalone {
    use super::standalone as setup;
    port_conformance::seat_lock_conformance!(setup);
}

mod cluster {
    use super::cluster as setup;
    port_conformance::seat_lock_conformance!(setup);
}

mod standalone_tls {
    use super::standalone_tls as setup;
    port_conformance::seat_lock_conformance!(setup);
}

mod cluster_tls {
    use super::cluster_tls as setup;
    port_conformance::seat_lock_conformance!(setup);
}
