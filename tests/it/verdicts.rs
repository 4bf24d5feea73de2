//! The library's verdicts against real peers, each beside what `openssl s_client` (the
//! reference) says about the same server: no verify result without a certificate, the real
//! verify result with verification off, the error queue and verified chain with the
//! verification cache, the TLS 1.3 certificate_required alert after the handshake,
//! fingerprint pinning, the TLS 1.2 cipher defaults and the server's hint for an untrusted
//! client certificate.

use crate::common;
use crate::server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::openssl_line::{line, Line};
use common::{cert, plaintext_peer};
use tlshake::client::{self, ClientConfig, ClientConfigBuilder};
use tlshake::fingerprint::{DigestKind, Fingerprint};
use tlshake::harness::{OpensslClient, OpensslServer};
use tlshake::url::TransportUrl;
use tlshake::Hint;

const PEER_WAIT: Duration = Duration::from_secs(15);

fn url(host: &str, port: u16) -> TransportUrl {
    format!("tls://{host}:{port}").parse().unwrap()
}

fn trusting_ca() -> ClientConfigBuilder {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .handshake_timeout(Duration::from_secs(10))
}

/// A handshake checking `name` (SNI and host name) against the server at `port`.
fn connect_as(
    config: &ClientConfig,
    name: &str,
    port: u16,
) -> Result<tlshake::TlsStream<TcpStream>, tlshake::HandshakeError> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let options =
        tlshake::client::ConnectOptions::new().deadline(Instant::now() + Duration::from_secs(10));
    client::upgrade(tcp, name, config, &options)
        .map(|c| c.stream)
        .map_err(|e| match e {
            client::ConnectError::Handshake { source, .. } => source,
            other => panic!("not a handshake error: {other}"),
        })
}

/// Subjects of a chain, for comparing chains.
fn subjects(chain: &openssl::stack::StackRef<openssl::x509::X509>) -> Vec<String> {
    chain
        .iter()
        .map(|c| tlshake::internals::name_to_string(c.subject_name()))
        .collect()
}

// Item 1: no certificate arrived, so nothing was verified.
#[test]
fn no_peer_certificate_means_no_verify_result() {
    // Reference: s_client on a plaintext server says so.
    let (addr, peer) = plaintext_peer(b"220 mail.example ESMTP\r\n");
    let run = OpensslClient::builder(addr)
        .verify_return_error()
        .spawn()
        .unwrap()
        .wait(PEER_WAIT)
        .unwrap();
    assert!(
        run.output().contains("no peer certificate available"),
        "{}",
        run.output()
    );
    peer.join().unwrap();

    let (addr, peer) = plaintext_peer(b"220 mail.example ESMTP\r\n");
    let err = client::connect(
        &url("127.0.0.1", addr.port()),
        &trusting_ca().build().unwrap(),
    )
    .unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.verify(), None, "{hs:?}");
    assert!(
        matches!(hs.hint(), Some(Hint::PlaintextPeer { .. })),
        "{hs}"
    );
    assert!(!hs.to_string().contains("verify"), "{hs}");
    peer.join().unwrap();
}

// Item 1, server side: a client that sends no certificate has no verify result.
#[test]
fn client_without_certificate_has_no_verify_result_on_the_server() {
    use tlshake::server::ClientAuth;
    let config = server_support::base_config().client_auth(ClientAuth::Optional {
        ca_file: cert("ca.pem"),
    });
    let (addr, server) = server_support::start(&config, 1);
    let client = server_support::s_client(addr, &[]);
    let accepted = server_support::established(server.join().unwrap());
    assert!(
        client.output().contains("New, TLSv1.3"),
        "{}",
        client.output()
    );
    assert!(accepted.session.peer_certificate.is_none());
    assert_eq!(accepted.session.verify, None);
}

// Item 2: with verification off, the result is still computed and reported.
#[test]
fn verification_off_reports_the_real_verify_result() {
    let server = OpensslServer::builder()
        .cert(cert("self-signed.pem"))
        .key(cert("self-signed.key"))
        .spawn()
        .unwrap();
    let reference = OpensslClient::builder(server.addr())
        .ca_file(cert("ca.pem"))
        .spawn()
        .unwrap()
        .wait(PEER_WAIT)
        .unwrap();
    assert_eq!(reference.verify_code(), Some(18), "{}", reference.output());

    let insecure = trusting_ca().verify_peer(false).build().unwrap();
    let conn = client::connect(&url("localhost", server.port()), &insecure).unwrap();
    let verify = conn.session().verify.expect("a certificate arrived");
    assert_eq!(verify.code, 18, "{verify}");
    assert_eq!(verify.message, "self-signed certificate");
    drop(conn); // s_server serves one connection at a time

    // With a pin as well (checked, and it matches), the result is still the real one.
    let pinned = trusting_ca()
        .verify_peer(false)
        .peer_fingerprint(self_signed_digest())
        .build()
        .unwrap();
    let conn = client::connect(&url("localhost", server.port()), &pinned).unwrap();
    assert_eq!(conn.session().verify.map(|v| v.code), Some(18));
}

