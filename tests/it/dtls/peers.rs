//! Real peers, both directions, each verdict compared with an OpenSSL program's on the same
//! peer: tlshake's client beside `openssl s_client -dtls1_2` against `openssl s_server
//! -dtls1_2 -listen` and `gnutls-serv --udp`; the [`DtlsListener`] beside `openssl s_server
//! -dtls1_2 -listen` against `openssl s_client -dtls1_2` and `gnutls-cli --udp`. The peers
//! include a certificate the client must reject and a server that requires a client
//! certificate.
//!
//! `s_server -dtls1_2` and `gnutls-serv --udp` stop answering (or exit) after their first
//! client: every verdict gets a server of its own, started with the same arguments.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tlshake::client::{ClientConfig, ConnectError};
use tlshake::dtls::{self, DtlsListener, DtlsOptions, DtlsServerEvent};
use tlshake::harness::OpensslServer;
use tlshake::server::{ClientAuth, ServerConfig, ServerConfigBuilder, ServerEvent};
use tlshake::ErrorKind;

use super::gnutls::{gnutls_cli, GnutlsServ};
use crate::server_support::{cert, s_client, PeerRun};

/// X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: the rogue server's issuer is not trusted.
const UNTRUSTED_ISSUER: i32 = 20;

fn client_config(with_cert: bool) -> ClientConfig {
    let mut b = ClientConfig::builder().ca_file(cert("ca.pem"));
    if with_cert {
        b = b.certificate_files(cert("client.pem"), cert("client.key"));
    }
    b.build().expect("client config")
}

fn url(addr: SocketAddr) -> tlshake::url::TransportUrl {
    format!("dtls://127.0.0.1:{}", addr.port()).parse().unwrap()
}

/// `openssl s_server -dtls1_2 -listen` with `cert`/`key` and `extra` arguments.
fn s_server(cert_name: &str, key_name: &str, extra: &[&str]) -> OpensslServer {
    let mut b = OpensslServer::builder()
        .cert(cert(cert_name))
        .key(cert(key_name))
        .arg("-dtls1_2")
        .arg("-listen");
    for a in extra {
        b = b.arg(*a);
    }
    b.spawn().expect("s_server -dtls1_2")
}

/// `openssl s_client -dtls1_2` against `addr`, stdin closed: its verdict.
fn s_client_verdict(addr: SocketAddr, extra: &[&str]) -> PeerRun {
    let mut args = vec!["-dtls1_2"];
    args.extend_from_slice(extra);
    s_client(addr, &args)
}

/// s_client's own verdict: it exits 0 after a handshake and 1 after a failed one.
fn completed(run: &PeerRun) -> bool {
    run.succeeded() && run.stdout.contains("Verify return code: 0 (ok)")
}

// ---- tlshake's client ---------------------------------------------------------------------

#[test]
fn client_and_s_client_complete_against_s_server_and_exchange_data() {
    let mut server = s_server("server.pem", "server.key", &[]);
    let mut conn = dtls::connect(
        &url(server.addr()),
        &client_config(false),
        &DtlsOptions::new(),
    )
    .expect("handshake");
    assert_eq!(conn.stream.protocol(), "DTLSv1.2");
    assert_eq!(conn.stream.stats().retransmissions, 0);
    assert_eq!(conn.peer, server.addr());
    // Both ways: a record to s_server (it prints it), a line from its stdin to us.
    conn.stream.write_all(b"ping from tlshake\n").unwrap();
    assert!(server.wait_for_output("ping from tlshake", Duration::from_secs(10)));
    server.send_stdin(b"pong from s_server\n").unwrap();
    conn.stream
        .get_ref()
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 256];
    let n = conn.stream.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"pong from s_server\n");
    let _ = conn.stream.shutdown();
    drop(conn);
    // The reference verdict, on a server started the same way.
    let reference = s_server("server.pem", "server.key", &[]);
    let run = s_client_verdict(reference.addr(), &[]);
    assert!(completed(&run), "{}", run.output());
}

#[test]
fn client_and_s_client_reject_an_untrusted_server() {
    let server = s_server("rogue-server.pem", "rogue-server.key", &[]);
    let err = dtls::connect(
        &url(server.addr()),
        &client_config(false),
        &DtlsOptions::new(),
    )
    .expect_err("the rogue CA is not trusted");
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.kind(), ErrorKind::CertificateVerification, "{hs}");
    assert_eq!(hs.verify().map(|v| v.code), Some(UNTRUSTED_ISSUER), "{hs}");
    assert_eq!(hs.retransmissions(), Some(0));
    assert!(
        err.to_string().starts_with("the DTLS handshake with"),
        "{err}"
    );
    let reference = s_server("rogue-server.pem", "rogue-server.key", &[]);
    let run = s_client_verdict(reference.addr(), &[]);
    assert!(!run.succeeded(), "{}", run.output());
    assert!(
        run.output()
            .contains(&format!("verify error:num={UNTRUSTED_ISSUER}")),
        "{}",
        run.output()
    );
}

