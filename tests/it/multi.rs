//! Many handshakes in one thread with `MultiDriver`, against real sockets on loopback.
//!
//! The tests take one lock each, so their timing assertions do not compete for the two
//! cores. The 10,000-handshake test runs its server in a child process (this test binary
//! re-executed with `TLSHAKE_MULTI_CHILD_SERVER=1`), since 10,000 connections with both ends
//! in one process would need 20,000 descriptors, the hard limit here.

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::resource::{setrlimit, Resource};
use openssl::ssl::{Ssl, SslConnector};
use tlshake::engine::Token;
use tlshake::{connect_nonblocking, listen_tcp, Completed, MultiDriver, MultiError};
use tlshake::{nofile_limit, raise_nofile_limit, LimitError};
use tlshake::{ErrorKind, Handshake, TlsStream, Want};

const CHILD_ENV: &str = "TLSHAKE_MULTI_CHILD_SERVER";

/// One load test at a time ([`common::serial`]); raises the descriptor limit first.
fn serial() -> MutexGuard<'static, ()> {
    let guard = common::serial();
    raise_nofile_limit().expect("raise RLIMIT_NOFILE");
    guard
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn client_handshake(ctx: &SslConnector, addr: SocketAddr) -> Handshake<TcpStream> {
    let tcp = connect_nonblocking(addr).expect("connect");
    let ssl = ctx
        .configure()
        .expect("configure")
        .into_ssl("localhost")
        .expect("ssl");
    Handshake::client(ssl, tcp).expect("client handshake")
}

#[derive(Debug, Default)]
struct Served {
    done: AtomicUsize,
    failed: AtomicUsize,
}

/// A TLS server: one `MultiDriver` that accepts on `listener` and completes server
/// handshakes until `stop` is set (then it finishes what is in flight, for at most 5 s).
fn serve(listener: TcpListener, stop: &AtomicBool, served: &Served) {
    let ctx = common::acceptor_context(None);
    let mut driver = MultiDriver::new().expect("driver");
    let listener_token = driver
        .add_listener(listener, move || Ssl::new(&ctx), Duration::from_secs(60))
        .expect("listener");
    let mut events = Vec::new();
    let mut stopping_since = None;
    loop {
        if stopping_since.is_none() && stop.load(Ordering::SeqCst) {
            driver.remove_listener(listener_token);
            stopping_since = Some(Instant::now());
        }
        if let Some(since) = stopping_since {
            if driver.in_flight() == 0 || since.elapsed() > Duration::from_secs(5) {
                return;
            }
        }
        events.clear();
        driver
            .poll_events(&mut events, Some(Duration::from_millis(20)))
            .expect("server loop");
        for event in events.drain(..) {
            match event.result {
                Completed::Done(tls) => {
                    common::close_abortively(tls.get_ref());
                    served.done.fetch_add(1, Ordering::SeqCst)
                }
                _ => served.failed.fetch_add(1, Ordering::SeqCst),
            };
        }
    }
}

/// `serve` in a thread of this process.
struct ThreadServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    served: Arc<Served>,
    thread: Option<JoinHandle<()>>,
}

impl ThreadServer {
    fn start() -> ThreadServer {
        let listener = listen_tcp(loopback(), 4096).expect("listen");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(Served::default());
        let (s, v) = (Arc::clone(&stop), Arc::clone(&served));
        let thread = std::thread::spawn(move || serve(listener, &s, &v));
        ThreadServer {
            addr,
            stop,
            served,
            thread: Some(thread),
        }
    }

    /// Waits (bounded) until the server completed `n` handshakes; returns (done, failed).
    fn wait_done(&self, n: usize, timeout: Duration) -> (usize, usize) {
        let deadline = Instant::now() + timeout;
        while self.served.done.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        (
            self.served.done.load(Ordering::SeqCst),
            self.served.failed.load(Ordering::SeqCst),
        )
    }
}

impl Drop for ThreadServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A plain TCP server in a thread that accepts and then does `with` to each connection; keeps
/// the connections open until dropped.
struct RawServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    fn start(with: fn(&mut TcpStream) -> bool) -> RawServer {
        let listener = listen_tcp(loopback(), 1024).expect("listen");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            let give_up = Instant::now() + Duration::from_secs(30);
            while !s.load(Ordering::SeqCst) && Instant::now() < give_up {
                match listener.accept() {
                    Ok((mut tcp, _)) => {
                        if with(&mut tcp) {
                            held.push(tcp);
                        }
                    }
                    // Wait for the next connection, looking at `stop` every 50 ms.
                    Err(_) => {
                        let _ = tlshake::internals::wait::wait_for(
                            &listener,
                            tlshake::internals::wait::Interest::Readable,
                            Some(give_up.min(Instant::now() + Duration::from_millis(50))),
                        );
                    }
                }
            }
        });
        RawServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts and never answers.
