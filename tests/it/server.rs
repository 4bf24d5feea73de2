//! TlsListener against real clients: `openssl s_client` and `curl`.

use crate::common;
use crate::server_support;

use std::fs;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use tlshake::bundled;
use tlshake::server::{http_reply, CertificateSource, ClientAuth, TlsListener};
use tlshake::Hint;
use tlshake::ProtocolSet;
use tlshake::ProtocolVersion;

use server_support::{
    base_config, cert, established, failure, have, run_peer, s_client, serve, start, PEER_LIMIT,
};

#[test]
fn tls13_handshake_with_s_client() {
    let (addr, server) = start(&base_config(), 1);
    let client = s_client(addr, &["-tls1_3"]);
    let accepted = established(server.join().unwrap());
    let out = client.output();
    assert!(out.contains("New, TLSv1.3"), "{out}");
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert_eq!(accepted.session.protocol, "TLSv1.3");
    assert_eq!(accepted.session.version, Some(ProtocolVersion::Tls1_3));
    assert_eq!(accepted.stream.protocol(), "TLSv1.3");
    assert_eq!(accepted.session.sni.as_deref(), Some("localhost"));
    assert_eq!(accepted.peer.ip(), addr.ip());
    assert!(out.contains(&accepted.session.cipher), "{out}");
    // NodelayPolicy::Always, and a blocking stream like std's accept gives.
    let socket = accepted.stream.get_ref();
    assert!(tlshake::internals::nodelay(socket).unwrap());
    let flags = fcntl(socket, FcntlArg::F_GETFL).unwrap();
    assert!(!OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK));
}

#[test]
fn nonblocking_streams_are_handed_over_as_the_handshake_ran() {
    let mut listener = TlsListener::bind(&common::built(&base_config())).unwrap();
    listener.set_nonblocking_streams(true);
    let addr = listener.local_addr();
    let server = serve(listener, 1, PEER_LIMIT, |_| {});
    let client = s_client(addr, &["-tls1_3"]);
    let accepted = established(server.join().unwrap());
    assert!(
        client.output().contains("Verify return code: 0 (ok)"),
        "{}",
        client.output()
    );
    let socket = accepted.stream.get_ref();
    let flags = fcntl(socket, FcntlArg::F_GETFL).unwrap();
    assert!(OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK));
    // TCP_NODELAY came from the listening socket (NodelayPolicy::Always sets it there once).
    assert!(tlshake::internals::nodelay(socket).unwrap());
}

#[test]
fn tls12_handshake_with_s_client() {
    let (addr, server) = start(&base_config(), 1);
    let client = s_client(addr, &["-tls1_2"]);
    let accepted = established(server.join().unwrap());
    let out = client.output();
    assert!(out.contains("Protocol  : TLSv1.2"), "{out}");
    assert!(out.contains("New, TLSv1.2"), "{out}");
    assert_eq!(accepted.session.protocol, "TLSv1.2");
    assert_eq!(accepted.session.version, Some(ProtocolVersion::Tls1_2));
}

