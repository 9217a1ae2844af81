//! # Seat locks in Redis (ElastiCache Valkey/Redis)
//!
//! The fast contention filter of I6: advisory, never the decider.
//!
//! - **Keys** `hold:{<tenant>:<event>}:<seat>` hold the owning hold id with a
//!   millisecond TTL, or `SOLD` with the sold-marker TTL (ADR 13);
//!   `unsold:{…}:<seat>` keeps a cancelled sale's seat from being marked
//!   sold again for a while (ADR 13). The `{…}` hash tag puts all seats
//!   of an event in one cluster slot, so one script can touch N seats
//!   atomically on a cluster (ElastiCache Serverless is always cluster mode).
//! - **One round trip per operation**: lock and release are Lua scripts
//!   (called by SHA, reloaded on `NOSCRIPT` by `redis::Script`); inspect is
//!   one pipeline of `MGET`s of at most 1 000 keys; mark-sold the mirror
//!   script. The exception is the rebuild of the availability index, sent
//!   in parts of 1 000 claims: ElastiCache Serverless refuses a request of
//!   more than 3,999 arguments.
//! - **Connections** are built lazily on first use (no network during Lambda
//!   init), reused across invocations, and reconnect by themselves
//!   (`ConnectionManager`, or the cluster client's own reconnects).
//! - **Every call is bounded** by a timeout, so a dead Redis becomes a
//!   `BackendError` (503) well under a second, never a hung Lambda.
//! - **TLS** (`rediss://`, which ElastiCache Serverless requires) is rustls
//!   with the aws-lc-rs provider and TLS 1.2 and 1.3, declared by this crate
//!   rather than borrowed from another crate's features. A connection trusts
//!   exactly the roots in [`RedisSettings::tls_roots_pem`] (the composition
//!   root passes Amazon Trust Services' roots unless told otherwise) and
//!   fails closed: an unknown issuer, a wrong host name or a plain-text
//!   server is a `BackendError`, and `#insecure` URLs are refused at start
//!   (ADR 16).
//!
//! Why redis-rs: docs/adr/0007-real-backends.md.

use std::time::Duration;

use application::ports::{BackendError, LockError, MirroredLock, ReadinessProbe, SeatLock, SeatLocks, TakenSeats};
use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{
    Cmd, ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisError, RedisFuture, Script, TlsCertificates, Value,
};
use rustls::pki_types::pem::PemObject;
use tokio::sync::OnceCell;

const BACKEND: &str = "redis";
const SOLD: &str = "SOLD";

/// The current time in milliseconds by Redis's own clock (the clock its PX
/// TTLs run on), so an index entry lapses exactly when its lock does.
const NOW_MS: &str = r"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function seat_of(key) return string.match(key, '}:(.+)$') end
";