#[test]
fn a_server_that_requires_a_client_certificate() {
    let ca = cert("ca.pem");
    let ca = ca.to_str().unwrap();
    let server = || s_server("server.pem", "server.key", &["-Verify", "1", "-CAfile", ca]);
    // Without a certificate: both clients fail.
    let err = dtls::connect(
        &url(server().addr()),
        &client_config(false),
        &DtlsOptions::new(),
    )
    .expect_err("no client certificate");
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.kind(), ErrorKind::Protocol, "{hs}");
    assert!(
        hs.reasons()
            .iter()
            .any(|r| r.contains("alert handshake failure") || r.contains("certificate required")),
        "{hs}"
    );
    let run = s_client_verdict(server().addr(), &[]);
    assert!(!run.succeeded(), "{}", run.output());
    // With one: both complete.
    let conn = dtls::connect(
        &url(server().addr()),
        &client_config(true),
        &DtlsOptions::new(),
    )
    .expect("handshake with a client certificate");
    assert_eq!(conn.stream.protocol(), "DTLSv1.2");
    drop(conn);
    let client_cert = cert("client.pem");
    let client_key = cert("client.key");
    let run = s_client_verdict(
        server().addr(),
        &[
            "-cert",
            client_cert.to_str().unwrap(),
            "-key",
            client_key.to_str().unwrap(),
        ],
    );
    assert!(completed(&run), "{}", run.output());
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn client_against_gnutls_serv() {
    let server = GnutlsServ::start("server.pem", "server.key", &["--echo"]);
    let addr: SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    let mut conn = dtls::connect(&url(addr), &client_config(false), &DtlsOptions::new())
        .expect("handshake with gnutls-serv");
    assert_eq!(conn.stream.protocol(), "DTLSv1.2");
    conn.stream.write_all(b"echo me").unwrap();
    conn.stream
        .get_ref()
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = conn.stream.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"echo me");
    let _ = conn.stream.shutdown();
    drop(conn);
    let reference = GnutlsServ::start("server.pem", "server.key", &["--echo"]);
    let run = s_client_verdict(
        format!("127.0.0.1:{}", reference.port).parse().unwrap(),
        &[],
    );
    assert!(completed(&run), "{}", run.output());
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn client_rejects_an_untrusted_gnutls_serv_as_s_client_does() {
    let server = GnutlsServ::start("rogue-server.pem", "rogue-server.key", &[]);
    let addr: SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    let err = dtls::connect(&url(addr), &client_config(false), &DtlsOptions::new())
        .expect_err("the rogue CA is not trusted");
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.kind(), ErrorKind::CertificateVerification, "{hs}");
    assert_eq!(hs.verify().map(|v| v.code), Some(UNTRUSTED_ISSUER), "{hs}");
    let reference = GnutlsServ::start("rogue-server.pem", "rogue-server.key", &[]);
    let run = s_client_verdict(
        format!("127.0.0.1:{}", reference.port).parse().unwrap(),
        &[],
    );
    assert!(!run.succeeded(), "{}", run.output());
    assert!(
        run.output()
            .contains(&format!("verify error:num={UNTRUSTED_ISSUER}")),
        "{}",
        run.output()
    );
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_serv_that_requires_a_client_certificate() {
    let ca = cert("ca.pem");
    let server = || {
        let s = GnutlsServ::start(
            "server.pem",
            "server.key",
            &[
                "--require-client-cert",
                "--x509cafile",
                ca.to_str().unwrap(),
            ],
        );
        let addr: SocketAddr = format!("127.0.0.1:{}", s.port).parse().unwrap();
        (s, addr)
    };
    // GnuTLS drops the handshake of a client without a certificate without an alert: the
    // client's verdict is the timeout, with its retransmissions, as s_client's is.
    let (_s1, addr) = server();
    let deadline = Instant::now() + Duration::from_secs(3);
    let err = dtls::connect_with(
        &url(addr),
        &client_config(false),
        &DtlsOptions::new(),
        Some(deadline),
    )
    .expect_err("no client certificate");
    let hs = err.handshake_error().expect("a handshake error");
    assert!(hs.is_timeout(), "{hs}");
    assert!(hs.retransmissions().is_some_and(|n| n >= 1), "{hs}");
    assert!(
        matches!(
            hs.hint(),
            Some(tlshake::Hint::DatagramTimeout {
                role: tlshake::Role::Client,
                bytes_received: 1..,
                ..
            })
        ),
        "{hs}"
    );
    assert!(matches!(err, ConnectError::Handshake { .. }), "{err}");
    let (_s2, addr) = server();
    let run = s_client_verdict(addr, &[]);
    assert!(!run.succeeded(), "{}", run.output());
    let (_s3, addr) = server();
    let conn = dtls::connect(&url(addr), &client_config(true), &DtlsOptions::new())
        .expect("handshake with a client certificate");
    assert_eq!(conn.stream.protocol(), "DTLSv1.2");
}

