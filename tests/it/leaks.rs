//! About 200 handshakes through every path tlshake has, successes and failures, for
//! `scripts/valgrind.sh` to run under `valgrind --leak-check=full`: memory BIOs, nonblocking
//! sockets driven with a deadline, blocking sockets, the TlsListener, and a STARTTLS upgrade.
//! As a plain test it checks the outcome of every handshake and the descriptor count.
//!
//! `TLSHAKE_LEAK_ROUNDS` scales it (default 13 rounds of 16 handshakes: 208).

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use openssl::ssl::{Ssl, SslContext, SslVersion};
use tlshake::server::{ServerConfig, ServerEvent, TlsListener};
use tlshake::starttls::{negotiate, StarttlsOptions, StarttlsProtocol};
use tlshake::MemoryHandshake;
use tlshake::{ErrorKind, Handshake, HandshakeError};

struct Contexts {
    server: SslContext,
    client13: SslContext,
    client12: SslContext,
    rogue: SslContext,
}

fn contexts() -> Contexts {
    let mut c12 = common::client_ctx("ca.pem");
    c12.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    Contexts {
        server: common::server_ctx("server.pem", "server.key").build(),
        client13: common::client_ctx("ca.pem").build(),
        client12: c12.build(),
        rogue: common::client_ctx("rogue-ca.pem").build(),
    }
}

/// A memory-BIO pair; returns the client's result.
fn memory(cctx: &SslContext, sctx: &SslContext) -> Result<(), HandshakeError> {
    let mut c = MemoryHandshake::client(common::client_ssl(cctx, "localhost")).unwrap();
    let mut s = MemoryHandshake::server(Ssl::new(sctx).unwrap()).unwrap();
    let (cr, _) = common::pump_memory_pair(&mut c, &mut s);
    if let Some(Ok(())) = cr {
        // Use the session a little: application data both ways.
        let mut session = c.into_session();
        session.write_plaintext(b"ping").unwrap();
    }
    cr.expect("the client ended")
}

/// A TCP pair; the server runs `Handshake::server` in a thread. `blocking` uses `finish()`
/// on blocking sockets, otherwise `drive()` on nonblocking ones.
fn tcp(cctx: &SslContext, sctx: &SslContext, blocking: bool) -> Result<(), HandshakeError> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sctx = sctx.clone();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tcp.set_nonblocking(!blocking).unwrap();
        let hs = Handshake::server(Ssl::new(&sctx).unwrap(), tcp).unwrap();
        let r = if blocking {
            hs.finish()
        } else {
            hs.drive(common::deadline(20.0))
        };
        r.map(|mut s| {
            let _ = s.shutdown();
        })
    });
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.set_nonblocking(!blocking).unwrap();
    let hs = Handshake::client(common::client_ssl(cctx, "localhost"), tcp).unwrap();
    let r = if blocking {
        hs.finish()
    } else {
        hs.drive(common::deadline(20.0))
    };
    let r = r.map(|mut s| {
        let _ = s.shutdown();
    });
    let _ = server.join().unwrap();
    r
}

/// A client against a peer that closes after reading the ClientHello.
fn peer_closes(cctx: &SslContext) -> HandshakeError {
    let (addr, peer) = common::one_shot_peer(false, |mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
    });
    let err = Handshake::client(common::client_ssl(cctx, "localhost"), common::tcp(addr))
        .unwrap()
        .drive(common::deadline(20.0))
        .unwrap_err();
    peer.join().unwrap();
    err
}

/// SMTP STARTTLS with a scripted server, then the handshake.
fn starttls(cctx: &SslContext, sctx: &SslContext) -> Result<(), HandshakeError> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sctx = sctx.clone();
    let server = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tcp.write_all(b"220 mx.test ESMTP\r\n").unwrap();
        read_line(&mut tcp);
        tcp.write_all(b"250-mx.test\r\n250 STARTTLS\r\n").unwrap();
        read_line(&mut tcp);
        tcp.write_all(b"220 go ahead\r\n").unwrap();
        tcp.set_nonblocking(true).unwrap();
        let r = Handshake::server(Ssl::new(&sctx).unwrap(), tcp)
            .unwrap()
            .drive(common::deadline(20.0));
        r.is_ok()
    });
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    negotiate(
        &mut tcp,
        StarttlsProtocol::Smtp,
        &StarttlsOptions::default(),
    )
    .unwrap();
    tcp.set_nonblocking(true).unwrap();
    let r = Handshake::client(common::client_ssl(cctx, "localhost"), tcp)
        .unwrap()
        .drive(common::deadline(20.0))
        .map(|_| ());
    let _ = server.join().unwrap();
    r
}

fn read_line(s: &mut TcpStream) {
    let mut byte = [0u8; 1];
    while s.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {}
}

/// A listener serving a good client, a client that fails verification, a garbage client and
/// a silent one (timed out); returns the event names.
fn listener_round(ctx: &Contexts) -> Vec<&'static str> {
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(common::cert("server.pem"), common::cert("server.key"))
        .handshake_timeout(Duration::from_millis(500));
    let mut listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let server = thread::spawn(move || {
        let mut names = Vec::new();
        while names.len() < 4 {
            match listener.next_event(Some(common::deadline(30.0))) {
                Ok(Some(ServerEvent::Established(mut a))) => {
                    let _ = a.stream.shutdown();
                    names.push("established");
                }
                Ok(Some(e)) => names.push(e.name()),
                _ => break,
            }
        }
        names
    });
    let good = Handshake::client(
        common::client_ssl(&ctx.client13, "localhost"),
        common::tcp(addr),
    )
    .unwrap()
    .drive(common::deadline(20.0));
    assert!(good.is_ok(), "{good:?}");
    drop(good);
    let bad = Handshake::client(
        common::client_ssl(&ctx.rogue, "localhost"),
        common::tcp(addr),
    )
    .unwrap()
    .drive(common::deadline(20.0));
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::CertificateVerification);
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let silent = TcpStream::connect(addr).unwrap();
    let mut names = server.join().unwrap();
    drop((garbage, silent));
    names.sort_unstable();
    names
}

#[test]
fn handshakes_of_every_kind() {
    isolated!(handshakes_of_every_kind);
    let rounds: usize = std::env::var("TLSHAKE_LEAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(13);
    let ctx = contexts();
    let fds = common::open_fds();
    for _ in 0..rounds {
        for cctx in [&ctx.client13, &ctx.client12] {
            assert!(memory(cctx, &ctx.server).is_ok());
            assert!(tcp(cctx, &ctx.server, false).is_ok());
            assert!(tcp(cctx, &ctx.server, true).is_ok());
            assert!(starttls(cctx, &ctx.server).is_ok());
        }
        let e = memory(&ctx.rogue, &ctx.server).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CertificateVerification);
        let e = tcp(&ctx.rogue, &ctx.server, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CertificateVerification);
        let e = tcp(&ctx.rogue, &ctx.server, true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CertificateVerification);
        let e = peer_closes(&ctx.client13);
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
        assert_eq!(
            listener_round(&ctx),
            ["established", "failed", "failed", "timed_out"]
        );
    }
    eprintln!("{} handshakes", rounds * 16);
    assert_eq!(common::open_fds(), fds, "descriptors leaked");
}
