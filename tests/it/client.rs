//! The client front door (`client::connect` by transport URL, `ClientConfig`) against the
//! real `openssl s_server`, aiosmtpd (STARTTLS) and gnutls-serv.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tlshake::client::{self, ClientConfig, ConfigError, ConnectError, ConnectOptions, Connection};
use tlshake::fingerprint::{DigestKind, Fingerprint};
use tlshake::harness::{OpensslServer, ServerMode};
use tlshake::starttls::StarttlsProtocol;
use tlshake::url::TransportUrl;
use tlshake::PolicyError;
use tlshake::{Hint, ProtocolSet, ProtocolVersion};

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .unwrap()
}

fn url(text: String) -> TransportUrl {
    text.parse().unwrap()
}

#[test]
fn every_url_form_reaches_s_server() {
    let v4 = OpensslServer::builder().spawn().unwrap();
    let v6 = OpensslServer::builder().ipv6().spawn().unwrap();
    let config = config();
    let cases = [
        (format!("tls://127.0.0.1:{}", v4.port()), None),
        (format!("ssl://localhost:{}", v4.port()), Some("localhost")),
        (format!("TLS://localhost.:{}", v4.port()), Some("localhost")),
        (format!("tls://[::1]:{}", v6.port()), None),
        (format!("tlsv1.3://[::1]:{}", v6.port()), None),
    ];
    for (text, sni) in cases {
        let conn =
            client::connect(&url(text.clone()), &config).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(conn.stream.protocol(), "TLSv1.3", "{text}");
        assert_eq!(conn.sni.as_deref(), sni, "{text}");
        assert_eq!(conn.tried.last(), Some(&conn.peer));
        assert!(conn.timings.handshake > Duration::ZERO);
    }
}

#[test]
fn pinned_versions_succeed_or_fail_as_the_server_allows() {
    let server = OpensslServer::builder().spawn().unwrap();
    let tls13_only = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .unwrap();
    let config = config();
    let conn = client::connect(
        &url(format!("tlsv1.2://localhost:{}", server.port())),
        &config,
    )
    .unwrap();
    assert_eq!(conn.stream.protocol(), "TLSv1.2");
    let err = client::connect(
        &url(format!("tlsv1.2://localhost:{}", tls13_only.port())),
        &config,
    )
    .unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    assert!(
        matches!(
            hs.hint(),
            Some(Hint::NoSharedVersion {
                our_min: Some(ProtocolVersion::Tls1_2),
                our_max: Some(ProtocolVersion::Tls1_2),
                ..
            })
        ),
        "{hs}"
    );
}

#[test]
fn legacy_and_removed_versions_are_refused_before_any_io() {
    let config = config();
    // Port 9 on loopback: nothing listens, and nothing must be tried.
    let err = client::connect(&url("tlsv1.1://127.0.0.1:9".into()), &config).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectError::Config(ConfigError::Policy(PolicyError::LegacyNeedsOptOut {
                version: ProtocolVersion::Tls1_1
            }))
        ),
        "{err}"
    );
    assert!(err.to_string().contains("allow_legacy_versions"), "{err}");
    let err = client::connect(&url("sslv3://127.0.0.1:9".into()), &config).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectError::SchemeRefused {
                scheme: "sslv3",
                ..
            }
        ),
        "{err}"
    );
    let err = client::connect(&url("udp://127.0.0.1:9".into()), &config).unwrap_err();
    assert!(matches!(err, ConnectError::TlsOverUdp), "{err}");
    let err = client::connect(&url("tcp://127.0.0.1:9".into()), &config).unwrap_err();
    assert!(matches!(err, ConnectError::NotTls { .. }), "{err}");
    let legacy = ClientConfig::builder()
        .protocols(ProtocolSet::range(ProtocolVersion::Tls1_0, ProtocolVersion::Tls1_3).unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(
        legacy,
        ConfigError::Policy(PolicyError::LegacyNeedsOptOut { .. })
    ));
}

