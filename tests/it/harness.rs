//! The harness against real peers: `openssl s_server` spoken to by the `openssl` crate, and
//! `openssl s_client` spoken to by an `openssl` crate acceptor.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::Path;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::common::cert as cert_path;
use nix::poll::{poll, PollFd, PollFlags};
use openssl::ssl::{HandshakeError, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslStream};
use tlshake::harness::{HarnessError, OpensslClient, OpensslServer, ServerMode};
use tlshake::ProtocolVersion;

/// Upper bound for every single wait in these tests.
const STEP: Duration = Duration::from_secs(10);

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect_timeout(&addr, STEP).unwrap();
    tcp.set_read_timeout(Some(STEP)).unwrap();
    tcp.set_write_timeout(Some(STEP)).unwrap();
    tcp
}

/// A connector that trusts only the test root CA.
fn connector(client_cert: Option<(&str, &str)>) -> SslConnector {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    builder.set_ca_file(cert_path("ca.pem")).unwrap();
    if let Some((cert, key)) = client_cert {
        builder.set_certificate_chain_file(cert_path(cert)).unwrap();
        builder
            .set_private_key_file(cert_path(key), SslFiletype::PEM)
            .unwrap();
    }
    builder.build()
}

fn tls_connect(addr: SocketAddr) -> SslStream<TcpStream> {
    connector(None)
        .connect("localhost", tcp_connect(addr))
        .unwrap()
}

/// Reads from `stream` until `needle` has arrived (bounded by the socket's read timeout).
fn read_until(stream: &mut impl Read, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "end of stream before {needle:?}: {seen:?}");
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn server_tls13_listens_before_spawn_returns() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .unwrap();
    assert_eq!(server.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(server.port(), 0);
    assert_eq!(server.addr().port(), server.port());
    let tls = tls_connect(server.addr());
    assert_eq!(tls.ssl().version_str(), "TLSv1.3");
}

#[test]
fn server_tls12_pinned() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let tls = tls_connect(server.addr());
    assert_eq!(tls.ssl().version_str(), "TLSv1.2");
}

#[test]
fn server_without_tls13() {
    let server = OpensslServer::builder().no_tls1_3().spawn().unwrap();
    let tls = tls_connect(server.addr());
    assert_eq!(tls.ssl().version_str(), "TLSv1.2");
}

