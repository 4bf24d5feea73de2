//! Helpers shared by the integration tests: contexts from the bundled certificates, raw
//! loopback peers that misbehave on purpose, descriptor counting.

pub mod cli;
pub mod openssl_line;
pub mod sockets;

pub use sockets::close_abortively;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::X509;

/// The `certs/` directory of the source tree (the test certificates, with `generate.sh`).
pub fn certs_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/certs"))
}

/// The file `name` of [`certs_dir`], such as `cert("server.pem")`.
pub fn cert(name: &str) -> PathBuf {
    certs_dir().join(name)
}

/// A client context trusting `ca` (a file in certs/), verifying the peer.
pub fn client_ctx(ca: &str) -> SslContextBuilder {
    let mut b = SslContextBuilder::new(SslMethod::tls_client()).unwrap();
    b.set_ca_file(cert(ca)).unwrap();
    b.set_verify(SslVerifyMode::PEER);
    b
}

/// A client `Ssl` for `host` (SNI + host check; IP literal: IP check, no SNI).
pub fn client_ssl(ctx: &SslContext, host: &str) -> Ssl {
    let mut ssl = Ssl::new(ctx).unwrap();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ssl.param_mut().set_ip(ip).unwrap(),
        Err(_) => {
            ssl.set_hostname(host).unwrap();
            ssl.param_mut().set_host(host).unwrap();
        }
    }
    ssl
}

/// A server context with `cert`/`key` from certs/.
pub fn server_ctx(cert_file: &str, key_file: &str) -> SslContextBuilder {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(cert(cert_file)).unwrap();
    b.set_private_key_file(cert(key_file), SslFiletype::PEM)
        .unwrap();
    b
}

/// A server context from `SslAcceptor::mozilla_intermediate_v5` with the bundled `localhost`
/// certificate, at most `max` (no limit when `None`).
pub fn acceptor_context(max: Option<openssl::ssl::SslVersion>) -> SslContext {
    let mut b = openssl::ssl::SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .expect("acceptor");
    b.set_certificate(&X509::from_pem(tlshake::bundled::SERVER_PEM.as_bytes()).expect("cert"))
        .expect("set cert");
    b.set_private_key(
        &openssl::pkey::PKey::private_key_from_pem(tlshake::bundled::SERVER_KEY.as_bytes())
            .expect("key"),
    )
    .expect("set key");
    b.set_max_proto_version(max).expect("max version");
    b.build().into_context()
}

/// A connector trusting the bundled CA, at most `max` (no limit when `None`).
pub fn connector(max: Option<openssl::ssl::SslVersion>) -> openssl::ssl::SslConnector {
    let mut b = openssl::ssl::SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.cert_store_mut()
        .add_cert(X509::from_pem(tlshake::bundled::CA_PEM.as_bytes()).expect("ca"))
        .expect("add ca");
    b.set_max_proto_version(max).expect("max version");
    b.build()
}

/// A nonblocking TCP connection to `addr`.
pub fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

pub fn deadline(secs: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(secs)
}

/// A loopback listener whose single connection is handled by `f` in a thread.
pub fn one_shot_peer<F>(v6: bool, f: F) -> (SocketAddr, JoinHandle<()>)
where
    F: FnOnce(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            f(s);
        }
    });
    (addr, handle)
}

/// Reads one whole TLS record (header + body) from `s`.
pub fn read_record(s: &mut TcpStream) -> Vec<u8> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).unwrap();
    let len = u16::from_be_bytes([header[3], header[4]]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    let mut all = header.to_vec();
    all.extend(body);
    all
}

/// A peer that answers in plaintext with `banner` and then waits.
pub fn plaintext_peer(banner: &'static [u8]) -> (SocketAddr, JoinHandle<()>) {
    one_shot_peer(false, move |mut s| {
        s.write_all(banner).unwrap();
        let mut sink = [0u8; 4096];
        let _ = s.read(&mut sink);
        std::thread::sleep(Duration::from_millis(200));
    })
}

/// `openssl s_server` with the leaf below the intermediate CA (`certs/`), sending the
/// intermediate after it (`-cert_chain`): a client that trusts `ca.pem` verifies a chain of 2.
pub fn intermediate_chain_server() -> tlshake::harness::OpensslServer {
    tlshake::harness::OpensslServer::builder()
        .cert(cert("server-via-intermediate.pem"))
        .key(cert("server-via-intermediate.key"))
        .chain(cert("intermediate-ca.pem"))
        .spawn()
        .unwrap()
}

/// Open descriptors of this process. Panics where `/proc/self/fd` cannot be read: a leak
/// check that counted nothing would pass without checking anything.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd (descriptor counts need Linux's /proc)")
        .count()
}

/// VmRSS of this process in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Returns freed heap pages to the system, so RSS measures what is still allocated.
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of glibc's allocator; it takes no
    // pointers and is safe to call at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The certificate an `openssl` program printed in PEM right after the line `heading`
/// (s_client: `Server certificate`, s_server: `Client certificate`), `None` when it has not
/// printed it (whole). Comparing the certificate itself does not depend on how a release
/// writes the subject line (3.0: `subject=CN = localhost`; 3.5 and later:
/// `subject=CN=localhost`).
pub fn certificate_after(output: &str, heading: &str) -> Option<X509> {
    const END: &str = "-----END CERTIFICATE-----";
    let (_, rest) = output.split_once(&format!("{heading}\n"))?;
    let end = rest.find(END)?;
    Some(X509::from_pem(&rest.as_bytes()[..end + END.len()]).expect("a PEM certificate"))
}

