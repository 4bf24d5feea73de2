//! One deadline for the STARTTLS dialogue and the handshake after it, in one client
//! function; the expected name set once by `ClientConfig::new_ssl`.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tlshake::client::{ClientConfig, ConnectError};
use tlshake::starttls::{StarttlsOptions, StarttlsProtocol};
use tlshake::{ErrorKind, Hint};

/// An SMTP server that says go ahead, then `after_go` (`None`: keeps silent until the
/// client closes). Returns the EHLO line it read.
fn smtp_server(after_go: Option<fn(TcpStream)>) -> (std::net::SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = BufReader::new(tcp.try_clone().unwrap());
        tcp.write_all(b"220 smtp.test ESMTP\r\n").unwrap();
        let mut ehlo = String::new();
        reader.read_line(&mut ehlo).unwrap();
        tcp.write_all(b"250-smtp.test\r\n250 STARTTLS\r\n").unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        tcp.write_all(b"220 go ahead\r\n").unwrap();
        match after_go {
            Some(next) => next(tcp),
            None => {
                // Silent: wait for the client to give up and close.
                let mut rest = Vec::new();
                let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
            }
        }
        ehlo
    });
    (addr, handle)
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .build()
        .unwrap()
}

#[test]
fn the_dialogue_and_the_handshake_share_one_deadline_and_the_options() {
    let (addr, server) = smtp_server(None);
    let tcp = TcpStream::connect(addr).unwrap();
    let mut options = StarttlsOptions::default();
    options.client_name = "probe.example".into();
    let started = Instant::now();
    let deadline = started + Duration::from_millis(800);
    let options = tlshake::client::ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .starttls_options(options)
        .deadline(deadline);
    let err = tlshake::client::upgrade(tcp, "localhost", &config(), &options)
        .map(|c| c.stream.protocol().to_string())
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    match &err {
        ConnectError::Handshake {
            connect_time,
            starttls_time,
            source,
            ..
        } => {
            assert_eq!(
                *connect_time, None,
                "the caller connected: no invented time"
            );
            assert!(starttls_time.is_some());
            assert_eq!(source.kind(), ErrorKind::Timeout);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap(), "EHLO probe.example\r\n");
}

#[test]
fn the_name_mismatch_hint_quotes_the_name_new_ssl_set() {
    fn tls_server(tcp: TcpStream) {
        let ctx = common::server_ctx("server.pem", "server.key").build();
        let ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
        let _ = tlshake::Handshake::server(ssl, tcp).unwrap().finish();
    }
    let (addr, server) = smtp_server(Some(tls_server));
    let tcp = TcpStream::connect(addr).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let options = tlshake::client::ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .deadline(deadline);
    let err = tlshake::client::upgrade(tcp, "wrong.example", &config(), &options)
        .map(|c| c.stream.protocol().to_string())
        .unwrap_err();
    let source = err.handshake_error().expect("a handshake error");
    assert_eq!(source.kind(), ErrorKind::CertificateVerification);
    match source.hint() {
        Some(Hint::NameMismatch { expected, .. }) => {
            assert_eq!(expected.as_deref(), Some("wrong.example"))
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}