fn stall(_: &mut TcpStream) -> bool {
    true
}

/// Reads the whole ClientHello record, then closes (a FIN, not a reset: nothing is left
/// unread).
fn read_hello_and_close(tcp: &mut TcpStream) -> bool {
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let mut header = [0u8; 5];
    if tcp.read_exact(&mut header).is_ok() {
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let mut body = vec![0u8; len];
        let _ = tcp.read_exact(&mut body);
    }
    false
}

#[test]
fn thousand_concurrent_client_handshakes_all_complete() {
    let _serial = serial();
    let server = ThreadServer::start();
    let ctx = common::connector(None);
    let mut driver = MultiDriver::new().expect("driver");
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..1000 {
        driver
            .add(client_handshake(&ctx, server.addr), deadline)
            .expect("add");
    }
    assert_eq!(driver.in_flight() + driver.queued(), 1000);

    let mut streams: HashMap<Token, TlsStream<TcpStream>> = HashMap::new();
    while let Some(event) = driver
        .next_completed(deadline + Duration::from_secs(1))
        .expect("driver")
    {
        match event.result {
            Completed::Done(tls) => {
                assert_eq!(tls.protocol(), "TLSv1.3");
                assert!(streams.insert(event.token, tls).is_none(), "token twice");
            }
            other => panic!("{}: {other:?}", event.token),
        }
    }
    assert_eq!(streams.len(), 1000);
    assert_eq!(driver.in_flight(), 0);
    assert_eq!(server.wait_done(1000, Duration::from_secs(10)), (1000, 0));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Peer {
    Stalls,
    ClosesEarly,
    Real,
}

#[test]
fn stalled_closing_and_real_peers_each_end_their_own_way() {
    let _serial = serial();
    let stalling = RawServer::start(stall);
    let closing = RawServer::start(read_hello_and_close);
    let real = ThreadServer::start();
    let ctx = common::connector(None);
    let mut driver = MultiDriver::new().expect("driver");
    let start = Instant::now();
    let mut expected: HashMap<Token, (Peer, Instant, Instant)> = HashMap::new();
    for i in 0..300u32 {
        let (peer, addr) = match i % 3 {
            0 => (Peer::Stalls, stalling.addr),
            1 => (Peer::ClosesEarly, closing.addr),
            _ => (Peer::Real, real.addr),
        };
        // Staggered deadlines, so the heap order matters.
        let deadline = start + Duration::from_millis(800 + u64::from(i % 97) * 5);
        let token = driver
            .add(client_handshake(&ctx, addr), deadline)
            .expect("add");
        let after_add = Instant::now();
        // A peer that closes at once can end the handshake within `add` (its first step);
        // a stalling one cannot.
        if peer == Peer::Stalls {
            assert_eq!(driver.deadline(token), Some(deadline));
        }
        expected.insert(token, (peer, deadline, after_add));
    }

    let mut counts: HashMap<Peer, usize> = HashMap::new();
    let mut streams = Vec::new();
    while let Some(event) = driver
        .next_completed(start + Duration::from_secs(10))
        .expect("driver")
    {
        let now = Instant::now();
        let (peer, deadline, after_add) = expected.remove(&event.token).expect("known token, once");
        match (peer, event.result) {
            (Peer::Stalls, Completed::TimedOut(error)) => {
                assert!(error.is_timeout());
                assert_eq!(error.waiting_for(), Some(Want::Read));
                assert_eq!(error.bytes_received(), 0);
                let elapsed = error.elapsed().expect("a timeout records its duration");
                assert!(now >= deadline, "timed out {:?} early", deadline - now);
                assert!(
                    now <= deadline + Duration::from_millis(250),
                    "timed out {:?} late",
                    now - deadline
                );
                // Measured from inside `add`, so at least from `after_add` to the deadline.
                assert!(elapsed >= deadline - after_add, "{elapsed:?}");
            }
            (Peer::ClosesEarly, Completed::Failed(e)) => {
                assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
                assert!(
                    now < deadline,
                    "a closed connection waited for its deadline"
                );
            }
            (Peer::Real, Completed::Done(tls)) => {
                assert!(now < deadline);
                streams.push(tls);
            }
            (peer, result) => panic!("{peer:?} peer ended as {result:?}"),
        }
        *counts.entry(peer).or_default() += 1;
    }
    assert!(expected.is_empty(), "never completed: {expected:?}");
    assert_eq!(counts.get(&Peer::Stalls), Some(&100));
    assert_eq!(counts.get(&Peer::ClosesEarly), Some(&100));
    assert_eq!(counts.get(&Peer::Real), Some(&100));
}

#[test]
fn handshake_on_a_descriptor_above_1024() {
    let _serial = serial();
    let server = ThreadServer::start();
    let (tcp, filler) = common::tcp_above(server.addr, 1100);
    let ctx = common::connector(None);
    let mut driver = MultiDriver::new().expect("driver");
    let ssl = ctx
        .configure()
        .expect("configure")
        .into_ssl("localhost")
        .expect("ssl");
    let handshake = Handshake::client(ssl, tcp).expect("client handshake");
    let fd = handshake.transport().get_ref().as_raw_fd();
    assert!(fd >= 1100, "descriptor {fd} is not above FD_SETSIZE");
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = driver.add(handshake, deadline).expect("add");
    let event = driver
        .next_completed(deadline)
        .expect("driver")
        .expect("a completion");
    assert_eq!(event.token, token);
    match event.result {
        Completed::Done(tls) => {
            assert_eq!(tls.get_ref().as_raw_fd(), fd);
            assert_eq!(tls.session().protocol, "TLSv1.3");
        }
        other => panic!("{other:?}"),
    }
    drop(filler);
}

#[test]
fn refused_connection_fails_with_the_os_error() {
    let _serial = serial();
    // A port that was free a moment ago: nothing listens there now.
    let addr = TcpListener::bind(loopback())
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut driver = MultiDriver::new().expect("driver");
    let deadline = Instant::now() + Duration::from_secs(5);
    let token = driver
        .add(client_handshake(&common::connector(None), addr), deadline)
        .expect("add");
    let event = driver
        .next_completed(deadline)
        .expect("driver")
        .expect("event");
    assert_eq!(event.token, token);
    match event.result {
        Completed::Failed(e) => {
            assert_eq!(e.kind(), ErrorKind::Io, "{e}");
            assert_eq!(e.errno(), Some(libc::ECONNREFUSED), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(driver.next_completed(deadline).expect("driver").is_none());
}

#[test]
fn removed_handshake_is_handed_back_and_never_reported() {
    let _serial = serial();
    let stalling = RawServer::start(stall);
    let mut driver = MultiDriver::new().expect("driver");
    let deadline = Instant::now() + Duration::from_millis(200);
    let token = driver
        .add(
            client_handshake(&common::connector(None), stalling.addr),
            deadline,
        )
        .expect("add");
    assert_eq!(driver.in_flight(), 1);
    let handshake = driver.remove(token).expect("in flight");
    assert!(driver.remove(token).is_none());
    assert_eq!(driver.in_flight(), 0);
    assert!(
        handshake.transport().bytes_sent() > 0,
        "ClientHello sent at add"
    );
    assert_eq!(
        driver
            .run_once(Some(Duration::from_millis(300)))
            .expect("run"),
        0
    );
    assert!(driver.pop_completed().is_none());
}

/// Puts the soft `RLIMIT_NOFILE` back when dropped.
struct RestoreLimit(u64, u64);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, self.0, self.1);
    }
}

#[test]
fn running_out_of_descriptors_names_the_limit() {
    isolated!(running_out_of_descriptors_names_the_limit);
    let _serial = serial();
    let (soft, hard) = nofile_limit().expect("getrlimit");
    let _restore = RestoreLimit(soft, hard);
    let highest = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .expect("open descriptors");
    let low = highest + 16;
    setrlimit(Resource::RLIMIT_NOFILE, low, hard).expect("lower the soft limit");
    let addr = TcpListener::bind(loopback())
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut sockets = Vec::new();
    let error = loop {
        assert!(sockets.len() as u64 <= low, "no EMFILE below the limit");
        match connect_nonblocking(addr) {
            Ok(tcp) => sockets.push(tcp),
            Err(e) => break e,
        }
    };
    match error.limit() {
        Some(LimitError::TooManyOpenFiles {
            operation,
            soft,
            hard: h,
            ..
        }) => {
            assert_eq!(*operation, "socket");
            assert_eq!(*soft, low);
            assert_eq!(*h, hard);
        }
        other => panic!("expected EMFILE, got {other:?} from {error}"),
    }
    assert!(error.to_string().contains("RLIMIT_NOFILE"), "{error}");
    // The same limit stops a new driver.
    match MultiDriver::<TcpStream>::new() {
        Err(MultiError::Limit(LimitError::TooManyOpenFiles { operation, .. })) => {
            assert_eq!(operation, "epoll_create1")
        }
        other => panic!("expected EMFILE from epoll_create1, got {other:?}"),
    }
}

/// A child process serving TLS with `serve`, killed and reaped on drop.
struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    addr: SocketAddr,
}

