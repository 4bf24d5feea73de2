//! The client role of the core (`Handshake::client` + `drive`) against the real
//! `openssl s_server`, and against loopback peers that misbehave on purpose.

use crate::common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::*;
use tlshake::harness::{OpensslServer, ServerMode};
use tlshake::{
    ErrorKind, Handshake, HandshakeOutcome, Hint, ProtocolVersion, Role, SslErrorCode, Want,
};

fn connect(
    server: &OpensslServer,
    ca: &str,
    host: &str,
) -> Result<tlshake::TlsStream<std::net::TcpStream>, tlshake::HandshakeError> {
    let ctx = client_ctx(ca).build();
    let hs = Handshake::client(client_ssl(&ctx, host), tcp(server.addr())).unwrap();
    hs.drive(deadline(10.0))
}

#[test]
fn tls13_against_s_server_on_ipv4_and_ipv6() {
    for v6 in [false, true] {
        let mut b = OpensslServer::builder();
        b = b.version(ProtocolVersion::Tls1_3);
        if v6 {
            b = b.ipv6();
        }
        let server = b.spawn().unwrap();
        let host = if v6 { "::1" } else { "127.0.0.1" };
        let tls = connect(&server, "ca.pem", host).expect("handshake");
        assert_eq!(tls.protocol(), "TLSv1.3");
        assert!(
            tls.cipher().starts_with("TLS_AES_") || tls.cipher().starts_with("TLS_CHACHA20"),
            "{}",
            tls.cipher()
        );
        let session = tls.session();
        assert!(session.verify.as_ref().is_some_and(|v| v.is_ok()));
        assert_eq!(session.sni, None, "an IP literal sends no SNI");
        assert_eq!(
            subject_cn(session.peer_certificate.as_ref().unwrap()),
            "localhost"
        );
        let stats = tls.stats();
        // A loaded machine can deschedule us between writing the ClientHello and reading,
        // so the server's flight may already be there: the waits are counted, not assumed.
        assert_eq!(
            stats.steps,
            stats.want_read + stats.want_write + 1,
            "{stats:?}"
        );
        assert!(stats.duration.is_some());
    }
}

#[test]
fn tls12_with_ecdhe_ecdsa_and_sni() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let tls = connect(&server, "ca.pem", "localhost").expect("handshake");
    assert_eq!(tls.protocol(), "TLSv1.2");
    assert!(tls.cipher().starts_with("ECDHE-ECDSA-"), "{}", tls.cipher());
    assert_eq!(tls.session().sni.as_deref(), Some("localhost"));
}

#[test]
fn application_data_flows_after_the_handshake() {
    let server = OpensslServer::builder()
        .mode(ServerMode::Www)
        .spawn()
        .unwrap();
    let mut tls = connect(&server, "ca.pem", "localhost").expect("handshake");
    tls.get_ref().set_nonblocking(false).unwrap();
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    let _ = tls.read_to_string(&mut body);
    assert!(body.starts_with("HTTP/1.0 200 ok"), "{body}");
}

#[test]
fn unknown_issuer_is_a_verification_failure_with_its_hint() {
    let server = OpensslServer::builder()
        .cert(cert("rogue-server.pem"))
        .key(cert("rogue-server.key"))
        .spawn()
        .unwrap();
    let err = connect(&server, "ca.pem", "localhost").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateVerification);
    assert_eq!(err.ret(), -1);
    assert_eq!(err.ssl_error(), SslErrorCode::Ssl);
    let verify = err.verify().unwrap();
    assert_eq!(verify.code, 20, "{verify}");
    assert_eq!(verify.message, "unable to get local issuer certificate");
    assert!(
        err.reasons().contains(&"certificate verify failed"),
        "{err}"
    );
    match err.hint() {
        Some(Hint::UnknownIssuer { issuer }) => {
            assert_eq!(issuer.as_deref(), Some("CN=tlshake Rogue CA"))
        }
        other => panic!("wrong hint {other:?}"),
    }
}

#[test]
fn wrong_host_name_names_both_sides() {
    let server = OpensslServer::builder().spawn().unwrap();
    let err = connect(&server, "ca.pem", "wrong.example").unwrap_err();
    assert!(err.verify_failed());
    assert_eq!(err.verify().unwrap().code, 62);
    match err.hint() {
        Some(Hint::NameMismatch { expected, names }) => {
            assert_eq!(expected.as_deref(), Some("wrong.example"));
            assert!(names.contains(&"localhost".to_string()), "{names:?}");
            assert!(names.contains(&"127.0.0.1".to_string()), "{names:?}");
        }
        other => panic!("wrong hint {other:?}"),
    }
    assert!(err.to_string().contains("not for wrong.example"), "{err}");
}