/// A store directory with copies of `server` and `other-host` (certificate and key each).
fn two_cert_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "server.pem",
        "server.key",
        "other-host.pem",
        "other-host.key",
    ] {
        fs::copy(cert(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn fingerprint_hex(digest: MessageDigest, separator: &str) -> String {
    let x509 = X509::from_pem(bundled::SERVER_PEM.as_bytes()).unwrap();
    let bytes = x509.digest(digest).unwrap();
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(separator)
}

#[test]
fn certificate_chosen_from_a_store_by_name() {
    let store = two_cert_store();
    let config = base_config().certificate(CertificateSource::store_by_name(
        store.path(),
        "other.example",
    ));
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &["-servername", "other.example"]);
    let accepted = established(server.join().unwrap());
    assert_eq!(
        client.server_certificate(),
        common::certificate_file("other-host.pem")
    );
    assert_eq!(accepted.session.sni.as_deref(), Some("other.example"));
}

#[test]
fn certificate_chosen_from_a_store_by_sha1_thumbprint_with_spaces() {
    let thumbprint = fingerprint_hex(MessageDigest::sha1(), " ");
    assert_eq!(thumbprint.len(), 40 + 19);
    // The whole certs/ directory: its PKCS#12 archive needs the password.
    let config = base_config().certificate(
        CertificateSource::store_by_hash(common::certs_dir(), thumbprint)
            .with_store_passwords([bundled::PASSPHRASE]),
    );
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &[]);
    established(server.join().unwrap());
    assert_eq!(
        client.server_certificate(),
        common::certificate_file("server.pem")
    );
    let out = client.output();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
}

#[test]
fn certificate_chosen_from_a_store_by_sha256_with_colons() {
    let fingerprint = fingerprint_hex(MessageDigest::sha256(), ":");
    assert_eq!(fingerprint.len(), 64 + 31);
    let store = two_cert_store();
    let config =
        base_config().certificate(CertificateSource::store_by_hash(store.path(), fingerprint));
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &[]);
    established(server.join().unwrap());
    assert_eq!(
        client.server_certificate(),
        common::certificate_file("server.pem")
    );
}

#[test]
fn certificate_from_pkcs12() {
    let config = base_config().certificate_pkcs12(cert("server.p12"), bundled::PASSPHRASE);
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &[]);
    established(server.join().unwrap());
    assert!(
        client.output().contains("Verify return code: 0 (ok)"),
        "{}",
        client.output()
    );
}

#[test]
fn sni_picks_the_second_certificate_and_no_sni_gets_the_default() {
    let config = base_config().sni_certificate(
        "other.example",
        CertificateSource::pem_files(cert("other-host.pem"), cert("other-host.key")),
    );
    let listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let server = serve(listener, 2, PEER_LIMIT, |_| {});

    let other = s_client(
        addr,
        &[
            "-servername",
            "other.example",
            "-verify_hostname",
            "other.example",
        ],
    );
    assert_eq!(
        other.server_certificate(),
        common::certificate_file("other-host.pem")
    );
    let out = other.output();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");

    let plain = s_client(addr, &["-noservername"]);
    assert_eq!(
        plain.server_certificate(),
        common::certificate_file("server.pem")
    );

    let events = server.join().unwrap();
    let snis: Vec<Option<String>> = events
        .into_iter()
        .map(|e| match e {
            tlshake::server::ServerEvent::Established(a) => a.session.sni,
            other => panic!("unexpected event {other}"),
        })
        .collect();
    assert_eq!(snis, vec![Some("other.example".to_string()), None]);
}

#[test]
fn required_client_certificate_missing_fails_with_the_hint() {
    let config = base_config().client_auth(ClientAuth::Required {
        ca_file: cert("ca.pem"),
    });
    let (addr, server) = start(&config, 1);
    // -ign_eof: keep reading after the handshake, to see the server's alert (with TLS 1.3
    // the client's handshake ends before the server checks the client's certificate).
    let client = s_client(addr, &["-ign_eof"]);
    let error = failure(server.join().unwrap());
    assert_eq!(error.hint(), Some(&Hint::PeerSentNoCertificate), "{error}");
    assert!(
        error
            .reasons()
            .contains(&"peer did not return a certificate"),
        "{error}"
    );
    let out = client.output();
    assert!(out.contains("certificate required"), "{out}");
}

#[test]
fn required_client_certificate_given_verifies() {
    let config = base_config().client_auth(ClientAuth::Required {
        ca_file: cert("ca.pem"),
    });
    let (addr, server) = start(&config, 1);
    let client = s_client(
        addr,
        &[
            "-cert",
            cert("client.pem").to_str().unwrap(),
            "-key",
            cert("client.key").to_str().unwrap(),
        ],
    );
    let accepted = established(server.join().unwrap());
    assert!(
        client.output().contains("New, TLSv1.3"),
        "{}",
        client.output()
    );
    assert_eq!(accepted.session.verify.as_ref().map(|v| v.code), Some(0));
    let subject = accepted
        .session
        .peer_certificate
        .as_ref()
        .map(|c| tlshake::internals::name_to_string(c.subject_name()));
    assert_eq!(subject.as_deref(), Some("CN=tlshake test client"));
}