#[test]
fn legacy_tls11_with_the_opt_out() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_1)
        .arg("-cipher")
        .arg("DEFAULT:@SECLEVEL=0")
        .spawn()
        .unwrap();
    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .allow_legacy_versions(true)
        .protocols(ProtocolSet::range(ProtocolVersion::Tls1_0, ProtocolVersion::Tls1_3).unwrap())
        .build()
        .unwrap();
    let conn = client::connect(
        &url(format!("tlsv1.1://localhost:{}", server.port())),
        &config,
    )
    .unwrap();
    assert_eq!(conn.stream.protocol(), "TLSv1.1");
}

#[test]
fn open_gives_plain_tcp_and_udp() {
    let server = OpensslServer::builder().spawn().unwrap();
    match client::open(&url(format!("127.0.0.1:{}", server.port())), &config()).unwrap() {
        Connection::Tcp(tcp) => assert_eq!(tcp.peer, server.addr()),
        other => panic!("{other:?}"),
    }
    match client::open(&url("udp://[::1]:9".into()), &config()).unwrap() {
        Connection::Udp { peer, .. } => assert_eq!(peer.to_string(), "[::1]:9"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fingerprint_pinning_accepts_the_right_digest_and_rejects_a_wrong_one() {
    let server = OpensslServer::builder().spawn().unwrap();
    let leaf = openssl::x509::X509::from_pem(tlshake::bundled::SERVER_PEM.as_bytes()).unwrap();
    let right = Fingerprint::of(&leaf, DigestKind::Sha256).unwrap();
    let target = url(format!("tls://localhost:{}", server.port()));

    let pinned = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .peer_fingerprint(right.clone())
        .build()
        .unwrap();
    client::connect(&target, &pinned).expect("right pin");

    // Pinning alone, with chain verification off, still checks the pin.
    let pin_only = ClientConfig::builder()
        .verify_peer(false)
        .peer_fingerprint(right)
        .build()
        .unwrap();
    client::connect(&target, &pin_only).expect("pin without a CA");

    let wrong = Fingerprint::parse(&"ab".repeat(32)).unwrap();
    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .peer_fingerprint(wrong)
        .build()
        .unwrap();
    let err = client::connect(&target, &config).unwrap_err();
    let hs = err.handshake_error().unwrap();
    assert!(hs.verify_failed(), "{hs}");
    assert_eq!(
        hs.verify().unwrap().code,
        50,
        "application verification failure"
    );
}

#[test]
fn the_peer_chain_is_kept_unless_capture_is_off() {
    let server = intermediate_chain_server();
    let target = url(format!("tls://localhost:{}", server.port()));
    let kept = client::connect(&target, &config()).unwrap().session();
    assert_eq!(kept.peer_chain.len(), 2, "leaf + intermediate");
    let off = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .capture_peer_chain(false)
        .build()
        .unwrap();
    let session = client::connect(&target, &off).unwrap().session();
    assert!(session.peer_chain.is_empty());
    // The peer's own certificate stays.
    assert_eq!(
        session.peer_certificate.map(|c| c.to_der().unwrap()),
        kept.peer_certificate.map(|c| c.to_der().unwrap())
    );
}

#[test]
fn alpn_is_negotiated() {
    let server = OpensslServer::builder().alpn("h2").spawn().unwrap();
    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .alpn(["h2", "http/1.1"])
        .build()
        .unwrap();
    let conn =
        client::connect(&url(format!("tls://localhost:{}", server.port())), &config).unwrap();
    assert_eq!(conn.session().alpn_str(), Some("h2"));
}

#[test]
fn second_connect_resumes_the_session() {
    let server = OpensslServer::builder()
        .mode(ServerMode::Www)
        .spawn()
        .unwrap();
    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .resume_sessions(true)
        .build()
        .unwrap();
    let target = url(format!("tls://localhost:{}", server.port()));
    let mut first = client::connect(&target, &config).unwrap();
    assert!(!first.session().resumed);
    first.stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut body = Vec::new();
    let _ = first.stream.read_to_end(&mut body);
    // OpenSSL marks the session of a connection dropped without close_notify as not
    // resumable; a clean shutdown keeps it.
    let _ = first.stream.shutdown();
    drop(first);
    let second = client::connect(&target, &config).unwrap();
    assert!(
        second.session().resumed,
        "the saved ticket was offered and accepted"
    );
}

#[test]
fn self_signed_is_refused_unless_allowed() {
    let server = OpensslServer::builder()
        .cert(cert("self-signed.pem"))
        .key(cert("self-signed.key"))
        .spawn()
        .unwrap();
    let target = url(format!("tls://localhost:{}", server.port()));
    let err = client::connect(&target, &config()).unwrap_err();
    let hs = err.handshake_error().unwrap();
    assert_eq!(hs.verify().unwrap().code, 18);
    assert!(matches!(hs.hint(), Some(Hint::SelfSigned { .. })), "{hs}");
    let allowed = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .allow_self_signed(true)
        .build()
        .unwrap();
    let conn = client::connect(&target, &allowed).unwrap();
    assert_eq!(conn.session().verify.map(|v| v.code), Some(0));
}

#[test]
fn bad_configuration_is_refused_before_any_network_io() {
    let missing = ClientConfig::builder()
        .ca_file("/nonexistent/ca.pem")
        .build()
        .unwrap_err();
    assert!(
        matches!(missing, ConfigError::CaFileUnreadable { .. }),
        "{missing}"
    );
    let not_pem = ClientConfig::builder()
        .ca_file(cert("README.md"))
        .build()
        .unwrap_err();
    assert!(
        matches!(not_pem, ConfigError::CaFileInvalid { .. }),
        "{not_pem}"
    );
    let wrong_pass = ClientConfig::builder()
        .certificate_files(cert("client.pem"), cert("client-encrypted.key"))
        .passphrase("not-it")
        .build()
        .unwrap_err();
    assert!(
        matches!(wrong_pass, ConfigError::Certificate(_)),
        "{wrong_pass}"
    );
    let mismatch = ClientConfig::builder()
        .certificate_files(cert("client.pem"), cert("server.key"))
        .build()
        .unwrap_err();
    // This level says what failed; its source says why.
    assert_eq!(
        mismatch.to_string(),
        "the client certificate could not be used"
    );
    let why = std::error::Error::source(&mismatch).map(ToString::to_string);
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("does not belong to the certificate")),
        "{why:?}"
    );
    let ciphers = ClientConfig::builder()
        .ciphers("NOPE-NOTHING")
        .build()
        .unwrap_err();
    assert!(matches!(ciphers, ConfigError::Ciphers { .. }), "{ciphers}");
    let ok = ClientConfig::builder()
        .certificate_files(cert("client.pem"), cert("client-encrypted.key"))
        .passphrase("tlshake")
        .build();
    assert!(ok.is_ok());
}

#[test]
fn refused_connection_lists_the_addresses_tried() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = client::connect(&url(format!("tls://127.0.0.1:{port}")), &config()).unwrap_err();
    match &err {
        ConnectError::Connect { attempts, .. } => {
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0].1.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn implicit_tls_to_a_starttls_port_shows_the_banner() {
    let (addr, peer) = plaintext_peer(b"220 mail.test ESMTP ready\r\n");
    let err =
        client::connect(&url(format!("tls://localhost:{}", addr.port())), &config()).unwrap_err();
    let hs = err.handshake_error().unwrap();
    match hs.hint() {
        Some(Hint::PlaintextPeer { first_bytes, .. }) => {
            assert_eq!(first_bytes, b"220 mail.test ESMTP ready\r\n")
        }
        other => panic!("{other:?}"),
    }
    peer.join().unwrap();
}

#[test]
fn one_deadline_bounds_connect_and_handshake() {
    let (addr, peer) = one_shot_peer(false, |s| {
        std::thread::sleep(Duration::from_millis(700));
        drop(s);
    });
    let options = ConnectOptions::new().deadline(Instant::now() + Duration::from_millis(250));
    let err = client::connect_with(
        &url(format!("tls://localhost:{}", addr.port())),
        &config(),
        &options,
    )
    .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    peer.join().unwrap();
}

// ---- STARTTLS against aiosmtpd, a real SMTP server -------------------------------------

struct Smtpd {
    child: Child,
    port: u16,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    std::env::var("TLSHAKE_PYTHON").unwrap_or_else(|_| {
        panic!("TLSHAKE_PYTHON is not set: run ./scripts/test.sh, which installs aiosmtpd in .venv")
    })
}

fn start_smtpd() -> Smtpd {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/smtpd.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg(cert("server.pem"))
        .arg(cert("server.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python with aiosmtpd");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut smtpd = Smtpd { child, port: 0 };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("aiosmtpd READY line");
    smtpd.port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .expect(&line);
    smtpd
}

#[test]
#[ignore = "needs aiosmtpd (a Python venv); run by ./scripts/test.sh"]
fn starttls_smtp_against_aiosmtpd() {
    let smtpd = start_smtpd();
    let options = ConnectOptions::new().starttls(StarttlsProtocol::Smtp);
    let target = url(format!("tcp://localhost:{}", smtpd.port));
    let mut conn =
        client::connect_with(&target, &config(), &options).expect("STARTTLS + handshake");
    let transcript = conn.starttls.take().unwrap();
    assert!(transcript.greeting.starts_with("220"), "{transcript:?}");
    assert!(
        transcript
            .capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("STARTTLS")),
        "{transcript:?}"
    );
    assert!(conn.timings.starttls.is_some());
    assert_eq!(conn.stream.protocol(), "TLSv1.3");
    // The server really speaks SMTP inside TLS now.
    conn.stream.write_all(b"EHLO tlshake.test\r\n").unwrap();
    let mut reply = [0u8; 512];
    let n = conn.stream.read(&mut reply).unwrap();
    assert!(
        reply[..n].starts_with(b"250"),
        "{:?}",
        String::from_utf8_lossy(&reply[..n])
    );

    // Built with the feature `tokio`: connect_async_with runs the same dialogue to the same
    // go-ahead, and the same handshake.
    #[cfg(feature = "tokio")]
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = runtime
            .block_on(client::connect_async_with(&target, &config(), &options))
            .expect("async STARTTLS + handshake");
        let theirs = conn.starttls.as_ref().expect("a transcript");
        assert_eq!(theirs.capabilities, transcript.capabilities);
        assert_eq!(theirs.go_ahead, transcript.go_ahead);
        assert_eq!(conn.stream.get_ref().protocol(), "TLSv1.3");
    }

    // And implicit TLS on the same port gets the plaintext hint with aiosmtpd's banner.
    let err =
        client::connect(&url(format!("tls://localhost:{}", smtpd.port)), &config()).unwrap_err();
    match err.handshake_error().and_then(|e| e.hint()) {
        Some(Hint::PlaintextPeer { first_bytes, .. }) => {
            assert!(first_bytes.starts_with(b"220 "), "{first_bytes:?}")
        }
        other => panic!("{other:?}"),
    }
}

// ---- gnutls-serv, a second TLS implementation ----------------------------------------

struct GnutlsServ {
    child: Child,
    port: u16,
}

impl Drop for GnutlsServ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_gnutls(priority: &str) -> GnutlsServ {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("gnutls-serv")
            .args(["--x509certfile", cert("server.pem").to_str().unwrap()])
            .args(["--x509keyfile", cert("server.key").to_str().unwrap()])
            .args(["--priority", priority, "--echo", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnutls-serv (Debian package gnutls-bin)");
        let mut server = GnutlsServ { child, port };
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(_)) = server.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = server.child.kill();
    }
    panic!("gnutls-serv did not start listening");
}

#[test]
#[ignore = "needs gnutls-serv (gnutls-bin); run by ./scripts/test.sh"]
fn gnutls_serv_tls13_and_tls12() {
    let config = config();
    let server = start_gnutls("NORMAL");
    let conn = client::connect(&url(format!("tls://127.0.0.1:{}", server.port)), &config).unwrap();
    assert_eq!(conn.stream.protocol(), "TLSv1.3");
    let conn = client::connect(
        &url(format!("tlsv1.2://127.0.0.1:{}", server.port)),
        &config,
    )
    .unwrap();
    assert_eq!(conn.stream.protocol(), "TLSv1.2");
    let only12 = start_gnutls("NORMAL:-VERS-TLS-ALL:+VERS-TLS1.2");
    let err = client::connect(
        &url(format!("tlsv1.3://127.0.0.1:{}", only12.port)),
        &config,
    )
    .unwrap_err();
    let hs = err.handshake_error().unwrap();
    // GnuTLS answers a TLS 1.3-only hello with handshake_failure ("no supported cipher
    // suites") rather than protocol_version; both hints say what to look at.
    assert_eq!(hs.kind(), tlshake::ErrorKind::Protocol);
    assert!(
        matches!(
            hs.hint(),
            Some(Hint::NoSharedVersion { .. } | Hint::HandshakeFailureAlert)
        ),
        "{hs}"
    );
}

#[test]
fn weak_ciphers_are_refused_by_default_and_need_an_explicit_list() {
    let server = OpensslServer::builder()
        .cert(cert("server-rsa.pem"))
        .key(cert("server-rsa.key"))
        .version(ProtocolVersion::Tls1_2)
        .arg("-cipher")
        .arg("AES128-SHA")
        .spawn()
        .unwrap();
    let target = url(format!("tls://localhost:{}", server.port()));
    let err = client::connect(&target, &config()).unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    assert!(
        hs.reasons().iter().any(|r| r.contains("handshake failure")),
        "{hs}"
    );
    assert_eq!(hs.hint(), Some(&Hint::HandshakeFailureAlert), "{hs}");
    assert!(
        hs.to_string().contains("ClientConfigBuilder::ciphers"),
        "{hs}"
    );

    // Static-RSA key exchange only when asked for by name.
    let explicit = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .ciphers("AES128-SHA")
        .build()
        .unwrap();
    let conn = client::connect(&target, &explicit).unwrap();
    assert_eq!(conn.stream.cipher(), "AES128-SHA");
}

#[test]
fn protocols_takes_the_servers_protocol_set_holes_included() {
    let default_server = OpensslServer::builder().spawn().unwrap();
    let tls12 = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .protocols(ProtocolSet::TLS1_2)
        .build()
        .unwrap();
    let conn = client::connect(
        &url(format!("tls://localhost:{}", default_server.port())),
        &tls12,
    )
    .unwrap();
    assert_eq!(conn.stream.protocol(), "TLSv1.2");

    // TLS 1.1 and 1.3 but not 1.2, against a TLS 1.2-only server: the hole is honoured.
    let tls12_server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let holed = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .allow_legacy_versions(true)
        .protocols(ProtocolSet::TLS1_1 | ProtocolSet::TLS1_3)
        .build()
        .unwrap();
    let err = client::connect(
        &url(format!("tls://localhost:{}", tls12_server.port())),
        &holed,
    )
    .map(|c| c.stream.protocol().to_string())
    .unwrap_err();
    assert!(matches!(err, ConnectError::Handshake { .. }), "{err}");
}

#[test]
fn upgrade_takes_connect_options_and_gives_a_tls_connection() {
    let server = OpensslServer::builder().spawn().unwrap();
    let options = ConnectOptions::new().deadline(deadline(10.0));
    let tcp = TcpStream::connect(server.addr()).unwrap();
    let conn = client::upgrade(tcp, "localhost", &config(), &options).unwrap();
    assert_eq!(conn.peer, server.addr());
    assert_eq!(conn.tried, vec![server.addr()]);
    assert_eq!(conn.sni.as_deref(), Some("localhost"));
    assert!(conn.starttls.is_none());
    assert_eq!(conn.timings.connect, Duration::ZERO);

    // A proxy cannot apply to a socket connected already: refused, not ignored.
    let tcp = TcpStream::connect(server.addr()).unwrap();
    let err = client::upgrade(
        tcp,
        "localhost",
        &config(),
        &options.clone().proxy("127.0.0.1:3128"),
    )
    .map(|c| c.peer)
    .unwrap_err();
    assert!(matches!(err, ConnectError::Io { .. }), "{err}");
}
