//! `tlshake bench`: full handshakes on loopback, tlshake against the plain `openssl` crate;
//! with `--first-response`, the latency of a first request and reply per TCP_NODELAY policy.

mod events;
mod first_response;
mod load;
mod plot;
#[cfg(feature = "tokio")]
mod tokio_rt;

use std::io::IsTerminal;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::TimeValLike;
use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslAcceptor, SslConnector, SslContext, SslMethod, SslVersion};
use openssl::x509::X509;
use serde_json::{json, Value};
use tlshake::certstore::CertifiedKey;
use tlshake::client::{self, ClientConfig};
use tlshake::server::{ProtocolSet, ServerConfig};
use tlshake::url::TransportUrl;
use tlshake::{bundled, Handshake, ProtocolVersion};

use crate::report::{percentile, Outcome};

/// Protocol version of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchProto {
    /// TLS 1.2.
    #[value(name = "tls1.2")]
    Tls12,
    /// TLS 1.3.
    #[value(name = "tls1.3")]
    Tls13,
}

/// Server key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchKey {
    /// ECDSA P-256 (the bundled server certificate).
    Ecdsa,
    /// RSA (the bundled RSA server certificate).
    Rsa,
}

/// How the handshakes of the comparison wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchRuntime {
    /// The crate's own runners: the epoll engine (--concurrency) or blocking threads
    /// (--threads).
    Native,
    /// tokio: the tokio runner against the plain crate through tokio-openssl, client and
    /// server each on a current_thread runtime of its own thread (needs a tlshake built with
    /// `--features tokio`).
    Tokio,
}

/// Options of `tlshake bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Full handshakes per implementation.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    handshakes: u32,
    /// Handshakes in flight at once, all from one client thread (tlshake through its engine,
    /// the plain crate through `MidHandshakeSslStream` and poll), against a `tlshake serve`
    /// child process.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    concurrency: u32,
    /// Instead of --concurrency: T blocking client threads against T server threads, both
    /// in this process.
    #[arg(long, value_name = "T", conflicts_with = "concurrency", value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: Option<u32>,
    /// How the handshakes wait. With `tokio`, --concurrency handshakes are in flight on the
    /// client's runtime and --groups applies to both implementations' client context.
    #[arg(long, value_name = "RT", default_value = "native", conflicts_with_all = ["threads", "first_response", "connect"])]
    runtime: BenchRuntime,
    /// Protocol version.
    #[arg(long, value_name = "V", default_value = "tls1.3")]
    proto: BenchProto,
    /// Server key type.
    #[arg(long, value_name = "KIND", default_value = "ecdsa")]
    key: BenchKey,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Measure the first 100-byte request and reply after a TLS 1.3 handshake, per
    /// TCP_NODELAY policy (`always`, `after`, `leave`, and `nagle-both`: Nagle on at both
    /// ends), instead of handshake throughput.
    #[arg(long)]
    first_response: bool,
    /// Write an SVG histogram of the handshake latencies of both implementations.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<std::path::PathBuf>,
    /// Key-exchange groups the tlshake client offers (an OpenSSL list such as `X25519`;
    /// default: OpenSSL's). The plain crate keeps its defaults. On OpenSSL 3.5 and newer the
    /// default leads with the post-quantum hybrid X25519MLKEM768: `X25519` alone is faster
    /// and gives that up.
    #[arg(long, value_name = "LIST")]
    groups: Option<String>,
    /// Load-generate against this server (`tls://host:port`) instead of comparing the two
    /// implementations on loopback: --concurrency handshakes in flight from one thread,
    /// until --handshakes or --duration.
    #[arg(long, value_name = "URL", conflicts_with_all = ["threads", "first_response", "plot"])]
    connect: Option<String>,
    /// With --connect: run this many seconds instead of --handshakes.
    #[arg(long, value_name = "SECS", requires = "connect")]
    duration: Option<f64>,
    /// With --connect: seconds one handshake may take (connect included).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// With --connect: trusted CAs, PEM (default: the system's).
    #[arg(long, value_name = "FILE", requires = "connect")]
    cafile: Option<std::path::PathBuf>,
    /// With --connect: the name sent as SNI and verified (default: the URL's host).
    #[arg(long, value_name = "NAME", requires = "connect")]
    servername: Option<String>,
    /// With --connect: do not verify the server's certificate.
    #[arg(long, requires = "connect")]
    insecure: bool,
    /// Connections per policy with `--first-response`.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
}

