//! The server role of the core (`Handshake::server` + `drive`) against the real
//! `openssl s_client`, and against raw clients that misbehave on purpose.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use openssl::ssl::{SslContext, SslVerifyMode};
use tlshake::harness::OpensslClient;
use tlshake::{ErrorKind, Handshake, HandshakeError, Hint, ProtocolVersion, Role, TlsStream};

/// Accepts one connection on `listener` and drives the server handshake.
fn accept_one(
    listener: &TcpListener,
    ctx: &SslContext,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_nonblocking(true).unwrap();
    let ssl = openssl::ssl::Ssl::new(ctx).unwrap();
    Handshake::server(ssl, tcp).unwrap().drive(deadline(10.0))
}

fn listen(v6: bool) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

#[test]
fn s_client_tls13_and_tls12_on_ipv4_and_ipv6() {
    let ctx = server_ctx("server.pem", "server.key").build();
    for v6 in [false, true] {
        for version in [ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2] {
            let (listener, addr) = listen(v6);
            let client = OpensslClient::builder(addr)
                .ca_file(cert("ca.pem"))
                .servername("localhost")
                .verify_return_error()
                .version(version)
                .spawn()
                .unwrap();
            let tls = accept_one(&listener, &ctx).expect("server handshake");
            assert_eq!(tls.protocol(), version.openssl_name());
            assert_eq!(tls.session().sni.as_deref(), Some("localhost"));
            let run = client.wait(Duration::from_secs(10)).unwrap();
            assert!(run.handshake_done(), "{}", run.output());
            assert_eq!(run.protocol().as_deref(), Some(version.openssl_name()));
            assert!(run.verify_ok(), "{}", run.output());
        }
    }
}

#[test]
fn client_certificate_required_with_and_without_one() {
    let mut b = server_ctx("server.pem", "server.key");
    b.set_ca_file(cert("ca.pem")).unwrap();
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let ctx = b.build();

    let (listener, addr) = listen(false);
    let client = OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .servername("localhost")
        .spawn()
        .unwrap();
    let err = accept_one(&listener, &ctx).unwrap_err();
    assert_eq!(err.role(), Role::Server);
    assert!(
        err.reasons().contains(&"peer did not return a certificate"),
        "{err}"
    );
    assert_eq!(err.hint(), Some(&Hint::PeerSentNoCertificate));
    let _ = client.wait(Duration::from_secs(10));

    let (listener, addr) = listen(false);
    let client = OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .servername("localhost")
        .cert(cert("client.pem"))
        .key(cert("client.key"))
        .spawn()
        .unwrap();
    let tls = accept_one(&listener, &ctx).expect("handshake with a client certificate");
    let session = tls.session();
    assert!(session.verify.as_ref().is_some_and(|v| v.is_ok()));
    assert_eq!(
        subject_cn(session.peer_certificate.as_ref().unwrap()),
        "tlshake test client"
    );
    let _ = client.wait(Duration::from_secs(10));
}

#[test]
fn client_rejecting_our_certificate_is_named() {
    let ctx = server_ctx("rogue-server.pem", "rogue-server.key").build();
    let (listener, addr) = listen(false);
    let client = OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .servername("localhost")
        .verify_return_error()
        .spawn()
        .unwrap();
    let err = accept_one(&listener, &ctx).unwrap_err();
    match err.hint() {
        Some(Hint::PeerRejectedOurCertificate { alert }) => {
            assert!(alert.contains("unknown ca"), "{alert}")
        }
        other => panic!("{other:?}: {err}"),
    }
    let run = client.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(run.verify_code(), Some(20), "{}", run.output());
}

#[test]
fn no_shared_version_names_what_the_client_offered() {
    let mut b = server_ctx("server.pem", "server.key");
    b.set_max_proto_version(Some(openssl::ssl::SslVersion::TLS1_2))
        .unwrap();
    let ctx = b.build();
    let (listener, addr) = listen(false);
    let client = OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .unwrap();
    let err = accept_one(&listener, &ctx).unwrap_err();
    match err.hint() {
        Some(Hint::NoSharedVersion {
            our_max,
            peer_versions,
            ..
        }) => {
            assert_eq!(*our_max, Some(ProtocolVersion::Tls1_2));
            assert_eq!(peer_versions, &vec![ProtocolVersion::Tls1_3]);
        }
        other => panic!("{other:?}: {err}"),
    }
    assert!(
        err.to_string().contains("the peer offered TLSv1.3"),
        "{err}"
    );
    let run = client.wait(Duration::from_secs(10)).unwrap();
    assert!(!run.handshake_done());
}

#[test]
fn plaintext_client_gets_the_server_side_hint() {
    let ctx = server_ctx("server.pem", "server.key").build();
    let (listener, addr) = listen(false);
    let writer = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut sink = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_end(&mut sink);
    });
    let err = accept_one(&listener, &ctx).unwrap_err();
    assert!(err.reasons().contains(&"http request"), "{err}");
    match err.hint() {
        Some(Hint::PlaintextPeer {
            role: Role::Server,
            first_bytes,
        }) => {
            assert!(first_bytes.starts_with(b"GET / HTTP/1.1\r\n"))
        }
        other => panic!("{other:?}"),
    }
    drop(listener);
    writer.join().unwrap();
}

#[test]
fn client_closing_mid_hello_is_an_unexpected_eof() {
    let ctx = server_ctx("server.pem", "server.key").build();
    let (listener, addr) = listen(true);
    let writer = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        // The first 9 bytes of a ClientHello record, then FIN.
        s.write_all(&[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4])
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut sink = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_end(&mut sink);
    });
    let err = accept_one(&listener, &ctx).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err:?}");
    assert_eq!(
        err.hint(),
        Some(&Hint::PeerClosed {
            role: Role::Server,
            bytes_received: 9
        })
    );
    writer.join().unwrap();
}

#[test]
fn silent_client_hits_the_server_deadline() {
    let ctx = server_ctx("server.pem", "server.key").build();
    let (listener, addr) = listen(false);
    let idle = TcpStream::connect(addr).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_nonblocking(true).unwrap();
    let hs = Handshake::server(openssl::ssl::Ssl::new(&ctx).unwrap(), tcp).unwrap();
    let err = hs.drive(deadline(0.2)).unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.role(), Role::Server);
    drop(idle);
}