#[test]
fn server_on_ipv6_loopback() {
    let server = OpensslServer::builder().ipv6().spawn().unwrap();
    assert_eq!(server.addr().ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    let tls = tls_connect(server.addr());
    assert_eq!(tls.ssl().version_str(), "TLSv1.3");
}

#[test]
fn server_rsa_certificate() {
    let server = OpensslServer::builder()
        .cert(cert_path("server-rsa.pem"))
        .key(cert_path("server-rsa.key"))
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let tls = tls_connect(server.addr());
    let cipher = tls.ssl().current_cipher().unwrap().name();
    assert!(cipher.starts_with("ECDHE-RSA-"), "{cipher}");
}

#[test]
fn rev_mode_reverses_lines() {
    let server = OpensslServer::builder()
        .mode(ServerMode::Rev)
        .spawn()
        .unwrap();
    let mut tls = tls_connect(server.addr());
    tls.write_all(b"hello\n").unwrap();
    assert_eq!(read_until(&mut tls, "\n"), "olleh\n");
}

#[test]
fn www_mode_answers_get() {
    let server = OpensslServer::builder()
        .mode(ServerMode::Www)
        .spawn()
        .unwrap();
    let mut tls = tls_connect(server.addr());
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let page = read_until(&mut tls, "\r\n");
    assert!(page.starts_with("HTTP/1.0 200 ok"), "{page}");
}

#[test]
fn plain_mode_prints_what_the_client_sends_and_keeps_serving() {
    let server = OpensslServer::builder().spawn().unwrap();
    for round in 0..2 {
        let mut tls = tls_connect(server.addr());
        let line = format!("ping {round} from the test\n");
        tls.write_all(line.as_bytes()).unwrap();
        assert!(
            server.wait_for_output(line.trim_end(), STEP),
            "{}",
            server.output()
        );
        tls.shutdown().unwrap();
    }
    assert!(!server.wait_for_output("not printed", Duration::from_millis(50)));
}

#[test]
fn server_sends_the_intermediate_from_chain() {
    let with_chain = OpensslServer::builder()
        .cert(cert_path("server-via-intermediate.pem"))
        .key(cert_path("server-via-intermediate.key"))
        .chain(cert_path("intermediate-ca.pem"))
        .spawn()
        .unwrap();
    let tls = tls_connect(with_chain.addr());
    assert_eq!(tls.ssl().verify_result().as_raw(), 0);

    let without_chain = OpensslServer::builder()
        .cert(cert_path("server-via-intermediate.pem"))
        .key(cert_path("server-via-intermediate.key"))
        .spawn()
        .unwrap();
    let err = connector(None)
        .connect("localhost", tcp_connect(without_chain.addr()))
        .unwrap_err();
    let verify = match &err {
        HandshakeError::Failure(mid) => Some(mid.ssl().verify_result().as_raw()),
        _ => None,
    };
    // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert_eq!(verify, Some(20), "{err}");
}

#[test]
fn server_requires_a_client_certificate() {
    let server = OpensslServer::builder()
        .ca_file(cert_path("ca.pem"))
        .verify_client(true)
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let mut tls = connector(Some(("client.pem", "client.key")))
        .connect("localhost", tcp_connect(server.addr()))
        .unwrap();
    assert_eq!(tls.ssl().version_str(), "TLSv1.2");
    // s_server prints the client's certificate once the handshake is done.
    assert!(
        server.wait_for_output("-----END CERTIFICATE-----", STEP),
        "{}",
        server.output()
    );
    assert_eq!(
        crate::common::certificate_after(&server.output(), "Client certificate"),
        Some(crate::common::certificate_file("client.pem")),
        "{}",
        server.output()
    );
    // s_server serves one connection at a time: end this one before the next.
    tls.shutdown().unwrap();
    drop(tls);

    // In TLS 1.2 the refusal comes inside the handshake.
    let refused = connector(None).connect("localhost", tcp_connect(server.addr()));
    assert!(refused.is_err());
    assert!(
        server.wait_for_output("peer did not return a certificate", STEP),
        "{}",
        server.output()
    );
}

#[test]
fn alpn_between_the_two_harness_peers() {
    let server = OpensslServer::builder().alpn("h2").spawn().unwrap();
    let run = OpensslClient::builder(server.addr())
        .servername("localhost")
        .ca_file(cert_path("ca.pem"))
        .alpn("h2,http/1.1")
        .spawn()
        .unwrap()
        .wait(STEP)
        .unwrap();
    assert_eq!(run.alpn().as_deref(), Some("h2"), "{}", run.output());
    assert!(run.verify_ok(), "{}", run.output());
}

#[test]
fn client_sends_and_reads_the_answer_while_stdin_is_open() {
    let server = OpensslServer::builder()
        .mode(ServerMode::Rev)
        .spawn()
        .unwrap();
    let client = OpensslClient::builder(server.addr())
        .ca_file(cert_path("ca.pem"))
        .send("hello harness\n")
        .keep_stdin_open()
        .spawn()
        .unwrap();
    assert!(
        client.wait_for_output("ssenrah olleh", STEP),
        "{}",
        client.output()
    );
    let run = client.wait(STEP).unwrap();
    assert!(run.stdout.contains("ssenrah olleh"), "{}", run.output());
    assert!(run.status.success(), "{}", run.output());
}

/// An `openssl` crate server for one connection: it accepts (within [`STEP`]), handshakes,
/// reads until the client closes, and returns the protocol version or the error text.
fn one_shot_acceptor(cert: &str, key: &str) -> (SocketAddr, JoinHandle<Result<String, String>>) {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    builder.set_certificate_chain_file(cert_path(cert)).unwrap();
    builder
        .set_private_key_file(cert_path(key), SslFiletype::PEM)
        .unwrap();
    let acceptor = builder.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, 10_000u16).map_err(|e| e.to_string())?;
        if ready == 0 {
            return Err("no client connected".into());
        }
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(STEP))
            .map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(STEP))
            .map_err(|e| e.to_string())?;
        let mut tls = acceptor.accept(tcp).map_err(|e| e.to_string())?;
        let version = tls.ssl().version_str().to_string();
        let mut sink = Vec::new();
        let _ = tls.read_to_end(&mut sink);
        let _ = tls.shutdown();
        Ok(version)
    });
    (addr, handle)
}

#[test]
fn client_against_acceptor_tls13() {
    let (addr, server) = one_shot_acceptor("server.pem", "server.key");
    let run = OpensslClient::builder(addr)
        .servername("localhost")
        .ca_file(cert_path("ca.pem"))
        .verify_return_error()
        .spawn()
        .unwrap()
        .wait(STEP)
        .unwrap();
    assert!(run.handshake_done(), "{}", run.output());
    assert_eq!(run.protocol().as_deref(), Some("TLSv1.3"));
    assert!(
        run.cipher().is_some_and(|c| c.starts_with("TLS_")),
        "{}",
        run.output()
    );
    assert_eq!(run.verify_code(), Some(0));
    assert!(run.verify_ok());
    assert!(run.status.success(), "{}", run.output());
    assert_eq!(server.join().unwrap().as_deref(), Ok("TLSv1.3"));
}

#[test]
fn client_against_acceptor_tls12_brief() {
    let (addr, server) = one_shot_acceptor("server.pem", "server.key");
    let run = OpensslClient::builder(addr)
        .ca_file(cert_path("ca.pem"))
        .version(ProtocolVersion::Tls1_2)
        .brief()
        .spawn()
        .unwrap()
        .wait(STEP)
        .unwrap();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(
        run.protocol().as_deref(),
        Some("TLSv1.2"),
        "{}",
        run.output()
    );
    assert_eq!(
        run.cipher().as_deref(),
        Some("ECDHE-ECDSA-AES256-GCM-SHA384")
    );
    assert!(run.verify_ok(), "{}", run.output());
    assert_eq!(server.join().unwrap().as_deref(), Ok("TLSv1.2"));
}