fn self_signed_digest() -> Fingerprint {
    let pem = std::fs::read(cert("self-signed.pem")).unwrap();
    let leaf = openssl::x509::X509::from_pem(&pem).unwrap();
    Fingerprint::of(&leaf, DigestKind::Sha256).unwrap()
}

// Item 3: the verification cache leaves the error queue as s_client sees it, and a hit
// looks like a miss (verified chain, verify result).
#[test]
fn cached_verification_keeps_openssl_queue_and_verified_chain() {
    let server = OpensslServer::builder().spawn().unwrap();
    let reference = OpensslClient::builder(server.addr())
        .ca_file(cert("ca.pem"))
        .servername("wrong.example")
        .verify_hostname("wrong.example")
        .verify_return_error()
        .spawn()
        .unwrap()
        .wait(PEER_WAIT)
        .unwrap();
    let out = reference.output();
    assert!(out.contains(":certificate verify failed"), "{out}");
    assert!(!out.contains("passed a null parameter"), "{out}");

    let config = trusting_ca().build().unwrap();
    for _ in 0..2 {
        let err = connect_as(&config, "wrong.example", server.port()).unwrap_err();
        assert_eq!(err.reasons(), vec!["certificate verify failed"], "{err}");
        assert_eq!(err.verify().map(|v| v.code), Some(62), "{err}");
    }

    let uncached = trusting_ca().verify_cache(false).build().unwrap();
    let plain = connect_as(&uncached, "localhost", server.port()).unwrap();
    let expected = subjects(plain.ssl().verified_chain().expect("a verified chain"));
    assert_eq!(expected.len(), 2, "{expected:?}");
    drop(plain);

    let before = config.verify_cache_stats();
    let miss = connect_as(&config, "localhost", server.port()).unwrap();
    let miss_chain = subjects(
        miss.ssl()
            .verified_chain()
            .expect("verified chain on a miss"),
    );
    drop(miss);
    let hit = connect_as(&config, "localhost", server.port()).unwrap();
    assert_eq!(config.verify_cache_stats().0, before.0 + 1, "a hit");
    let hit_chain = subjects(hit.ssl().verified_chain().expect("verified chain on a hit"));
    assert_eq!(miss_chain, expected);
    assert_eq!(hit_chain, expected);
    assert_eq!(hit.session().verify.map(|v| v.code), Some(0));
}

// Item 7: a pin is a trust decision; with a CA, both must hold; a mismatch quotes both
// digests.
#[test]
fn a_pin_alone_trusts_exactly_the_pinned_certificate() {
    let server = OpensslServer::builder()
        .cert(cert("self-signed.pem"))
        .key(cert("self-signed.key"))
        .spawn()
        .unwrap();
    // Reference: by its chain alone, the certificate is refused (18).
    let reference = OpensslClient::builder(server.addr())
        .ca_file(cert("ca.pem"))
        .verify_return_error()
        .spawn()
        .unwrap()
        .wait(PEER_WAIT)
        .unwrap();
    assert!(!reference.handshake_done(), "{}", reference.output());
    assert!(
        reference
            .output()
            .contains("verify error:num=18:self-signed certificate"),
        "{}",
        reference.output()
    );

    let target = url("localhost", server.port());
    let right = self_signed_digest();
    let pin_only = ClientConfig::builder()
        .peer_fingerprint(right.clone())
        .build()
        .unwrap();
    let conn = client::connect(&target, &pin_only).expect("the pinned certificate");
    assert_eq!(conn.session().verify.map(|v| v.code), Some(0));
    drop(conn);

    // With a CA given, the chain must verify as well.
    let both = trusting_ca()
        .peer_fingerprint(right.clone())
        .build()
        .unwrap();
    let err = client::connect(&target, &both).unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.verify().map(|v| v.code), Some(18), "{hs}");
    assert_eq!(hs.reasons(), vec!["certificate verify failed"], "{hs}");
    assert!(matches!(hs.hint(), Some(Hint::SelfSigned { .. })), "{hs}");
    let text = hs.hint().unwrap().to_string();
    assert!(
        text.contains("ClientConfigBuilder::peer_fingerprint"),
        "{text}"
    );
    assert!(!text.contains("--"), "no command-line flags: {text}");

    // A wrong pin says which digest was expected and which arrived.
    let wrong = Fingerprint::parse(&"ab".repeat(32)).unwrap();
    let config = ClientConfig::builder()
        .peer_fingerprint(wrong.clone())
        .build()
        .unwrap();
    let err = client::connect(&target, &config).unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    assert_eq!(hs.verify().map(|v| v.code), Some(50), "{hs}");
    assert_eq!(
        hs.hint(),
        Some(&Hint::FingerprintMismatch {
            expected: wrong.clone(),
            received: right.clone(),
        }),
        "{hs}"
    );
    let text = hs.hint().unwrap().to_string();
    assert!(text.contains(&format!("sha256:{wrong}")), "{text}");
    assert!(text.contains(&format!("sha256:{right}")), "{text}");
    assert!(
        text.contains("ClientConfigBuilder::peer_fingerprint"),
        "{text}"
    );
}

