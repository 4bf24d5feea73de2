//! Heap per established connection pair: tlshake against the plain `openssl` crate, TLS 1.3
//! with the bundled ECDSA P-256 certificate, client and server in one thread over loopback
//! sockets (nonblocking, stepped in turn).
//!
//! OpenSSL allocates with `malloc`, not through Rust's global allocator, so a counting
//! global allocator would see only the Rust side. This bench counts everything instead: it
//! reads the bytes `malloc` has handed out (`mallinfo2`) and `RssAnon` from
//! `/proc/self/status` before and after holding `N` pairs, in a fresh process per
//! implementation (the bench runs itself again), after warm-up pairs that load OpenSSL's
//! tables. Printed: kB per pair after the handshake, and after a first exchange of a 100-byte
//! request and reply (which delivers any TLS 1.3 session tickets to the client).
//!
//! `cargo bench --bench heap` (`HEAP_PAIRS=N` to change N, default 400). Run alone with
//! `TLSHAKE_HEAP_IMPL=tlshake` or `=openssl_crate` it measures one implementation in this
//! process (what `valgrind --tool=callgrind` needs for instruction counts per pair);
//! `HEAP_EXIT_HOLDING=1` then exits while the pairs are still held, so that
//! `valgrind --leak-check=full --show-reachable=yes` lists every live block.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

use openssl::ssl::{SslAcceptor, SslConnector, SslStream};
use serde_json::{json, Value};
use tlshake::internals::wait::{wait_for_any, Interest, Readiness};
use tlshake::{bundled, Handshake, HandshakeOutcome, NodelayPolicy, TlsStream};

mod perf_support;
use perf_support::{
    plain_acceptor, plain_connector, tlshake_client_config, tlshake_server_context, Case,
    PlainSide, EXCHANGE,
};

const CHILD_ENV: &str = "TLSHAKE_HEAP_IMPL";

fn rss_anon_kb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon")
}

/// Bytes allocated with `malloc` and not yet freed, in kB: `uordblks` of glibc's
/// [`mallinfo2(3)`](https://man7.org/linux/man-pages/man3/mallinfo.3.html) (the measuring
/// child is single-threaded, so the main arena holds everything). Unlike RSS it does not
/// count the holes freed memory leaves between live blocks.
fn heap_in_use_kb() -> f64 {
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's statistics.
    #[allow(unsafe_code)]
    let info = unsafe { libc::mallinfo2() };
    info.uordblks as f64 / 1024.0
}

fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let c = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    c.set_nonblocking(true).expect("nonblocking");
    s.set_nonblocking(true).expect("nonblocking");
    (c, s)
}

/// How long one handshake, or one exchange, may take before the bench gives up.
const STEP_LIMIT: Duration = Duration::from_secs(10);

/// Calls `step` until it returns true. Between two calls it waits (poll) until one of
/// `sockets` is readable, for [`STEP_LIMIT`] in all; then it panics, naming `what`.
fn until_done(sockets: &[&TcpStream], what: &dyn Fn() -> String, mut step: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP_LIMIT;
    let fds: Vec<_> = sockets
        .iter()
        .map(|s| (s.as_fd(), Interest::Readable))
        .collect();
    while !step() {
        match wait_for_any(&fds, Some(deadline)) {
            Ok(Readiness::Ready) => {}
            Ok(Readiness::TimedOut) => panic!(
                "{} did not complete within {STEP_LIMIT:?} of waiting for data",
                what()
            ),
            Err(e) => panic!("poll: {e}"),
        }
    }
}

/// A TLS connection over a loopback socket, whichever implementation drives it.
trait Conn: Read + Write {
    /// The socket under the TLS connection.
    fn tcp(&self) -> &TcpStream;
}

impl Conn for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref()
    }
}

impl Conn for SslStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref()
    }
}

impl Conn for Box<dyn Conn> {
    fn tcp(&self) -> &TcpStream {
        (**self).tcp()
    }
}