impl ChildServer {
    fn spawn() -> ChildServer {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "multi::child_server_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = ChildServer {
            child,
            stdin,
            lines,
            addr: loopback(),
        };
        let line = server
            .wait_line("LISTENING ", Duration::from_secs(20))
            .expect("the child server printed no LISTENING line");
        server.addr = line.parse().expect("address in the LISTENING line");
        server
    }

    /// The rest of the first line that starts with `prefix`.
    fn wait_line(&self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                // The test harness may have printed the test's name on the same line.
                Ok(line) => {
                    if let Some(at) = line.find(prefix) {
                        return Some(line[at + prefix.len()..].trim().to_string());
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Closes the child's stdin (its signal to stop) and reads its "SERVED done failed" line.
    fn finish(mut self) -> (usize, usize) {
        self.stdin = None;
        let line = self
            .wait_line("SERVED ", Duration::from_secs(20))
            .expect("the child server printed no SERVED line");
        let mut numbers = line.split_whitespace().map(|n| n.parse().expect("number"));
        (
            numbers.next().expect("done"),
            numbers.next().expect("failed"),
        )
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In a normal run: checks `serve` itself with three socket handshakes driven by
/// `Handshake::drive`. Re-executed with `TLSHAKE_MULTI_CHILD_SERVER=1`: the server process of
/// the 10,000-handshake test; it prints `LISTENING <addr>`, serves until its stdin closes
/// (at most two minutes), then prints `SERVED <done> <failed>`.
#[test]
fn child_server_process() {
    if std::env::var_os(CHILD_ENV).is_some() {
        raise_nofile_limit().expect("raise RLIMIT_NOFILE");
        let listener = listen_tcp(loopback(), 4096).expect("listen");
        println!("LISTENING {}", listener.local_addr().expect("addr"));
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            s.store(true, Ordering::SeqCst);
        });
        let s = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(120));
            s.store(true, Ordering::SeqCst);
        });
        let served = Served::default();
        serve(listener, &stop, &served);
        println!(
            "SERVED {} {}",
            served.done.load(Ordering::SeqCst),
            served.failed.load(Ordering::SeqCst)
        );
        return;
    }
    let _serial = serial();
    let server = ThreadServer::start();
    let ctx = common::connector(None);
    for _ in 0..3 {
        let handshake = client_handshake(&ctx, server.addr);
        let tls = handshake
            .drive(Instant::now() + Duration::from_secs(5))
            .expect("handshake");
        assert_eq!(tls.protocol(), "TLSv1.3");
    }
    assert_eq!(server.wait_done(3, Duration::from_secs(5)), (3, 0));
}

