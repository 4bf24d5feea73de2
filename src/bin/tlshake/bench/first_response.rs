//! `tlshake bench --first-response`: the time of a first 100-byte request and reply right
//! after a TLS 1.3 handshake, per TCP_NODELAY policy.
//!
//! Each iteration is a fresh loopback connection: a tlshake client with the policy under test
//! against a tlshake server at its default policy ([`NodelayPolicy::Always`]); `nagle-both`
//! leaves Nagle on at both ends (what the plain `openssl` crate does unless told otherwise);
//! `nagle-both-2-tickets` also has the client ask for session tickets and the server send
//! OpenSSL's default two, as two plain-OpenSSL ends do: the second ticket's record waits
//! behind Nagle for the ACK of the first, and the reply waits behind it (~40 ms).
//! The time runs from the client's write of the request to its read of the reply's last byte.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext};
use serde_json::{json, Value};
use tlshake::client::{self, ClientConfig};
use tlshake::server::ServerConfig;
use tlshake::url::TransportUrl;
use tlshake::ProtocolSet;
use tlshake::{Handshake, NodelayPolicy, ProtocolVersion};

use crate::bundled;

use super::args::BenchArgs;
use super::certificate::certified_key;
use crate::report::{self, percentile, Outcome};

/// Bytes of the request and of the reply.
const EXCHANGE: usize = 100;
/// A first response slower than this counts as a stall.
const STALL_MS: f64 = 5.0;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `tlshake bench --first-response`.
pub(super) fn run(a: &BenchArgs) -> Outcome {
    let (pem, key) = (bundled::SERVER_PEM, bundled::SERVER_KEY);
    let v = ProtocolVersion::Tls1_3;
    let n = a.iterations as usize;
    let ctx = match certified_key(pem, key).and_then(|ck| {
        Ok(ServerConfig::builder()
            .certificate(ck)
            .protocols(ProtocolSet::of(v))
            .build()
            .map(|c| c.context().clone())?)
    }) {
        Ok(ctx) => ctx,
        Err(e) => {
            report::fail("tlshake bench: cannot set up", &*e);
            return Outcome::Failed;
        }
    };
    let mut rows = serde_json::Map::new();
    let mut failures = 0;
    if !a.json {
        println!(
            "first 100-byte request/reply after a TLS 1.3 handshake, {n} connections per policy, {}",
            openssl::version::version()
        );
        println!(
            "{:<21} {:>9} {:>9} {:>9}",
            "policy", "p50 ms", "p99 ms", "over 5 ms"
        );
    }
    for row in ROWS {
        let config = match ClientConfig::builder()
            .ca_pem(bundled::CA_PEM.as_bytes())
            .peer_name("localhost")
            .protocols(ProtocolSet::of(v))
            .nodelay(row.client)
            .session_tickets(row.tickets.is_some())
            .build()
        {
            Ok(config) => config,
            Err(e) => {
                report::fail("tlshake bench: cannot set up", &e);
                return Outcome::Failed;
            }
        };
        let l = measure(row, &ctx, &config, n);
        failures += l.failures;
        if !a.json {
            println!(
                "{:<21} {:>9.3} {:>9.3} {:>9}",
                row.name, l.p50_ms, l.p99_ms, l.over_5ms
            );
        }
        rows.insert(row.name.to_string(), l.to_json());
    }
    if a.json {
        rows.insert(
            "config".into(),
            json!({"iterations": n, "proto": v.cli_name(), "key": "ecdsa", "bytes": 100,
                   "openssl": openssl::version::version()}),
        );
        println!("{}", Value::Object(rows));
    }
    if failures > 0 {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}

/// One row: the client's policy and the server's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) client: NodelayPolicy,
    pub(crate) server: NodelayPolicy,
    /// The client asks for session tickets and the server sends this many (`None`: both at
    /// tlshake's defaults, which send none to a client that does not resume).
    pub(crate) tickets: Option<usize>,
}