/// The result of one implementation.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    handshakes: usize,
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: f64,
    failures: usize,
}

impl Stats {
    fn to_json(self) -> Value {
        json!({
            "handshakes": self.handshakes,
            "handshakes_per_s": self.per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "cpu_us_per_handshake": self.cpu_us,
            "failures": self.failures,
        })
    }
}

/// One side's way to make a client handshake on a fresh connection.
type ClientFn = Arc<dyn Fn(SocketAddr) -> bool + Send + Sync>;
/// One side's way to accept a handshake on an accepted socket.
type ServerFn = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// Runs `tlshake bench`.
pub(crate) fn run(a: &BenchArgs) -> Outcome {
    if a.first_response {
        return run_first_response(a);
    }
    if let Some(url) = &a.connect {
        return run_load(a, url);
    }
    let (pem, key) = match a.key {
        BenchKey::Ecdsa => (bundled::SERVER_PEM, bundled::SERVER_KEY),
        BenchKey::Rsa => (bundled::SERVER_RSA_PEM, bundled::SERVER_RSA_KEY),
    };
    let version = match a.proto {
        BenchProto::Tls12 => ProtocolVersion::Tls1_2,
        BenchProto::Tls13 => ProtocolVersion::Tls1_3,
    };
    if a.runtime == BenchRuntime::Tokio {
        return run_tokio(a, pem, key, version);
    }
    let impls = match (
        tlshake_impl(pem, key, version, a.groups.as_deref()),
        openssl_impl(pem, key, version),
    ) {
        (Ok(t), Ok(o)) => (t, o),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("tlshake bench: cannot set up: {e}");
            return Outcome::Failed;
        }
    };
    let progress = std::io::stderr().is_terminal() && !a.json;
    let n = a.handshakes as usize;
    let c = a.threads.unwrap_or(a.concurrency) as usize;
    // The two run in alternating rounds, so that a change of load on a shared machine
    // weighs on both alike and the ratio stays meaningful.
    let rounds = ROUNDS.min(n).max(1);
    let (mut t, mut o) = (Run::default(), Run::default());
    if a.threads.is_some() {
        for r in 0..rounds {
            let chunk = n / rounds + usize::from(r < n % rounds);
            t.merge(measure("tlshake", &impls.0, chunk, c, progress));
            o.merge(measure("openssl crate", &impls.1, chunk, c, progress));
        }
    } else {
        // Each round keeps C in flight: fewer rounds when C is a large part of N.
        let rounds = (n / c).clamp(1, ROUNDS);
        match in_flight(a, version, n, c, rounds) {
            Ok(runs) => (t, o) = runs,
            Err(e) => {
                eprintln!("tlshake bench: cannot set up: {e}");
                return Outcome::Failed;
            }
        }
    }
    report(a, t, o, version, c, "native")
}

/// The tokio comparison (`--runtime tokio`).
#[cfg(feature = "tokio")]
fn run_tokio(a: &BenchArgs, pem: &str, key: &str, version: ProtocolVersion) -> Outcome {
    let n = a.handshakes as usize;
    let c = a.concurrency as usize;
    let rounds = (n / c).clamp(1, ROUNDS);
    match tokio_rt::runs(pem, key, version, a.groups.as_deref(), n, c, rounds) {
        Ok((t, o)) => report(a, t, o, version, c, "tokio"),
        Err(e) => {
            eprintln!("tlshake bench: cannot set up: {e}");
            Outcome::Failed
        }
    }
}

/// `--runtime tokio` in a tlshake built without the tokio runner: a usage error.
#[cfg(not(feature = "tokio"))]
fn run_tokio(_: &BenchArgs, _: &str, _: &str, _: ProtocolVersion) -> Outcome {
    crate::report::bad_input(
        "--runtime tokio",
        "this tlshake was built without the tokio runner; build it with `--features tokio`",
    )
}

