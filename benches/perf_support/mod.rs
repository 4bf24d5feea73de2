//! Shared setup of the benches: one client and one server function per implementation
//! (tlshake, the plain `openssl` crate as its docs show it, rustls with `ring`), and a runner
//! of `n` loopback handshakes with `threads` client and `threads` server threads.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openssl::pkey::PKey;
use openssl::ssl::{
    HandshakeError, MidHandshakeSslStream, Ssl, SslAcceptor, SslConnector, SslMethod, SslStream,
    SslVersion,
};
use openssl::x509::X509;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tlshake::certstore::CertifiedKey;
use tlshake::client::{self, ClientConfig};
use tlshake::server::ServerConfig;
use tlshake::url::TransportUrl;
use tlshake::ProtocolSet;
use tlshake::{bundled, Handshake, NodelayPolicy, ProtocolVersion};

/// A client handshake on a new connection to the address; true when it completed.
pub type ClientFn = Arc<dyn Fn(SocketAddr) -> bool + Send + Sync>;
/// A server handshake on an accepted socket.
pub type ServerFn = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// The implementation under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Tlshake,
    OpensslCrate,
    Rustls,
}

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Impl::Tlshake => "tlshake",
            Impl::OpensslCrate => "openssl_crate",
            Impl::Rustls => "rustls",
        }
    }
}

/// What a handshake negotiates.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub tls13: bool,
    pub rsa: bool,
    /// Resumed handshakes: the client keeps the session, reads the server's one byte (and
    /// with it the TLS 1.3 tickets) and closes with close_notify.
    pub resume: bool,
}

impl Case {
    pub fn name(self) -> String {
        format!(
            "{}-{}{}",
            if self.tls13 { "tls13" } else { "tls12" },
            if self.rsa { "rsa2048" } else { "p256" },
            if self.resume { "-resumed" } else { "" }
        )
    }

    fn pem(self) -> (&'static str, &'static str) {
        if self.rsa {
            (bundled::SERVER_RSA_PEM, bundled::SERVER_RSA_KEY)
        } else {
            (bundled::SERVER_PEM, bundled::SERVER_KEY)
        }
    }

