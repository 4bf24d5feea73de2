//! Handshakes per second with many in flight in one thread: tlshake's `MultiDriver` (epoll,
//! deadline heap) beside the plain `openssl` crate (`SslConnector::connect` on a nonblocking
//! socket, `MidHandshakeSslStream::handshake`, and `poll(2)` over every descriptor).
//!
//! Three loads, each kept at a constant number of handshakes in flight (a finished one is
//! replaced at once), and measured as handshakes completed per second over stretches of at
//! least 300 ms:
//! * 64 in flight;
//! * 10,000 in flight;
//! * 64 in flight beside 10,000 idle connections (handshakes whose server never answers).
//!
//! The server is this bench binary re-executed as a child process
//! (`TLSHAKE_BENCH_CHILD_SERVER=1`): a `MultiDriver` in server role on one port, and on a
//! second port a listener that accepts and never answers. Both processes are single-threaded
//! for the TLS work, so on two cores each gets one.
//!
//! Run: `cargo bench --bench multi`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use openssl::ssl::{
    ErrorCode, HandshakeError as OpensslHandshakeError, MidHandshakeSslStream, Ssl, SslConnector,
    SslContext,
};
use tlshake::bundled::{SERVER_KEY, SERVER_PEM};
use tlshake::raise_nofile_limit;
use tlshake::Handshake;
use tlshake::{connect_nonblocking, listen_tcp, Completed, MultiDriver};

mod perf_support;
#[path = "../tests/it/common/sockets.rs"]
mod sockets;
use perf_support::{median, plain_acceptor, plain_connector};
use sockets::close_abortively;

const CHILD_ENV: &str = "TLSHAKE_BENCH_CHILD_SERVER";
/// No single wait of a load may take longer than this: the bench stops with a message
/// instead of hanging.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// The shortest stretch one measurement runs. One wake-up can complete hundreds of
/// handshakes at once (with 10,000 in flight), so a measurement of a few handshakes would
/// mostly measure where the burst boundaries fell; each one runs at least this long and
/// reports the rate it saw.
const SLICE: Duration = Duration::from_millis(300);

/// The time `n` handshakes take at the rate of `done` in `elapsed`.
fn scaled(elapsed: Duration, n: u64, done: u64) -> Duration {
    elapsed.mul_f64(n as f64 / done.max(1) as f64)
}

fn server_ctx() -> SslContext {
    plain_acceptor(SERVER_PEM, SERVER_KEY, None).into_context()
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

// ---------------------------------------------------------------------------------------
// The child process: TLS server and stalling server.

fn child_main() {
    raise_nofile_limit().expect("raise RLIMIT_NOFILE");
    let tls = listen_tcp(loopback(), 4096).expect("listen");
    let stall = listen_tcp(loopback(), 4096).expect("listen");
    println!(
        "LISTENING {} {}",
        tls.local_addr().expect("addr"),
        stall.local_addr().expect("addr")
    );
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        s.store(true, Ordering::SeqCst);
    });
    let s = Arc::clone(&stop);
    std::thread::spawn(move || stall_server(stall, &s));

    let ctx = server_ctx();
    let mut driver = MultiDriver::new().expect("driver");
    driver
        .add_listener(tls, move || Ssl::new(&ctx), Duration::from_secs(120))
        .expect("listener");
    let mut events = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        events.clear();
        driver
            .poll_events(&mut events, Some(Duration::from_millis(100)))
            .expect("server loop");
        // Finished or failed, the server side is dropped at once.
        for event in events.drain(..) {
            if let Completed::Done(tls) = event.result {
                close_abortively(tls.get_ref());
            }
        }
    }
}

