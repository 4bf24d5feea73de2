//! Handshakes per second on a tokio `current_thread` runtime: tlshake's tokio runner
//! (`tlshake::tokio::handshake` and `AsyncHandshake::server`) beside tokio-openssl
//! (`SslStream::connect` / `accept`), both ends in this one thread, the same `SslContext`s.
//!
//! Each handshake is a full TLS 1.3 handshake (P-256 certificate, verified chain, no session
//! tickets, TCP_NODELAY on) followed by a 1-byte echo, so that the server's side is done too.
//! `C` handshakes are kept in flight (a finished one is replaced at once). Rounds alternate
//! between the two, six each; the figures are the medians, and CPU time is this process's
//! (`getrusage(2)`, user + system) per handshake.
//!
//! Run: `cargo bench --features tokio --bench tokio` (`TLSHAKE_BENCH_HANDSHAKES=N` per round,
//! `TLSHAKE_BENCH_IN_FLIGHT=1,64` for other loads).

use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};
use openssl::ssl::{
    Ssl, SslAcceptor, SslConnector, SslContext, SslFiletype, SslMethod, SslOptions, SslVerifyMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tlshake::deadline::Deadline;
use tlshake::tokio::AsyncHandshake;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    Tlshake,
    TokioOpenssl,
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

async fn server_one(lib: Lib, ctx: Rc<SslContext>, tcp: TcpStream) {
    tcp.set_nodelay(true).unwrap();
    let ssl = Ssl::new(&ctx).unwrap();
    let mut byte = [0u8; 1];
    match lib {
        Lib::Tlshake => {
            let hs = AsyncHandshake::server(ssl, tcp, Deadline::after(Duration::from_secs(30)));
            let mut tls = hs.unwrap().await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
        }
        Lib::TokioOpenssl => {
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            Pin::new(&mut tls).accept().await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
            tls.write_all(&byte).await.unwrap();
        }
    }
}

async fn client_one(lib: Lib, ctx: Rc<SslContext>, addr: std::net::SocketAddr) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let ssl = client_ssl(&ctx);
    let mut byte = [7u8; 1];
    match lib {
        Lib::Tlshake => {
            let deadline = Deadline::after(Duration::from_secs(30));
            let mut tls = tlshake::tokio::handshake(ssl, tcp, deadline).await.unwrap();
            tls.write_all(&byte).await.unwrap();
            tls.read_exact(&mut byte).await.unwrap();
        }
        Lib::TokioOpenssl => {
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            Pin::new(&mut tls).connect().await.unwrap();
            tls.write_all(&byte).await.unwrap();
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

/// One round: `total` handshakes, `in_flight` at a time. Returns (handshakes/s, CPU µs each).
fn round(lib: Lib, in_flight: usize, total: usize) -> (f64, f64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let (server_ctx, client_ctx) = contexts();
        let server_ctx = Rc::new(server_ctx);
        let client_ctx = Rc::new(client_ctx);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepting = tokio::task::spawn_local(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::task::spawn_local(server_one(lib, Rc::clone(&server_ctx), tcp));
            }
        });
        let cpu0 = cpu();
        let t0 = Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        let mut started = 0;
        while started < in_flight.min(total) {
            clients.spawn_local(client_one(lib, Rc::clone(&client_ctx), addr));
            started += 1;
        }
        while let Some(done) = clients.join_next().await {
            done.unwrap();
            if started < total {
                clients.spawn_local(client_one(lib, Rc::clone(&client_ctx), addr));
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
    let _ = tlshake::limits::raise_nofile_limit();
    println!("tokio current_thread, both ends in one thread, {total} handshakes a round, medians of 6 alternating rounds");
    println!("| in flight | tlshake hs/s | tokio-openssl hs/s | ratio | tlshake CPU µs/hs | tokio-openssl CPU µs/hs | ratio |");
    println!("|---|---|---|---|---|---|---|");
    let loads: Vec<usize> = std::env::var("TLSHAKE_BENCH_IN_FLIGHT")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 64, 1000]);
    for in_flight in loads {
        let mut rate = [Vec::new(), Vec::new()];
        let mut cost = [Vec::new(), Vec::new()];
        // One warm-up round each, not counted.
        let _ = round(Lib::Tlshake, in_flight, total / 4);
        let _ = round(Lib::TokioOpenssl, in_flight, total / 4);
        for r in 0..6 {
            let order = if r % 2 == 0 {
                [Lib::Tlshake, Lib::TokioOpenssl]
            } else {
                [Lib::TokioOpenssl, Lib::Tlshake]
            };
            for lib in order {
                let (hs, us) = round(lib, in_flight, total.max(in_flight));
                let i = (lib == Lib::TokioOpenssl) as usize;
                rate[i].push(hs);
                cost[i].push(us);
            }
        }
        let [a, b] = rate.map(median);
        let [ca, cb] = cost.map(median);
        println!(
            "| {in_flight} | {a:.0} | {b:.0} | {:.2}x | {ca:.0} | {cb:.0} | {:.2}x |",
            a / b,
            ca / cb
        );
    }
}

/// The file `name` of the source tree's `certs/`.
fn cert_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs")
        .join(name)
}