// ---- tlshake's listener -------------------------------------------------------------------

/// What the listener thread saw: each established session, each failed handshake's error,
/// and every other event as its text.
#[derive(Debug, Default)]
struct Served {
    established: Vec<tlshake::SessionInfo>,
    failed: Vec<tlshake::HandshakeError>,
    other: Vec<String>,
}

impl Served {
    fn ended(&self) -> usize {
        self.established.len() + self.failed.len() + self.other.len()
    }
}

/// A listener on 127.0.0.1 in a thread, until `count` handshakes ended. Each established
/// stream is answered on a thread of its own (the listener keeps routing its datagrams):
/// one record read and answered with "pong: " and the record, then one more read, until the
/// client closes or 5 s pass.
fn listen(config: ServerConfigBuilder, count: usize) -> (SocketAddr, JoinHandle<Served>) {
    let config = config.address("127.0.0.1").port(0).build().unwrap();
    let mut listener = DtlsListener::bind(&config, DtlsOptions::new()).unwrap();
    let addr = listener.local_addr();
    let handle = thread::spawn(move || {
        let deadline = crate::common::deadline(20.0);
        let mut served = Served::default();
        let mut answering = Vec::new();
        let mut record = |served: &mut Served, event: DtlsServerEvent| match event {
            ServerEvent::Established(mut a) => {
                served.established.push(a.session.clone());
                answering.push(thread::spawn(move || {
                    a.stream
                        .get_ref()
                        .set_blocking(Some(Duration::from_secs(5)));
                    let mut buf = [0u8; 256];
                    if let Ok(n @ 1..) = a.stream.read(&mut buf) {
                        let mut reply = b"pong: ".to_vec();
                        reply.extend_from_slice(&buf[..n]);
                        let _ = a.stream.write_all(&reply);
                        let _ = a.stream.read(&mut buf);
                    }
                }));
            }
            ServerEvent::Failed { error, .. } => served.failed.push(error),
            other => served.other.push(other.to_string()),
        };
        while served.ended() < count {
            match listener.next_event(Some(deadline)) {
                Ok(Some(event)) => record(&mut served, event),
                Ok(None) => break,
                Err(e) => panic!("{e}"),
            }
        }
        // The answers need the listener to go on routing their datagrams.
        while answering.iter().any(|t| !t.is_finished()) {
            assert!(Instant::now() < deadline, "the answers did not end");
            if let Err(e) = listener.next_event(Some(Instant::now() + Duration::from_millis(50))) {
                panic!("{e}");
            }
        }
        served
    });
    (addr, handle)
}

#[test]
fn s_client_completes_against_the_listener_as_against_s_server() {
    let base = ServerConfig::builder().certificate_files(cert("server.pem"), cert("server.key"));
    let (addr, server) = listen(base, 1);
    let client = super::dtls_s_client(addr, b"ping\n");
    assert!(
        client.wait_for_output("pong: ping", Duration::from_secs(15)),
        "{}",
        client.output()
    );
    super::ends_verified(client);
    let served = server.join().unwrap();
    assert_eq!(served.established.len(), 1, "{served:?}");
    assert_eq!(served.established[0].protocol, "DTLSv1.2");
    // The reference: s_server's verdict on the same client.
    let reference = s_server("server.pem", "server.key", &[]);
    assert!(completed(&s_client_verdict(reference.addr(), &[])));
}