#[test]
fn client_refuses_an_unknown_issuer() {
    let (addr, server) = one_shot_acceptor("rogue-server.pem", "rogue-server.key");
    let run = OpensslClient::builder(addr)
        .servername("localhost")
        .ca_file(cert_path("ca.pem"))
        .verify_return_error()
        .spawn()
        .unwrap()
        .wait(STEP)
        .unwrap();
    assert!(!run.handshake_done(), "{}", run.output());
    assert_eq!(run.protocol(), None);
    // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert_eq!(run.verify_code(), Some(20), "{}", run.output());
    assert!(!run.verify_ok());
    assert!(!run.status.success());
    assert!(server.join().unwrap().is_err());
}

#[test]
fn client_reports_a_host_name_mismatch() {
    let (addr, server) = one_shot_acceptor("other-host.pem", "other-host.key");
    let run = OpensslClient::builder(addr)
        .ca_file(cert_path("ca.pem"))
        .verify_hostname("localhost")
        .spawn()
        .unwrap()
        .wait(STEP)
        .unwrap();
    // Without -verify_return_error the handshake completes and the error is reported.
    assert!(run.handshake_done(), "{}", run.output());
    // X509_V_ERR_HOSTNAME_MISMATCH
    assert_eq!(run.verify_code(), Some(62), "{}", run.output());
    assert!(!run.verify_ok());
    assert_eq!(server.join().unwrap().as_deref(), Ok("TLSv1.3"));
}

#[test]
fn dropping_a_server_reaps_it() {
    let server = OpensslServer::builder().spawn().unwrap();
    let pid = server.pid();
    assert!(process_exists(pid));
    drop(server);
    assert!(!process_exists(pid), "s_server {pid} is still there");
}

#[test]
fn dropping_a_connected_client_reaps_it() {
    let server = OpensslServer::builder().spawn().unwrap();
    let client = OpensslClient::builder(server.addr())
        .keep_stdin_open()
        .spawn()
        .unwrap();
    let pid = client.pid();
    assert!(
        client.wait_for_output("Cipher is", STEP),
        "{}",
        client.output()
    );
    assert!(process_exists(pid));
    drop(client);
    assert!(!process_exists(pid), "s_client {pid} is still there");
}

#[test]
fn client_wait_times_out_on_a_silent_peer() {
    // The kernel completes the TCP handshake from the backlog; nobody ever answers TLS.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = OpensslClient::builder(silent.local_addr().unwrap())
        .spawn()
        .unwrap();
    let pid = client.pid();
    // It is connected and waits for the ServerHello (stderr is unbuffered, stdout is not).
    assert!(
        client.wait_for_output("write client hello", STEP),
        "{}",
        client.output()
    );
    let started = Instant::now();
    let err = client.wait(Duration::from_millis(300)).unwrap_err();
    assert!(started.elapsed() < STEP);
    match err {
        HarnessError::Timeout { waited, output } => {
            assert_eq!(waited, Duration::from_millis(300));
            assert!(output.contains("write client hello"), "{output}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(!process_exists(pid), "s_client {pid} is still there");
}

#[test]
fn missing_certificate_file_is_reported_quickly() {
    let started = Instant::now();
    let err = OpensslServer::builder()
        .cert("/nonexistent/tlshake-missing.pem")
        .spawn()
        .unwrap_err();
    assert!(started.elapsed() < STEP);
    match &err {
        HarnessError::Exited { status, output } => {
            assert!(!status.success());
            assert!(output.contains("tlshake-missing.pem"), "{output}");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert!(
        err.to_string().contains("check the options and files"),
        "{err}"
    );
}

#[test]
fn server_that_never_listens_is_not_ready() {
    // s_server blocks opening a FIFO that nobody writes to, before it listens.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("key.pem");
    nix::unistd::mkfifo(
        &fifo,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    let started = Instant::now();
    let err = OpensslServer::builder()
        .key(&fifo)
        .ready_timeout(Duration::from_millis(300))
        .spawn()
        .unwrap_err();
    assert!(started.elapsed() < STEP);
    match err {
        HarnessError::NotReady { waited, output } => {
            assert_eq!(waited, Duration::from_millis(300));
            assert!(!output.contains("ACCEPT"), "{output}");
        }
        other => panic!("expected NotReady, got {other:?}"),
    }
}

#[test]
fn missing_program_is_a_spawn_error() {
    let err = OpensslServer::builder()
        .program("/nonexistent/openssl")
        .spawn()
        .unwrap_err();
    assert!(matches!(err, HarnessError::Spawn { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("install the openssl command-line tool"),
        "{err}"
    );
    let err = OpensslClient::builder("127.0.0.1:1".parse().unwrap())
        .program("/nonexistent/openssl")
        .spawn()
        .unwrap_err();
    assert!(matches!(err, HarnessError::Spawn { .. }), "{err:?}");
}