    fn version(self) -> ProtocolVersion {
        if self.tls13 {
            ProtocolVersion::Tls1_3
        } else {
            ProtocolVersion::Tls1_2
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// The plain crate's server as its docs show it: `SslAcceptor::mozilla_intermediate_v5` with
/// the bundled certificate and key `(pem, key)`; `version` pins it to one protocol version.
pub fn plain_acceptor(pem: &str, key: &str, version: Option<SslVersion>) -> SslAcceptor {
    let cert = X509::from_pem(pem.as_bytes()).expect("bundled certificate");
    let pkey = PKey::private_key_from_pem(key.as_bytes()).expect("bundled key");
    let mut ab = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).expect("acceptor");
    ab.set_private_key(&pkey).expect("key");
    ab.set_certificate(&cert).expect("certificate");
    if version.is_some() {
        ab.set_min_proto_version(version).expect("version");
        ab.set_max_proto_version(version).expect("version");
    }
    ab.build()
}

/// The plain crate's client as its docs show it: `SslConnector` trusting the bundled CA;
/// `version` pins it to one protocol version.
pub fn plain_connector(version: Option<SslVersion>) -> SslConnector {
    let mut cb = SslConnector::builder(SslMethod::tls()).expect("connector");
    let ca = X509::from_pem(bundled::CA_PEM.as_bytes()).expect("bundled CA");
    cb.cert_store_mut().add_cert(ca).expect("CA");
    if version.is_some() {
        cb.set_min_proto_version(version).expect("version");
        cb.set_max_proto_version(version).expect("version");
    }
    cb.build()
}

/// One end of a plain-crate handshake driven by hand: still in it, or done.
pub enum PlainSide<S> {
    Mid(MidHandshakeSslStream<S>),
    Done(SslStream<S>),
}

impl<S: Read + Write + std::fmt::Debug> PlainSide<S> {
    /// What a `connect`, `accept` or `handshake` call returned; any failure panics.
    pub fn from_result(r: Result<SslStream<S>, HandshakeError<S>>, who: &str) -> PlainSide<S> {
        match r {
            Ok(s) => PlainSide::Done(s),
            Err(HandshakeError::WouldBlock(mid)) => PlainSide::Mid(mid),
            Err(e) => panic!("{who}: {e}"),
        }
    }

    /// One more step (`MidHandshakeSslStream::handshake`); a finished side stays as it is.
    pub fn step(self, who: &str) -> PlainSide<S> {
        match self {
            PlainSide::Mid(mid) => PlainSide::from_result(mid.handshake(), who),
            done => done,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, PlainSide::Done(_))
    }

    /// The stream under the TLS connection.
    pub fn get_mut(&mut self) -> &mut S {
        match self {
            PlainSide::Mid(m) => m.get_mut(),
            PlainSide::Done(s) => s.get_mut(),
        }
    }
}

/// The median of `v` (NaN when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The client and server functions of `imp` for `case`.
pub fn pair(imp: Impl, case: Case) -> (ClientFn, ServerFn) {
    match imp {
        Impl::Tlshake => tlshake_pair(case),
        Impl::OpensslCrate => openssl_pair(case),
        Impl::Rustls => rustls_pair(case),
    }
}

pub fn tlshake_server_context(case: Case) -> openssl::ssl::SslContext {
    let (pem, key) = case.pem();
    let cert = X509::from_pem(pem.as_bytes()).expect("bundled certificate");
    let key = PKey::private_key_from_pem(key.as_bytes()).expect("bundled key");
    let certified = CertifiedKey::from_parts(cert, Vec::new(), key).expect("key pair");
    ServerConfig::builder()
        .certificate(certified)
        .protocols(ProtocolSet::of(case.version()))
        .build()
        .map(|c| c.context().clone())
        .expect("server context")
}

pub fn tlshake_client_config(case: Case, policy: NodelayPolicy) -> ClientConfig {
    ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(case.version()))
        .resume_sessions(case.resume)
        .nodelay(policy)
        .build()
        .expect("client config")
}

fn tlshake_pair(case: Case) -> (ClientFn, ServerFn) {
    let ctx = tlshake_server_context(case);
    let config = tlshake_client_config(case, NodelayPolicy::Always);
    let resume = case.resume;
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(url) = format!("tls://{addr}").parse::<TransportUrl>() else {
            return false;
        };
        match client::connect(&url, &config) {
            Ok(mut c) if resume => {
                let mut byte = [0u8; 1];
                let ok = c.stream.read_exact(&mut byte).is_ok();
                let _ = c.stream.shutdown();
                ok
            }
            Ok(_) => true,
            Err(_) => false,
        }
    });
    let server: ServerFn = Arc::new(move |tcp| {
        let _ = tcp.set_nonblocking(true);
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        let Ok(hs) = Handshake::server(ssl, tcp) else {
            return;
        };
        if let Ok(mut tls) = hs.drive(Instant::now() + TIMEOUT) {
            if resume {
                let _ = tls.get_ref().set_nonblocking(false);
                let _ = tls.get_ref().set_read_timeout(Some(TIMEOUT));
                let _ = tls.write_all(b"!");
                let _ = tls.read(&mut [0u8; 16]);
            }
        }
    });
    (client, server)
}

fn openssl_pair(case: Case) -> (ClientFn, ServerFn) {
    let version = if case.tls13 {
        SslVersion::TLS1_3
    } else {
        SslVersion::TLS1_2
    };
    let (pem, key) = case.pem();
    let acceptor = plain_acceptor(pem, key, Some(version));
    let connector = plain_connector(Some(version));
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(tcp) = TcpStream::connect(addr) else {
            return false;
        };
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        connector.connect("localhost", tcp).is_ok()
    });
    let server: ServerFn = Arc::new(move |tcp| {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let _ = acceptor.accept(tcp);
    });
    (client, server)
}

fn rustls_pair(case: Case) -> (ClientFn, ServerFn) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if case.tls13 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS12]
    };
    let (pem, key) = case.pem();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(bundled::CA_PEM.as_bytes()).expect("bundled CA"))
        .expect("CA");
    let mut cc = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !case.resume {
        cc.resumption = rustls::client::Resumption::disabled();
    }
    let cc = Arc::new(cc);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("bundled certificate");
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("bundled key");
    let sc = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate"),
    );
    let resume = case.resume;
    let client: ClientFn = Arc::new(move |addr| {
        let Ok(mut tcp) = TcpStream::connect(addr) else {
            return false;
        };
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let name = ServerName::try_from("localhost").expect("name");
        let Ok(mut conn) = rustls::ClientConnection::new(cc.clone(), name) else {
            return false;
        };
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                return false;
            }
        }
        if resume {
            let mut s = rustls::Stream::new(&mut conn, &mut tcp);
            let mut byte = [0u8; 1];
            let ok = s.read_exact(&mut byte).is_ok();
            s.conn.send_close_notify();
            let _ = s.flush();
            return ok;
        }
        true
    });
    let server: ServerFn = Arc::new(move |mut tcp| {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let Ok(mut conn) = rustls::ServerConnection::new(sc.clone()) else {
            return;
        };
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                return;
            }
        }
        // Flush what the handshake left (TLS 1.3 tickets) without waiting to read.
        while conn.wants_write() {
            if conn.write_tls(&mut tcp).is_err() {
                return;
            }
        }
        if resume {
            let mut s = rustls::Stream::new(&mut conn, &mut tcp);
            let _ = s.write_all(b"!");
            let _ = s.read(&mut [0u8; 16]);
        }
    });
    (client, server)
}