/// Accepts and never answers; drops a connection when its client closes it.
fn stall_server(listener: TcpListener, stop: &AtomicBool) {
    const LISTENER: u64 = u64::MAX;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).expect("epoll");
    epoll
        .add(&listener, EpollEvent::new(EpollFlags::EPOLLIN, LISTENER))
        .expect("epoll add");
    let mut held: HashMap<u64, TcpStream> = HashMap::new();
    let mut next = 0u64;
    let mut events = vec![EpollEvent::empty(); 1024];
    while !stop.load(Ordering::SeqCst) {
        let n = epoll.wait(&mut events, 100u16).unwrap_or(0);
        for event in events.iter().take(n) {
            if event.data() == LISTENER {
                while let Ok((tcp, _)) = listener.accept() {
                    next += 1;
                    // Only the peer's close is of interest, not its ClientHello.
                    let event = EpollEvent::new(EpollFlags::EPOLLRDHUP, next);
                    if epoll.add(&tcp, event).is_ok() {
                        held.insert(next, tcp);
                    }
                }
            } else if let Some(tcp) = held.remove(&event.data()) {
                let _ = epoll.delete(&tcp);
            }
        }
    }
}

/// The child process seen from the parent; killed and reaped on drop.
struct ChildServer {
    child: Child,
    _stdin: Option<ChildStdin>,
    tls: SocketAddr,
    stall: SocketAddr,
}

