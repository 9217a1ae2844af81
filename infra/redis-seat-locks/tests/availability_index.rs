//! The availability index (ADR 15) on a real redis-server, standalone and a
//! one-node cluster: every lock change keeps it current in the same script,
//! a sold seat stays in it after its marker ran out until it is unsold,
//! entries lapse with their locks, and a stale or flushed index hands one
//! caller the lease to rebuild it from the claims.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use std::collections::HashSet;
use std::time::Duration;

use application::ports::{MirroredLock, SeatLock, SeatLocks, TakenSeats};
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;
use redis_seat_locks::{RedisSeatLocks, RedisSettings};
use test_backends::RedisServer;

const HOLD: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
const MINUTE: Duration = Duration::from_secs(60);

struct Index {
    locks: RedisSeatLocks,
    tenant: TenantId,
    event: EventId,
    url: String,
    _server: Box<dyn std::any::Any + Send>,
}

impl Index {
    fn new(url: String, cluster: bool, server: Box<dyn std::any::Any + Send>) -> Self {
        let locks = RedisSeatLocks::new(RedisSettings {
            url: url.clone(),
            cluster,
            timeout: Duration::from_secs(2),
            tls_roots_pem: Vec::new(),
        })
        .unwrap();
        Self {
            locks,
            tenant: TenantId::parse(&format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])).unwrap(),
            event: EventId::parse("gig").unwrap(),
            url,
            _server: server,
        }
    }

    /// (does this caller rebuild?, the seats the index gives; `None`: none).
    async fn taken(&self) -> (bool, Option<HashSet<String>>) {
        match self.locks.taken(&self.tenant, &self.event).await.unwrap() {
            TakenSeats::Indexed(seats) => (false, Some(seats.iter().map(ToString::to_string).collect())),
            TakenSeats::Unindexed => (false, None),
            TakenSeats::RebuildByCaller => (true, None),
        }
    }

    async fn rebuild(&self, claims: &[(&str, Option<Timestamp>)], fresh_for: Duration) {
        let claims: Vec<(SeatId, Option<Timestamp>)> = claims.iter().map(|(s, until)| (seat(s), *until)).collect();
        self.locks
            .rebuild_taken(&self.tenant, &self.event, &claims, fresh_for)
            .await
            .unwrap();
    }
}

fn seat(name: &str) -> SeatId {
    SeatId::parse(name).unwrap()
}

fn seats(names: &[&str]) -> Vec<SeatId> {
    names.iter().map(|n| seat(n)).collect()
}

#[allow(clippy::unnecessary_wraps)] // Compared with what `taken` answers.
fn set(names: &[&str]) -> Option<HashSet<String>> {
    Some(names.iter().map(|n| (*n).to_owned()).collect())
}

fn in_a_minute() -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Timestamp::from_millis(i64::try_from(now.as_millis()).unwrap() + 60_000)
}

async fn a_missing_index_hands_one_caller_the_rebuild_lease_then_serves_the_claims(index: Index) {
    assert_eq!(index.taken().await, (true, None), "nothing built: this caller rebuilds");
    assert_eq!(
        index.taken().await,
        (false, None),
        "the lease is taken, but there is no index to use"
    );
    index
        .rebuild(&[("A1", Some(in_a_minute())), ("A2", None)], MINUTE)
        .await;
    assert_eq!(index.taken().await, (false, set(&["A1", "A2"])));
}