#[test]
fn optional_client_certificate_may_be_absent() {
    let config = base_config().client_auth(ClientAuth::Optional {
        ca_file: cert("ca.pem"),
    });
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &[]);
    let accepted = established(server.join().unwrap());
    assert!(
        client.output().contains("New, TLSv1.3"),
        "{}",
        client.output()
    );
    assert!(accepted.session.peer_certificate.is_none());
    // No certificate, no verify result (not "0 ok").
    assert_eq!(accepted.session.verify, None);
}

#[test]
fn excluded_protocol_fails_on_both_sides() {
    let config = base_config().protocols(ProtocolSet::TLS1_2);
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &["-tls1_3"]);
    let error = failure(server.join().unwrap());
    let no_shared = matches!(error.hint(), Some(Hint::NoSharedVersion { .. }));
    assert!(
        no_shared || error.reasons().contains(&"unsupported protocol"),
        "{error}"
    );
    assert!(!client.succeeded());
    let out = client.output();
    assert!(out.contains("alert protocol version"), "{out}");
}

#[test]
fn alpn_follows_the_server_preference() {
    let config = base_config().alpn(["h2", "http/1.1"]);
    let (addr, server) = start(&config, 1);
    let client = s_client(addr, &["-alpn", "http/1.1,h2"]);
    let accepted = established(server.join().unwrap());
    assert!(
        client.output().contains("ALPN protocol: h2"),
        "{}",
        client.output()
    );
    assert_eq!(accepted.session.alpn_str(), Some("h2"));
}

#[test]
fn legacy_set_with_a_hole_serves_tls1_and_refuses_tls1_1() {
    let config = base_config()
        .protocols(ProtocolSet::TLS1 | ProtocolSet::TLS1_2)
        .allow_legacy_versions(true);
    let listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let server = serve(listener, 2, PEER_LIMIT, |_| {});
    let tls1 = s_client(addr, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let tls1_1 = s_client(addr, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let mut events = server.join().unwrap().into_iter();
    let first = established(events.next().into_iter().collect());
    assert_eq!(first.session.protocol, "TLSv1");
    assert!(
        tls1.output().contains("Protocol  : TLSv1\n"),
        "{}",
        tls1.output()
    );
    // OpenSSL answers a client that offers only the missing version as it answers a record
    // of the wrong version.
    let second = failure(events.collect());
    let no_shared = matches!(second.hint(), Some(Hint::NoSharedVersion { .. }));
    assert!(
        no_shared || second.reasons().contains(&"wrong version number"),
        "{second}"
    );
    assert!(!tls1_1.succeeded(), "{}", tls1_1.output());
    // The server offered TLS 1.0, below the client's only version.
    assert!(
        tls1_1.output().contains("unsupported protocol"),
        "{}",
        tls1_1.output()
    );
}

#[test]
fn session_tickets_can_be_turned_off() {
    let on = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    assert!(on.context().num_tickets() > 0);
    let (addr, server) = start(&base_config(), 1);
    let with = s_client(addr, &["-tls1_2"]);
    established(server.join().unwrap());
    assert!(
        with.output().contains("TLS session ticket lifetime hint"),
        "{}",
        with.output()
    );

    let config = base_config().session_tickets(false);
    let off = TlsListener::bind(&crate::common::built(&config)).unwrap();
    assert_eq!(off.context().num_tickets(), 0);
    let (addr, server) = start(&config, 1);
    let without = s_client(addr, &["-tls1_2"]);
    established(server.join().unwrap());
    assert!(
        without.output().contains("New, TLSv1.2"),
        "{}",
        without.output()
    );
    assert!(
        !without
            .output()
            .contains("TLS session ticket lifetime hint"),
        "{}",
        without.output()
    );
}

#[test]
fn legacy_opt_out_lowers_the_security_level() {
    let strict = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    assert!(strict.context().security_level() > 0);
    let legacy = base_config()
        .protocols(ProtocolSet::TLS1 | ProtocolSet::TLS1_3)
        .allow_legacy_versions(true);
    let legacy = TlsListener::bind(&crate::common::built(&legacy)).unwrap();
    assert_eq!(legacy.context().security_level(), 0);
}

#[test]
fn dual_stack_default_reports_ipv4_clients_as_ipv4() {
    let config = base_config().address("*");
    let (addr, server) = start(&config, 1);
    assert!(addr.ip().is_unspecified(), "{addr}");
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()));
    let client = s_client(target, &[]);
    let accepted = established(server.join().unwrap());
    assert!(client.output().contains("New, TLSv1.3"));
    assert_eq!(accepted.peer.ip(), std::net::IpAddr::from([127, 0, 0, 1]));
}

