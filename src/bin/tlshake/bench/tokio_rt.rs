//! `tlshake bench --runtime tokio`: tlshake on tokio as a user runs it against the plain
//! `openssl` crate through tokio-openssl, as the native comparison does: tlshake's client is
//! a [`ClientConfig`] (`upgrade_async` on the connected socket: its verification cache, its
//! ticket policy) and its server a [`ServerConfig`]'s context stepped by `AsyncHandshake`;
//! the plain side is `SslConnector` / `SslAcceptor` with `SslStream::connect` / `accept`.
//! (benches/tokio.rs compares the runners alone, on one pair of contexts.)
//!
//! The client and the server each run on a `current_thread` runtime of their own thread. The
//! client keeps C handshakes in flight; each is a full handshake (TCP_NODELAY on) followed
//! by a 1-byte echo, so that the server's side is done too. Rounds alternate between the
//! two; the CPU time is this process's (both threads).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use openssl::pkey::PKey;
use openssl::ssl::{
    Ssl, SslAcceptor, SslConnector, SslContext, SslMethod, SslOptions, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use tlshake::client::{upgrade_async, ClientConfig, ConnectOptions};
use tlshake::server::ServerConfig;
use tlshake::tokio::AsyncHandshake;
use tlshake::{ProtocolSet, ProtocolVersion};

use crate::bundled;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::certificate::certified_key;
use super::stats::{cpu_us, Run};
use crate::report::{AnyError, Failure};

/// How long one handshake and its echo may take, and how long the server waits for the next
/// connection.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Which implementation a round measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    Tlshake,
    TokioOpenssl,
}

/// Both ends of both implementations.
#[derive(Clone)]
struct Contexts {
    /// The plain crate's, for tokio-openssl.
    server: SslContext,
    client: SslContext,
    /// tlshake's: a [`ServerConfig`]'s context and a [`ClientConfig`].
    tlshake_server: SslContext,
    tlshake_client: ClientConfig,
}

fn contexts(
    pem: &str,
    key: &str,
    v: ProtocolVersion,
    groups: Option<&str>,
) -> Result<Contexts, AnyError> {
    let version = match v {
        ProtocolVersion::Tls1_2 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    let mut server = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    let cert = X509::from_pem(pem.as_bytes())?;
    let pkey = PKey::private_key_from_pem(key.as_bytes())?;
    server.set_certificate(&cert)?;
    server.set_private_key(&pkey)?;
    server.set_min_proto_version(Some(version))?;
    server.set_max_proto_version(Some(version))?;
    // Full handshakes only: no tickets (TLS 1.3 sends none, TLS 1.2 offers none).
    server.set_options(SslOptions::NO_TICKET);
    server.set_num_tickets(0)?;
    let mut client = SslConnector::builder(SslMethod::tls_client())?;
    client
        .cert_store_mut()
        .add_cert(X509::from_pem(bundled::CA_PEM.as_bytes())?)?;
    client.set_verify(SslVerifyMode::PEER);
    client.set_min_proto_version(Some(version))?;
    client.set_max_proto_version(Some(version))?;
    if let Some(list) = groups {
        client.set_groups_list(list)?;
    }
    let tlshake_server = ServerConfig::builder()
        .certificate(certified_key(pem, key)?)
        .protocols(ProtocolSet::of(v))
        .build()?
        .context()
        .clone();
    // SNI and a host-name check, as the plain client's.
    let mut tlshake_client = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(v));
    if let Some(list) = groups {
        tlshake_client = tlshake_client.groups(list);
    }
    Ok(Contexts {
        server: server.build().into_context(),
        client: client.build().into_context(),
        tlshake_server,
        tlshake_client: tlshake_client.build()?,
    })
}

