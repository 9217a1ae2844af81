//! TLS fails closed. A `rediss://` connection talks only to a server whose
//! certificate chains to the roots it was given, and never falls back to
//! plain text or to unchecked certificates: a wrong authority or a
//! plain-text server is a `BackendError` naming the cause (which the
//! degraded-Redis log line prints), and nothing reaches the server.
//! What works over TLS is the conformance suite (`conformance.rs`).

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use std::sync::Arc;
use std::time::Duration;

use application::ports::{SeatLock, SeatLocks};
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use redis_seat_locks::{RedisSeatLocks, RedisSettings};
use test_backends::{RedisServer, TestTls};

fn locks(url: String, cluster: bool, tls_roots_pem: Vec<u8>) -> RedisSeatLocks {
    RedisSeatLocks::new(RedisSettings {
        url,
        cluster,
        timeout: Duration::from_secs(2),
        tls_roots_pem,
    })
    .unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse(&format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])).unwrap()
}

fn event() -> EventId {
    EventId::parse("gig").unwrap()
}

fn seats() -> Vec<SeatId> {
    vec![SeatId::parse("A1").unwrap()]
}

/// Tries to lock a seat and returns the error's causes, as the log prints them.
async fn refused_lock(locks: &RedisSeatLocks, tenant: &TenantId) -> String {
    let hold = HoldId::parse("0190a4c5-7e1f-7a3b-8c2d-1e2f3a4b5c6d").unwrap();
    let error = locks
        .lock(tenant, &event(), &seats(), hold, Duration::from_secs(60))
        .await
        .err()
        .unwrap_or_else(|| panic!("a lock over an untrusted connection must fail"));
    format!("{error:?}")
}

#[tokio::test]
async fn a_server_certified_by_another_authority_is_refused_and_the_error_names_the_certificate() {
    for (server, cluster) in [
        (RedisServer::start_tls(), false),
        (RedisServer::start_cluster_tls(), true),
    ] {
        let stranger = TestTls::generate();
        let untrusting = locks(server.url(), cluster, stranger.ca_pem());
        let tenant = tenant();
        let error = refused_lock(&untrusting, &tenant).await;
        assert!(
            error.contains("UnknownIssuer"),
            "cluster={cluster}: the cause names the untrusted issuer: {error}"
        );
        let trusting = locks(server.url(), cluster, TestTls::shared().ca_pem());
        assert_eq!(
            trusting.inspect(&tenant, &event(), &seats()).await.unwrap(),
            [SeatLock::Free],
            "cluster={cluster}: nothing was written over the refused connection"
        );
    }
}

#[tokio::test]
async fn a_server_that_speaks_only_tls_1_2_is_served() {
    let server = RedisServer::start_tls12_only();
    let locks = locks(server.url(), false, TestTls::shared().ca_pem());
    let tenant = tenant();
    let hold = HoldId::parse("0190a4c5-7e1f-7a3b-8c2d-1e2f3a4b5c6d").unwrap();
    locks
        .lock(&tenant, &event(), &seats(), hold, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        locks.inspect(&tenant, &event(), &seats()).await.unwrap(),
        [SeatLock::HeldBy(hold)]
    );
}

#[tokio::test]
async fn a_rediss_url_never_falls_back_to_plain_text() {
    let server = RedisServer::start();
    let tls_url = server.url().replacen("redis://", "rediss://", 1);
    let over_tls = locks(tls_url, false, TestTls::shared().ca_pem());
    let tenant = tenant();
    let error = refused_lock(&over_tls, &tenant).await;
    // The server takes the TLS hello for a command it waits to see the end
    // of: the client gets no TLS answer and gives up. Never plain text.
    assert!(
        ["no answer within", "InvalidContentType", "corrupt message"]
            .iter()
            .any(|cause| error.contains(cause)),
        "the connection failed in the TLS layer or timed out waiting for it: {error}"
    );
    let plain = locks(server.url(), false, Vec::new());
    assert_eq!(
        plain.inspect(&tenant, &event(), &seats()).await.unwrap(),
        [SeatLock::Free],
        "the lock never reached the plain-text server"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_and_one_for_the_dns_name_dialled_is_served() {
    let elsewhere = Arc::new(TestTls::generate_for("DNS:cache.example"));
    let server = RedisServer::start_tls_with(elsewhere.clone());
    let tenant = tenant();
    let error = refused_lock(&locks(server.url(), false, elsewhere.ca_pem()), &tenant).await;
    assert!(
        error.contains("not valid for name"),
        "a trusted issuer does not make a certificate valid for another name: {error}"
    );

    // As in AWS: dialled by DNS name, checked against the name.
    let server = RedisServer::start_tls();
    let by_name = server.url().replacen("127.0.0.1", "localhost", 1);
    let locks = locks(by_name, false, TestTls::shared().ca_pem());
    assert_eq!(
        locks.inspect(&tenant, &event(), &seats()).await.unwrap(),
        [SeatLock::Free]
    );
}

#[test]
fn a_rediss_url_without_trusted_roots_or_with_checks_off_is_refused_at_start() {
    let settings = |url: &str, roots: &[u8]| RedisSettings {
        url: url.to_owned(),
        cluster: false,
        timeout: Duration::from_secs(1),
        tls_roots_pem: roots.to_vec(),
    };
    let ca = TestTls::shared().ca_pem();
    for (url, roots, why) in [
        ("rediss://cache:6379", &b""[..], "no roots"),
        (
            "rediss://cache:6379",
            &b"not a certificate"[..],
            "no certificate in the PEM",
        ),
        (
            "rediss://cache:6379",
            &b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"[..],
            "broken PEM",
        ),
        ("rediss://cache:6379/#insecure", &ca[..], "certificate checks off"),
        (
            "REDISS://cache:6379/#insecure",
            &ca[..],
            "checks off, scheme in capitals",
        ),
        ("valkeys://cache:6379/#insecure", &ca[..], "checks off, valkeys scheme"),
        ("Rediss://cache:6379", &b""[..], "no roots, scheme in mixed case"),
        ("valkeys://cache:6379", &b""[..], "no roots, valkeys scheme"),
    ] {
        assert!(
            RedisSeatLocks::new(settings(url, roots)).is_err(),
            "{why} must be refused"
        );
    }
    assert!(RedisSeatLocks::new(settings("rediss://cache:6379", &ca)).is_ok());
    assert!(
        RedisSeatLocks::new(settings("redis://cache:6379", b"")).is_ok(),
        "plain redis:// needs no roots"
    );
}
