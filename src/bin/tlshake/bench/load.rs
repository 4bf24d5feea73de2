//! `tlshake bench --connect URL`: a handshake load generator against any TLS server, like
//! `openssl s_time -new` but with C handshakes in flight from one thread, a deadline per
//! handshake, latency percentiles and failures counted by reason.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tlshake::client::ClientConfig;
use tlshake::engine::Token;
use tlshake::url::{Host, TransportUrl};
use tlshake::ProtocolSet;
use tlshake::ProtocolVersion;
use tlshake::{connect_nonblocking, Completed, MultiDriver};

use super::args::{BenchArgs, BenchProto};
use crate::report::{self, percentile, Outcome};

/// What to run.
pub(super) struct Load<'a> {
    pub(super) url: &'a TransportUrl,
    pub(super) config: &'a ClientConfig,
    pub(super) concurrency: usize,
    /// Stop after this many handshakes (successful or not)...
    pub(super) handshakes: usize,
    /// ... or, when given, after this long (no new handshake starts after it).
    pub(super) duration: Option<Duration>,
    pub(super) timeout: Duration,
    pub(super) json: bool,
}

/// What came of it.
#[derive(Debug, Default)]
struct Tally {
    lat_ms: Vec<f64>,
    failures: BTreeMap<String, usize>,
}

impl Tally {
    fn fail(&mut self, reason: &str) {
        *self.failures.entry(reason.to_string()).or_default() += 1;
    }

    fn ended(&self) -> usize {
        self.lat_ms.len() + self.failures.values().sum::<usize>()
    }
}

/// Runs `tlshake bench --connect URL`.
pub(super) fn from_args(a: &BenchArgs, url: &str) -> Outcome {
    let url: TransportUrl = match url.parse() {
        Ok(u) => u,
        Err(e) => return report::bad_input("--connect", e),
    };
    let secs = |flag: &str, v: f64| {
        Duration::try_from_secs_f64(v)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| report::bad_input(flag, "expected a positive number of seconds"))
    };
    let timeout = match secs("--timeout", a.timeout) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let duration = match a.duration.map(|d| secs("--duration", d)).transpose() {
        Ok(d) => d,
        Err(o) => return o,
    };
    let version = match a.proto {
        BenchProto::Tls12 => ProtocolVersion::Tls1_2,
        BenchProto::Tls13 => ProtocolVersion::Tls1_3,
    };
    let mut b = ClientConfig::builder()
        .protocols(ProtocolSet::of(version))
        .verify_peer(!a.insecure)
        .verify_peer_name(!a.insecure);
    if let Some(ca) = &a.cafile {
        b = b.ca_file(ca);
    }
    if let Some(name) = &a.servername {
        b = b.peer_name(name);
    }
    if let Some(list) = &a.groups {
        b = b.groups(list);
    }
    let config = match b.build() {
        Ok(c) => c,
        Err(e) => return report::bad_input("bench --connect", e),
    };
    run(&Load {
        url: &url,
        config: &config,
        concurrency: a.concurrency as usize,
        handshakes: a.handshakes as usize,
        duration,
        timeout,
        json: a.json,
    })
}