#[test]
fn ipv6_loopback_listener() {
    let config = base_config().address("[::1]");
    let (addr, server) = start(&config, 1);
    assert_eq!(addr.ip(), std::net::Ipv6Addr::LOCALHOST);
    let client = s_client(addr, &[]);
    let accepted = established(server.join().unwrap());
    assert!(
        client.output().contains("New, TLSv1.3"),
        "{}",
        client.output()
    );
    assert!(accepted.peer.is_ipv6());
}

#[test]
#[ignore = "needs curl; run by ./scripts/test.sh, which installs it"]
fn curl_gets_the_session_page() {
    assert!(have("curl"), "curl is not installed (Debian package curl)");
    let listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let port = listener.local_addr().port();
    let server = serve(listener, 1, PEER_LIMIT, |accepted| {
        let stream = &mut accepted.stream;
        stream
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        let started = Instant::now();
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && started.elapsed() < PEER_LIMIT {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            request.starts_with(b"GET / HTTP/1.1\r\n"),
            "{:?}",
            String::from_utf8_lossy(&request)
        );
        stream.write_all(&http_reply(&accepted.session)).unwrap();
        let _ = stream.shutdown();
    });
    let mut command = Command::new("curl");
    command
        .args(["-sS", "-i", "--max-time", "10", "--cacert"])
        .arg(cert("ca.pem"))
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"))
        .arg(format!("https://localhost:{port}/"));
    let run = run_peer(command, b"", PEER_LIMIT);
    let accepted = established(server.join().unwrap());
    assert!(run.succeeded(), "{}", run.output());
    assert!(
        run.stdout.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("protocol: TLSv1.3\n"), "{}", run.stdout);
    assert!(run.stdout.contains("sni: localhost\n"), "{}", run.stdout);
    assert_eq!(accepted.session.protocol, "TLSv1.3");
}

/// The bytes an OpenSSL client writes before it waits for an answer: its ClientHello.
#[derive(Debug)]
struct Capture(Vec<u8>);

impl Read for Capture {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A real OpenSSL client's ClientHello, then a close_notify alert in place of the rest of
/// the handshake (a controlled end), sent together; then it waits (5 s at most) for the
/// server to close the connection.
fn client_hello_then_close_notify(addr: std::net::SocketAddr) -> std::thread::JoinHandle<()> {
    let connector =
        openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client()).unwrap();
    let ssl = connector
        .build()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    let hello = match ssl.connect(Capture(Vec::new())) {
        Err(openssl::ssl::HandshakeError::WouldBlock(mid)) => mid.get_ref().0.clone(),
        other => panic!("expected the client to wait for the ServerHello: {other:?}"),
    };
    assert_eq!(hello.first(), Some(&0x16), "a handshake record");
    std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        // A warning-level close_notify alert record after the ClientHello.
        let mut bytes = hello;
        bytes.extend_from_slice(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00]);
        tcp.write_all(&bytes).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
    })
}