/// The hint quotes the name the `Ssl` itself checks (read back with `SSL_get0_param`), not
/// the name sent as SNI nor any name given beside the `Ssl`.
#[test]
fn name_mismatch_quotes_the_host_the_ssl_checks() {
    let server = OpensslServer::builder().spawn().unwrap();
    let ctx = client_ctx("ca.pem").build();
    let mut ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
    ssl.set_hostname("localhost").unwrap();
    ssl.param_mut().set_host("wrong.example").unwrap();
    let err = Handshake::client(ssl, tcp(server.addr()))
        .unwrap()
        .drive(deadline(10.0))
        .map(|tls| tls.protocol().to_string())
        .unwrap_err();
    match err.hint() {
        Some(Hint::NameMismatch { expected, .. }) => {
            assert_eq!(expected.as_deref(), Some("wrong.example"))
        }
        other => panic!("wrong hint {other:?}"),
    }
    assert!(err.to_string().contains("not for wrong.example"), "{err}");

    // An IP address check is read back as the address text.
    let mut ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
    ssl.param_mut()
        .set_ip("192.0.2.7".parse().unwrap())
        .unwrap();
    let err = Handshake::client(ssl, tcp(server.addr()))
        .unwrap()
        .drive(deadline(10.0))
        .map(|tls| tls.protocol().to_string())
        .unwrap_err();
    match err.hint() {
        Some(Hint::NameMismatch { expected, .. }) => {
            assert_eq!(expected.as_deref(), Some("192.0.2.7"))
        }
        other => panic!("wrong hint {other:?}"),
    }
}

#[test]
fn expired_certificate_gives_its_date() {
    let server = OpensslServer::builder()
        .cert(cert("expired.pem"))
        .key(cert("expired.key"))
        .spawn()
        .unwrap();
    let err = connect(&server, "ca.pem", "localhost").unwrap_err();
    assert_eq!(err.verify().unwrap().code, 10);
    match err.hint() {
        Some(Hint::Expired { not_after }) => {
            assert!(
                not_after.as_deref().unwrap().contains("2020"),
                "{not_after:?}"
            )
        }
        other => panic!("wrong hint {other:?}"),
    }
}

#[test]
fn chain_through_the_intermediate_verifies() {
    let server = intermediate_chain_server();
    let tls = connect(&server, "ca.pem", "localhost").expect("handshake");
    let session = tls.session();
    assert!(session.verify.as_ref().is_some_and(|v| v.is_ok()));
    assert_eq!(session.peer_chain.len(), 2, "leaf + intermediate");
}

#[test]
fn no_shared_protocol_version_states_both_ranges() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .unwrap();
    let mut ctx = client_ctx("ca.pem");
    ctx.set_min_proto_version(Some(openssl::ssl::SslVersion::TLS1_3))
        .unwrap();
    let ctx = ctx.build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(server.addr())).unwrap();
    let err = hs.drive(deadline(10.0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    match err.hint() {
        Some(Hint::NoSharedVersion {
            our_min, our_max, ..
        }) => {
            assert_eq!(*our_min, Some(ProtocolVersion::Tls1_3));
            assert_eq!(*our_max, None);
        }
        other => panic!("wrong hint {other:?}: {err}"),
    }
    assert!(err.to_string().contains("TLSv1.3"), "{err}");
}

#[test]
fn server_requiring_a_client_certificate() {
    // TLS 1.2: the server's alert arrives inside the handshake.
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .ca_file(cert("ca.pem"))
        .verify_client(true)
        .spawn()
        .unwrap();
    let err = connect(&server, "ca.pem", "localhost").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.reasons()
            .iter()
            .any(|r| r.contains("handshake failure")),
        "{err}"
    );
    // The client saw the CertificateRequest and had no certificate: the same answer as
    // TLS 1.3's certificate_required below, not the vague "certificate or cipher".
    assert_eq!(err.hint(), Some(&Hint::ClientCertificateRequired), "{err}");

    // TLS 1.3: the client finishes first; the server's certificate_required alert arrives
    // with the first read.
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .ca_file(cert("ca.pem"))
        .verify_client(true)
        .spawn()
        .unwrap();
    let mut tls = connect(&server, "ca.pem", "localhost").expect("client side completes");
    tls.get_ref().set_nonblocking(false).unwrap();
    tls.get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let err = tls.read(&mut [0u8; 16]).unwrap_err();
    let typed = tlshake::StreamError::from_io(&err).expect("a StreamError");
    assert_eq!(
        typed.reasons(),
        vec!["tlsv13 alert certificate required"],
        "{err}"
    );
    assert_eq!(typed.hint(), Some(&Hint::ClientCertificateRequired));

    // With a client certificate: done, and the server says it verified it.
    let server = OpensslServer::builder()
        .ca_file(cert("ca.pem"))
        .verify_client(true)
        .spawn()
        .unwrap();
    let mut ctx = client_ctx("ca.pem");
    ctx.set_certificate_chain_file(cert("client.pem")).unwrap();
    ctx.set_private_key_file(cert("client.key"), openssl::ssl::SslFiletype::PEM)
        .unwrap();
    let ctx = ctx.build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(server.addr())).unwrap();
    let tls = hs
        .drive(deadline(10.0))
        .expect("handshake with a client certificate");
    assert_eq!(tls.protocol(), "TLSv1.3");
    assert!(
        server.wait_for_output("tlshake test client", Duration::from_secs(5)),
        "{}",
        server.output()
    );
}

