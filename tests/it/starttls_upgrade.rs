//! `client::upgrade` with `ConnectOptions::starttls`: each protocol's dialogue, then a real TLS handshake on the same
//! socket, against small protocol-faithful servers that hand over to `Handshake::server`.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use tlshake::client::{ClientConfig, ConnectError};
use tlshake::starttls::{StarttlsError, StarttlsProtocol};
use tlshake::Handshake;

/// One step of a server script: what to send, then what line prefix (or bytes) to expect.
enum Step {
    Send(&'static [u8]),
    ExpectLine(&'static str),
    ExpectBytes(usize),
}

fn serve(
    script: Vec<Step>,
    then_tls: bool,
) -> (
    std::net::SocketAddr,
    std::thread::JoinHandle<Option<String>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream.try_clone().unwrap();
        for step in script {
            match step {
                Step::Send(bytes) => writer.write_all(bytes).unwrap(),
                Step::ExpectLine(prefix) => {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    assert!(
                        line.starts_with(prefix),
                        "expected {prefix:?}, got {line:?}"
                    );
                }
                Step::ExpectBytes(n) => {
                    let mut buf = vec![0u8; n];
                    reader.read_exact(&mut buf).unwrap();
                }
            }
        }
        if !then_tls {
            std::thread::sleep(Duration::from_millis(200));
            return None;
        }
        assert!(
            reader.buffer().is_empty(),
            "the client spoke before the handshake"
        );
        let ctx = server_ctx("server.pem", "server.key").build();
        let ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
        let tls = Handshake::server(ssl, stream).unwrap().finish().ok()?;
        Some(tls.protocol().to_string())
    });
    (addr, handle)
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .unwrap()
}

fn upgrade(addr: std::net::SocketAddr, protocol: StarttlsProtocol) -> Result<String, ConnectError> {
    let tcp = TcpStream::connect(addr).unwrap();
    let options = tlshake::client::ConnectOptions::new()
        .starttls(protocol)
        .deadline(deadline(5.0));
    let tls = tlshake::client::upgrade(tcp, "localhost", &config(), &options)?;
    assert_eq!(tls.starttls.map(|t| t.protocol), Some(protocol));
    Ok(tls.stream.protocol().to_string())
}

#[test]
fn every_protocol_upgrades_to_tls13() {
    use Step::*;
    let scripts: Vec<(StarttlsProtocol, Vec<Step>)> = vec![
        (
            StarttlsProtocol::Smtp,
            vec![
                Send(b"220 smtp.test ESMTP\r\n"),
                ExpectLine("EHLO "),
                Send(b"250-smtp.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                ExpectLine("STARTTLS"),
                Send(b"220 go ahead\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Lmtp,
            vec![
                Send(b"220 lmtp.test LMTP\r\n"),
                ExpectLine("LHLO "),
                Send(b"250-lmtp.test\r\n250 STARTTLS\r\n"),
                ExpectLine("STARTTLS"),
                Send(b"220 go ahead\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Imap,
            vec![
                Send(b"* OK IMAP ready\r\n"),
                ExpectLine(". CAPABILITY"),
                Send(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n"),
                ExpectLine(". STARTTLS"),
                Send(b". OK begin TLS\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Pop3,
            vec![
                Send(b"+OK POP3 ready\r\n"),
                ExpectLine("STLS"),
                Send(b"+OK begin TLS\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Ftp,
            vec![
                Send(b"220 FTP ready\r\n"),
                ExpectLine("AUTH TLS"),
                Send(b"234 AUTH TLS ok\r\n"),
            ],
        ),
        (StarttlsProtocol::Postgres, vec![ExpectBytes(8), Send(b"S")]),
    ];
    for (protocol, script) in scripts {
        let (addr, server) = serve(script, true);
        let client = upgrade(addr, protocol).unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(client, "TLSv1.3", "{protocol}");
        assert_eq!(
            server.join().unwrap().as_deref(),
            Some("TLSv1.3"),
            "{protocol}"
        );
    }
}

#[test]
fn refusal_carries_the_servers_reply() {
    use Step::*;
    let (addr, server) = serve(
        vec![
            Send(b"220 smtp.test ESMTP\r\n"),
            ExpectLine("EHLO "),
            Send(b"250-smtp.test\r\n250 STARTTLS\r\n"),
            ExpectLine("STARTTLS"),
            Send(b"454 4.7.0 TLS not available due to temporary reason\r\n"),
        ],
        false,
    );
    let err = upgrade(addr, StarttlsProtocol::Smtp).unwrap_err();
    match &err {
        ConnectError::Starttls {
            source: StarttlsError::Refused { reply, .. },
            ..
        } => {
            assert!(reply.contains("454 4.7.0"), "{reply}")
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}

#[test]
fn bytes_injected_after_the_go_ahead_are_refused() {
    use Step::*;
    let (addr, server) = serve(
        vec![
            Send(b"+OK ready\r\n"),
            ExpectLine("STLS"),
            Send(b"+OK go\r\n+OK injected\r\n"),
        ],
        false,
    );
    let err = upgrade(addr, StarttlsProtocol::Pop3).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectError::Starttls {
                source: StarttlsError::InjectedBytes { .. },
                ..
            }
        ),
        "{err}"
    );
    server.join().unwrap();
}