// Item 16: the server's hint for a client certificate from a CA it does not trust.
#[test]
fn untrusted_client_certificate_gets_server_side_advice() {
    use tlshake::server::ClientAuth;
    let config = server_support::base_config().client_auth(ClientAuth::Required {
        ca_file: cert("ca.pem"),
    });
    let (addr, server) = server_support::start(&config, 1);
    let client = server_support::s_client(
        addr,
        &[
            "-cert",
            cert("rogue-server.pem").to_str().unwrap(),
            "-key",
            cert("rogue-server.key").to_str().unwrap(),
        ],
    );
    let error = server_support::failure(server.join().unwrap());
    // (Under TLS 1.3 the client's handshake completed before the server's verdict.)
    assert!(
        client.output().contains("New, TLSv1.3"),
        "{}",
        client.output()
    );
    assert_eq!(error.verify().map(|v| v.code), Some(20), "{error}");
    assert_eq!(
        error.hint(),
        Some(&Hint::ClientCertificateUntrusted {
            issuer: Some("CN=tlshake Rogue CA".to_string()),
            subject: Some("CN=localhost".to_string()),
        }),
        "{error}"
    );
    let text = error.hint().unwrap().to_string();
    assert!(text.contains("ServerConfigBuilder::client_auth"), "{text}");
    assert!(!text.contains("--"), "no command-line flags: {text}");
}

// Item 15: TLS 1.2 takes forward-secret AEAD suites only, on both sides; CBC by a named
// opt-out, which the no-shared-cipher hints name.
#[test]
fn tls12_defaults_are_aead_only_and_cbc_needs_the_opt_out() {
    use tlshake::ProtocolVersion;
    const CBC: &str = "ECDHE-ECDSA-AES128-SHA";

    // Server side: a client with only a CBC suite is refused.
    let (addr, server) = server_support::start(&server_support::base_config(), 1);
    let client = server_support::s_client(addr, &["-tls1_2", "-cipher", CBC]);
    assert!(!client.succeeded(), "{}", client.output());
    assert!(
        client.output().contains("handshake failure"),
        "{}",
        client.output()
    );
    let error = server_support::failure(server.join().unwrap());
    assert_eq!(error.reasons(), vec!["no shared cipher"], "{error}");
    assert_eq!(error.hint(), Some(&Hint::NoSharedCipher), "{error}");
    assert!(
        error.to_string().contains("allow_cbc_ciphers(true)"),
        "{error}"
    );

    // A TLS 1.2 client with OpenSSL's defaults gets an AEAD suite.
    let (addr, server) = server_support::start(&server_support::base_config(), 1);
    let client = server_support::s_client(addr, &["-tls1_2"]);
    assert!(
        client
            .output()
            .contains("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"),
        "{}",
        client.output()
    );
    server_support::established(server.join().unwrap());

    let config = server_support::base_config().allow_cbc_ciphers(true);
    let (addr, server) = server_support::start(&config, 1);
    let client = server_support::s_client(addr, &["-tls1_2", "-cipher", CBC]);
    assert!(
        client.output().contains(&format!("Cipher is {CBC}")),
        "{}",
        client.output()
    );
    let accepted = server_support::established(server.join().unwrap());
    assert_eq!(accepted.session.cipher, CBC);

    // Client side: a server with only a CBC suite.
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .arg("-cipher")
        .arg(CBC)
        .spawn()
        .unwrap();
    let target = url("localhost", server.port());
    let err = client::connect(&target, &trusting_ca().build().unwrap()).unwrap_err();
    let hs = err.handshake_error().expect("a handshake error");
    // OpenSSL renamed the reason of alert 40 (SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, 1040).
    let reason = match line() {
        Line::V3_0 => "sslv3 alert handshake failure",
        Line::V3_5 | Line::V3_6 => "ssl/tls alert handshake failure",
        Line::V4_0 => "tls alert handshake failure",
    };
    assert_eq!(hs.reasons(), vec![reason], "{hs}");
    assert!(hs.queue().has_reason_code(1040), "{hs}");
    assert_eq!(hs.hint(), Some(&Hint::HandshakeFailureAlert), "{hs}");
    assert!(
        hs.to_string()
            .contains("ClientConfigBuilder::allow_cbc_ciphers(true)"),
        "{hs}"
    );
    let cbc = trusting_ca().allow_cbc_ciphers(true).build().unwrap();
    let conn = client::connect(&target, &cbc).unwrap();
    assert_eq!(conn.stream.cipher(), CBC);
}