/// A handshake the client ends with close_notify is a shutdown, not a failure: the listener
/// reports `ServerEvent::Shutdown` (and counts it apart), as `MultiDriver` reports
/// `Completed::Shutdown` for the same client, with the same name; a client that aborts with
/// an alert (s_client refusing the certificate's name) is `ServerEvent::Failed`.
#[test]
fn a_close_notify_ends_the_handshake_as_a_shutdown_not_a_failure() {
    let mut listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = listener.local_addr();
    let limit = Instant::now() + PEER_LIMIT;
    let next = |listener: &mut TlsListener| loop {
        match listener.next_event(Some(limit)).unwrap() {
            Some(tlshake::server::ServerEvent::Callback { .. }) => continue,
            Some(event) => break event,
            None => panic!("no event within {PEER_LIMIT:?}"),
        }
    };

    let refused =
        std::thread::spawn(move || s_client(addr, &["-verify_hostname", "wrong.example"]));
    let failed = next(&mut listener);
    assert!(!refused.join().unwrap().succeeded());
    assert!(
        matches!(&failed, tlshake::server::ServerEvent::Failed { error, .. } if !error.is_controlled_shutdown()),
        "{failed}"
    );
    assert_eq!(failed.name(), "failed");

    let peer = client_hello_then_close_notify(addr);
    let shutdown = next(&mut listener);
    peer.join().unwrap();
    let tlshake::server::ServerEvent::Shutdown { error, .. } = &shutdown else {
        panic!("expected a shutdown, got {shutdown}");
    };
    assert!(error.is_controlled_shutdown(), "{error:?}");
    assert_eq!(error.kind(), tlshake::ErrorKind::ZeroReturn, "{error:?}");
    assert_eq!(shutdown.name(), "shutdown");
    let stats = listener.stats();
    assert_eq!((stats.failed, stats.shutdown), (1, 1), "{stats:?}");

    // The same client against a server handshake in a MultiDriver: the same end, same name.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = client_hello_then_close_notify(tcp.local_addr().unwrap());
    let (socket, _) = tcp.accept().unwrap();
    socket.set_nonblocking(true).unwrap();
    let ssl = openssl::ssl::Ssl::new(listener.context()).unwrap();
    let mut driver = tlshake::MultiDriver::new().unwrap();
    let deadline = Instant::now() + PEER_LIMIT;
    driver
        .add(tlshake::Handshake::server(ssl, socket).unwrap(), deadline)
        .unwrap();
    let completed = driver
        .next_completed(deadline)
        .unwrap()
        .expect("the handshake ends before its deadline");
    peer.join().unwrap();
    assert!(
        matches!(completed.result, tlshake::Completed::Shutdown(_)),
        "{:?}",
        completed.result
    );
    assert_eq!(completed.result.name(), shutdown.name());

    // And against the tokio listener's accept loop: `ServerEvent::Shutdown`, counted
    // apart from the failures.
    #[cfg(feature = "tokio")]
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut listener =
                tlshake::tokio::AsyncTlsListener::bind(&crate::common::built(&base_config()))
                    .unwrap();
            let peer = client_hello_then_close_notify(listener.local_addr());
            let event = tokio::time::timeout(PEER_LIMIT, listener.next_event())
                .await
                .expect("an event within the limit")
                .unwrap();
            assert!(
                matches!(&event, tlshake::server::ServerEvent::Shutdown { error, .. }
                    if error.is_controlled_shutdown()),
                "{event}"
            );
            assert_eq!(event.name(), shutdown.name());
            let stats = listener.stats();
            assert_eq!((stats.failed, stats.shutdown), (0, 1), "{stats:?}");
            drop(listener);
            peer.join().unwrap();
        });
    }
}