/// Runs the load and prints the report.
pub(super) fn run(load: &Load<'_>) -> Outcome {
    let addr = match resolve(load.url) {
        Ok(a) => a,
        Err(e) => {
            let what = format!("tlshake bench: cannot resolve {}", load.url.authority());
            report::fail(&what, &e);
            return Outcome::ConnectFailed;
        }
    };
    let host = match load.url.host() {
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6 { addr, .. } => addr.to_string(),
        Host::Name(n) => n.trim_end_matches('.').to_string(),
    };
    let _ = tlshake::raise_nofile_limit();
    let mut driver = match MultiDriver::new() {
        Ok(d) => d,
        Err(e) => {
            report::fail("tlshake bench", &e);
            return Outcome::Failed;
        }
    };
    let bar = if std::io::stderr().is_terminal() && !load.json {
        let bar = match load.duration {
            Some(d) => indicatif::ProgressBar::new(d.as_secs()),
            None => indicatif::ProgressBar::new(load.handshakes as u64),
        };
        let template = if load.duration.is_some() {
            "{bar:40} {pos}/{len} s {msg}"
        } else {
            "{bar:40} {pos}/{len} handshakes {per_sec}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut tally = Tally::default();
    let mut since: std::collections::HashMap<Token, Instant> = Default::default();
    let t0 = Instant::now();
    let stop_at = load.duration.map(|d| t0 + d);
    let mut started = 0usize;
    let more = |started: usize| match stop_at {
        Some(at) => Instant::now() < at,
        None => started < load.handshakes,
    };
    loop {
        while driver.in_flight() < load.concurrency && more(started) {
            started += 1;
            let t = Instant::now();
            let handshake = connect_nonblocking(addr)
                .map_err(|_| "connect")
                .and_then(|tcp| load.config.handshake(&host, tcp).map_err(|_| "setup"));
            match handshake.map(|h| driver.add(h, t + load.timeout)) {
                Ok(Ok(token)) => {
                    since.insert(token, t);
                }
                Ok(Err(_)) => tally.fail("epoll"),
                Err(reason) => tally.fail(reason),
            }
        }
        if driver.in_flight() == 0 && driver.queued() == 0 {
            break;
        }
        let wait = Instant::now() + load.timeout + Duration::from_secs(1);
        let event = match driver.next_completed(wait) {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(e) => {
                report::fail("tlshake bench", &e);
                return Outcome::Failed;
            }
        };
        let t = since.remove(&event.token);
        match (event.result, t) {
            (Completed::Done(_tls), Some(t)) => tally.lat_ms.push(t.elapsed().as_secs_f64() * 1e3),
            (Completed::TimedOut(_), _) => tally.fail("timeout"),
            (Completed::Failed(e) | Completed::Shutdown(e), _) => tally.fail(e.kind().name()),
            (other, _) => tally.fail(other.name()),
        }
        match load.duration {
            Some(_) => bar.set_position(t0.elapsed().as_secs()),
            None => bar.set_position(tally.ended() as u64),
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    report(load, &mut tally, wall)
}

fn report(load: &Load<'_>, tally: &mut Tally, wall: f64) -> Outcome {
    tally.lat_ms.sort_by(f64::total_cmp);
    let ok = tally.lat_ms.len();
    let per_s = if wall > 0.0 { ok as f64 / wall } else { 0.0 };
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    let (p50, p99, p999) = (
        r(percentile(&tally.lat_ms, 50.0)),
        r(percentile(&tally.lat_ms, 99.0)),
        r(percentile(&tally.lat_ms, 99.9)),
    );
    let failed: usize = tally.failures.values().sum();
    if load.json {
        let failures: serde_json::Map<String, Value> = tally
            .failures
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect();
        println!(
            "{}",
            json!({
                "config": {
                    "url": load.url.to_string(), "concurrency": load.concurrency,
                    "handshakes": load.duration.is_none().then_some(load.handshakes),
                    "duration_s": load.duration.map(|d| d.as_secs_f64()),
                    "timeout_s": load.timeout.as_secs_f64(),
                    "openssl": openssl::version::version(),
                },
                "handshakes": ok,
                "handshakes_per_s": r(per_s),
                "seconds": r(wall),
                "p50_ms": p50, "p99_ms": p99, "p999_ms": p999,
                "failures": failed,
                "failures_by_reason": failures,
            })
        );
    } else {
        println!(
            "{} handshakes to {} in {wall:.2} s, {} in flight: {per_s:.1}/s",
            ok, load.url, load.concurrency
        );
        println!("latency ms: p50 {p50:.3}  p99 {p99:.3}  p99.9 {p999:.3}");
        if failed > 0 {
            let list: Vec<String> = tally
                .failures
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            println!("failures: {failed} ({})", list.join(", "));
        }
    }
    if failed > 0 || ok == 0 {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}

fn resolve(url: &TransportUrl) -> std::io::Result<SocketAddr> {
    let host = match url.host() {
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6 { addr, .. } => addr.to_string(),
        Host::Name(n) => n.clone(),
    };
    (host.as_str(), url.port())
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
}