// Item 4: the TLS 1.3 certificate_required alert arrives after the client's handshake;
// the first read (or a write the server's close broke) returns it typed, with its hint, and
// the stream said it was coming.
#[test]
fn tls13_certificate_required_after_the_handshake_is_a_typed_error() {
    use tlshake::ProtocolVersion;
    use tlshake::{StreamError, StreamOperation};
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .ca_file(cert("ca.pem"))
        .verify_client(true)
        .arg("-verify_return_error")
        .spawn()
        .unwrap();

    // Reference: s_client completes its handshake, then reads the alert and exits 1.
    let reference = OpensslClient::builder(server.addr())
        .ca_file(cert("ca.pem"))
        .version(ProtocolVersion::Tls1_3)
        .send("x\n")
        .keep_stdin_open()
        .spawn()
        .unwrap();
    assert!(
        reference.wait_for_output("tlsv13 alert certificate required", PEER_WAIT),
        "{}",
        reference.output()
    );
    let run = reference.wait(PEER_WAIT).unwrap();
    assert!(run.handshake_done(), "{}", run.output());
    assert_eq!(run.status.code(), Some(1), "{}", run.output());

    let target = url("localhost", server.port());
    let conn = client::connect(&target, &trusting_ca().build().unwrap()).unwrap();
    assert!(conn.stream.certificate_requested_none_sent());
    let mut stream = conn.stream;
    stream
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The write may go out before the alert is read; the alert is the read's error.
    let _ = stream.write_all(b"x\n");
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionAborted, "{err}");
    let typed = StreamError::from_io(&err).expect("a StreamError inside the io::Error");
    assert_eq!(typed.operation(), StreamOperation::Read);
    assert_eq!(typed.reasons(), vec!["tlsv13 alert certificate required"]);
    assert_eq!(typed.hint(), Some(&Hint::ClientCertificateRequired));
    assert_eq!(
        typed.to_string(),
        "TLS error in SSL_read after the handshake (SSL_ERROR_SSL)"
    );
    drop(stream);

    // Writing on until the server's close breaks the pipe: the write's error is the verdict
    // too, not the broken pipe.
    let conn = client::connect(&target, &trusting_ca().build().unwrap()).unwrap();
    let mut stream = conn.stream;
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        assert!(Instant::now() < deadline, "the server never closed");
        if let Err(e) = stream.write_all(b"x") {
            break e;
        }
    };
    let typed = StreamError::from_io(&err).expect("a StreamError inside the io::Error");
    assert_eq!(typed.operation(), StreamOperation::Write);
    assert_eq!(typed.reasons(), vec!["tlsv13 alert certificate required"]);
    assert_eq!(typed.hint(), Some(&Hint::ClientCertificateRequired));
    drop(stream);

    // With a certificate, nothing is pending.
    let with_cert = trusting_ca()
        .certificate_files(cert("client.pem"), cert("client.key"))
        .build()
        .unwrap();
    let conn = client::connect(&target, &with_cert).unwrap();
    assert!(!conn.stream.certificate_requested_none_sent());
    drop(conn);

    // A server that asks for nothing.
    let plain = OpensslServer::builder().spawn().unwrap();
    let conn = client::connect(
        &url("localhost", plain.port()),
        &trusting_ca().build().unwrap(),
    )
    .unwrap();
    assert!(!conn.stream.certificate_requested_none_sent());
}
