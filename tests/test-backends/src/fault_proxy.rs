//! # A TCP proxy that injects network faults
//!
//! [`FaultProxy`] sits between an adapter and a real backend (Redis, DynamoDB
//! Local): the adapter is pointed at `127.0.0.1:<proxy port>` and the proxy
//! forwards every byte to `127.0.0.1:<target>`. A test then switches faults on
//! and off at any moment, on live connections, to see the failures production
//! networks produce without mocking the backend. Each fault exists because it
//! reaches a code path nothing else does:
//!
//! - [`FaultProxy::set_delay`] — every chunk, both directions, waits: a
//!   congested network or a backend under load. Exercises timeouts and the
//!   behaviour of a slow but healthy dependency.
//! - [`FaultProxy::delay_replies`] — requests reach the backend at once, only
//!   the replies wait: **the write was applied but the reply arrives after the
//!   client's timeout**. This is the case that breaks naive retry logic (the
//!   client cannot tell "not done" from "done, answer lost"), so exactly-once
//!   code must be tested against it.
//! - [`FaultProxy::refuse`] — new connections are accepted and closed at once
//!   and live ones are cut: to the client it looks like a stopped or
//!   restarting server ("connection refused/reset", EOF), while the backend
//!   itself keeps its data. Exercises reconnects and fail-fast paths without
//!   killing the backend process.
//! - [`FaultProxy::cut_replies_after`] — a reply is cut mid-way and the
//!   connection closed: a crash or network drop *while* the answer is on the
//!   wire. Exercises the parsers' and clients' handling of truncated replies
//!   (which must be an error, never a half-read value).
//! - [`FaultProxy::throttle_every`] — for an HTTP backend (DynamoDB): every
//!   n-th request is answered by the proxy itself with DynamoDB's throttling
//!   error (HTTP 400 `ProvisionedThroughputExceededException`) and never
//!   reaches the backend, as a table over its capacity answers. Exercises the
//!   SDK's retry of throttled calls and the service's load shedding, which a
//!   slow reply does not (a throttled call fails at once, and is known not
//!   to have been applied).
//! - [`FaultProxy::heal`] — everything off again, to test recovery.
//!
//! It is plain `std` with threads: one accept loop, and two forwarding threads
//! per connection (one per direction), all blocking — no polling.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The most a forwarding thread reads (and so forwards) at once.
const CHUNK: usize = 16 * 1024;

/// A TCP proxy in front of a backend that injects faults on demand (see the
/// [module docs](self) for why each one exists). Every setter takes effect at
/// once, on existing connections too. Dropping it stops accepting new
/// connections; connections already open keep being forwarded until either
/// side closes.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
}

/// What the proxy handle, the accept loop and the forwarding threads share.
#[derive(Debug, Default)]
struct Shared {
    /// [`FaultProxy::set_delay`], in nanoseconds.
    delay_nanos: AtomicU64,
    /// [`FaultProxy::delay_replies`], in nanoseconds.
    reply_delay_nanos: AtomicU64,
    /// [`FaultProxy::refuse`].
    refusing: AtomicBool,
    /// [`FaultProxy::cut_replies_after`]: `0` is off, `n + 1` is `Some(n)`.
    cut_after: AtomicUsize,
    /// [`FaultProxy::throttle_every`]: `0` is off.
    throttle_every: AtomicUsize,
    /// HTTP requests seen while throttling is on, to pick every n-th.
    throttle_count: AtomicUsize,
    /// Requests answered with the throttling error so far.
    throttled: AtomicUsize,
    /// Set on drop: the accept loop ends.
    stop: AtomicBool,
    /// Connections accepted so far.
    accepted: AtomicUsize,
    /// Replies held back by [`FaultProxy::delay_replies`] so far.
    replies_held: AtomicUsize,
    /// The connections being forwarded right now, so that `refuse` can cut them.
    live: Mutex<Vec<Live>>,
}