impl ChildServer {
    fn spawn() -> ChildServer {
        let exe = std::env::current_exe().expect("bench binary path");
        let mut child = Command::new(exe)
            .env(CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the child server printed nothing");
        let mut addrs = line
            .strip_prefix("LISTENING ")
            .expect("LISTENING line")
            .split_whitespace()
            .map(|a| a.parse().expect("address"));
        let tls = addrs.next().expect("tls address");
        let stall = addrs.next().expect("stall address");
        ChildServer {
            child,
            _stdin: stdin,
            tls,
            stall,
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// The two clients.

/// tlshake: one `MultiDriver`, `window` handshakes kept in flight, `idle` more that never
/// finish.
struct TlshakeLoad {
    driver: MultiDriver<TcpStream>,
    ctx: SslConnector,
    addr: SocketAddr,
    window: usize,
    idle: usize,
}

impl TlshakeLoad {
    fn new(server: &ChildServer, window: usize, idle: usize) -> TlshakeLoad {
        let mut load = TlshakeLoad {
            driver: MultiDriver::new().expect("driver"),
            ctx: plain_connector(None),
            addr: server.tls,
            window,
            idle,
        };
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..idle {
            let h = load.handshake(server.stall);
            load.driver.add(h, far).expect("add idle");
        }
        load.top_up();
        load
    }

    fn handshake(&self, addr: SocketAddr) -> Handshake<TcpStream> {
        let tcp = connect_nonblocking(addr).expect("connect");
        let ssl = self
            .ctx
            .configure()
            .expect("configure")
            .into_ssl("localhost")
            .expect("ssl");
        Handshake::client(ssl, tcp).expect("handshake")
    }

    fn top_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while self.driver.in_flight().saturating_sub(self.idle) + self.driver.queued() < self.window
        {
            let h = self.handshake(self.addr);
            self.driver.add(h, deadline).expect("add");
        }
    }

    /// Runs for at least `n` handshakes and at least [`SLICE`]; returns the time `n` took at
    /// the rate measured.
    fn run(&mut self, n: u64) -> Duration {
        let start = Instant::now();
        let mut done = 0;
        while done < n || start.elapsed() < SLICE {
            if self.driver.queued() == 0 {
                let waited = Instant::now();
                self.driver.run_once(Some(STALL_LIMIT)).expect("run");
                assert!(waited.elapsed() < STALL_LIMIT, "tlshake load stalled");
            }
            while let Some(event) = self.driver.pop_completed() {
                match event.result {
                    Completed::Done(tls) => {
                        close_abortively(tls.get_ref());
                        done += 1;
                    }
                    other => panic!("tlshake handshake ended as {other:?}"),
                }
            }
            self.top_up();
        }
        scaled(start.elapsed(), n, done)
    }
}

/// The plain `openssl` crate: `SslConnector::connect` on nonblocking sockets, and `poll(2)`
/// over every descriptor (the idle ones included) on each round.
struct OpensslLoad {
    ctx: SslConnector,
    addr: SocketAddr,
    window: usize,
    active: Vec<Option<MidHandshakeSslStream<TcpStream>>>,
    idle: Vec<MidHandshakeSslStream<TcpStream>>,
    /// Completions in the current `run`.
    finished: u64,
}

impl OpensslLoad {
    fn new(server: &ChildServer, window: usize, idle: usize) -> OpensslLoad {
        let mut load = OpensslLoad {
            ctx: plain_connector(None),
            addr: server.tls,
            window,
            active: Vec::new(),
            idle: Vec::new(),
            finished: 0,
        };
        for _ in 0..idle {
            match load.start(server.stall) {
                Some(mid) => load.idle.push(mid),
                None => panic!("an idle connection completed"),
            }
        }
        load.top_up();
        load
    }

    /// `SslConnector::connect` on a fresh nonblocking socket: the mid-handshake stream, or
    /// `None` when it completed at once.
    fn start(&self, addr: SocketAddr) -> Option<MidHandshakeSslStream<TcpStream>> {
        let tcp = connect_nonblocking(addr).expect("connect");
        match self.ctx.connect("localhost", tcp) {
            Ok(tls) => {
                close_abortively(tls.get_ref());
                None
            }
            Err(OpensslHandshakeError::WouldBlock(mid)) => Some(mid),
            Err(e) => panic!("openssl connect: {e}"),
        }
    }

    fn top_up(&mut self) {
        let active = self.active.iter().filter(|m| m.is_some()).count();
        for _ in active..self.window {
            match self.start(self.addr) {
                Some(mid) => {
                    if let Some(free) = self.active.iter_mut().find(|m| m.is_none()) {
                        *free = Some(mid);
                    } else {
                        self.active.push(Some(mid));
                    }
                }
                None => self.finished += 1,
            }
        }
    }

    fn interest(mid: &MidHandshakeSslStream<TcpStream>) -> PollFlags {
        if mid.error().code() == ErrorCode::WANT_WRITE {
            PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        }
    }

    /// Runs for at least `n` handshakes and at least [`SLICE`]; returns the time `n` took at
    /// the rate measured.
    fn run(&mut self, n: u64) -> Duration {
        let start = Instant::now();
        self.finished = 0;
        let mut ready = Vec::new();
        while self.finished < n || start.elapsed() < SLICE {
            ready.clear();
            {
                let mut fds: Vec<PollFd<'_>> = self
                    .active
                    .iter()
                    .flatten()
                    .chain(self.idle.iter())
                    .map(|mid| PollFd::new(mid.get_ref().as_fd(), Self::interest(mid)))
                    .collect();
                let waited = Instant::now();
                let timeout = PollTimeout::try_from(STALL_LIMIT).expect("timeout");
                nix::poll::poll(&mut fds, timeout).expect("poll");
                assert!(waited.elapsed() < STALL_LIMIT, "openssl load stalled");
                // The active connections come first in `fds`, in the order of the non-empty
                // slots of `active`.
                let slots = self
                    .active
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.is_some())
                    .map(|(i, _)| i);
                for (slot, fd) in slots.zip(fds.iter()) {
                    if fd.revents().is_some_and(|r| !r.is_empty()) {
                        ready.push(slot);
                    }
                }
            }
            for &slot in &ready {
                let Some(mid) = self.active.get_mut(slot).and_then(Option::take) else {
                    continue;
                };
                match mid.handshake() {
                    Ok(tls) => {
                        close_abortively(tls.get_ref());
                        self.finished += 1;
                    }
                    Err(OpensslHandshakeError::WouldBlock(mid)) => {
                        if let Some(s) = self.active.get_mut(slot) {
                            *s = Some(mid);
                        }
                    }
                    Err(e) => panic!("openssl handshake: {e}"),
                }
            }
            self.top_up();
        }
        scaled(start.elapsed(), n, self.finished)
    }
}

// ---------------------------------------------------------------------------------------

fn scenario(c: &mut Criterion, server: &ChildServer, name: &str, window: usize, idle: usize) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    // Every measurement runs at least SLICE: the same count for each sample keeps the total
    // to sample_size slices.
    group.sampling_mode(SamplingMode::Flat);
    // Each load is built on its first use, so a filtered-out benchmark opens no connection.
    {
        let mut load = None;
        group.bench_function("tlshake_multi_driver", |b| {
            let load = load.get_or_insert_with(|| TlshakeLoad::new(server, window, idle));
            b.iter_custom(|n| load.run(n))
        });
    }
    {
        let mut load = None;
        group.bench_function("openssl_crate_poll", |b| {
            let load = load.get_or_insert_with(|| OpensslLoad::new(server, window, idle));
            b.iter_custom(|n| load.run(n))
        });
    }
    group.finish();
    // Let the server notice the closed connections before the next load.
    std::thread::sleep(Duration::from_millis(500));
}

/// Builds a load, measures its handshakes per second over 3 stretches of at least [`SLICE`]
/// (after a first one that fills the pipeline: the server's accept queue, the first
/// flights), then drops it and lets the server notice the closed connections.
fn measure<L>(build: impl FnOnce() -> L, run: fn(&mut L, u64) -> Duration) -> f64 {
    const SLICES: u32 = 3;
    let mut load = build();
    run(&mut load, 1);
    let total: Duration = (0..SLICES).map(|_| run(&mut load, 1)).sum();
    drop(load);
    std::thread::sleep(Duration::from_millis(300));
    f64::from(SLICES) / total.as_secs_f64()
}

/// The same-run comparison: `rounds` rounds, each building one load, measuring it, dropping
/// it, then the other (in alternating order, so that a drift of the machine's load weighs on
/// both), and the median of the per-round ratios tlshake / plain crate. The two loads never
/// coexist: with 10,000 connections each they would not fit in 20,000 descriptors.
fn alternating(
    server: &ChildServer,
    window: usize,
    idle: usize,
    rounds: usize,
) -> serde_json::Value {
    let (mut ours, mut plain, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let measure_tlshake =
            || measure(|| TlshakeLoad::new(server, window, idle), TlshakeLoad::run);
        let measure_plain = || measure(|| OpensslLoad::new(server, window, idle), OpensslLoad::run);
        let (t, p) = if round % 2 == 0 {
            let t = measure_tlshake();
            (t, measure_plain())
        } else {
            let p = measure_plain();
            (measure_tlshake(), p)
        };
        ours.push(t);
        plain.push(p);
        ratios.push(t / p);
    }
    serde_json::json!({
        "in_flight": window,
        "idle": idle,
        "tlshake_per_s": ours.iter().map(|r| r.round()).collect::<Vec<_>>(),
        "openssl_crate_per_s": plain.iter().map(|r| r.round()).collect::<Vec<_>>(),
        "tlshake_median_per_s": median(ours).round(),
        "openssl_crate_median_per_s": median(plain).round(),
        "ratio_median": median(ratios),
    })
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_main();
        return;
    }
    raise_nofile_limit().expect("raise RLIMIT_NOFILE");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs each benchmark once in
    // test mode, where smaller loads keep it quick.
    let many = if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        500
    };
    let server = ChildServer::spawn();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    scenario(&mut c, &server, "handshakes_64_in_flight", 64, 0);
    scenario(
        &mut c,
        &server,
        &format!("handshakes_{many}_in_flight"),
        many,
        0,
    );
    scenario(
        &mut c,
        &server,
        &format!("handshakes_64_in_flight_{many}_idle"),
        64,
        many,
    );
    c.final_summary();
    // `MULTI_ROUNDS=0` skips the same-run comparison.
    let rounds = std::env::var("MULTI_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if many == 10_000 { 4 } else { 0 });
    if rounds > 0 {
        let summary = serde_json::json!({
            "rounds": rounds,
            "in_flight_64": alternating(&server, 64, 0, rounds),
            "in_flight_many": alternating(&server, many, 0, rounds),
            "in_flight_64_idle_many": alternating(&server, 64, many, rounds),
        });
        println!("same-run comparison (alternating rounds): {summary}");
    }
}