#[test]
fn a_listener_that_requires_a_client_certificate() {
    let config = ServerConfig::builder()
        .certificate_files(cert("server.pem"), cert("server.key"))
        .client_auth(ClientAuth::Required {
            ca_file: cert("ca.pem"),
        });
    let (addr, server) = listen(config.clone(), 2);
    let without = s_client_verdict(addr, &[]);
    let client_cert = cert("client.pem");
    let client_key = cert("client.key");
    let with_cert = [
        "-cert",
        client_cert.to_str().unwrap(),
        "-key",
        client_key.to_str().unwrap(),
    ];
    let with = s_client_verdict(addr, &with_cert);
    let served = server.join().unwrap();
    assert!(!without.succeeded(), "{}", without.output());
    assert!(completed(&with), "{}", with.output());
    let failed = &served.failed;
    assert_eq!(failed.len(), 1, "{served:?}");
    assert_eq!(failed[0].kind(), ErrorKind::Protocol, "{}", failed[0]);
    assert!(
        failed[0]
            .reasons()
            .iter()
            .any(|r| r.contains("peer did not return a certificate")),
        "{}",
        failed[0]
    );
    assert_eq!(served.established.len(), 1, "{served:?}");
    assert!(served.established[0].peer_certificate.is_some());
    // s_server, asked the same, gives the same two verdicts.
    let ca = cert("ca.pem");
    let reference = || {
        s_server(
            "server.pem",
            "server.key",
            &["-Verify", "1", "-CAfile", ca.to_str().unwrap()],
        )
    };
    assert!(!s_client_verdict(reference().addr(), &[]).succeeded());
    assert!(completed(&s_client_verdict(reference().addr(), &with_cert)));
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_cli_completes_against_the_listener_as_against_s_server() {
    let base = ServerConfig::builder().certificate_files(cert("server.pem"), cert("server.key"));
    let (addr, server) = listen(base, 1);
    let run = gnutls_cli(addr.port(), b"", &[]);
    let served = server.join().unwrap();
    assert!(
        run.output().contains("Handshake was completed"),
        "{}",
        run.output()
    );
    assert!(run.output().contains("(DTLS1.2"), "{}", run.output());
    assert_eq!(served.established.len(), 1, "{served:?}");
    let reference = s_server("server.pem", "server.key", &[]);
    let run = gnutls_cli(reference.port(), b"", &[]);
    assert!(
        run.output().contains("Handshake was completed"),
        "{}",
        run.output()
    );
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_cli_rejects_an_untrusted_listener_as_an_untrusted_s_server() {
    let base = ServerConfig::builder()
        .certificate_files(cert("rogue-server.pem"), cert("rogue-server.key"));
    let (addr, server) = listen(base, 1);
    let run = gnutls_cli(addr.port(), b"", &[]);
    let served = server.join().unwrap();
    assert!(!run.succeeded(), "{}", run.output());
    assert!(
        run.output().contains("certificate is NOT trusted"),
        "{}",
        run.output()
    );
    let error = served.failed.first().expect("a failed handshake");
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    let reference = s_server("rogue-server.pem", "rogue-server.key", &[]);
    let run = gnutls_cli(reference.port(), b"", &[]);
    assert!(!run.succeeded(), "{}", run.output());
    assert!(
        run.output().contains("certificate is NOT trusted"),
        "{}",
        run.output()
    );
}

#[test]
fn urls_pick_the_datagram_transport() {
    use tlshake::client::{self, Connection};

    let server = s_server("server.pem", "server.key", &[]);
    let config = client_config(false);
    let url: tlshake::url::TransportUrl = format!("dtlsv1.2://127.0.0.1:{}", server.port())
        .parse()
        .unwrap();
    // The TCP connect refuses a DTLS URL, and says which function takes it.
    let err = client::connect(&url, &config).unwrap_err();
    assert!(matches!(err, ConnectError::DtlsUrl { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("{url} is DTLS over UDP: connect it with dtls::connect")
    );
    // `open` takes every scheme, DTLS included.
    match client::open(&url, &config).unwrap() {
        Connection::Dtls(conn) => assert_eq!(conn.stream.protocol(), "DTLSv1.2"),
        other => panic!("{other:?}"),
    }
    // And dtls::connect refuses what is not DTLS.
    let tls: tlshake::url::TransportUrl = "tls://127.0.0.1:9".parse().unwrap();
    let err = dtls::connect(&tls, &config, &DtlsOptions::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tls://127.0.0.1:9 is not a DTLS URL: write dtls://127.0.0.1:9"
    );
    // udp:// with TLS asked for points at dtls://.
    let udp: tlshake::url::TransportUrl = "udp://127.0.0.1:9".parse().unwrap();
    let err = client::connect(&udp, &config).unwrap_err();
    assert!(
        err.to_string().contains("for TLS over UDP write dtls://"),
        "{err}"
    );
}

#[test]
fn alpn_is_negotiated_both_ways() {
    // tlshake's client, against s_server.
    let server = s_server("server.pem", "server.key", &["-alpn", "webrtc,c-webrtc"]);
    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .alpn(["c-webrtc", "webrtc"])
        .build()
        .unwrap();
    let conn = dtls::connect(&url(server.addr()), &config, &DtlsOptions::new()).unwrap();
    // The server's preference wins, as s_server chooses.
    assert_eq!(conn.session().alpn_str(), Some("webrtc"));
    // s_client, against the listener.
    let config = ServerConfig::builder()
        .certificate_files(cert("server.pem"), cert("server.key"))
        .alpn(["webrtc"]);
    let (addr, server) = listen(config, 1);
    let run = s_client_verdict(addr, &["-alpn", "h2,webrtc"]);
    let served = server.join().unwrap();
    assert!(completed(&run), "{}", run.output());
    assert!(
        run.stdout.contains("ALPN protocol: webrtc"),
        "{}",
        run.stdout
    );
    assert_eq!(served.established[0].alpn_str(), Some("webrtc"));
}