/// Writes the comparison (table or JSON, and the --plot histogram) and gives the verdict.
fn report(
    a: &BenchArgs,
    t: Run,
    o: Run,
    version: ProtocolVersion,
    c: usize,
    runtime: &str,
) -> Outcome {
    let n = a.handshakes as usize;
    if let Some(path) = &a.plot {
        let series = [("tlshake", &t.lat[..]), ("openssl crate", &o.lat[..])];
        if let Err(e) = plot::write_latency_histogram(path, &series) {
            eprintln!("tlshake bench: cannot write {}: {e}", path.display());
            return Outcome::BadInput;
        }
    }
    let (t, o) = (t.stats(), o.stats());
    let ratio = if o.per_s > 0.0 {
        t.per_s / o.per_s
    } else {
        0.0
    };
    let proto = version.cli_name();
    let key_name = match a.key {
        BenchKey::Ecdsa => "ecdsa",
        BenchKey::Rsa => "rsa",
    };
    if a.json {
        println!(
            "{}",
            json!({
                "config": {
                    "handshakes": n, "concurrency": c, "proto": proto, "key": key_name,
                    "openssl": openssl::version::version(), "tlshake_groups": a.groups,
                    "runtime": runtime,
                },
                "tlshake": t.to_json(),
                "openssl_crate": o.to_json(),
                "ratio": ratio,
            })
        );
    } else {
        println!(
            "{n} full handshakes, {proto}, {key_name} key, concurrency {c}, {runtime}, {}",
            openssl::version::version()
        );
        println!(
            "{:<14} {:>12} {:>9} {:>9} {:>13} {:>9}",
            "", "handshakes/s", "p50 ms", "p99 ms", "CPU us/hs", "failures"
        );
        for (name, s) in [("tlshake", t), ("openssl crate", o)] {
            println!(
                "{name:<14} {:>12.1} {:>9.3} {:>9.3} {:>13.1} {:>9}",
                s.per_s, s.p50_ms, s.p99_ms, s.cpu_us, s.failures
            );
        }
        println!("ratio tlshake/openssl crate (handshakes/s): {ratio:.3}");
    }
    if t.failures + o.failures > 0 {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}

/// C handshakes in flight from this thread against a `tlshake serve` child, in alternating
/// rounds; the CPU time is this process's plus the server's.
fn in_flight(
    a: &BenchArgs,
    version: ProtocolVersion,
    n: usize,
    c: usize,
    rounds: usize,
) -> Result<(Run, Run), String> {
    let _ = tlshake::limits::raise_nofile_limit();
    // s_server reads the RSA pair from files, which live as long as this run.
    let files = bundled::CertsDir::write().map_err(|e| format!("bundled certificates: {e}"))?;
    let cert = match a.key {
        BenchKey::Ecdsa => None,
        BenchKey::Rsa => Some((
            files.path("server-rsa.pem").display().to_string(),
            files.path("server-rsa.key").display().to_string(),
        )),
    };
    let server = events::ServerChild::start(cert, version.cli_name())?;
    let mut builder = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(version));
    if let Some(list) = &a.groups {
        builder = builder.groups(list);
    }
    let config = builder.build().map_err(|e| crate::report::chain(&e))?;
    let connector = plain_connector(version).map_err(|e| crate::report::chain(&e))?;
    let (mut t, mut o) = (Run::default(), Run::default());
    let measured = |run: &dyn Fn() -> Run| {
        let (cpu0, server0) = (cpu_us(), server.cpu_us());
        let mut r = run();
        r.cpu = cpu_us() - cpu0 + server.cpu_us() - server0;
        r
    };
    for r in 0..rounds {
        let chunk = n / rounds + usize::from(r < n % rounds);
        let c = c.min(chunk).max(1);
        t.merge(measured(&|| {
            events::tlshake(&config, server.addr, chunk, c)
        }));
        o.merge(measured(&|| {
            events::openssl(&connector, server.addr, chunk, c)
        }));
    }
    Ok((t, o))
}