/// Writes 100 bytes on one end and reads them on the other, waiting for the reading end's
/// socket between tries.
fn exchange<A: Conn, B: Conn>(from: &mut A, to: &mut B) {
    let data = [b'x'; EXCHANGE];
    let mut written = 0;
    let mut got = 0;
    let mut buf = [0u8; EXCHANGE];
    let to_socket = to.tcp().try_clone().expect("dup the reading socket");
    let progress = std::cell::Cell::new((0, 0));
    // 100 bytes always fit in a fresh socket's send buffer: only the reading end waits.
    until_done(
        &[&to_socket],
        &|| {
            let (w, g) = progress.get();
            format!("exchange of {EXCHANGE} bytes (written {w}, read {g})")
        },
        || {
            if written < EXCHANGE {
                match from.write(&data[written..]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("write: {e}"),
                }
            }
            match to.read(&mut buf[got..]) {
                Ok(0) => panic!("read: the peer closed after {got} bytes"),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
            progress.set((written, got));
            got == EXCHANGE
        },
    );
}

/// Second descriptors for both sockets of a pair, to wait on while the handshakes own them.
fn dup_pair(c: &TcpStream, s: &TcpStream) -> (TcpStream, TcpStream) {
    (
        c.try_clone().expect("dup client socket"),
        s.try_clone().expect("dup server socket"),
    )
}

/// One step of a tlshake handshake; true when it is done, and any failure panics.
fn tlshake_step(hs: &mut Handshake<TcpStream>, who: &str) -> bool {
    match hs.step() {
        HandshakeOutcome::Done => true,
        HandshakeOutcome::Want(_) => false,
        other => panic!("{who}: {other:?}"),
    }
}

/// One step of a plain-crate end held in an `Option` (so that it can be moved through
/// `PlainSide::step`); true when it is done.
fn plain_step(side: &mut Option<PlainSide<TcpStream>>, who: &str) -> bool {
    let next = side.take().expect("side present").step(who);
    let done = next.is_done();
    *side = Some(next);
    done
}

trait Pairs {
    type C: Conn;
    type S: Conn;
    fn establish(&self, listener: &TcpListener) -> (Self::C, Self::S);
}

struct Tlshake {
    ctx: openssl::ssl::SslContext,
    /// `HEAP_TICKETS=N`: TLS 1.3 tickets the server sends, instead of the default.
    tickets: Option<usize>,
    config: tlshake::client::ClientConfig,
}

impl Pairs for Tlshake {
    type C = TlsStream<TcpStream>;
    type S = TlsStream<TcpStream>;
    fn establish(&self, listener: &TcpListener) -> (Self::C, Self::S) {
        let (c, s) = tcp_pair(listener);
        let sockets = dup_pair(&c, &s);
        let mut client = self.config.handshake("localhost", c).expect("client");
        client.set_nodelay_policy(NodelayPolicy::Always);
        let mut ssl = openssl::ssl::Ssl::new(&self.ctx).expect("server ssl");
        if let Some(n) = self.tickets {
            ssl.set_num_tickets(n).expect("tickets");
        }
        let mut server = Handshake::server(ssl, s).expect("server");
        let (mut c_done, mut s_done) = (false, false);
        until_done(
            &[&sockets.0, &sockets.1],
            &|| "tlshake handshake".into(),
            || {
                c_done = c_done || tlshake_step(&mut client, "client");
                s_done = s_done || tlshake_step(&mut server, "server");
                c_done && s_done
            },
        );
        (client.into_stream(), server.into_stream())
    }
}

struct Plain {
    connector: SslConnector,
    acceptor: SslAcceptor,
}

impl Pairs for Plain {
    type C = SslStream<TcpStream>;
    type S = SslStream<TcpStream>;
    fn establish(&self, listener: &TcpListener) -> (Self::C, Self::S) {
        let (c, s) = tcp_pair(listener);
        let sockets = dup_pair(&c, &s);
        let mut client = Some(PlainSide::from_result(
            self.connector.connect("localhost", c),
            "client",
        ));
        let mut server = Some(PlainSide::from_result(self.acceptor.accept(s), "server"));
        until_done(
            &[&sockets.0, &sockets.1],
            &|| "plain handshake".into(),
            || plain_step(&mut client, "client") & plain_step(&mut server, "server"),
        );
        match (client.expect("client side"), server.expect("server side")) {
            (PlainSide::Done(c), PlainSide::Done(s)) => (c, s),
            _ => panic!("handshake did not complete"),
        }
    }
}

/// One side of a mixed pair: tlshake's client with the plain crate's server, or the reverse
/// (`TLSHAKE_HEAP_IMPL=tlshake_client` / `tlshake_server`), to tell which side holds what.
struct Mixed {
    tlshake: Tlshake,
    plain: Plain,
    tlshake_client: bool,
}

impl Pairs for Mixed {
    type C = Box<dyn Conn>;
    type S = Box<dyn Conn>;
    fn establish(&self, listener: &TcpListener) -> (Self::C, Self::S) {
        let (c, s) = tcp_pair(listener);
        let sockets = dup_pair(&c, &s);
        let (mut ours, theirs) = if self.tlshake_client {
            (
                self.tlshake
                    .config
                    .handshake("localhost", c)
                    .expect("client"),
                PlainSide::from_result(self.plain.acceptor.accept(s), "server"),
            )
        } else {
            let ssl = openssl::ssl::Ssl::new(&self.tlshake.ctx).expect("server ssl");
            (
                Handshake::server(ssl, s).expect("server"),
                PlainSide::from_result(self.plain.connector.connect("localhost", c), "client"),
            )
        };
        let mut theirs = Some(theirs);
        let mut done = false;
        until_done(
            &[&sockets.0, &sockets.1],
            &|| "mixed handshake".into(),
            || {
                done = done || tlshake_step(&mut ours, "tlshake side");
                plain_step(&mut theirs, "plain side") && done
            },
        );
        let Some(PlainSide::Done(theirs)) = theirs else {
            panic!("the plain side ended without finishing");
        };
        let ours: Box<dyn Conn> = Box::new(ours.into_stream());
        let theirs: Box<dyn Conn> = Box::new(theirs);
        if self.tlshake_client {
            (ours, theirs)
        } else {
            (theirs, ours)
        }
    }
}

/// tlshake's client `Ssl` (from `ClientConfig::new_ssl`) driven by the plain crate's
/// `SslStream::connect`, against the plain server (`TLSHAKE_HEAP_IMPL=config_client`): the
/// configuration's share without tlshake's transport and handshake driver.
struct ConfigClient {
    tlshake: Tlshake,
    plain: Plain,
}

impl Pairs for ConfigClient {
    type C = SslStream<TcpStream>;
    type S = SslStream<TcpStream>;
    fn establish(&self, listener: &TcpListener) -> (Self::C, Self::S) {
        let (c, s) = tcp_pair(listener);
        let ssl = self
            .tlshake
            .config
            .new_ssl("localhost")
            .expect("client ssl");
        let sockets = dup_pair(&c, &s);
        let mut client = SslStream::new(ssl, c).expect("client stream");
        let mut server = Some(PlainSide::from_result(
            self.plain.acceptor.accept(s),
            "server",
        ));
        let mut done = false;
        until_done(&[&sockets.0, &sockets.1], &|| "handshake".into(), || {
            if !done {
                match client.connect() {
                    Ok(()) => done = true,
                    Err(e) if e.code() == openssl::ssl::ErrorCode::WANT_READ => {}
                    Err(e) => panic!("client: {e}"),
                }
            }
            plain_step(&mut server, "server") && done
        });
        match server {
            Some(PlainSide::Done(server)) => (client, server),
            _ => panic!("the server ended without finishing"),
        }
    }
}

fn measure<P: Pairs>(p: &P, n: usize) -> Value {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut warm: Vec<_> = (0..20).map(|_| p.establish(&listener)).collect();
    for (c, s) in &mut warm {
        exchange(c, s);
        exchange(s, c);
    }
    let before = rss_anon_kb();
    let live_before = heap_in_use_kb();
    let mut pairs: Vec<_> = (0..n).map(|_| p.establish(&listener)).collect();
    let handshake = rss_anon_kb();
    let live_handshake = heap_in_use_kb();
    // `HEAP_HANDSHAKE_ONLY=1` (for instruction counts of the handshake alone).
    if std::env::var_os("HEAP_HANDSHAKE_ONLY").is_some() {
        return json!({"pairs": n, "kb_per_pair_after_handshake": (handshake - before) / n as f64});
    }
    for (c, s) in &mut pairs {
        exchange(c, s);
        exchange(s, c);
    }
    if std::env::var_os("HEAP_EXIT_HOLDING").is_some() {
        std::process::exit(0);
    }
    let exchanged = rss_anon_kb();
    let live_exchanged = heap_in_use_kb();
    json!({
        "pairs": n,
        "kb_per_pair_after_handshake": (handshake - before) / n as f64,
        "kb_per_pair_after_first_exchange": (exchanged - before) / n as f64,
        "live_kb_per_pair_after_handshake": (live_handshake - live_before) / n as f64,
        "live_kb_per_pair_after_first_exchange": (live_exchanged - live_before) / n as f64,
    })
}

fn child(which: &str, n: usize) -> Value {
    let case = Case {
        tls13: true,
        rsa: false,
        resume: false,
    };
    match which {
        "tlshake" => measure(
            &Tlshake {
                ctx: tlshake_server_context(case),
                config: match std::env::var("HEAP_GROUPS") {
                    // `HEAP_GROUPS=X25519`: the client's key-exchange groups.
                    Ok(groups) => tlshake::client::ClientConfig::builder()
                        .ca_pem(bundled::CA_PEM.as_bytes())
                        .peer_name("localhost")
                        .protocols(tlshake::ProtocolSet::TLS1_3)
                        .groups(groups)
                        .build()
                        .expect("client config"),
                    Err(_) => tlshake_client_config(case, NodelayPolicy::Always),
                },
                tickets: std::env::var("HEAP_TICKETS")
                    .ok()
                    .and_then(|v| v.parse().ok()),
            },
            n,
        ),
        "tlshake_client" | "tlshake_server" => measure(
            &Mixed {
                tlshake: Tlshake {
                    ctx: tlshake_server_context(case),
                    config: tlshake_client_config(case, NodelayPolicy::Always),
                    tickets: None,
                },
                plain: plain(),
                tlshake_client: which == "tlshake_client",
            },
            n,
        ),
        "config_client" => measure(
            &ConfigClient {
                tlshake: Tlshake {
                    ctx: tlshake_server_context(case),
                    config: tlshake_client_config(case, NodelayPolicy::Always),
                    tickets: None,
                },
                plain: plain(),
            },
            n,
        ),
        _ => measure(&plain(), n),
    }
}

fn plain() -> Plain {
    Plain {
        connector: plain_connector(None),
        acceptor: plain_acceptor(bundled::SERVER_PEM, bundled::SERVER_KEY, None),
    }
}

fn main() {
    let n: usize = std::env::var("HEAP_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    if let Ok(which) = std::env::var(CHILD_ENV) {
        println!("{}", child(&which, n));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that quick.
    let n = if std::env::args().any(|a| a == "--bench") {
        n
    } else {
        20
    };
    let exe = std::env::current_exe().expect("own path");
    let mut results = serde_json::Map::new();
    for which in ["tlshake", "openssl_crate"] {
        let out = Command::new(&exe)
            .env(CHILD_ENV, which)
            .env("HEAP_PAIRS", n.to_string())
            .output()
            .expect("run the measuring child");
        assert!(
            out.status.success(),
            "the {which} child failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(line.trim()).expect("child result");
        results.insert(which.to_string(), v);
    }
    let ratio = |k: &str| {
        results["tlshake"][k].as_f64().unwrap_or(0.0)
            / results["openssl_crate"][k].as_f64().unwrap_or(1.0)
    };
    results.insert(
        "ratio".into(),
        json!({
            "after_handshake": ratio("kb_per_pair_after_handshake"),
            "after_first_exchange": ratio("kb_per_pair_after_first_exchange"),
            "live_after_handshake": ratio("live_kb_per_pair_after_handshake"),
            "live_after_first_exchange": ratio("live_kb_per_pair_after_first_exchange"),
        }),
    );
    println!("{}", Value::Object(results));
}