/// The rows in the order printed.
pub(crate) const ROWS: [Row; 5] = [
    Row {
        name: "always",
        client: NodelayPolicy::Always,
        server: NodelayPolicy::Always,
        tickets: None,
    },
    Row {
        name: "after",
        client: NodelayPolicy::AfterHandshake,
        server: NodelayPolicy::Always,
        tickets: None,
    },
    Row {
        name: "leave",
        client: NodelayPolicy::Leave,
        server: NodelayPolicy::Always,
        tickets: None,
    },
    Row {
        name: "nagle-both",
        client: NodelayPolicy::Leave,
        server: NodelayPolicy::Leave,
        tickets: None,
    },
    Row {
        name: "nagle-both-2-tickets",
        client: NodelayPolicy::Leave,
        server: NodelayPolicy::Leave,
        tickets: Some(2),
    },
];

/// The latencies of one row.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Latency {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) over_5ms: usize,
    pub(crate) iterations: usize,
    pub(crate) failures: usize,
}

impl Latency {
    pub(crate) fn to_json(self) -> Value {
        let r = |v: f64| (v * 1000.0).round() / 1000.0;
        json!({
            "p50_ms": r(self.p50_ms),
            "p99_ms": r(self.p99_ms),
            "over_5ms": self.over_5ms,
            "iterations": self.iterations,
            "failures": self.failures,
        })
    }
}

/// Runs `n` iterations of one row.
pub(crate) fn measure(row: Row, ctx: &SslContext, config: &ClientConfig, n: usize) -> Latency {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        return failed(n);
    };
    let Ok(addr) = listener.local_addr() else {
        return failed(n);
    };
    let Ok(url) = format!("tls://{addr}").parse::<TransportUrl>() else {
        return failed(n);
    };
    let ctx = ctx.clone();
    let server_policy = row.server;
    let server_tickets = row.tickets;
    // The server serves exactly `n` connections; the client makes exactly `n`.
    let server = thread::spawn(move || {
        for _ in 0..n {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let _ = tcp.set_nonblocking(true);
            let Ok(mut ssl) = Ssl::new(&ctx) else {
                continue;
            };
            if let Some(n) = server_tickets {
                if ssl.set_num_tickets(n).is_err() {
                    continue;
                }
            }
            let Ok(mut hs) = Handshake::server(ssl, tcp) else {
                continue;
            };
            hs.set_nodelay_policy(server_policy);
            let Ok(mut tls) = hs.drive(Instant::now() + TIMEOUT) else {
                continue;
            };
            let _ = tls.get_ref().set_nonblocking(false);
            let _ = tls.get_ref().set_read_timeout(Some(TIMEOUT));
            let mut request = [0u8; EXCHANGE];
            if tls.read_exact(&mut request).is_ok() {
                let _ = tls.write_all(&[b'r'; EXCHANGE]);
            }
            // Wait for the client's close_notify (or EOF) before closing.
            let _ = tls.read(&mut request);
        }
    });
    let mut lat = Vec::with_capacity(n);
    let mut failures = 0;
    for _ in 0..n {
        match one(&url, config) {
            Some(ms) => lat.push(ms),
            None => failures += 1,
        }
    }
    let _ = server.join();
    lat.sort_by(f64::total_cmp);
    Latency {
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        over_5ms: lat.iter().filter(|ms| **ms > STALL_MS).count(),
        iterations: lat.len(),
        failures,
    }
}

fn one(url: &TransportUrl, config: &ClientConfig) -> Option<f64> {
    let mut c = client::connect(url, config).ok()?;
    let _ = c.stream.get_ref().set_read_timeout(Some(TIMEOUT));
    let t0 = Instant::now();
    c.stream.write_all(&[b'q'; EXCHANGE]).ok()?;
    let mut reply = [0u8; EXCHANGE];
    c.stream.read_exact(&mut reply).ok()?;
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let _ = c.stream.shutdown();
    Some(ms)
}

fn failed(n: usize) -> Latency {
    Latency {
        failures: n,
        ..Latency::default()
    }
}