fn plain_connector(v: ProtocolVersion) -> Result<SslConnector, openssl::error::ErrorStack> {
    let version = match v {
        ProtocolVersion::Tls1_2 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    let mut cb = SslConnector::builder(SslMethod::tls())?;
    cb.cert_store_mut()
        .add_cert(X509::from_pem(bundled::CA_PEM.as_bytes())?)?;
    cb.set_min_proto_version(Some(version))?;
    cb.set_max_proto_version(Some(version))?;
    Ok(cb.build())
}

/// Runs `tlshake bench --connect URL`.
fn run_load(a: &BenchArgs, url: &str) -> Outcome {
    let url: TransportUrl = match url.parse() {
        Ok(u) => u,
        Err(e) => return crate::report::bad_input("--connect", e),
    };
    let secs = |flag: &str, v: f64| {
        Duration::try_from_secs_f64(v)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| crate::report::bad_input(flag, "expected a positive number of seconds"))
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
        Err(e) => return crate::report::bad_input("bench --connect", e),
    };
    load::run(&load::Load {
        url: &url,
        config: &config,
        concurrency: a.concurrency as usize,
        handshakes: a.handshakes as usize,
        duration,
        timeout,
        json: a.json,
    })
}

/// Runs `tlshake bench --first-response`.
fn run_first_response(a: &BenchArgs) -> Outcome {
    let (pem, key) = (bundled::SERVER_PEM, bundled::SERVER_KEY);
    let v = ProtocolVersion::Tls1_3;
    let n = a.iterations as usize;
    let ctx = match certified_key(pem, key).and_then(|ck| {
        ServerConfig::builder()
            .certificate(ck)
            .protocols(ProtocolSet::of(v))
            .build_context()
            .map_err(|e| crate::report::chain(&e))
    }) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("tlshake bench: cannot set up: {e}");
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
    for row in first_response::ROWS {
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
                eprintln!("tlshake bench: cannot set up: {e}");
                return Outcome::Failed;
            }
        };
        let l = first_response::measure(row, &ctx, &config, n);
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

fn certified_key(pem: &str, key: &str) -> Result<CertifiedKey, String> {
    let cert = X509::from_pem(pem.as_bytes()).map_err(|e| crate::report::chain(&e))?;
    let key = PKey::private_key_from_pem(key.as_bytes()).map_err(|e| crate::report::chain(&e))?;
    CertifiedKey::from_parts(cert, Vec::new(), key).map_err(|e| crate::report::chain(&e))
}

fn tlshake_impl(
    pem: &str,
    key: &str,
    v: ProtocolVersion,
    groups: Option<&str>,
) -> Result<(ClientFn, ServerFn), String> {
    let ctx: SslContext = ServerConfig::builder()
        .certificate(certified_key(pem, key)?)
        .protocols(ProtocolSet::of(v))
        .build_context()
        .map_err(|e| crate::report::chain(&e))?;
    // SNI and a host-name check, as the plain crate's `connector.connect("localhost", ..)`.
    let mut builder = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(v));
    if let Some(list) = groups {
        builder = builder.groups(list);
    }
    let config = builder.build().map_err(|e| crate::report::chain(&e))?;
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(url) = format!("tls://{addr}").parse::<TransportUrl>() else {
            return false;
        };
        client::connect(&url, &config).is_ok()
    });
    let server: ServerFn = Arc::new(move |tcp| {
        let _ = tcp.set_nonblocking(true);
        if let Ok(hs) = Ssl::new(&ctx)
            .map_err(|e| crate::report::chain(&e))
            .and_then(|ssl| Handshake::server(ssl, tcp).map_err(|e| crate::report::chain(&e)))
        {
            let _ = hs.drive(Instant::now() + Duration::from_secs(10));
        }
    });
    Ok((client, server))
}

fn openssl_impl(pem: &str, key: &str, v: ProtocolVersion) -> Result<(ClientFn, ServerFn), String> {
    let version = match v {
        ProtocolVersion::Tls1_2 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let cert = X509::from_pem(pem.as_bytes()).map_err(e)?;
    let pkey = PKey::private_key_from_pem(key.as_bytes()).map_err(e)?;
    let mut ab = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).map_err(e)?;
    ab.set_private_key(&pkey).map_err(e)?;
    ab.set_certificate(&cert).map_err(e)?;
    ab.set_min_proto_version(Some(version)).map_err(e)?;
    ab.set_max_proto_version(Some(version)).map_err(e)?;
    let acceptor = ab.build();
    let mut cb = SslConnector::builder(SslMethod::tls()).map_err(e)?;
    let ca = X509::from_pem(bundled::CA_PEM.as_bytes()).map_err(e)?;
    cb.cert_store_mut().add_cert(ca).map_err(e)?;
    cb.set_min_proto_version(Some(version)).map_err(e)?;
    cb.set_max_proto_version(Some(version)).map_err(e)?;
    let connector = cb.build();
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(tcp) = TcpStream::connect(addr) else {
            return false;
        };
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        connector.connect("localhost", tcp).is_ok()
    });
    let server: ServerFn = Arc::new(move |tcp| {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = acceptor.accept(tcp);
    });
    Ok((client, server))
}