/// One forwarded connection: clones of both of its sockets.
#[derive(Debug)]
struct Live {
    id: u64,
    client: TcpStream,
    server: TcpStream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client → backend.
    Request,
    /// Backend → client.
    Reply,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Closes a connection both ways on both sides: blocked reads return 0 and
/// writes fail, so both forwarding threads end.
fn cut(client: &TcpStream, server: &TcpStream) {
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

impl Shared {
    fn live(&self) -> MutexGuard<'_, Vec<Live>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refusing(&self) -> bool {
        self.refusing.load(Ordering::SeqCst)
    }

    fn cut_after(&self) -> Option<usize> {
        self.cut_after.load(Ordering::SeqCst).checked_sub(1)
    }

    /// How long a chunk going `direction` waits before it is forwarded.
    fn wait(&self, direction: Direction) -> Duration {
        let both = self.delay_nanos.load(Ordering::SeqCst);
        let extra = match direction {
            Direction::Request => 0,
            Direction::Reply => self.reply_delay_nanos.load(Ordering::SeqCst),
        };
        Duration::from_nanos(both.saturating_add(extra))
    }

    /// Cuts every live connection.
    fn cut_all(&self) {
        for live in self.live().drain(..) {
            cut(&live.client, &live.server);
        }
    }

    /// A connection is over: closes it and forgets it.
    fn finish(&self, id: u64, from: &TcpStream, to: &TcpStream) {
        cut(from, to);
        self.live().retain(|live| live.id != id);
    }
}

impl FaultProxy {
    /// Forwards `127.0.0.1:`[`port()`](Self::port) to `127.0.0.1:target`, without any fault for now.
    pub fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port for the proxy");
        let port = listener.local_addr().expect("the proxy's port").port();
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        std::thread::spawn(move || accept_loop(&listener, target, &accepting));
        Self { port, shared }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far (a process that connects during init shows
    /// here), refused ones included.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Replies (chunks read from the backend) that [`delay_replies`](Self::delay_replies)
    /// has held back so far, counted when the wait starts: a test waits for
    /// it to grow to know a write reached the backend and its answer is
    /// being held, instead of guessing how long that takes.
    pub fn replies_held(&self) -> usize {
        self.shared.replies_held.load(Ordering::SeqCst)
    }

    /// From now on every forwarded chunk, in both directions, waits `delay`
    /// (`Duration::ZERO`: no wait).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.delay_nanos.store(nanos(delay), Ordering::SeqCst);
    }

    /// From now on only replies (backend → client) wait `delay`, on top of any
    /// [`set_delay`](Self::set_delay); requests reach the backend at once. The
    /// backend applies a write while its answer is held back: past the
    /// client's timeout, the client sees a failure for a write that happened.
    /// `Duration::ZERO` turns it off.
    pub fn delay_replies(&self, delay: Duration) {
        self.shared.reply_delay_nanos.store(nanos(delay), Ordering::SeqCst);
    }

    /// While `true`, the backend looks down: every new connection is accepted
    /// and closed at once (never forwarded), and the connections open now are
    /// cut both ways. A client sees what a stopped server gives it — EOF on
    /// read, "connection reset" / "broken pipe" on write, an error from a
    /// connection pool's health check — while the backend keeps its state.
    /// (A true RST would need `SO_LINGER` 0, which std cannot set; a client
    /// that still had data in flight gets one from the kernel anyway.)
    /// `false` accepts and forwards again; cut connections stay cut.
    pub fn refuse(&self, refuse: bool) {
        self.shared.refusing.store(refuse, Ordering::SeqCst);
        if refuse {
            self.shared.cut_all();
        }
    }

    /// While `Some(n)`, each chunk read from the backend (one `read` of at
    /// most 16 KiB, usually a whole small reply) is forwarded only up to its
    /// first `n` bytes, then that connection is closed both ways: the client
    /// gets a truncated reply and EOF, as when a connection drops mid-reply.
    /// Every connection that receives a reply while this is on is cut that
    /// way; requests are not affected. `None` turns it off.
    pub fn cut_replies_after(&self, bytes: Option<usize>) {
        let encoded = bytes.map_or(0, |n| n.saturating_add(1));
        self.shared.cut_after.store(encoded, Ordering::SeqCst);
    }