/// 10,000 handshakes in flight at once in this one thread, against a server process.
#[test]
fn ten_thousand_concurrent_handshakes_in_one_thread() {
    let _serial = serial();
    let server = ChildServer::spawn();
    let ctx = common::connector(None);
    let mut driver = MultiDriver::new().expect("driver");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(50);
    for _ in 0..10_000 {
        driver
            .add(client_handshake(&ctx, server.addr), deadline)
            .expect("add");
    }
    // A step at `add` can finish a handshake when this thread was preempted between sending
    // the ClientHello and reading: those few completions are queued.
    assert_eq!(driver.in_flight() + driver.queued(), 10_000);
    assert!(
        driver.in_flight() >= 9_900,
        "only {} in flight at once",
        driver.in_flight()
    );
    let mut streams = Vec::with_capacity(10_000);
    while let Some(event) = driver
        .next_completed(deadline + Duration::from_secs(1))
        .expect("driver")
    {
        match event.result {
            Completed::Done(tls) => streams.push(tls),
            other => panic!("{}: {other:?}", event.token),
        }
    }
    let took = started.elapsed();
    assert_eq!(streams.len(), 10_000, "after {took:?}");
    let (done, failed) = server.finish();
    assert_eq!((done, failed), (10_000, 0));
    eprintln!("10,000 handshakes in {took:?}");
}

#[test]
fn listen_tcp_names_a_port_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address");
    match listen_tcp(addr, 128) {
        Err(MultiError::Listen(tlshake::server::ServerConfigError::AddressInUse {
            addr: named,
        })) => {
            assert_eq!(named, addr);
        }
        other => panic!("expected the address in use, got {other:?}"),
    }
    // A free port: nonblocking, so accept returns WouldBlock instead of waiting.
    let listener = listen_tcp(loopback(), 16).expect("listen");
    let err = listener.accept().expect_err("nothing to accept");
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
}