async fn every_lock_change_keeps_the_index_current(index: Index) {
    index.rebuild(&[], MINUTE).await;
    let hold = HoldId::parse(HOLD).unwrap();
    let (t, e) = (&index.tenant, &index.event);
    index
        .locks
        .lock(t, e, &seats(&["B1", "B2"]), hold, MINUTE)
        .await
        .unwrap();
    assert_eq!(index.taken().await.1, set(&["B1", "B2"]), "locked");
    index.locks.release(t, e, &seats(&["B1"]), hold).await.unwrap();
    assert_eq!(index.taken().await.1, set(&["B2"]), "released");
    index.locks.extend(t, e, &seats(&["B2"]), hold, MINUTE).await.unwrap();
    index
        .locks
        .mark_sold(t, e, &seats(&["B2", "B3"]), MINUTE)
        .await
        .unwrap();
    assert_eq!(index.taken().await.1, set(&["B2", "B3"]), "sold");
    index
        .locks
        .mirror(
            t,
            e,
            &[
                (
                    seat("B3"),
                    MirroredLock::Unsold {
                        ignore_sold_for: Some(MINUTE),
                    },
                ),
                (seat("B4"), MirroredLock::Held { hold, ttl: MINUTE }),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        index.taken().await.1,
        set(&["B2", "B4"]),
        "unsold, and a claim written back"
    );
    index
        .locks
        .mirror(t, e, &[(seat("B4"), MirroredLock::Free { owner: hold })])
        .await
        .unwrap();
    assert_eq!(index.taken().await.1, set(&["B2"]), "a lock the claims no longer back");
    let client = redis::Client::open(index.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let [key, ..] = redis_seat_locks::index_keys(t, e);
    let ttl_ms: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut connection).await.unwrap();
    assert!(
        ttl_ms > 60_000 && ttl_ms <= 3_600_000,
        "the index lapses an hour after its last write: {ttl_ms}"
    );
}

async fn entries_lapse_with_their_locks_but_a_sale_outlives_its_marker_until_unsold(index: Index) {
    index.rebuild(&[], MINUTE).await;
    let hold = HoldId::parse(HOLD).unwrap();
    let (t, e) = (&index.tenant, &index.event);
    let short = Duration::from_millis(100);
    index.locks.lock(t, e, &seats(&["C1"]), hold, short).await.unwrap();
    index.locks.mark_sold(t, e, &seats(&["C2"]), short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(index.taken().await.1, set(&["C2"]), "the lock lapsed; the sale did not");
    index
        .locks
        .mirror(
            t,
            e,
            &[(
                seat("C2"),
                MirroredLock::Unsold {
                    ignore_sold_for: Some(MINUTE),
                },
            )],
        )
        .await
        .unwrap();
    assert_eq!(index.taken().await.1, set(&[]), "unsold after its marker ran out");
}

/// A cancelled sale stays out of the index: a late sold write ignored by
/// the unsold window leaves the index alone, and a rebuild from claims read
/// before the cancel does not bring the seat back as sold; an unsold seat
/// without a window takes markers again at once.
async fn a_cancelled_sale_stays_out_of_the_index_until_its_window_ends(index: Index) {
    index.rebuild(&[], MINUTE).await;
    let (t, e) = (&index.tenant, &index.event);
    index
        .locks
        .mark_sold(t, e, &seats(&["E1", "E2"]), MINUTE)
        .await
        .unwrap();
    index
        .locks
        .mirror(
            t,
            e,
            &[
                (
                    seat("E1"),
                    MirroredLock::Unsold {
                        ignore_sold_for: Some(MINUTE),
                    },
                ),
                (seat("E2"), MirroredLock::Unsold { ignore_sold_for: None }),
            ],
        )
        .await
        .unwrap();
    index
        .locks
        .mark_sold(t, e, &seats(&["E1", "E2"]), MINUTE)
        .await
        .unwrap();
    assert_eq!(
        index.taken().await.1,
        set(&["E2"]),
        "E1's late marker is ignored, E2 has no window"
    );
    let held = Some(in_a_minute());
    index
        .rebuild(
            &[("H1", held), ("E1", None), ("H2", held), ("E2", None), ("E3", None)],
            MINUTE,
        )
        .await;
    assert_eq!(
        index.taken().await.1,
        set(&["H1", "H2", "E2", "E3"]),
        "claims read before E1's cancel do not put it back"
    );
}

/// A large event is rebuilt in parts (ElastiCache Serverless refuses a
/// request of more than 3,999 arguments): every claim arrives, the unsold
/// one stays out, and the index replaces the old one only at the end.
async fn a_large_event_is_rebuilt_in_parts(index: Index) {
    index.rebuild(&[("OLD", None)], MINUTE).await;
    let (t, e) = (&index.tenant, &index.event);
    index
        .locks
        .mirror(
            t,
            e,
            &[(
                seat("S1501"),
                MirroredLock::Unsold {
                    ignore_sold_for: Some(MINUTE),
                },
            )],
        )
        .await
        .unwrap();
    let names: Vec<String> = (0..2_500).map(|n| format!("S{n}")).collect();
    let held = Some(in_a_minute());
    let claims: Vec<(&str, Option<Timestamp>)> = names
        .iter()
        .enumerate()
        .map(|(n, name)| (name.as_str(), if n % 3 == 0 { held } else { None }))
        .collect();
    index.rebuild(&claims, MINUTE).await;
    let expected: Vec<&str> = names.iter().map(String::as_str).filter(|n| *n != "S1501").collect();
    assert_eq!(index.taken().await, (false, set(&expected)));
}

async fn a_stale_or_flushed_index_is_rebuilt(index: Index) {
    index.rebuild(&[("D1", None)], Duration::from_millis(100)).await;
    assert_eq!(index.taken().await, (false, set(&["D1"])));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(index.taken().await, (true, None), "stale: this caller rebuilds");
    assert_eq!(
        index.taken().await,
        (false, set(&["D1"])),
        "the others use the old view meanwhile"
    );
    index.rebuild(&[("D1", None)], MINUTE).await;
    let client = redis::Client::open(index.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL").query_async::<()>(&mut connection).await.unwrap();
    assert_eq!(index.taken().await, (true, None), "flushed: no index, rebuild");
    index.rebuild(&[], MINUTE).await;
    assert_eq!(
        index.taken().await,
        (false, set(&[])),
        "an index with no seat taken exists"
    );
}

macro_rules! index_cases {
    ($setup:ident) => {
        #[tokio::test]
        async fn a_missing_index_hands_one_caller_the_rebuild_lease_then_serves_the_claims() {
            super::a_missing_index_hands_one_caller_the_rebuild_lease_then_serves_the_claims($setup()).await;
        }
        #[tokio::test]
        async fn every_lock_change_keeps_the_index_current() {
            super::every_lock_change_keeps_the_index_current($setup()).await;
        }
        #[tokio::test]
        async fn entries_lapse_with_their_locks_but_a_sale_outlives_its_marker_until_unsold() {
            super::entries_lapse_with_their_locks_but_a_sale_outlives_its_marker_until_unsold($setup()).await;
        }
        #[tokio::test]
        async fn a_cancelled_sale_stays_out_of_the_index_until_its_window_ends() {
            super::a_cancelled_sale_stays_out_of_the_index_until_its_window_ends($setup()).await;
        }
        #[tokio::test]
        async fn a_large_event_is_rebuilt_in_parts() {
            super::a_large_event_is_rebuilt_in_parts($setup()).await;
        }
        #[tokio::test]
        async fn a_stale_or_flushed_index_is_rebuilt() {
            super::a_stale_or_flushed_index_is_rebuilt($setup()).await;
        }
    };
}

/// Its own server: one case flushes it.
fn standalone() -> Index {
    let server = RedisServer::start();
    Index::new(server.url(), false, Box::new(server))
}

fn cluster() -> Index {
    let server = RedisServer::start_cluster();
    Index::new(server.url(), true, Box::new(server))
}

mod standalone {
    use super::standalone as setup;
    index_cases!(setup);
}

mod cluster {
    use super::cluster as setup;
    index_cases!(setup);
}

/// A replacement of a 20 000-seat event inspects every seat's lock: in
/// `MGET`s of at most `INSPECT_PART_KEYS` keys (ElastiCache Serverless
/// refuses a request of more than 3,999 arguments), answered in seat order.
#[tokio::test]
async fn inspecting_twenty_thousand_seats_stays_under_the_argument_limit_and_keeps_seat_order() {
    let index = standalone();
    let seats: Vec<SeatId> = (0..20_000).map(|n| seat(&format!("S{n}"))).collect();
    let hold = HoldId::parse(HOLD).unwrap();
    index
        .locks
        .lock(&index.tenant, &index.event, &[seats[19_999].clone()], hold, MINUTE)
        .await
        .unwrap();
    let client = redis::Client::open(index.url.clone()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mget_calls = async |connection: &mut redis::aio::MultiplexedConnection| {
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(connection)
            .await
            .unwrap();
        info.lines()
            .find_map(|line| line.strip_prefix("cmdstat_mget:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |calls| calls.parse::<usize>().unwrap())
    };
    let before = mget_calls(&mut connection).await;
    let locks = index.locks.inspect(&index.tenant, &index.event, &seats).await.unwrap();
    let calls = mget_calls(&mut connection).await - before;
    assert_eq!(locks.len(), 20_000);
    assert_eq!(locks[19_999], SeatLock::HeldBy(hold), "answers in seat order");
    assert!(locks[..19_999].iter().all(|lock| *lock == SeatLock::Free));
    // Each call carries at most 1 000 keys: 20 of them, not one of 20 000.
    assert_eq!(calls, 20);
}