/// Runs `n` client handshakes from `threads` threads against `threads` server threads and
/// returns the wall time.
pub fn run(client: &ClientFn, server: &ServerFn, n: usize, threads: usize) -> Duration {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").expect("bind"));
    let addr = listener.local_addr().expect("address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let servers: Vec<_> = (0..threads)
        .map(|_| {
            let (listener, accepted, server) = (listener.clone(), accepted.clone(), server.clone());
            thread::spawn(move || {
                while accepted.fetch_add(1, Ordering::SeqCst) < n {
                    match listener.accept() {
                        Ok((tcp, _)) => server(tcp),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    let clients: Vec<_> = (0..threads)
        .map(|i| {
            let count = n / threads + usize::from(i < n % threads);
            let client = client.clone();
            thread::spawn(move || {
                for _ in 0..count {
                    assert!(client(addr), "handshake failed");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    let wall = t0.elapsed();
    for s in servers {
        s.join().expect("server thread");
    }
    wall
}

/// The size of the request and of the reply of a first exchange.
pub const EXCHANGE: usize = 100;

/// `n` connections, each a TLS 1.3 ECDSA handshake and then one 100-byte request and
/// 100-byte reply; returns the time from writing the request to reading the whole reply, per
/// connection. tlshake on both ends, with `client` and `server` as the nodelay policies.
/// `tickets`: TLS 1.3 tickets the server sends instead of its default (one).
pub fn first_response_tlshake(
    n: usize,
    client: NodelayPolicy,
    server: NodelayPolicy,
    tickets: Option<usize>,
) -> Vec<Duration> {
    let case = Case {
        tls13: true,
        rsa: false,
        resume: false,
    };
    let ctx = tlshake_server_context(case);
    let config = tlshake_client_config(case, client);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let url: TransportUrl = format!("tls://{addr}").parse().expect("url");
    let srv = thread::spawn(move || {
        for _ in 0..n {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let _ = tcp.set_nonblocking(true);
            let Ok(mut ssl) = Ssl::new(&ctx) else { return };
            if let Some(t) = tickets {
                let _ = ssl.set_num_tickets(t);
            }
            let Ok(mut hs) = Handshake::server(ssl, tcp) else {
                return;
            };
            hs.set_nodelay_policy(server);
            let Ok(mut tls) = hs.drive(Instant::now() + TIMEOUT) else {
                continue;
            };
            let _ = tls.get_ref().set_nonblocking(false);
            let _ = tls.get_ref().set_read_timeout(Some(TIMEOUT));
            let mut req = [0u8; EXCHANGE];
            if tls.read_exact(&mut req).is_ok() {
                let _ = tls.write_all(&[b'r'; EXCHANGE]);
            }
            let _ = tls.read(&mut req);
        }
    });
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = client::connect(&url, &config).expect("handshake");
        let t0 = Instant::now();
        c.stream.write_all(&[b'q'; EXCHANGE]).expect("request");
        let mut reply = [0u8; EXCHANGE];
        c.stream.read_exact(&mut reply).expect("reply");
        times.push(t0.elapsed());
        let _ = c.stream.shutdown();
    }
    srv.join().expect("server thread");
    times
}

/// The same exchange with the plain `openssl` crate as its docs show it: `SslConnector` /
/// `SslAcceptor` on sockets whose `TCP_NODELAY` is left alone (Nagle on at both ends).
pub fn first_response_openssl(n: usize) -> Vec<Duration> {
    let acceptor = plain_acceptor(bundled::SERVER_PEM, bundled::SERVER_KEY, None);
    let connector = plain_connector(None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let srv = thread::spawn(move || {
        for _ in 0..n {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let _ = tcp.set_read_timeout(Some(TIMEOUT));
            let Ok(mut tls) = acceptor.accept(tcp) else {
                continue;
            };
            let mut req = [0u8; EXCHANGE];
            if tls.read_exact(&mut req).is_ok() {
                let _ = tls.write_all(&[b'r'; EXCHANGE]);
            }
            let _ = tls.read(&mut req);
        }
    });
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let tcp = TcpStream::connect(addr).expect("connect");
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let mut tls = connector.connect("localhost", tcp).expect("handshake");
        let t0 = Instant::now();
        tls.write_all(&[b'q'; EXCHANGE]).expect("request");
        let mut reply = [0u8; EXCHANGE];
        tls.read_exact(&mut reply).expect("reply");
        times.push(t0.elapsed());
        let _ = tls.shutdown();
    }
    srv.join().expect("server thread");
    times
}