    /// While `Some(n)`, the proxy reads the requests as HTTP/1.1 (the AWS
    /// SDK's: a `Content-Length` body, one request at a time per connection)
    /// and answers every n-th itself with DynamoDB's throttling error, HTTP
    /// 400 with `__type` `ProvisionedThroughputExceededException`; that
    /// request never reaches the backend. The others pass untouched. `None`
    /// turns it off. Only for an HTTP backend.
    pub fn throttle_every(&self, every: Option<usize>) {
        self.shared.throttle_every.store(every.unwrap_or(0), Ordering::SeqCst);
    }

    /// Requests [`throttle_every`](Self::throttle_every) answered itself so far.
    pub fn throttled(&self) -> usize {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Turns every fault off: no delay, no reply delay, accepting, no cuts,
    /// no throttling.
    pub fn heal(&self) {
        self.throttle_every(None);
        self.set_delay(Duration::ZERO);
        self.delay_replies(Duration::ZERO);
        self.cut_replies_after(None);
        self.refuse(false);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accept_loop(listener: &TcpListener, target: u16, shared: &Arc<Shared>) {
    let mut next_id = 0_u64;
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let Ok(client) = client else {
            continue;
        };
        if shared.refusing() {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let clones = || -> std::io::Result<_> {
            Ok((
                client.try_clone()?,
                server.try_clone()?,
                client.try_clone()?,
                server.try_clone()?,
            ))
        };
        let Ok((client_to_keep, server_to_keep, client_to_write, server_to_write)) = clones() else {
            continue;
        };
        next_id += 1;
        let id = next_id;
        {
            let mut live = shared.live();
            // Checked under the lock `refuse` cuts under: a connection is either
            // refused here or registered before `refuse` cuts them all.
            if shared.refusing() {
                cut(&client, &server);
                continue;
            }
            live.push(Live {
                id,
                client: client_to_keep,
                server: server_to_keep,
            });
        }
        let Ok(client_to_answer) = client.try_clone() else {
            cut(&client, &server);
            continue;
        };
        let request_shared = shared.clone();
        std::thread::spawn(move || forward_requests(&request_shared, id, client, server_to_write, client_to_answer));
        let reply_shared = shared.clone();
        std::thread::spawn(move || forward(&reply_shared, id, server, client_to_write, Direction::Reply));
    }
}

/// The answer of a DynamoDB table over its capacity.
const THROTTLED_BODY: &str = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\",\
\"message\":\"The level of configured provisioned throughput for the table was exceeded (fault proxy)\"}";

fn throttled_answer() -> Vec<u8> {
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n\
         x-amzn-RequestId: fault-proxy-throttled\r\nx-amzn-ErrorType: ProvisionedThroughputExceededException\r\n\
         Content-Length: {}\r\n\r\n{THROTTLED_BODY}",
        THROTTLED_BODY.len()
    )
    .into_bytes()
}

/// The length of the whole HTTP/1.1 request at the start of `bytes` (head
/// and `Content-Length` body), once all of it is there; `Err` when `bytes`
/// do not start with a request head this proxy can frame (then it forwards
/// them as they are).
fn http_request_length(bytes: &[u8]) -> Result<Option<usize>, ()> {
    // A request starts with its method (`POST `); anything else is not one.
    let method = bytes.iter().take_while(|byte| **byte != b' ').count();
    if !bytes[..method].iter().all(u8::is_ascii_uppercase) || method > 7 {
        return Err(());
    }
    let Some(head_end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") else {
        // A head is a few hundred bytes: this much without its end is not one.
        return if bytes.len() > CHUNK { Err(()) } else { Ok(None) };
    };
    if method == 0 {
        return Err(());
    }
    let head = std::str::from_utf8(&bytes[..head_end]).map_err(|_| ())?;
    let mut body = 0_usize;
    for line in head.split("\r\n").skip(1) {
        let (name, value) = line.split_once(':').ok_or(())?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            body = value.trim().parse().map_err(|_| ())?;
        } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
            return Err(()); // Chunked bodies are not framed here.
        }
    }
    let total = head_end + 4 + body;
    Ok((bytes.len() >= total).then_some(total))
}

/// The request direction: [`forward`], except that while
/// [`FaultProxy::throttle_every`] is on it frames the HTTP requests and
/// answers every n-th itself on `answer` (the client's socket) instead of
/// forwarding it. No reply is in flight then: the client sends its next
/// request on a connection only once the last reply is in.
fn forward_requests(shared: &Shared, id: u64, mut from: TcpStream, mut to: TcpStream, mut answer: TcpStream) {
    let mut buffer = vec![0_u8; CHUNK];
    let mut pending: Vec<u8> = Vec::new();
    while let Ok(read) = from.read(&mut buffer) {
        if read == 0 {
            break;
        }
        let every = shared.throttle_every.load(Ordering::SeqCst);
        if every == 0 && pending.is_empty() {
            if !pass(shared, &buffer[..read], &mut to, Direction::Request) {
                break;
            }
            continue;
        }
        pending.extend_from_slice(&buffer[..read]);
        let mut broken = false;
        loop {
            match http_request_length(&pending) {
                Ok(None) => break,
                Ok(Some(length)) => {
                    let request: Vec<u8> = pending.drain(..length).collect();
                    let seen = shared.throttle_count.fetch_add(1, Ordering::SeqCst) + 1;
                    if every > 0 && seen.is_multiple_of(every) {
                        shared.throttled.fetch_add(1, Ordering::SeqCst);
                        if answer.write_all(&throttled_answer()).is_err() {
                            broken = true;
                            break;
                        }
                    } else if !pass(shared, &request, &mut to, Direction::Request) {
                        broken = true;
                        break;
                    }
                }
                Err(()) => {
                    let unframed = std::mem::take(&mut pending);
                    broken = !pass(shared, &unframed, &mut to, Direction::Request);
                    break;
                }
            }
        }
        if broken {
            break;
        }
    }
    shared.finish(id, &from, &to);
}

/// Forwards one chunk going `direction` with the delays and cuts on now;
/// `false` when the connection is over.
fn pass(shared: &Shared, chunk: &[u8], to: &mut TcpStream, direction: Direction) -> bool {
    let wait = shared.wait(direction);
    if direction == Direction::Reply && shared.reply_delay_nanos.load(Ordering::SeqCst) > 0 {
        shared.replies_held.fetch_add(1, Ordering::SeqCst);
    }
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    if shared.refusing() {
        return false;
    }
    let cut_after = match direction {
        Direction::Request => None,
        Direction::Reply => shared.cut_after(),
    };
    let chunk = &chunk[..cut_after.map_or(chunk.len(), |limit| chunk.len().min(limit))];
    to.write_all(chunk).is_ok() && cut_after.is_none()
}

/// Copies `from` to `to`, chunk by chunk, applying the faults, until either
/// side closes or a fault cuts the connection; then closes it.
fn forward(shared: &Shared, id: u64, mut from: TcpStream, mut to: TcpStream, direction: Direction) {
    let mut buffer = vec![0_u8; CHUNK];
    while let Ok(read) = from.read(&mut buffer) {
        if read == 0 {
            break;
        }
        if !pass(shared, &buffer[..read], &mut to, direction) {
            break;
        }
    }
    shared.finish(id, &from, &to);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::DelayProxy;
    use std::io::ErrorKind;
    use std::sync::mpsc::{Receiver, channel};
    use std::time::Instant;

    /// No read in these tests waits longer: a broken proxy fails, never hangs.
    const TIMEOUT: Duration = Duration::from_secs(1);

    /// A backend answering every chunk it reads with `echo:` + the chunk, in
    /// one write, reporting when it read each chunk.
    fn backend() -> (u16, Receiver<(Instant, Vec<u8>)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (seen, requests) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0_u8; 1024];
                    while let Ok(read @ 1..) = stream.read(&mut buffer) {
                        let _ = seen.send((Instant::now(), buffer[..read].to_vec()));
                        let reply = [b"echo:", &buffer[..read]].concat();
                        if stream.write_all(&reply).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (port, requests)
    }

    fn connect(proxy: &FaultProxy) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream
    }

