//! `tlshake serve` under hostile load, against the real binary: out of descriptors, a full
//! pending set, thousands of idle established clients.
//!
//! One test at a time (each opens hundreds or thousands of sockets); the serve process gets
//! its descriptor limit from `prlimit(1)`.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, MutexGuard};
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::X509;
use tlshake::bundled::CA_PEM;
use tlshake::raise_nofile_limit;
use tlshake::{connect_nonblocking, Completed, MultiDriver};
use tlshake::{Handshake, TlsStream};

/// One load test at a time ([`common::serial`]); raises the descriptor limit first.
fn serial() -> MutexGuard<'static, ()> {
    let guard = common::serial();
    raise_nofile_limit().expect("raise RLIMIT_NOFILE");
    guard
}

/// A `tlshake serve` child, killed on drop; its stdout lines arrive on a channel.
struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: SocketAddr,
}

impl Serve {
    /// `prlimit --nofile=N:N tlshake serve --port 0 --json ARGS` (no limit: `None`).
    fn start(nofile: Option<u32>, args: &[&str]) -> Serve {
        let exe = env!("CARGO_BIN_EXE_tlshake");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.args(["serve", "--bind", "127.0.0.1", "--port", "0", "--json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn tlshake serve (and prlimit)");
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
        let mut serve = Serve {
            child,
            lines,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = serve
            .wait_for(|l| l.starts_with("listening on "), Duration::from_secs(20))
            .expect("no `listening on` line");
        serve.addr = line["listening on ".len()..].parse().expect("address");
        serve
    }

    /// The first line (from now) that `matches`, by `timeout`; the lines before it are
    /// counted in `seen` when given.
    fn wait_for(&self, matches: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            if matches(&line) {
                return Some(line);
            }
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .expect("/proc/PID/task")
            .count()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` connected sockets that never send a byte.
fn idle_sockets(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect"))
        .collect()
}

fn connector() -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.cert_store_mut()
        .add_cert(X509::from_pem(CA_PEM.as_bytes()).unwrap())
        .unwrap();
    b.build()
}

/// One client handshake with the crate, by `deadline`.
fn good_client(addr: SocketAddr, deadline: Instant) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    tcp.set_nonblocking(true).unwrap();
    let ssl = connector()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    Handshake::client(ssl, tcp)
        .unwrap()
        .drive(deadline)
        .unwrap_or_else(|e| panic!("the good client failed: {e}"))
}

#[test]
fn out_of_descriptors_serve_evicts_idle_sockets_and_keeps_serving() {
    let _serial = serial();
    let mut serve = Serve::start(Some(256), &["--workers", "2"]);
    let _idle = idle_sockets(serve.addr, 300);
    // The process has 256 descriptors: accept(2) meets EMFILE and idle sockets make room.
    let evicted = serve.wait_for(|l| l.contains("evicted"), Duration::from_secs(10));
    assert!(evicted.is_some(), "no idle socket was evicted");
    let started = Instant::now();
    let tls = good_client(serve.addr, started + Duration::from_secs(5));
    assert_eq!(tls.protocol(), "TLSv1.3");
    let done = serve.wait_for(
        |l| l.contains(r#""outcome":"done""#),
        Duration::from_secs(5),
    );
    assert!(done.is_some(), "serve reported no finished handshake");
    assert!(serve.alive(), "serve exited");
}

#[test]
fn s_client_completes_within_2s_while_1100_idle_sockets_fill_the_pending_set() {
    let _serial = serial();
    let serve = Serve::start(None, &["--workers", "1", "--max-pending", "1024"]);
    let _idle = idle_sockets(serve.addr, 1100);
    let evicted = serve.wait_for(|l| l.contains("evicted"), Duration::from_secs(10));
    assert!(evicted.is_some(), "the full set evicted no idle socket");
    let started = Instant::now();
    let out = Command::new("openssl")
        .args(["s_client", "-brief", "-connect", &serve.addr.to_string()])
        .args(["-CAfile", common::cert("ca.pem").to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("CONNECTION ESTABLISHED"), "{text}");
    assert!(text.contains("Verification: OK"), "{text}");
    assert!(took < Duration::from_secs(2), "s_client took {took:?}");
}

#[test]
fn two_thousand_idle_established_clients_cost_no_thread_each() {
    let _serial = serial();
    let serve = Serve::start(
        None,
        &[
            "--workers",
            "2",
            "--idle-timeout",
            "60",
            "--max-pending",
            "4096",
        ],
    );
    let connector = connector();
    let mut driver = MultiDriver::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The workload: CLIENTS connections opened at once (each handshake is bounded by
    // `deadline`, the one wait of this test).
    const CLIENTS: usize = 2000;
    for _ in 0..CLIENTS {
        let tcp = connect_nonblocking(serve.addr).unwrap();
        let ssl = connector
            .configure()
            .unwrap()
            .into_ssl("localhost")
            .unwrap();
        driver
            .add(Handshake::client(ssl, tcp).unwrap(), deadline)
            .unwrap();
    }
    let mut established = Vec::new();
    while let Some(event) = driver.next_completed(deadline).unwrap() {
        match event.result {
            Completed::Done(tls) => established.push(tls),
            other => panic!("{}: {}", event.token, other.name()),
        }
    }
    assert_eq!(established.len(), CLIENTS);
    // Every handshake was reported: the server holds 2,000 established connections now.
    // One deadline for all 2,000 reports (not 20 s for each of them).
    let reports_by = Instant::now() + Duration::from_secs(20);
    let mut reported = 0;
    while reported < CLIENTS {
        let left = reports_by.saturating_duration_since(Instant::now());
        serve
            .wait_for(|l| l.contains(r#""outcome":"done""#), left)
            .unwrap_or_else(|| panic!("serve reported {reported} of 2,000 handshakes in 20 s"));
        reported += 1;
    }
    let threads = serve.threads();
    eprintln!("serve threads with 2,000 idle established clients: {threads}");
    assert!(threads <= 2 + 4, "{threads} threads for 2 workers");
    drop(established);
}

#[test]
fn a_silent_established_client_is_closed_at_the_idle_timeout() {
    let _serial = serial();
    let serve = Serve::start(None, &["--workers", "1", "--idle-timeout", "0.5"]);
    let started = Instant::now();
    let mut tls = good_client(serve.addr, started + Duration::from_secs(5));
    tls.get_ref().set_nonblocking(false).unwrap();
    tls.get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Echo works first; then silence until the server gives up.
    std::io::Write::write_all(&mut tls, b"ping").unwrap();
    let mut buf = [0u8; 4];
    std::io::Read::read_exact(&mut tls, &mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    let quiet = Instant::now();
    let n = std::io::Read::read(&mut tls, &mut [0u8; 16]);
    let waited = quiet.elapsed();
    assert!(matches!(n, Ok(0)), "{n:?} after {waited:?}");
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
}

/// `tlshake bench --connect` with `args` against `addr`.
fn bench_connect(addr: SocketAddr, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let ca = common::cert("ca.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_tlshake"))
        .args(["bench", "--connect", &format!("tls://{addr}")])
        .args(["--cafile", ca.to_str().unwrap(), "--json"])
        .args(args)
        .output()
        .expect("tlshake bench");
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code(), json)
}

#[test]
fn bench_connect_counts_handshakes_and_failures_by_reason() {
    let _serial = serial();
    let serve = Serve::start(None, &["--workers", "1"]);
    let (code, j) = bench_connect(
        serve.addr,
        &[
            "--servername",
            "localhost",
            "--handshakes",
            "60",
            "--concurrency",
            "8",
        ],
    );
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(j["handshakes"], 60, "{j}");
    assert_eq!(j["failures"], 0, "{j}");
    assert_eq!(j["config"]["concurrency"], 8, "{j}");
    let p = |k: &str| j[k].as_f64().expect(k);
    assert!(0.0 < p("p50_ms") && p("p50_ms") <= p("p99_ms") && p("p99_ms") <= p("p999_ms"));
    // The wrong name: every handshake fails certificate verification, counted by reason.
    let (code, j) = bench_connect(
        serve.addr,
        &[
            "--servername",
            "wrong.example",
            "--handshakes",
            "20",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(code, Some(1), "{j}");
    assert_eq!(j["handshakes"], 0, "{j}");
    assert_eq!(
        j["failures_by_reason"],
        serde_json::json!({"certificate_verification": 20}),
        "{j}"
    );
}

/// The workers share one listening socket: a second `tlshake serve` on the same port is
/// refused as a port in use (exit 2), and never shares the connections.
#[test]
fn a_second_serve_on_the_same_port_is_refused() {
    let _serial = serial();
    let first = Serve::start(None, &["--workers", "2"]);
    let out = common::cli::run(&[
        "serve",
        "--bind",
        "127.0.0.1",
        "--port",
        &first.addr.port().to_string(),
        "--workers",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = common::cli::stderr_of(&out);
    assert!(stderr.contains("in use"), "{stderr}");
    // Both workers of the first still serve.
    for _ in 0..4 {
        let _ = good_client(first.addr, Instant::now() + Duration::from_secs(5));
    }
}

/// A socket whose writes wait in a buffer until the next read or an explicit `send_now`, so
/// that the client's Finished and its first data leave in one segment.
#[derive(Debug)]
struct Coalescing {
    tcp: TcpStream,
    pending: Vec<u8>,
}

impl Coalescing {
    fn send_now(&mut self) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self.tcp, &self.pending)?;
        self.pending.clear();
        Ok(())
    }
}

impl std::io::Read for Coalescing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.send_now()?;
        self.tcp.read(buf)
    }
}

impl std::io::Write for Coalescing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A client handshake with `addr` whose Finished and a first record, `ping\n`, leave in one
/// write.
fn ping_with_the_finished(addr: SocketAddr) -> openssl::ssl::SslStream<Coalescing> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut tls = connector()
        .connect(
            "localhost",
            Coalescing {
                tcp,
                pending: Vec::new(),
            },
        )
        .expect("handshake");
    std::io::Write::write_all(&mut tls, b"ping\n").expect("write");
    tls.get_mut()
        .send_now()
        .expect("Finished and data in one write");
    tls
}

/// Data that arrives together with the client's Finished is read ahead by the server's
/// handshake, so the socket never becomes readable for it again: the worker must serve it
/// at once, not wait for readiness (the echo would never come).
#[test]
fn data_that_arrives_with_the_finished_is_echoed() {
    let _serial = serial();
    let serve = Serve::start(None, &["--workers", "1", "--reply", "echo"]);
    let mut tls = ping_with_the_finished(serve.addr);
    let mut echo = [0u8; 5];
    std::io::Read::read_exact(&mut tls, &mut echo).expect("the echo within 5 s");
    assert_eq!(&echo, b"ping\n");
}

/// The same client against the library's listener: the accepted stream says that the first
/// data is already there, before the socket is readable, and a read returns it.
#[test]
fn an_accepted_stream_reports_data_read_ahead_with_the_finished() {
    let config = tlshake::server::ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(common::cert("server.pem"), common::cert("server.key"));
    let mut listener =
        tlshake::server::TlsListener::bind(&crate::common::built(&config)).expect("bind");
    let addr = listener.local_addr();
    let client = std::thread::spawn(move || {
        let mut tls = ping_with_the_finished(addr);
        // Hold the connection until the server has read.
        let mut end = [0u8; 1];
        let _ = std::io::Read::read(&mut tls, &mut end);
    });
    let mut accepted = listener
        .accept_one(Instant::now() + Duration::from_secs(5))
        .expect("accept");
    assert!(
        accepted.stream.buffered_len() > 0,
        "the first record came with the Finished and was read ahead"
    );
    let mut got = [0u8; 5];
    std::io::Read::read_exact(&mut accepted.stream, &mut got).expect("read");
    assert_eq!(&got, b"ping\n");
    assert_eq!(accepted.stream.buffered_len(), 0);
    drop(accepted);
    client.join().expect("client");
}