fn cpu_us() -> f64 {
    getrusage(UsageWho::RUSAGE_SELF)
        .map(|u| (u.user_time().num_microseconds() + u.system_time().num_microseconds()) as f64)
        .unwrap_or(0.0)
}

/// Rounds of alternating measurement.
const ROUNDS: usize = 10;

/// The raw results of one or more rounds of one implementation.
#[derive(Debug, Default)]
struct Run {
    lat: Vec<f64>,
    wall: f64,
    cpu: f64,
    failures: usize,
}

impl Run {
    fn merge(&mut self, other: Run) {
        self.lat.extend(other.lat);
        self.wall += other.wall;
        self.cpu += other.cpu;
        self.failures += other.failures;
    }

    fn stats(mut self) -> Stats {
        self.lat.sort_by(f64::total_cmp);
        let ok = self.lat.len();
        Stats {
            handshakes: ok,
            per_s: if self.wall > 0.0 {
                ok as f64 / self.wall
            } else {
                0.0
            },
            p50_ms: percentile(&self.lat, 50.0),
            p99_ms: percentile(&self.lat, 99.0),
            cpu_us: if ok > 0 {
                (self.cpu / ok as f64).round()
            } else {
                0.0
            },
            failures: self.failures,
        }
        .rounded()
    }
}

/// Runs `n` handshakes with `c` client and `c` server threads.
fn measure(
    label: &str,
    (client, server): &(ClientFn, ServerFn),
    n: usize,
    c: usize,
    progress: bool,
) -> Run {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        return Run {
            failures: n,
            ..Run::default()
        };
    };
    let Ok(addr) = listener.local_addr() else {
        return Run {
            failures: n,
            ..Run::default()
        };
    };
    let listener = Arc::new(listener);
    let accepted = Arc::new(AtomicUsize::new(0));
    // Server threads are not joined: one whose client never connected waits in accept
    // until the process ends.
    for _ in 0..c {
        let (listener, accepted, server) = (listener.clone(), accepted.clone(), server.clone());
        thread::spawn(move || {
            while accepted.fetch_add(1, Ordering::SeqCst) < n {
                match listener.accept() {
                    Ok((tcp, _)) => server(tcp),
                    Err(_) => return,
                }
            }
        });
    }
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(n as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix:>14} {bar:40} {pos}/{len} handshakes {per_sec}",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(label.to_string());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let cpu0 = cpu_us();
    let t0 = Instant::now();
    let workers: Vec<_> = (0..c)
        .map(|i| {
            let count = n / c + usize::from(i < n % c);
            let (client, bar) = (client.clone(), bar.clone());
            thread::spawn(move || {
                let mut lat = Vec::with_capacity(count);
                let mut failures = 0;
                for _ in 0..count {
                    let s = Instant::now();
                    if client(addr) {
                        lat.push(s.elapsed().as_secs_f64() * 1e3);
                    } else {
                        failures += 1;
                    }
                    bar.inc(1);
                }
                (lat, failures)
            })
        })
        .collect();
    let mut lat = Vec::with_capacity(n);
    let mut failures = 0;
    for w in workers {
        match w.join() {
            Ok((l, f)) => {
                lat.extend(l);
                failures += f;
            }
            Err(_) => failures += n / c,
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_us() - cpu0;
    bar.finish_and_clear();
    Run {
        lat,
        wall,
        cpu,
        failures,
    }
}

impl Stats {
    fn rounded(self) -> Stats {
        let r = |v: f64| (v * 1000.0).round() / 1000.0;
        Stats {
            per_s: r(self.per_s),
            p50_ms: r(self.p50_ms),
            p99_ms: r(self.p99_ms),
            ..self
        }
    }
}