#[test]
fn plaintext_peer_gets_the_starttls_hint_with_its_banner() {
    let (addr, peer) = plaintext_peer(b"220 test ESMTP\r\n");
    let ctx = client_ctx("ca.pem").build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr)).unwrap();
    let err = hs.drive(deadline(5.0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.reasons().contains(&"wrong version number"), "{err}");
    assert_eq!(err.peer_bytes(), b"220 test ESMTP\r\n");
    match err.hint() {
        Some(Hint::PlaintextPeer { role, first_bytes }) => {
            assert_eq!(*role, Role::Client);
            assert_eq!(first_bytes, b"220 test ESMTP\r\n");
        }
        other => panic!("wrong hint {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("220 test ESMTP\\r\\n") && text.contains("STARTTLS"),
        "{text}"
    );
    peer.join().unwrap();
}

#[test]
fn peer_closing_mid_handshake_is_an_unexpected_eof() {
    let (addr, peer) = one_shot_peer(false, |mut s| {
        let hello = read_record(&mut s);
        assert_eq!(hello[0], 0x16, "a handshake record");
        s.shutdown(std::net::Shutdown::Both).unwrap();
    });
    let ctx = client_ctx("ca.pem").build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr)).unwrap();
    let err = hs.drive(deadline(5.0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err:?}");
    assert!(err.is_peer_closed());
    assert_eq!(
        err.hint(),
        Some(&Hint::PeerClosed {
            role: Role::Client,
            bytes_received: 0
        })
    );
    peer.join().unwrap();
}

#[test]
fn close_notify_in_place_of_a_server_hello_is_reported_as_such() {
    let (addr, peer) = one_shot_peer(false, |mut s| {
        read_record(&mut s);
        // A warning-level close_notify alert record, unencrypted.
        s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00])
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    });
    let ctx = client_ctx("ca.pem").build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr)).unwrap();
    let err = hs.drive(deadline(5.0)).unwrap_err();
    // What `tlshake connect` reports for the same peer (tests/cli.rs): OpenSSL 3 returns -1
    // from SSL_connect with SSL_ERROR_ZERO_RETURN, a controlled shutdown, with nothing in
    // the error queue; the hint counts the 7 bytes of the alert record.
    assert_eq!(err.ret(), -1, "{err:?}");
    assert_eq!(
        err.ssl_error(),
        tlshake::SslErrorCode::ZeroReturn,
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::ZeroReturn, "{err:?}");
    assert!(err.is_controlled_shutdown(), "{err:?}");
    assert!(err.queue().is_empty(), "{err:?}");
    assert_eq!(
        err.hint(),
        Some(&Hint::PeerClosed {
            role: Role::Client,
            bytes_received: 7
        })
    );
    peer.join().unwrap();
}

#[test]
fn silent_peer_hits_the_deadline_and_not_much_later() {
    let (addr, peer) = one_shot_peer(false, |s| {
        std::thread::sleep(Duration::from_millis(800));
        drop(s);
    });
    let ctx = client_ctx("ca.pem").build();
    let hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr)).unwrap();
    let deadline = Instant::now() + Duration::from_millis(300);
    let err = hs.drive(deadline).unwrap_err();
    let late = Instant::now().saturating_duration_since(deadline);
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.waiting_for(), Some(Want::Read));
    assert!(Instant::now() >= deadline);
    assert!(
        late <= Duration::from_millis(50),
        "returned {late:?} after the deadline"
    );
    assert!(matches!(
        err.hint(),
        Some(Hint::Timeout {
            bytes_received: 0,
            ..
        })
    ));
    peer.join().unwrap();
}

