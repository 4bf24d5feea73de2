//! Handshakes per second on tokio: tlshake's tokio runner (`tlshake::tokio::handshake` and
//! `AsyncHandshake::server`) beside tokio-openssl (`SslStream::connect` / `accept`, the same
//! `SslContext`s) and tokio-rustls 0.26 with ring (`TlsConnector` / `TlsAcceptor`), both ends
//! on one runtime in this process.
//!
//! Each handshake is a full TLS 1.3 handshake (P-256 certificate, verified chain, no session
//! tickets, TCP_NODELAY on) followed by a 1-byte echo, so that the server's side is done too.
//! `C` handshakes are kept in flight (a finished one is replaced at once). Rounds alternate
//! between the three (the order rotates), six each; the figures are the medians, and CPU time
//! is this process's (`getrusage(2)`, user + system) per handshake. Ratios are to
//! tokio-openssl.
//!
//! A load is `C` (a `current_thread` runtime: everything in one thread) or `mtC` (a
//! `multi_thread` runtime with 2 workers).
//!
//! Run: `cargo bench --features tokio --bench tokio` (`TLSHAKE_BENCH_HANDSHAKES=N` per round,
//! `TLSHAKE_BENCH_IN_FLIGHT=1,64,1000,mt1000` for the loads, the default;
//! `TLSHAKE_BENCH_ONLY=NAME` measures one of the three, for a profile).

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};
use openssl::ssl::{
    Ssl, SslAcceptor, SslConnector, SslContext, SslFiletype, SslMethod, SslOptions, SslVerifyMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tlshake::tokio::AsyncHandshake;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    Tlshake,
    TokioOpenssl,
    TokioRustls,
}

const LIBS: [Lib; 3] = [Lib::Tlshake, Lib::TokioOpenssl, Lib::TokioRustls];

/// Both ends' configurations, for all three.
struct Contexts {
    server: SslContext,
    client: SslContext,
    rustls_server: tokio_rustls::TlsAcceptor,
    rustls_client: tokio_rustls::TlsConnector,
}

fn all_contexts() -> Contexts {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (server, client) = contexts();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(cert_path("ca.pem")).unwrap())
        .unwrap();
    let mut cc = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cc.resumption = rustls::client::Resumption::disabled();
    let chain = CertificateDer::pem_file_iter(cert_path("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(cert_path("server.key")).unwrap();
    let mut sc = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    sc.send_tls13_tickets = 0;
    Contexts {
        server,
        client,
        rustls_server: tokio_rustls::TlsAcceptor::from(Arc::new(sc)),
        rustls_client: tokio_rustls::TlsConnector::from(Arc::new(cc)),
    }
}

fn contexts() -> (SslContext, SslContext) {
    let mut server = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    server
        .set_certificate_chain_file(cert_path("server.pem"))
        .unwrap();
    server
        .set_private_key_file(cert_path("server.key"), SslFiletype::PEM)
        .unwrap();
    server.set_options(SslOptions::NO_TICKET);
    server.set_num_tickets(0).unwrap();
    let mut client = SslConnector::builder(SslMethod::tls_client()).unwrap();
    client.set_ca_file(cert_path("ca.pem")).unwrap();
    client.set_verify(SslVerifyMode::PEER);
    (server.build().into_context(), client.build().into_context())
}

fn client_ssl(ctx: &SslContext) -> Ssl {
    let mut ssl = Ssl::new(ctx).unwrap();
    ssl.set_hostname("localhost").unwrap();
    ssl.param_mut().set_host("localhost").unwrap();
    ssl
}

async fn server_one(lib: Lib, ctx: Arc<Contexts>, tcp: TcpStream) {
    tcp.set_nodelay(true).unwrap();
    let mut byte = [0u8; 1];
    match lib {
        Lib::Tlshake => {
            let ssl = Ssl::new(&ctx.server).unwrap();
            let hs = AsyncHandshake::server(
                ssl,
                tcp,
                Some(std::time::Instant::now() + Duration::from_secs(30)),
            );
            let mut tls = hs.unwrap().await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
        }
        Lib::TokioOpenssl => {
            let ssl = Ssl::new(&ctx.server).unwrap();
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            Pin::new(&mut tls).accept().await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
        }
        Lib::TokioRustls => {
            let mut tls = ctx.rustls_server.accept(tcp).await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.flush().await.unwrap();
        }
    }
}

async fn client_one(lib: Lib, ctx: Arc<Contexts>, addr: std::net::SocketAddr) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut byte = [7u8; 1];
    match lib {
        Lib::Tlshake => {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let ssl = client_ssl(&ctx.client);
            let mut tls = tlshake::tokio::handshake(ssl, tcp, deadline).await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
        }
        Lib::TokioOpenssl => {
            let ssl = client_ssl(&ctx.client);
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            Pin::new(&mut tls).connect().await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
        }
        Lib::TokioRustls => {
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let mut tls = ctx.rustls_client.connect(name, tcp).await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.flush().await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
        }
    }
}