/// Locks every seat for the hold or none; returns the 1-based positions of
/// seats held by another hold or sold (empty: all locked). The last key is
/// the event's availability index: locked seats enter it until their lock
/// lapses.
const LOCK_SCRIPT: &str = r"
local n = #KEYS - 1
local taken = {}
for i = 1, n do
  local owner = redis.call('GET', KEYS[i])
  if owner and owner ~= ARGV[1] then taken[#taken + 1] = i end
end
if #taken > 0 then return taken end
local until_ms = now_ms() + tonumber(ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
  redis.call('ZADD', KEYS[#KEYS], until_ms, seat_of(KEYS[i]))
end
redis.call('PEXPIRE', KEYS[#KEYS], INDEX_TTL_MS)
return taken
";

/// Deletes each key only if it still holds this hold's id (compare-and-delete),
/// and takes the seat out of the index (the last key).
const RELEASE_SCRIPT: &str = r"
local released = 0
for i = 1, #KEYS - 1 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[#KEYS], seat_of(KEYS[i]))
    released = released + 1
  end
end
return released
";

/// Sets the time left of each key still holding this hold's id, and its
/// seat's time in the index (the last key).
const EXTEND_SCRIPT: &str = r"
local until_ms = now_ms() + tonumber(ARGV[2])
for i = 1, #KEYS - 1 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    redis.call('ZADD', KEYS[#KEYS], until_ms, seat_of(KEYS[i]))
  end
end
if redis.call('EXISTS', KEYS[#KEYS]) == 1 then redis.call('PEXPIRE', KEYS[#KEYS], INDEX_TTL_MS) end
return 0
";

/// Writes back the durable claims. KEYS: the n seat keys, then their n
/// unsold keys, then the index. Per seat, ARGV holds a mode and a value.
/// `H <hold>:<ttl ms>`: set only if the key is absent; `S <ttl ms>`: set
/// SOLD, unless the seat's unsold key exists; `U <ttl ms or empty>`: delete
/// the key only if it is SOLD, and set the unsold key for the ttl if one is
/// given (a late `S` of the cancelled sale is then ignored); `F <hold>`: delete the key only if it
/// holds that hold's id. The index (the last key) follows: a sold seat stays
/// in it until unsold (its marker may run out first), and `U` takes out a
/// sold entry even when the marker already ran out.
const MIRROR_SCRIPT: &str = r"
local index = KEYS[#KEYS]
local n = (#KEYS - 1) / 2
local now = now_ms()
for i = 1, n do
  local key = KEYS[i]
  local unsold = KEYS[n + i]
  local mode = ARGV[2 * i - 1]
  local value = ARGV[2 * i]
  if mode == 'H' then
    local sep = string.find(value, ':', 1, true)
    local ttl = string.sub(value, sep + 1)
    if redis.call('SET', key, string.sub(value, 1, sep - 1), 'PX', ttl, 'NX') then
      redis.call('ZADD', index, now + tonumber(ttl), seat_of(key))
    end
  elseif mode == 'S' then
    if redis.call('EXISTS', unsold) == 0 then
      redis.call('SET', key, 'SOLD', 'PX', value)
      redis.call('ZADD', index, SOLD_SCORE, seat_of(key))
    end
  elseif mode == 'U' then
    if redis.call('GET', key) == 'SOLD' then redis.call('DEL', key) end
    if tonumber(redis.call('ZSCORE', index, seat_of(key))) == SOLD_SCORE then
      redis.call('ZREM', index, seat_of(key))
    end
    if value ~= '' then redis.call('SET', unsold, '1', 'PX', value) end
  elseif mode == 'F' then
    if redis.call('GET', key) == value then
      redis.call('DEL', key)
      redis.call('ZREM', index, seat_of(key))
    end
  end
end
if redis.call('EXISTS', index) == 1 then redis.call('PEXPIRE', index, INDEX_TTL_MS) end
return 0
";

/// The index's seats taken now (lapsed entries dropped), whether it exists
/// (a rebuild left its `BUILT` member; a flush or its lapse took it), and
/// whether this caller got the lease to rebuild it: KEYS = index, freshness
/// marker, rebuild lease; ARGV[1] = the lease's length in ms.
const TAKEN_SCRIPT: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
local built = 0
if redis.call('ZSCORE', KEYS[1], BUILT) then built = 1 end
local rebuild = 0
if (built == 0 or redis.call('EXISTS', KEYS[2]) == 0) and redis.call('SET', KEYS[3], '1', 'PX', ARGV[1], 'NX') then
  rebuild = 1
end
return {built, rebuild, redis.call('ZRANGE', KEYS[1], 0, -1)}
";

/// Adds a part of the claims (ARGV: pairs of seat and score) to a rebuild's
/// own staging set (KEYS[1]); KEYS[2..] are the unsold keys of the sold
/// seats, in their order: a seat whose sale was cancelled after the claims
/// were read stays out. The staging set lapses if the rebuild never ends.
const REBUILD_PART_SCRIPT: &str = r"
local sold = 1
for i = 1, #ARGV - 1, 2 do
  if tonumber(ARGV[i + 1]) == SOLD_SCORE then
    sold = sold + 1
    if redis.call('EXISTS', KEYS[sold]) == 0 then redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
  else
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], STAGING_TTL_MS)
return 0
";

/// Ends a rebuild: KEYS = staging set, index, freshness marker, lease;
/// ARGV[1] = freshness in ms, ARGV[2] = '1' if parts were written. The
/// staging set (with its `BUILT` member) replaces the index, which is
/// marked fresh, and the lease is given back. If parts were written but
/// the staging set is gone (a flush meanwhile), nothing is replaced: an
/// index of nothing taken must not be believed.
const REBUILD_FINISH_SCRIPT: &str = r"
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[4])
  return 0
end
redis.call('ZADD', KEYS[1], SOLD_SCORE, BUILT)
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[2], INDEX_TTL_MS)
redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
redis.call('DEL', KEYS[4])
return 1
";

/// Claims per rebuild part: each costs at most three arguments (seat,
/// score, unsold key), so a part stays well under ElastiCache Serverless's
/// limit of 3,999 arguments per request, whatever the event's size.
const REBUILD_PART_CLAIMS: usize = 1_000;
/// Keys per `MGET` of an inspection, under the same argument limit.
pub const INSPECT_PART_KEYS: usize = 1_000;

/// How long a rebuild's staging set outlives its last part.
const STAGING_TTL_MS: u64 = 60_000;

/// The index score of a sold seat: taken until unsold (year 33658).
const SOLD_SCORE: i64 = 1_000_000_000_000_000;

/// The member a rebuild leaves in the index, so an index with no taken
/// seat still exists; seat ids cannot contain `~`.
const BUILT: &str = "~built";

/// How long a caller may take to rebuild the index before another may try.
const REBUILD_LEASE: Duration = Duration::from_secs(10);

/// How long an index outlives its last write: an event nobody changes for
/// an hour leaves nothing behind in Redis. Far longer than a rebuild stays
/// fresh (`INDEX_FRESH_FOR` in place hold, 60 s), so an index never lapses
/// while it still counts as fresh: the next pick after it lapsed rebuilds.
const INDEX_TTL_MS: u64 = 3_600_000;

/// A script with the shared helpers and constants in front of `body`.
fn script(body: &str) -> Script {
    Script::new(&format!(
        "local SOLD_SCORE = {SOLD_SCORE}\nlocal INDEX_TTL_MS = {INDEX_TTL_MS}\nlocal STAGING_TTL_MS = {STAGING_TTL_MS}\nlocal BUILT = '{BUILT}'\n{NOW_MS}{body}"
    ))
}

/// How to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://host:port` or `rediss://host:port` (TLS).
    pub url: String,
    /// Use the cluster protocol (required by ElastiCache Serverless).
    pub cluster: bool,
    /// Upper bound on every operation, connection included.
    pub timeout: Duration,
    /// The certificate authorities a `rediss://` connection trusts, as PEM;
    /// nothing else is trusted. Unused by `redis://`.
    pub tls_roots_pem: Vec<u8>,
}

impl RedisSettings {
    fn tls_certificates(&self) -> TlsCertificates {
        TlsCertificates {
            client_tls: None,
            root_cert: Some(self.tls_roots_pem.clone()),
        }
    }
}

/// rustls needs one crypto provider per process. The AWS SDK's is aws-lc-rs
/// too, so whichever side installs it first installs the same one; if
/// another is installed already, that one serves.
fn install_crypto_provider() {
    let _already_installed = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Whether the URL asks for TLS, as redis-rs itself reads it (any case of
/// `rediss://`, `valkeys://`), so the roots given are never bypassed by a
/// spelling. A URL that switches verification off (`#insecure`) is refused:
/// TLS here never degrades to "encrypted but unauthenticated".
fn wants_tls(url: &str) -> Result<bool, RedisError> {
    match url.into_connection_info()?.addr() {
        ConnectionAddr::TcpTls { insecure: true, .. } => Err(RedisError::from((
            ErrorKind::InvalidClientConfig,
            "#insecure turns certificate checks off; it is refused",
        ))),
        ConnectionAddr::TcpTls { .. } => Ok(true),
        _ => Ok(false),
    }
}

/// Whether `pem` holds at least one certificate and every one of them is a
/// root rustls can trust: what [`RedisSettings::tls_roots_pem`] must hold.
/// The composition root checks a `REDIS_CA_FILE` with it, naming the variable.
pub fn usable_tls_roots(pem: &[u8]) -> bool {
    let Ok(certificates) = rustls::pki_types::CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    let (usable, unusable) = rustls::RootCertStore::empty().add_parsable_certificates(certificates);
    usable > 0 && unusable == 0
}

/// TLS needs at least one root to trust, every one of them usable.
fn check_roots(settings: &RedisSettings) -> Result<(), RedisError> {
    if usable_tls_roots(&settings.tls_roots_pem) {
        return Ok(());
    }
    Err(RedisError::from((
        ErrorKind::InvalidClientConfig,
        "a TLS URL needs trusted root certificates (PEM), every one of them usable",
    )))
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Seat locks in Redis. Build once per process; cheap to share.
pub struct RedisSeatLocks {
    settings: RedisSettings,
    /// The URL asks for TLS ([`wants_tls`]).
    tls: bool,
    connection: OnceCell<Connection>,
    lock: Script,
    release: Script,
    extend: Script,
    mirror: Script,
    taken: Script,
    rebuild_part: Script,
    rebuild_finish: Script,
}

impl std::fmt::Debug for RedisSeatLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSeatLocks")
            .field("cluster", &self.settings.cluster)
            .field("timeout", &self.settings.timeout)
            .finish_non_exhaustive()
    }
}

fn backend_error(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> BackendError {
    BackendError::new(BACKEND, error)
}

impl RedisSeatLocks {
    /// Validates the URL (and, for `rediss://`, the trusted roots);
    /// connects on first use.
    pub fn new(settings: RedisSettings) -> Result<Self, RedisError> {
        let tls = wants_tls(&settings.url)?;
        if tls {
            install_crypto_provider();
            check_roots(&settings)?;
            redis::Client::build_with_tls(settings.url.as_str(), settings.tls_certificates())?;
        } else {
            redis::Client::open(settings.url.as_str())?;
        }
        Ok(Self {
            settings,
            tls,
            connection: OnceCell::new(),
            lock: script(LOCK_SCRIPT),
            release: script(RELEASE_SCRIPT),
            extend: script(EXTEND_SCRIPT),
            mirror: script(MIRROR_SCRIPT),
            taken: script(TAKEN_SCRIPT),
            rebuild_part: script(REBUILD_PART_SCRIPT),
            rebuild_finish: script(REBUILD_FINISH_SCRIPT),
        })
    }

    async fn connect(&self) -> Result<Connection, RedisError> {
        let timeout = self.settings.timeout;
        if self.settings.cluster {
            let mut builder = ClusterClientBuilder::new(vec![self.settings.url.as_str()])
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(1);
            if self.tls {
                builder = builder.certs(self.settings.tls_certificates());
            }
            let client = builder.build()?;
            Ok(Connection::Cluster(client.get_async_connection().await?))
        } else {
            let client = if self.tls {
                redis::Client::build_with_tls(self.settings.url.as_str(), self.settings.tls_certificates())?
            } else {
                redis::Client::open(self.settings.url.as_str())?
            };
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(100));
            Ok(Connection::Single(ConnectionManager::new_lazy_with_config(
                client, config,
            )?))
        }
    }

    /// Runs `operation` on the shared connection within the timeout. A
    /// connection that broke (Redis restarted, failover) is retried once on
    /// the reconnected connection: every operation here is idempotent.
    async fn run<T, F>(&self, operation: impl Fn(Connection) -> F) -> Result<T, BackendError>
    where
        F: Future<Output = Result<T, RedisError>>,
    {
        let work = async {
            let connection = self.connection.get_or_try_init(|| self.connect()).await?.clone();
            match operation(connection.clone()).await {
                Err(error) if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal() => {
                    operation(connection).await
                }
                result => result,
            }
        };
        match tokio::time::timeout(self.settings.timeout, work).await {
            Ok(result) => result.map_err(backend_error),
            Err(_) => Err(backend_error(format!("no answer within {:?}", self.settings.timeout))),
        }
    }
}

/// `hold:{tenant:event}:seat`. Ids cannot contain `{`, `}` or `:` (see
/// `domain::ids`), so keys are unambiguous and the hash tag is exact.
pub fn seat_key(tenant: &TenantId, event: &EventId, seat: &SeatId) -> String {
    format!("hold:{{{tenant}:{event}}}:{seat}")
}

/// `unsold:{tenant:event}:seat`: present while a cancelled sale's seat
/// ignores sold markers ([`MirroredLock::Unsold`]); same slot as the seat.
pub fn unsold_key(tenant: &TenantId, event: &EventId, seat: &SeatId) -> String {
    format!("unsold:{{{tenant}:{event}}}:{seat}")
}

/// The event's availability index and its freshness marker and rebuild
/// lease, in the same slot as its seats.
pub fn index_keys(tenant: &TenantId, event: &EventId) -> [String; 3] {
    [
        format!("taken:{{{tenant}:{event}}}"),
        format!("taken-fresh:{{{tenant}:{event}}}"),
        format!("taken-lease:{{{tenant}:{event}}}"),
    ]
}

/// The seats' keys, then the event's index: what every lock script takes.
fn keys(tenant: &TenantId, event: &EventId, seats: &[SeatId]) -> Vec<String> {
    let [index, ..] = index_keys(tenant, event);
    seats
        .iter()
        .map(|seat| seat_key(tenant, event, seat))
        .chain(std::iter::once(index))
        .collect()
}

fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn lock_state(value: Option<&str>) -> Result<SeatLock, BackendError> {
    match value {
        None => Ok(SeatLock::Free),
        Some(SOLD) => Ok(SeatLock::Sold),
        Some(owner) => HoldId::parse(owner)
            .map(SeatLock::HeldBy)
            .map_err(|_| backend_error(format!("unexpected seat lock value {owner:?}"))),
    }
}

#[async_trait]
impl SeatLocks for RedisSeatLocks {
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError> {
        if seats.is_empty() {
            return Ok(());
        }
        let keys = keys(tenant, event, seats);
        let taken: Vec<usize> = self
            .run(|mut connection| {
                let keys = keys.clone();
                async move {
                    let mut invocation = self.lock.prepare_invoke();
                    invocation.key(keys).arg(hold.to_string()).arg(ttl_millis(ttl));
                    invocation.invoke_async(&mut connection).await
                }
            })
            .await?;
        if taken.is_empty() {
            return Ok(());
        }
        let unavailable = taken
            .iter()
            .filter_map(|position| seats.get(position.wrapping_sub(1)).cloned())
            .collect();
        Err(LockError::Unavailable(unavailable))
    }

    async fn release(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
    ) -> Result<(), BackendError> {
        if seats.is_empty() {
            return Ok(());
        }
        let keys = keys(tenant, event, seats);
        let _released: u64 = self
            .run(|mut connection| {
                let keys = keys.clone();
                async move {
                    let mut invocation = self.release.prepare_invoke();
                    invocation.key(keys).arg(hold.to_string());
                    invocation.invoke_async(&mut connection).await
                }
            })
            .await?;
        Ok(())
    }

    async fn inspect(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<SeatLock>, BackendError> {
        if seats.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = seats.iter().map(|seat| seat_key(tenant, event, seat)).collect();
        // One pipeline of MGETs of at most `INSPECT_PART_KEYS` keys each: one
        // round trip, and no request over ElastiCache Serverless' limit of
        // 3,999 arguments (a replacement inspects up to 20 000 seats).
        let mut pipeline = redis::pipe();
        for part in keys.chunks(INSPECT_PART_KEYS) {
            pipeline.cmd("MGET").arg(part);
        }
        let parts: Vec<Vec<Option<String>>> = self
            .run(|mut connection| {
                let pipeline = pipeline.clone();
                async move { pipeline.query_async(&mut connection).await }
            })
            .await?;
        parts.iter().flatten().map(|v| lock_state(v.as_deref())).collect()
    }

    async fn mark_sold(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        ttl: Duration,
    ) -> Result<(), BackendError> {
        if seats.is_empty() {
            return Ok(());
        }
        // The mirror script: one round trip, atomic, on any deployment.
        let sold: Vec<(SeatId, MirroredLock)> = seats
            .iter()
            .map(|seat| (seat.clone(), MirroredLock::Sold { ttl }))
            .collect();
        self.mirror(tenant, event, &sold).await
    }

    async fn extend(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        if seats.is_empty() {
            return Ok(());
        }
        let keys = keys(tenant, event, seats);
        self.run(|mut connection| {
            let keys = keys.clone();
            async move {
                let mut invocation = self.extend.prepare_invoke();
                invocation.key(keys).arg(hold.to_string()).arg(ttl_millis(ttl));
                invocation.invoke_async::<i64>(&mut connection).await
            }
        })
        .await
        .map(drop)
    }

    async fn mirror(
        &self,
        tenant: &TenantId,
        event: &EventId,
        locks: &[(SeatId, MirroredLock)],
    ) -> Result<(), BackendError> {
        if locks.is_empty() {
            return Ok(());
        }
        let [index, ..] = index_keys(tenant, event);
        let keys: Vec<String> = locks
            .iter()
            .map(|(seat, _)| seat_key(tenant, event, seat))
            .chain(locks.iter().map(|(seat, _)| unsold_key(tenant, event, seat)))
            .chain(std::iter::once(index))
            .collect();
        let args: Vec<String> = locks
            .iter()
            .flat_map(|(_, lock)| match lock {
                MirroredLock::Held { hold, ttl } => ["H".to_owned(), format!("{hold}:{}", ttl_millis(*ttl))],
                MirroredLock::Sold { ttl } => ["S".to_owned(), ttl_millis(*ttl).to_string()],
                MirroredLock::Unsold { ignore_sold_for } => [
                    "U".to_owned(),
                    ignore_sold_for
                        .map(|window| ttl_millis(window).to_string())
                        .unwrap_or_default(),
                ],
                MirroredLock::Free { owner } => ["F".to_owned(), owner.to_string()],
            })
            .collect();
        self.run(|mut connection| {
            let (keys, args) = (keys.clone(), args.clone());
            async move {
                let mut invocation = self.mirror.prepare_invoke();
                invocation.key(keys).arg(args);
                invocation.invoke_async::<i64>(&mut connection).await
            }
        })
        .await
        .map(drop)
    }

    async fn taken(&self, tenant: &TenantId, event: &EventId) -> Result<TakenSeats, BackendError> {
        let keys = index_keys(tenant, event);
        let (built, rebuild, members): (i64, i64, Vec<String>) = self
            .run(|mut connection| {
                let keys = keys.clone();
                async move {
                    let mut invocation = self.taken.prepare_invoke();
                    invocation.key(&keys[..]).arg(ttl_millis(REBUILD_LEASE));
                    invocation.invoke_async(&mut connection).await
                }
            })
            .await?;
        let seats = members
            .iter()
            .filter(|member| *member != BUILT)
            .map(|seat| SeatId::parse(seat).map_err(|e| backend_error(format!("index member {seat:?}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(match (built == 1, rebuild == 1) {
            (_, true) => TakenSeats::RebuildByCaller,
            (true, false) => TakenSeats::Indexed(seats),
            (false, false) => TakenSeats::Unindexed,
        })
    }

    async fn rebuild_taken(
        &self,
        tenant: &TenantId,
        event: &EventId,
        claims: &[(SeatId, Option<Timestamp>)],
        fresh_for: Duration,
    ) -> Result<(), BackendError> {
        let [index, fresh, lease] = index_keys(tenant, event);
        let staging = staging_key(tenant, event);
        for part in rebuild_parts(tenant, event, &staging, claims) {
            self.run(|mut connection| {
                let (keys, args) = (part.keys.clone(), part.args.clone());
                async move {
                    let mut invocation = self.rebuild_part.prepare_invoke();
                    invocation.key(keys).arg(args);
                    invocation.invoke_async::<i64>(&mut connection).await
                }
            })
            .await?;
        }
        let keys = [staging, index, fresh, lease];
        let wrote_parts = if claims.is_empty() { "0" } else { "1" };
        let replaced: i64 = self
            .run(|mut connection| {
                let keys = keys.clone();
                async move {
                    let mut invocation = self.rebuild_finish.prepare_invoke();
                    invocation.key(&keys[..]).arg(ttl_millis(fresh_for)).arg(wrote_parts);
                    invocation.invoke_async(&mut connection).await
                }
            })
            .await?;
        if replaced == 1 {
            Ok(())
        } else {
            Err(backend_error(
                "the availability index's rebuild was lost (Redis flushed meanwhile)",
            ))
        }
    }
}

/// One call of the rebuild's part script: its keys and arguments.
#[derive(Debug)]
struct RebuildPart {
    keys: Vec<String>,
    args: Vec<String>,
}

/// The claims in parts of [`REBUILD_PART_CLAIMS`]: per part, the staging
/// set and the unsold key of each sold seat, then seat and score pairs.
fn rebuild_parts(
    tenant: &TenantId,
    event: &EventId,
    staging: &str,
    claims: &[(SeatId, Option<Timestamp>)],
) -> Vec<RebuildPart> {
    claims
        .chunks(REBUILD_PART_CLAIMS)
        .map(|part| {
            let mut keys = vec![staging.to_owned()];
            let mut args = Vec::with_capacity(2 * part.len());
            for (seat, until) in part {
                args.push(seat.to_string());
                args.push(until.map_or(SOLD_SCORE, Timestamp::as_millis).to_string());
                if until.is_none() {
                    keys.push(unsold_key(tenant, event, seat));
                }
            }
            RebuildPart { keys, args }
        })
        .collect()
}

/// A rebuild's own staging set, in the event's slot: unique per call, so
/// two rebuilds (one outliving its lease) never mix their parts.
fn staging_key(tenant: &TenantId, event: &EventId) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("taken-building:{{{tenant}:{event}}}:{}-{nanos}-{n}", std::process::id())
}

#[async_trait]
impl ReadinessProbe for RedisSeatLocks {
    fn name(&self) -> &'static str {
        BACKEND
    }

    async fn check(&self) -> Result<(), BackendError> {
        self.run(|mut connection| async move { redis::cmd("PING").query_async::<String>(&mut connection).await })
            .await
            .map(drop)
    }

    /// The seat locks are the fast filter, not the decider (I8): without
    /// them the service is degraded, not down.
    fn required(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seat_of_an_event_shares_one_hash_tag() {
        let tenant = TenantId::parse("acme").unwrap();
        let event = EventId::parse("gig").unwrap();
        let key = seat_key(&tenant, &event, &SeatId::parse("A-1").unwrap());
        assert_eq!(key, "hold:{acme:gig}:A-1");
    }

    #[test]
    fn a_lock_value_is_free_sold_or_a_hold_id_and_anything_else_is_an_error() {
        let hold = "01890a5d-ac96-774b-bcce-b302099a8057";
        assert_eq!(lock_state(None).unwrap(), SeatLock::Free);
        assert_eq!(lock_state(Some(SOLD)).unwrap(), SeatLock::Sold);
        assert_eq!(
            lock_state(Some(hold)).unwrap(),
            SeatLock::HeldBy(HoldId::parse(hold).unwrap())
        );
        assert!(lock_state(Some("garbage")).is_err());
    }

    #[test]
    fn a_rebuild_of_the_largest_event_stays_under_serverless_argument_limit_per_call() {
        let tenant = TenantId::parse("acme").unwrap();
        let event = EventId::parse("gig").unwrap();
        // 20 000 claims, every other one sold (a sold claim adds a key).
        let claims: Vec<(SeatId, Option<Timestamp>)> = (0..20_000)
            .map(|n| {
                let until = (n % 2 == 1).then(|| Timestamp::from_millis(n));
                (SeatId::parse(&format!("S{n}")).unwrap(), until)
            })
            .collect();
        let parts = rebuild_parts(&tenant, &event, "staging", &claims);
        assert_eq!(parts.len(), 20);
        for part in &parts {
            // EVALSHA, sha, numkeys, keys, args.
            assert!(
                3 + part.keys.len() + part.args.len() < 3_999,
                "{}",
                part.keys.len() + part.args.len()
            );
        }
        let sent: usize = parts.iter().map(|p| p.args.len() / 2).sum();
        let sold_keys: usize = parts.iter().map(|p| p.keys.len() - 1).sum();
        assert_eq!((sent, sold_keys), (20_000, 10_000));
        assert_eq!(parts[0].keys[1], "unsold:{acme:gig}:S0");
    }

    #[test]
    fn a_ttl_is_sent_in_whole_milliseconds_and_never_zero() {
        assert_eq!(ttl_millis(Duration::from_secs(600)), 600_000);
        assert_eq!(ttl_millis(Duration::ZERO), 1);
    }
}