fn client_ssl(ctx: &SslContext) -> Result<Ssl, openssl::error::ErrorStack> {
    let mut ssl = Ssl::new(ctx)?;
    ssl.set_hostname("localhost")?;
    ssl.param_mut().set_host("localhost")?;
    Ok(ssl)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The tokio runs of `tlshake bench`: `n` handshakes of each, C in flight, in `rounds`
/// alternating rounds. `Err` when the contexts or a runtime cannot be made.
pub(super) fn runs(
    pem: &str,
    key: &str,
    v: ProtocolVersion,
    groups: Option<&str>,
    n: usize,
    c: usize,
    rounds: usize,
) -> Result<(Run, Run), AnyError> {
    let ctx = contexts(pem, key, v, groups)?;
    let (mut t, mut o) = (Run::default(), Run::default());
    for r in 0..rounds {
        let chunk = n / rounds + usize::from(r < n % rounds);
        let c = c.min(chunk).max(1);
        t.merge(round(Lib::Tlshake, &ctx, chunk, c)?);
        o.merge(round(Lib::TokioOpenssl, &ctx, chunk, c)?);
    }
    t.verify_cache = Some(ctx.tlshake_client.verify_cache_stats());
    Ok((t, o))
}

/// One round: a server thread that accepts `n` connections, a client thread that makes them,
/// `c` at a time.
fn round(lib: Lib, ctx: &Contexts, n: usize, c: usize) -> Result<Run, AnyError> {
    let (bound, addr) = mpsc::channel::<std::io::Result<SocketAddr>>();
    let server_ctx = match lib {
        Lib::Tlshake => ctx.tlshake_server.clone(),
        Lib::TokioOpenssl => ctx.server.clone(),
    };
    let server = thread::spawn(move || serve(lib, server_ctx, n, &bound));
    let addr = match addr.recv_timeout(TIMEOUT) {
        Ok(Ok(addr)) => addr,
        Ok(Err(e)) => return Err(Failure::because("cannot listen", e).into()),
        Err(_) => return Err("the server thread did not start".into()),
    };
    let client_ctx = ctx.clone();
    let cpu0 = cpu_us();
    let t0 = Instant::now();
    let client = thread::spawn(move || connect_all(lib, &client_ctx, addr, n, c));
    let (lat, failures) = client
        .join()
        .map_err(|_| Failure::Panicked("the client thread"))??;
    let wall = t0.elapsed().as_secs_f64();
    let _ = server.join();
    Ok(Run {
        lat,
        wall,
        cpu: cpu_us() - cpu0,
        failures,
        verify_cache: None,
    })
}

/// The server: accepts `n` connections (each given up after [`TIMEOUT`] without one) and
/// serves each in a task, then waits for the tasks.
fn serve(lib: Lib, ctx: SslContext, n: usize, bound: &mpsc::Sender<std::io::Result<SocketAddr>>) {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = bound.send(Err(e));
            return;
        }
    };
    rt.block_on(async move {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                let _ = bound.send(Err(e));
                return;
            }
        };
        let _ = bound.send(listener.local_addr());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            match tokio::time::timeout(TIMEOUT, listener.accept()).await {
                Ok(Ok((tcp, _))) => {
                    tasks.spawn(serve_one(lib, ctx.clone(), tcp));
                }
                _ => break,
            }
        }
        while tasks.join_next().await.is_some() {}
    });
}

/// One server connection: the handshake, then the 1-byte echo. Failures are the client's to
/// count.
async fn serve_one(lib: Lib, ctx: SslContext, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let Ok(ssl) = Ssl::new(&ctx) else {
        return;
    };
    let mut byte = [0u8; 1];
    let work = async {
        match lib {
            Lib::Tlshake => {
                let deadline = std::time::Instant::now() + TIMEOUT;
                let Ok(hs) = AsyncHandshake::server(ssl, tcp, Some(deadline)) else {
                    return;
                };
                let Ok(mut tls) = hs.await else {
                    return;
                };
                if tls.read_exact(&mut byte).await.is_ok() {
                    let _ = tls.write_all(&byte).await;
                }
            }
            Lib::TokioOpenssl => {
                let Ok(mut tls) = tokio_openssl::SslStream::new(ssl, tcp) else {
                    return;
                };
                if Pin::new(&mut tls).accept().await.is_err() {
                    return;
                }
                if tls.read_exact(&mut byte).await.is_ok() {
                    let _ = tls.write_all(&byte).await;
                }
            }
        }
    };
    let _ = tokio::time::timeout(TIMEOUT, work).await;
}

/// The client: `n` handshakes, `c` in flight; the latency (ms) of each that succeeded and the
/// count of failures.
fn connect_all(
    lib: Lib,
    ctx: &Contexts,
    addr: SocketAddr,
    n: usize,
    c: usize,
) -> Result<(Vec<f64>, usize), AnyError> {
    let rt = runtime().map_err(|e| Failure::because("cannot start a tokio runtime", e))?;
    Ok(rt.block_on(async move {
        let mut lat = Vec::with_capacity(n);
        let mut failures = 0;
        let mut tasks = tokio::task::JoinSet::new();
        let mut started = 0;
        while started < c.min(n) {
            tasks.spawn(connect_one(lib, ctx.clone(), addr));
            started += 1;
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Some(ms)) => lat.push(ms),
                _ => failures += 1,
            }
            if started < n {
                tasks.spawn(connect_one(lib, ctx.clone(), addr));
                started += 1;
            }
        }
        (lat, failures)
    }))
}

/// One client connection: connect, handshake, 1-byte echo; its latency in ms, or `None`.
async fn connect_one(lib: Lib, ctx: Contexts, addr: SocketAddr) -> Option<f64> {
    let start = Instant::now();
    let work = async {
        let tcp = TcpStream::connect(addr).await.ok()?;
        tcp.set_nodelay(true).ok()?;
        let mut byte = [7u8; 1];
        match lib {
            Lib::Tlshake => {
                let options = ConnectOptions::new().deadline(std::time::Instant::now() + TIMEOUT);
                let connection = upgrade_async(tcp, "localhost", &ctx.tlshake_client, &options)
                    .await
                    .ok()?;
                let mut tls = connection.stream;
                tls.write_all(&byte).await.ok()?;
                tls.read_exact(&mut byte).await.ok()?;
            }
            Lib::TokioOpenssl => {
                let ssl = client_ssl(&ctx.client).ok()?;
                let mut tls = tokio_openssl::SslStream::new(ssl, tcp).ok()?;
                Pin::new(&mut tls).connect().await.ok()?;
                tls.write_all(&byte).await.ok()?;
                tls.read_exact(&mut byte).await.ok()?;
            }
        }
        Some(())
    };
    tokio::time::timeout(TIMEOUT, work).await.ok()??;
    Some(start.elapsed().as_secs_f64() * 1e3)
}