fn cpu() -> Duration {
    let u = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, (t.tv_usec() as u32) * 1000);
    tv(u.user_time()) + tv(u.system_time())
}

/// One round: `total` handshakes, `in_flight` at a time, on a `current_thread` runtime or
/// (`multi`) a `multi_thread` one with 2 workers. Returns (handshakes/s, CPU µs each).
fn round(lib: Lib, ctx: &Arc<Contexts>, in_flight: usize, total: usize, multi: bool) -> (f64, f64) {
    let rt = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let ctx = Arc::clone(ctx);
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_ctx = Arc::clone(&ctx);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::spawn(server_one(lib, Arc::clone(&server_ctx), tcp));
            }
        });
        let cpu0 = cpu();
        let t0 = Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        let mut started = 0;
        while started < in_flight.min(total) {
            clients.spawn(client_one(lib, Arc::clone(&ctx), addr));
            started += 1;
        }
        while let Some(done) = clients.join_next().await {
            done.unwrap();
            if started < total {
                clients.spawn(client_one(lib, Arc::clone(&ctx), addr));
                started += 1;
            }
        }
        let wall = t0.elapsed();
        let cpu_used = cpu() - cpu0;
        accepting.abort();
        (
            total as f64 / wall.as_secs_f64(),
            cpu_used.as_secs_f64() * 1e6 / total as f64,
        )
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used.
    let total: usize = std::env::var("TLSHAKE_BENCH_HANDSHAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let _ = tlshake::raise_nofile_limit();
    let ctx = Arc::new(all_contexts());
    println!(
        "tokio, both ends on one runtime, {total} handshakes a round, medians of 6 rounds \
         (the order of the three rotates), {}",
        openssl::version::version()
    );
    println!("| runtime | in flight | tlshake hs/s | tokio-openssl hs/s | tokio-rustls hs/s | tlshake / tokio-openssl | tokio-rustls / tokio-openssl | tlshake CPU µs/hs | tokio-openssl CPU µs/hs | tokio-rustls CPU µs/hs | tlshake CPU / tokio-openssl | tokio-rustls CPU / tokio-openssl |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let loads: Vec<String> = std::env::var("TLSHAKE_BENCH_IN_FLIGHT")
        .unwrap_or_else(|_| "1,64,1000,mt1000".into())
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    // For a profile of one of them: `TLSHAKE_BENCH_ONLY=tokio-openssl` (or `tlshake`,
    // `tokio-rustls`); the others' columns are then NaN.
    let only = std::env::var("TLSHAKE_BENCH_ONLY").ok();
    let measured = |lib: Lib| {
        let name = match lib {
            Lib::Tlshake => "tlshake",
            Lib::TokioOpenssl => "tokio-openssl",
            Lib::TokioRustls => "tokio-rustls",
        };
        only.as_deref().is_none_or(|o| o == name)
    };
    for load in loads {
        let (multi, digits) = match load.strip_prefix("mt") {
            Some(d) => (true, d),
            None => (false, load.as_str()),
        };
        let Ok(in_flight) = digits.parse::<usize>() else {
            eprintln!("not a load: {load:?} (C or mtC)");
            continue;
        };
        let mut rate = [Vec::new(), Vec::new(), Vec::new()];
        let mut cost = [Vec::new(), Vec::new(), Vec::new()];
        // One warm-up round each, not counted.
        for lib in LIBS.into_iter().filter(|&l| measured(l)) {
            let _ = round(lib, &ctx, in_flight, (total / 4).max(1), multi);
        }
        for r in 0..6 {
            for k in 0..3 {
                let i = (r + k) % 3;
                if !measured(LIBS[i]) {
                    continue;
                }
                let (hs, us) = round(LIBS[i], &ctx, in_flight, total.max(in_flight), multi);
                rate[i].push(hs);
                cost[i].push(us);
            }
        }
        let [a, b, c] = rate.map(median);
        let [ca, cb, cc] = cost.map(median);
        let runtime = if multi {
            "multi_thread (2)"
        } else {
            "current_thread"
        };
        println!(
            "| {runtime} | {in_flight} | {a:.0} | {b:.0} | {c:.0} | {:.2}x | {:.2}x | {ca:.0} | {cb:.0} | {cc:.0} | {:.2}x | {:.2}x |",
            a / b,
            c / b,
            ca / cb,
            cc / cb
        );
    }
}

/// The file `name` of the source tree's `certs/`.
fn cert_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs")
        .join(name)
}
