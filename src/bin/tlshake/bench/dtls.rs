//! `tlshake bench --dtls`: DTLS 1.2 client handshakes on loopback, tlshake
//! (`dtls::connect`: the blocking runner with its retransmission timer) against the plain
//! `openssl` crate (`SslConnector` over a blocking UDP socket), in alternating rounds, with
//! the same library, the same MTU and the same server: one `DtlsListener` in a thread.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslMethod, SslOptions, SslVersion};
use openssl::x509::X509;
use serde_json::json;
use tlshake::client::ClientConfig;
use tlshake::dtls::{self, DtlsListener, DtlsOptions};
use tlshake::server::ServerConfig;
use tlshake::url::TransportUrl;

use super::args::BenchArgs;
use super::certificate::certified_key;
use super::report::{ratio, table, verdict};
use super::stats::{cpu_us, Run, ROUNDS};
use crate::bundled;
use crate::report::{AnyError, Outcome};

/// How long one handshake may take.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `tlshake bench --dtls`.
pub(super) fn run(a: &BenchArgs) -> Outcome {
    let n = a.handshakes as usize;
    let setup = Server::start().and_then(|server| {
        let url: TransportUrl = format!("dtls://{}", server.addr).parse()?;
        Ok((server, tlshake_config()?, plain_connector()?, url))
    });
    let (server, config, connector, url) = match setup {
        Ok(setup) => setup,
        Err(e) => {
            crate::report::fail("tlshake bench: cannot set up", &*e);
            return Outcome::Failed;
        }
    };
    let options = DtlsOptions::new();
    let rounds = ROUNDS.min(n).max(1);
    let (mut t, mut o) = (Run::default(), Run::default());
    for r in 0..rounds {
        let chunk = n / rounds + usize::from(r < n % rounds);
        t.merge(measure(chunk, || {
            let deadline = Some(Instant::now() + LIMIT);
            dtls::connect_with(&url, &config, &options, deadline)
                .map(|mut conn| {
                    let _ = conn.stream.shutdown();
                })
                .is_ok()
        }));
        o.merge(measure(chunk, || plain_handshake(&connector, server.addr)));
    }
    drop(server);
    let (t, o) = (t.stats(), o.stats());
    let ratio = ratio(t, o);
    if a.json {
        println!(
            "{}",
            json!({
                "config": {
                    "handshakes": n, "concurrency": 1, "proto": "dtls1.2", "key": "ecdsa",
                    "openssl": openssl::version::version(), "runtime": "native",
                    "mtu": DtlsOptions::DEFAULT_MTU,
                },
                "tlshake": t.to_json(),
                "openssl_crate": o.to_json(),
                "ratio": ratio,
            })
        );
    } else {
        println!(
            "{n} full handshakes, dtls1.2, ecdsa key, one at a time, MTU {}, {}",
            DtlsOptions::DEFAULT_MTU,
            openssl::version::version()
        );
        table(t, o, ratio);
        println!("(CPU includes the one DtlsListener both clients talk to)");
    }
    verdict(t, o)
}

/// `n` handshakes one after another with `handshake`; the CPU time is this process's (both
/// ends).
fn measure(n: usize, mut handshake: impl FnMut() -> bool) -> Run {
    let mut run = Run::default();
    let cpu0 = cpu_us();
    let t0 = Instant::now();
    for _ in 0..n {
        let s = Instant::now();
        if handshake() {
            run.lat.push(s.elapsed().as_secs_f64() * 1e3);
        } else {
            run.failures += 1;
        }
    }
    run.wall = t0.elapsed().as_secs_f64();
    run.cpu = cpu_us() - cpu0;
    run
}

fn tlshake_config() -> Result<ClientConfig, AnyError> {
    // SNI and a host-name check, as the plain crate's `connect("localhost", ..)`.
    Ok(ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .build()?)
}

/// The plain crate's DTLS client: the same CA, DTLS 1.2, the MTU tlshake uses.
fn plain_connector() -> Result<SslConnector, AnyError> {
    let mut cb = SslConnector::builder(SslMethod::dtls_client())?;
    cb.cert_store_mut()
        .add_cert(X509::from_pem(bundled::CA_PEM.as_bytes())?)?;
    cb.set_min_proto_version(Some(SslVersion::DTLS1_2))?;
    cb.set_max_proto_version(Some(SslVersion::DTLS1_2))?;
    cb.set_options(SslOptions::NO_QUERY_MTU);
    Ok(cb.build())
}

/// A connected, blocking UDP socket as the plain crate's stream: one datagram per read.
struct Datagrams(UdpSocket);

impl Read for Datagrams {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.recv(buf)
    }
}

impl Write for Datagrams {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn plain_handshake(connector: &SslConnector, addr: SocketAddr) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    if socket.connect(addr).is_err() || socket.set_read_timeout(Some(LIMIT)).is_err() {
        return false;
    }
    let Ok(mut ssl) = connector.configure().and_then(|c| c.into_ssl("localhost")) else {
        return false;
    };
    if ssl.set_mtu(DtlsOptions::DEFAULT_MTU).is_err() {
        return false;
    }
    let Ok(stream) = openssl::ssl::SslStream::new(ssl, Datagrams(socket)) else {
        return false;
    };
    let mut stream = stream;
    let ok = stream.connect().is_ok();
    let _ = stream.shutdown();
    ok
}

/// The one listener both clients talk to, in a thread.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Result<Server, AnyError> {
        let key = certified_key(bundled::SERVER_PEM, bundled::SERVER_KEY)?;
        let config = ServerConfig::builder()
            .address("127.0.0.1")
            .port(0)
            .certificate(key)
            .build()?;
        let mut listener = DtlsListener::bind(&config, DtlsOptions::new())?;
        let addr = listener.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("bench-dtls-server".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    let tick = Instant::now() + Duration::from_millis(100);
                    // Established streams are dropped at once: the client shuts down.
                    if listener.next_event(Some(tick)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