    /// Sends `request` and reads the whole `echo:` reply.
    fn exchange(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
        stream.write_all(request).unwrap();
        let mut reply = vec![0_u8; b"echo:".len() + request.len()];
        stream.read_exact(&mut reply).unwrap();
        reply
    }

    /// Everything until EOF; a timeout or error fails the test.
    fn read_to_eof(stream: &mut TcpStream) -> Vec<u8> {
        let mut received = Vec::new();
        stream.read_to_end(&mut received).unwrap();
        received
    }

    /// The proxy closed this connection: a read ends promptly with EOF or a reset,
    /// not with data and not by the read timeout.
    fn assert_closed(stream: &mut TcpStream) {
        let started = Instant::now();
        let mut buffer = [0_u8; 64];
        match stream.read(&mut buffer) {
            Ok(0) => {}
            Err(error) if matches!(error.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {}
            other => panic!("expected a closed connection, got {other:?}"),
        }
        assert!(
            started.elapsed() < TIMEOUT / 2,
            "closed only after {:?}",
            started.elapsed()
        );
    }

    fn wait_for_no_live_connections(proxy: &FaultProxy) {
        let started = Instant::now();
        while !proxy.shared.live().is_empty() {
            assert!(started.elapsed() < TIMEOUT, "finished connections stay registered");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn forwards_both_ways_counts_and_forgets_finished_connections() {
        let (target, requests) = backend();
        let proxy = FaultProxy::start(target);
        for _ in 0..3 {
            let mut stream = connect(&proxy);
            assert_eq!(exchange(&mut stream, b"ping"), b"echo:ping");
            assert_eq!(exchange(&mut stream, b"again"), b"echo:again");
        }
        assert_eq!(proxy.connections(), 3);
        assert_eq!(requests.try_iter().count(), 6);
        wait_for_no_live_connections(&proxy);
    }

    #[test]
    fn set_delay_slows_both_directions_as_delay_proxy() {
        const DELAY: Duration = Duration::from_millis(150);
        let (target, requests) = backend();
        let proxy: DelayProxy = DelayProxy::start(target);
        let mut stream = connect(&proxy);
        proxy.set_delay(DELAY);
        let sent = Instant::now();
        assert_eq!(exchange(&mut stream, b"slow"), b"echo:slow");
        let replied = sent.elapsed();
        let (seen, _) = requests.recv_timeout(TIMEOUT).unwrap();
        assert!(seen.duration_since(sent) >= DELAY, "request not delayed");
        assert!(replied >= 2 * DELAY, "round trip took only {replied:?}");
    }

    #[test]
    fn delay_replies_holds_back_only_the_reply() {
        const DELAY: Duration = Duration::from_millis(400);
        let (target, requests) = backend();
        let proxy = FaultProxy::start(target);
        let mut stream = connect(&proxy);
        proxy.delay_replies(DELAY);
        let sent = Instant::now();
        stream.write_all(b"write").unwrap();
        // The backend has the request (the write is applied) while the reply is held.
        let (seen, request) = requests.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(request, b"write");
        while proxy.replies_held() == 0 {
            assert!(sent.elapsed() < DELAY, "the held reply was not counted");
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut reply = [0_u8; 10];
        stream.read_exact(&mut reply).unwrap();
        let replied = Instant::now();
        assert_eq!(&reply, b"echo:write");
        assert!(seen.duration_since(sent) < DELAY / 2, "request held back too");
        assert!(replied.duration_since(sent) >= DELAY, "reply not delayed");
        assert!(
            replied.duration_since(seen) >= DELAY,
            "the backend saw it only just before the reply"
        );

        proxy.delay_replies(Duration::ZERO);
        let sent = Instant::now();
        assert_eq!(exchange(&mut stream, b"fast"), b"echo:fast");
        assert!(sent.elapsed() < DELAY / 2, "Duration::ZERO did not turn it off");
        assert_eq!(proxy.replies_held(), 1, "a reply that was not held was counted");
    }

    #[test]
    fn refuse_cuts_live_connections_and_closes_new_ones_until_healed() {
        let (target, requests) = backend();
        let proxy = FaultProxy::start(target);
        let mut live = connect(&proxy);
        assert_eq!(exchange(&mut live, b"before"), b"echo:before");
        assert_eq!(requests.try_iter().count(), 1);

        proxy.refuse(true);
        assert_closed(&mut live);
        let mut refused = connect(&proxy);
        assert_closed(&mut refused);
        assert_eq!(proxy.connections(), 2, "a refused connection is still accepted");
        assert!(requests.try_recv().is_err(), "the backend got a request while refused");
        wait_for_no_live_connections(&proxy);

        proxy.heal();
        let mut after = connect(&proxy);
        assert_eq!(exchange(&mut after, b"after"), b"echo:after");
    }

    #[test]
    fn cut_replies_after_delivers_a_prefix_then_eof() {
        let (target, requests) = backend();
        let proxy = FaultProxy::start(target);
        let mut stream = connect(&proxy);
        proxy.cut_replies_after(Some(3));
        stream.write_all(b"ping").unwrap();
        assert_eq!(read_to_eof(&mut stream), b"ech");
        let (_, request) = requests.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(request, b"ping", "requests pass untouched");
        wait_for_no_live_connections(&proxy);

        proxy.cut_replies_after(None);
        let mut stream = connect(&proxy);
        assert_eq!(exchange(&mut stream, b"whole"), b"echo:whole");
    }

    #[test]
    fn throttle_every_answers_every_nth_http_request_itself_and_forwards_the_rest() {
        let (target, requests) = backend();
        let proxy = FaultProxy::start(target);
        let mut stream = connect(&proxy);
        proxy.throttle_every(Some(2));
        let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab";
        // The first, sent in two pieces, is framed whole and forwarded.
        stream.write_all(&request[..20]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        stream.write_all(&request[20..]).unwrap();
        let mut reply = vec![0_u8; b"echo:".len() + request.len()];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(&reply[5..], request);
        // The second is answered by the proxy, and never reaches the backend.
        stream.write_all(request).unwrap();
        let throttled = throttled_answer();
        let mut answer = vec![0_u8; throttled.len()];
        stream.read_exact(&mut answer).unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(answer.ends_with('}') && answer.contains("ProvisionedThroughputExceededException"));
        assert_eq!(proxy.throttled(), 1);
        let seen: Vec<u8> = requests.try_iter().flat_map(|(_, bytes)| bytes).collect();
        assert_eq!(seen, request, "the backend saw the throttled request");

        proxy.throttle_every(None);
        assert_eq!(
            exchange(&mut stream, b"raw bytes"),
            b"echo:raw bytes",
            "off: bytes pass as they are"
        );
    }

    #[test]
    fn heal_turns_every_fault_off() {
        const DELAY: Duration = Duration::from_millis(300);
        let (target, _requests) = backend();
        let proxy = FaultProxy::start(target);
        proxy.set_delay(DELAY);
        proxy.delay_replies(DELAY);
        proxy.cut_replies_after(Some(1));
        proxy.refuse(true);

        proxy.heal();
        let started = Instant::now();
        let mut stream = connect(&proxy);
        assert_eq!(exchange(&mut stream, b"healed"), b"echo:healed");
        assert_eq!(exchange(&mut stream, b"still"), b"echo:still");
        assert!(started.elapsed() < DELAY, "still delayed after heal");
    }
}