#[test]
fn handshake_on_a_descriptor_above_fd_setsize() {
    let server = OpensslServer::builder().spawn().unwrap();
    let (stream, filler) = tcp_above(server.addr(), 1100);
    assert!(stream.as_raw_fd() >= 1100, "fd {}", stream.as_raw_fd());
    assert!(!tlshake::internals::wait::uses_select(
        std::os::fd::AsFd::as_fd(&stream)
    ));
    let ctx = client_ctx("ca.pem").build();
    let tls = Handshake::client(client_ssl(&ctx, "localhost"), stream)
        .unwrap()
        .drive(deadline(10.0))
        .expect("handshake above FD_SETSIZE");
    assert_eq!(tls.protocol(), "TLSv1.3");
    drop(filler);
}

#[test]
fn stepping_by_hand_with_ssl_do_handshake() {
    let server = OpensslServer::builder().spawn().unwrap();
    let ctx = client_ctx("ca.pem").build();
    let mut hs = Handshake::client(client_ssl(&ctx, "localhost"), tcp(server.addr()))
        .unwrap()
        .use_do_handshake();
    let limit = Instant::now() + Duration::from_secs(10);
    let mut want_reads = 0;
    loop {
        match hs.step() {
            HandshakeOutcome::Done => break,
            HandshakeOutcome::Want(Want::Read) => {
                want_reads += 1;
                assert_eq!(hs.last_return(), -1);
                let fd = hs.transport().get_ref();
                tlshake::internals::wait::wait_for(
                    fd,
                    tlshake::internals::wait::Interest::Readable,
                    Some(limit),
                )
                .unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(Instant::now() < limit);
    }
    assert_eq!(hs.stats().want_read, want_reads);
    assert_eq!(hs.stats().steps, want_reads + 1);
    assert_eq!(hs.last_return(), 1);
    assert_eq!(hs.into_stream().protocol(), "TLSv1.3");
}

#[test]
fn a_failed_handshake_leaves_the_error_queue_empty() {
    let (addr, peer) = plaintext_peer(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let ctx = client_ctx("ca.pem").build();
    let err = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr))
        .unwrap()
        .drive(deadline(5.0))
        .unwrap_err();
    assert!(!err.queue().is_empty());
    assert!(openssl::error::ErrorStack::get().errors().is_empty());
    peer.join().unwrap();
}

#[test]
fn error_display_and_source_chain() {
    let (addr, peer) = plaintext_peer(b"+OK POP3 ready\r\n");
    let ctx = client_ctx("ca.pem").build();
    let err = Handshake::client(client_ssl(&ctx, "localhost"), tcp(addr))
        .unwrap()
        .drive(deadline(5.0))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("TLS client handshake failed (SSL_connect returned -1, SSL_ERROR_SSL)"),
        "{text}"
    );
    let source = std::error::Error::source(&err).expect("the first queue entry");
    assert!(
        source.to_string().contains("wrong version number"),
        "{source}"
    );
    assert!(
        err.queue()[0].text.starts_with("error:0A00010B:"),
        "{:?}",
        err.queue()
    );
    peer.join().unwrap();
}

#[test]
fn nodelay_policy_is_applied_and_restorable() {
    use tlshake::internals::nodelay;
    use tlshake::NodelayPolicy;
    let server = OpensslServer::builder().spawn().unwrap();
    let ctx = client_ctx("ca.pem").build();
    for (policy, during_changed, after) in [
        (NodelayPolicy::Leave, None, false),
        (NodelayPolicy::Always, Some(false), true),
        (NodelayPolicy::AfterHandshake, Some(false), true),
    ] {
        let stream = tcp(server.addr());
        assert!(!nodelay(&stream).unwrap(), "a new socket has Nagle on");
        let mut hs = Handshake::client(client_ssl(&ctx, "localhost"), stream).unwrap();
        hs.set_nodelay_policy(policy);
        let tls = hs.drive(deadline(10.0)).unwrap();
        assert_eq!(nodelay(tls.get_ref()).unwrap(), after, "{policy:?}");
        assert_eq!(tls.nodelay_before_handshake(), during_changed, "{policy:?}");
        tls.restore_nodelay().unwrap();
        assert!(!nodelay(tls.get_ref()).unwrap(), "{policy:?} restored");
    }
}
