//! `tlshake bench --threads T`: T blocking client threads against T server threads, both in
//! this process, for each implementation.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslAcceptor, SslConnector, SslContext, SslMethod, SslVersion};
use openssl::x509::X509;
use tlshake::client::{self, ClientConfig};
use tlshake::server::ServerConfig;
use tlshake::url::TransportUrl;
use tlshake::ProtocolSet;
use tlshake::{Handshake, ProtocolVersion};

use crate::bundled;

use super::certificate::certified_key;
use super::stats::{cpu_us, Run, ROUNDS};
use crate::report::AnyError;

/// One side's way to make a client handshake on a fresh connection.
type ClientFn = Arc<dyn Fn(SocketAddr) -> bool + Send + Sync>;
/// One side's way to accept a handshake on an accepted socket.
type ServerFn = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// `n` handshakes of each implementation with `c` client and `c` server threads, in
/// alternating rounds, with a progress bar when `progress`.
pub(super) fn runs(
    pem: &str,
    key: &str,
    version: ProtocolVersion,
    groups: Option<&str>,
    n: usize,
    c: usize,
    progress: bool,
) -> Result<(Run, Run), AnyError> {
    let (tlshake, config) = tlshake_impl(pem, key, version, groups)?;
    let openssl = openssl_impl(pem, key, version, groups)?;
    // The two run in alternating rounds, so that a change of load on a shared machine
    // weighs on both alike and the ratio stays meaningful.
    let rounds = ROUNDS.min(n).max(1);
    let (mut t, mut o) = (Run::default(), Run::default());
    for r in 0..rounds {
        let chunk = n / rounds + usize::from(r < n % rounds);
        t.merge(measure("tlshake", &tlshake, chunk, c, progress));
        o.merge(measure("openssl crate", &openssl, chunk, c, progress));
    }
    t.verify_cache = Some(config.verify_cache_stats());
    Ok((t, o))
}

fn tlshake_impl(
    pem: &str,
    key: &str,
    v: ProtocolVersion,
    groups: Option<&str>,
) -> Result<((ClientFn, ServerFn), ClientConfig), AnyError> {
    let ctx: SslContext = ServerConfig::builder()
        .certificate(certified_key(pem, key)?)
        .protocols(ProtocolSet::of(v))
        .build()
        .map(|c| c.context().clone())?;
    // SNI and a host-name check, as the plain crate's `connector.connect("localhost", ..)`.
    let mut builder = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(v));
    if let Some(list) = groups {
        builder = builder.groups(list);
    }
    let config = builder.build()?;
    let shared = config.clone();
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(url) = format!("tls://{addr}").parse::<TransportUrl>() else {
            return false;
        };
        client::connect(&url, &shared).is_ok()
    });
    let server: ServerFn = Arc::new(move |tcp| {
        let _ = tcp.set_nonblocking(true);
        if let Ok(Ok(hs)) = Ssl::new(&ctx).map(|ssl| Handshake::server(ssl, tcp)) {
            let _ = hs.drive(Instant::now() + Duration::from_secs(10));
        }
    });
    Ok(((client, server), config))
}

fn openssl_impl(
    pem: &str,
    key: &str,
    v: ProtocolVersion,
    groups: Option<&str>,
) -> Result<(ClientFn, ServerFn), AnyError> {
    let version = match v {
        ProtocolVersion::Tls1_2 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    let cert = X509::from_pem(pem.as_bytes())?;
    let pkey = PKey::private_key_from_pem(key.as_bytes())?;
    let mut ab = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
    ab.set_private_key(&pkey)?;
    ab.set_certificate(&cert)?;
    ab.set_min_proto_version(Some(version))?;
    ab.set_max_proto_version(Some(version))?;
    let acceptor = ab.build();
    let mut cb = SslConnector::builder(SslMethod::tls())?;
    let ca = X509::from_pem(bundled::CA_PEM.as_bytes())?;
    cb.cert_store_mut().add_cert(ca)?;
    cb.set_min_proto_version(Some(version))?;
    cb.set_max_proto_version(Some(version))?;
    if let Some(list) = groups {
        cb.set_groups_list(list)?;
    }
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
        verify_cache: None,
    }
}