/// The certificate in `certs/<name>` (the first one in the file).
pub fn certificate_file(name: &str) -> X509 {
    X509::from_pem(&std::fs::read(cert(name)).unwrap()).unwrap()
}

/// Subject CN of a certificate, for assertions.
pub fn subject_cn(cert: &X509) -> String {
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .map(|e| e.data().to_string().unwrap())
        .unwrap_or_default()
}

/// A nonblocking TCP connection to `addr` whose descriptor is at least `min_fd`, and the
/// unconnected sockets that had to be opened below it (keep them until the test ends).
///
/// Descriptors are handed out lowest first and other tests in this process open and close
/// theirs concurrently, so filling the table once is not enough: unconnected sockets are
/// opened until one lands at `min_fd` or above, and only that one is connected.
pub fn tcp_above(addr: SocketAddr, min_fd: i32) -> (TcpStream, Vec<std::os::fd::OwnedFd>) {
    use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrStorage};
    use std::os::fd::AsRawFd;
    let family = if addr.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let mut below = Vec::new();
    for _ in 0..4 * min_fd {
        let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).unwrap();
        if fd.as_raw_fd() < min_fd {
            below.push(fd);
            continue;
        }
        connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)).unwrap();
        let stream = TcpStream::from(fd);
        stream.set_nonblocking(true).unwrap();
        return (stream, below);
    }
    panic!(
        "no descriptor at or above {min_fd} after {} sockets",
        4 * min_fd
    );
}

/// How a handshake step ended, if it did: `Some(Ok)` for Done, `Some(Err)` for a failure or
/// a shutdown, `None` while it wants more.
pub fn ended(outcome: tlshake::HandshakeOutcome) -> Option<Result<(), tlshake::HandshakeError>> {
    match outcome {
        tlshake::HandshakeOutcome::Done => Some(Ok(())),
        tlshake::HandshakeOutcome::Want(_) => None,
        tlshake::HandshakeOutcome::Failed(e) | tlshake::HandshakeOutcome::Shutdown(e) => {
            Some(Err(e))
        }
    }
}

/// The results of the two ends of a memory pair, `None` for an end that had not ended.
pub type PairResults = (
    Option<Result<(), tlshake::HandshakeError>>,
    Option<Result<(), tlshake::HandshakeError>>,
);

/// Pumps a client and a server memory handshake against each other, at most 20 rounds: each
/// round steps an end that has not ended and hands its output to the other; an end that has
/// ended also signals end-of-file, so that its peer cannot wait forever.
pub fn pump_memory_pair(
    c: &mut tlshake::MemoryHandshake,
    s: &mut tlshake::MemoryHandshake,
) -> PairResults {
    let (mut cr, mut sr) = (None, None);
    let mut buf = Vec::new();
    for _ in 0..20 {
        if cr.is_none() {
            cr = ended(c.step());
        }
        buf.clear();
        c.take(&mut buf);
        s.feed(&buf);
        if cr.is_some() {
            s.feed_eof();
        }
        if sr.is_none() {
            sr = ended(s.step());
        }
        buf.clear();
        s.take(&mut buf);
        c.feed(&buf);
        if sr.is_some() {
            c.feed_eof();
        }
        if cr.is_some() && sr.is_some() {
            break;
        }
    }
    (cr, sr)
}

/// The load tests (thousands of handshakes, descriptor counts, process limits) run one at a
/// time across the crate, as they did when each theme was a test binary of its own: the
/// guard of one lock for all of them. The other tests run beside them.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOAD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOAD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The environment variable naming the one test a re-run of this binary runs
/// ([`run_isolated`]).
const ISOLATED_ENV: &str = "TLSHAKE_ISOLATED_TEST";

/// Runs the test `path` (`module_path!()::name`) in a process of its own: this test binary
/// again, with only that test selected and one test thread. Returns `true` in that process
/// (run the test's body) and `false` in the calling one, after the child passed.
///
/// Tests that count this process's descriptors, read its memory or change its limits need
/// it: the other tests of the crate run beside them on other threads.
pub fn run_isolated(path: &str) -> bool {
    // `module_path!()` starts with the crate's name; libtest's names do not.
    let name = path.split_once("::").map_or(path, |(_, rest)| rest);
    if std::env::var(ISOLATED_ENV).as_deref() == Ok(name) {
        return true;
    }
    // The child is a load test: none other runs while it does.
    let _serial = serial();
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = std::process::Command::new(exe)
        .args([
            name,
            "--exact",
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ISOLATED_ENV, name)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("re-run the test binary");
    let out = cli::wait_bounded(child, Duration::from_secs(300));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} failed in its own process:\n{text}"
    );
    // A filter that matched nothing also exits 0: the test must really have run.
    assert!(
        text.contains("1 passed"),
        "{name} did not run in its own process:\n{text}"
    );
    false
}

/// Runs the enclosing test in a process of its own ([`run_isolated`]): the first statement of
/// a test that counts descriptors or changes process-wide limits.
macro_rules! isolated {
    ($test:ident) => {
        if !$crate::common::run_isolated(concat!(module_path!(), "::", stringify!($test))) {
            return;
        }
    };
}

/// `builder` checked and built, for a test that binds a listener with it.
pub fn built(builder: &tlshake::server::ServerConfigBuilder) -> tlshake::server::ServerConfig {
    builder
        .clone()
        .build()
        .expect("the server configuration builds")
}
