//! Handshakes per second with both ends in one thread over memory buffers: no sockets, no
//! kernel, no waiting, so what is measured is the libraries' own CPU (the floor a socket
//! benchmark adds the kernel to). Full TLS 1.3 handshakes, ECDSA P-256, chain and host name
//! verified.
//!
//! * tlshake: a `MemoryHandshake` client (from `ClientConfig::handshake`, so with the
//!   verification cache and the ticket policy) and a `MemoryHandshake` server (from
//!   `ServerConfig`), bytes moved between them by hand;
//! * the plain `openssl` crate: `SslConnector` / `SslAcceptor` as its docs show them, each over
//!   a `tlshake::MemoryPipe`, stepped with `MidHandshakeSslStream::handshake`.
//!
//! Alternating rounds of at least 400 ms each; printed: the rates per round and the median
//! ratio tlshake / plain crate, as one JSON object.
//!
//! `cargo bench --bench membio`; `MEMBIO_GROUPS=X25519` sets the tlshake client's groups;
//! `MEMBIO_ROUNDS=N` (default 6). With `--features vendored` both use OpenSSL 3.6.

use std::time::{Duration, Instant};

use openssl::ssl::{SslAcceptor, SslConnector, SslVersion};
use serde_json::json;
use tlshake::client::ClientConfig;
use tlshake::{bundled, HandshakeOutcome, NodelayPolicy};
use tlshake::{MemoryHandshake, MemoryPipe};

mod perf_support;
use perf_support::{
    median, plain_acceptor, plain_connector, tlshake_server_context, Case, PlainSide,
};

const CASE: Case = Case {
    tls13: true,
    rsa: false,
    resume: false,
};
/// How many flights a handshake may take before the bench calls it stuck.
const MAX_FLIGHTS: usize = 20;

struct Tlshake {
    config: ClientConfig,
    server: openssl::ssl::SslContext,
}

impl Tlshake {
    fn new() -> Tlshake {
        let mut builder = ClientConfig::builder()
            .ca_pem(bundled::CA_PEM.as_bytes())
            .peer_name("localhost")
            .protocols(tlshake::ProtocolSet::of(tlshake::ProtocolVersion::Tls1_3))
            .nodelay(NodelayPolicy::Leave);
        if let Ok(groups) = std::env::var("MEMBIO_GROUPS") {
            builder = builder.groups(groups);
        }
        Tlshake {
            config: builder.build().expect("client config"),
            server: tlshake_server_context(CASE),
        }
    }

    fn handshake(&self, buf: &mut Vec<u8>) {
        let mut c = MemoryHandshake::from(
            self.config
                .handshake("localhost", tlshake::MemoryPipe::new())
                .expect("client"),
        );
        let mut s =
            MemoryHandshake::server(openssl::ssl::Ssl::new(&self.server).expect("server ssl"))
                .expect("server");
        let (mut c_done, mut s_done) = (false, false);
        for _ in 0..MAX_FLIGHTS {
            if !c_done {
                c_done = done(c.step(), "client");
            }
            buf.clear();
            c.take(buf);
            s.feed(buf);
            if !s_done {
                s_done = done(s.step(), "server");
            }
            buf.clear();
            s.take(buf);
            c.feed(buf);
            if c_done && s_done {
                return;
            }
        }
        panic!("tlshake handshake did not complete");
    }
}

fn done(outcome: HandshakeOutcome, side: &str) -> bool {
    match outcome {
        HandshakeOutcome::Done => true,
        HandshakeOutcome::Want(_) => false,
        other => panic!("{side}: {other}"),
    }
}

struct Plain {
    connector: SslConnector,
    acceptor: SslAcceptor,
}

impl Plain {
    fn new() -> Plain {
        let tls13 = Some(SslVersion::TLS1_3);
        Plain {
            connector: plain_connector(tls13),
            acceptor: plain_acceptor(bundled::SERVER_PEM, bundled::SERVER_KEY, tls13),
        }
    }

    fn handshake(&self, buf: &mut Vec<u8>) {
        let mut c = PlainSide::from_result(
            self.connector.connect("localhost", MemoryPipe::new()),
            "client",
        );
        buf.clear();
        c.get_mut().take_output(buf);
        let mut pipe = MemoryPipe::new();
        pipe.feed(buf);
        let mut s = PlainSide::from_result(self.acceptor.accept(pipe), "server");
        for _ in 0..MAX_FLIGHTS {
            buf.clear();
            s.get_mut().take_output(buf);
            c.get_mut().feed(buf);
            c = c.step("client");
            if c.is_done() && s.is_done() {
                return;
            }
            buf.clear();
            c.get_mut().take_output(buf);
            s.get_mut().feed(buf);
            s = s.step("server");
        }
        panic!("plain crate handshake did not complete");
    }
}

/// Handshakes per second of `one` over at least `stretch`.
fn rate(stretch: Duration, mut one: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || start.elapsed() < stretch {
        one();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that quick.
    let benching = std::env::args().any(|a| a == "--bench");
    let rounds: usize = std::env::var("MEMBIO_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 6 } else { 1 });
    let stretch = if benching {
        Duration::from_millis(400)
    } else {
        Duration::ZERO
    };
    let (tlshake, plain) = (Tlshake::new(), Plain::new());
    let mut buf = Vec::new();
    // Warm-up: the verification cache's first (missing) entry, OpenSSL's lazy tables.
    for _ in 0..20 {
        tlshake.handshake(&mut buf);
        plain.handshake(&mut buf);
    }
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut t = || rate(stretch, || tlshake.handshake(&mut buf));
        let (a, b) = if round % 2 == 0 {
            let a = t();
            (a, rate(stretch, || plain.handshake(&mut Vec::new())))
        } else {
            let b = rate(stretch, || plain.handshake(&mut Vec::new()));
            (t(), b)
        };
        ours.push(a.round());
        theirs.push(b.round());
        ratios.push(a / b);
    }
    println!(
        "{}",
        json!({
            "openssl": openssl::version::version(),
            "tlshake_groups": std::env::var("MEMBIO_GROUPS").ok(),
            "tlshake_per_s": ours,
            "openssl_crate_per_s": theirs,
            "tlshake_median_per_s": median(ours.clone()),
            "openssl_crate_median_per_s": median(theirs.clone()),
            "ratio_median": median(ratios),
        })
    );
}
