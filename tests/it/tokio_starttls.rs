//! STARTTLS through `connect_async_with` against protocol-faithful servers (the dialogue,
//! then a real TLS handshake on the same socket through `Handshake::server`), each run
//! beside the blocking `connect_with` on a fresh server with the same script: the same
//! transcript, the same TLS version, the same errors (a refusal, injected bytes, a stalled
//! server at the one deadline), and a dropped future that closes its socket at once.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{cert, server_ctx};
use tlshake::client::{
    connect_async_with, connect_with, ClientConfig, ConnectError, ConnectOptions,
};
use tlshake::starttls::reply::{LDAP_STARTTLS_REQUEST, MYSQL_SSL_REQUEST, SSL_REQUEST};
use tlshake::starttls::{StarttlsError, StarttlsProtocol, StarttlsTranscript};
use tlshake::url::TransportUrl;
use tlshake::Handshake;

/// One step of a server script.
#[derive(Clone)]
enum Step {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Read exactly these bytes from the client.
    Expect(Vec<u8>),
}

fn send(text: &str) -> Step {
    Step::Send(text.as_bytes().to_vec())
}

fn expect(text: &str) -> Step {
    Step::Expect(text.as_bytes().to_vec())
}

/// How the server ends after its script.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// A TLS server handshake; the thread returns the version.
    Tls,
    /// Wait for the client to close (bounded), then close.
    AwaitClose,
}

/// A one-connection server playing `script`; the thread's answer is the TLS version, or
/// `"closed"` once the client closed, or what went wrong.
fn serve(script: Vec<Step>, then: Then) -> (SocketAddr, JoinHandle<Result<String, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        for step in script {
            match step {
                Step::Send(bytes) => stream.write_all(&bytes).map_err(|e| e.to_string())?,
                Step::Expect(bytes) => {
                    let mut got = vec![0u8; bytes.len()];
                    stream.read_exact(&mut got).map_err(|e| e.to_string())?;
                    if got != bytes {
                        return Err(format!(
                            "expected {:?}, got {:?}",
                            String::from_utf8_lossy(&bytes),
                            String::from_utf8_lossy(&got)
                        ));
                    }
                }
            }
        }
        match then {
            Then::Tls => {
                let ctx = server_ctx("server.pem", "server.key").build();
                let ssl = openssl::ssl::Ssl::new(&ctx).map_err(|e| e.to_string())?;
                let tls = Handshake::server(ssl, stream)
                    .map_err(|e| e.to_string())?
                    .finish()
                    .map_err(|e| e.to_string())?;
                Ok(tls.protocol().to_string())
            }
            Then::AwaitClose => {
                let mut rest = Vec::new();
                match stream.read_to_end(&mut rest) {
                    Ok(_) if rest.is_empty() => Ok("closed".to_string()),
                    Ok(_) => Err(format!("more bytes: {:?}", String::from_utf8_lossy(&rest))),
                    Err(e) => Err(format!("no close within 5 s: {e}")),
                }
            }
        }
    });
    (addr, handle)
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .unwrap()
}

fn url(addr: SocketAddr) -> TransportUrl {
    format!("tcp://localhost:{}", addr.port()).parse().unwrap()
}

fn options(protocol: StarttlsProtocol, within: Duration) -> ConnectOptions {
    ConnectOptions::new()
        .starttls(protocol)
        .deadline(Instant::now() + within)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What one client made of a server: the transcript and TLS version, or the error.
type Result2 = Result<(StarttlsTranscript, String), ConnectError>;

fn blocking(addr: SocketAddr, protocol: StarttlsProtocol, within: Duration) -> Result2 {
    let mut conn = connect_with(&url(addr), &config(), &options(protocol, within))?;
    let transcript = conn.starttls.take().expect("a transcript");
    Ok((transcript, conn.stream.protocol().to_string()))
}

fn not_blocking(addr: SocketAddr, protocol: StarttlsProtocol, within: Duration) -> Result2 {
    runtime().block_on(async {
        // Bounded beyond the client's own deadline, so a client that ignored it fails here.
        let (target, config, options) = (url(addr), config(), options(protocol, within));
        let connect = connect_async_with(&target, &config, &options);
        let conn = tokio::time::timeout(within + Duration::from_secs(5), connect)
            .await
            .expect("connect_async_with ends by its deadline")?;
        assert!(conn.timings.starttls.is_some());
        let transcript = conn.starttls.clone().expect("a transcript");
        Ok((transcript, conn.stream.get_ref().protocol().to_string()))
    })
}

/// Both clients against a fresh server each with `script`: their results, and the
/// servers' answers.
fn both(
    protocol: StarttlsProtocol,
    script: &[Step],
    then: Then,
    within: Duration,
) -> [(Result2, Result<String, String>); 2] {
    let (addr, server) = serve(script.to_vec(), then);
    let sync = blocking(addr, protocol, within);
    let sync_server = server.join().unwrap();
    let (addr, server) = serve(script.to_vec(), then);
    let not_sync = not_blocking(addr, protocol, within);
    let not_sync_server = server.join().unwrap();
    [(sync, sync_server), (not_sync, not_sync_server)]
}

const SMTP: &[&str] = &[
    "220 smtp.test ESMTP\r\n",
    "EHLO mail.example.com\r\n",
    "250-smtp.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
    "STARTTLS\r\n",
];

fn smtp_until_go_ahead() -> Vec<Step> {
    vec![
        send(SMTP[0]),
        expect(SMTP[1]),
        send(SMTP[2]),
        expect(SMTP[3]),
    ]
}

fn ldap_response(id: u8, code: u8, diagnostic: &str) -> Vec<u8> {
    let mut op = vec![0x0a, 0x01, code, 0x04, 0x00, 0x04, diagnostic.len() as u8];
    op.extend_from_slice(diagnostic.as_bytes());
    let mut body = vec![0x02, 0x01, id, 0x78, op.len() as u8];
    body.extend(op);
    let mut message = vec![0x30, body.len() as u8];
    message.extend(body);
    message
}

/// A MariaDB 10.11 protocol-10 greeting with these lower capability flags.
fn mysql_greeting(lower_caps: u16) -> Vec<u8> {
    let mut p = vec![0x0a];
    p.extend_from_slice(b"10.11.6-MariaDB-0+deb12u1\0");
    p.extend_from_slice(&9u32.to_le_bytes());
    p.extend_from_slice(b"abcdefgh\0");
    p.extend_from_slice(&lower_caps.to_le_bytes());
    p.extend_from_slice(&[0x2d, 0x02, 0x00, 0xff, 0x81, 0x15]);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
    let mut packet = vec![p.len() as u8, 0, 0, 0];
    packet.extend(p);
    packet
}

fn scripts() -> Vec<(StarttlsProtocol, Vec<Step>)> {
    let xmpp_header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
                       xmlns='jabber:client' to='localhost' version='1.0'>";
    let mut smtp = smtp_until_go_ahead();
    smtp.push(send("220 2.0.0 go ahead\r\n"));
    vec![
        (StarttlsProtocol::Smtp, smtp),
        (
            StarttlsProtocol::Imap,
            vec![
                send("* OK IMAP ready\r\n"),
                expect(". CAPABILITY\r\n"),
                send("* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n"),
                expect(". STARTTLS\r\n"),
                send(". OK begin TLS\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Pop3,
            vec![
                send("+OK POP3 ready\r\n"),
                expect("STLS\r\n"),
                send("+OK begin TLS\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Ftp,
            vec![
                // A multi-line greeting, split across two writes.
                send("220-FTP ready\r\n"),
                send("220 welcome\r\n"),
                expect("AUTH TLS\r\n"),
                send("234 AUTH TLS ok\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Xmpp,
            vec![
                expect(xmpp_header),
                send(
                    "<?xml version='1.0'?><stream:stream \
                     xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' \
                     id='42' from='localhost' version='1.0'>",
                ),
                send(
                    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
                     <required/></starttls></stream:features>",
                ),
                expect("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
            ],
        ),
        (
            StarttlsProtocol::Ldap,
            vec![
                Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
                Step::Send(ldap_response(1, 0, "")),
            ],
        ),
        (
            StarttlsProtocol::Postgres,
            vec![Step::Expect(SSL_REQUEST.to_vec()), send("S")],
        ),
        (
            StarttlsProtocol::Mysql,
            vec![
                Step::Send(mysql_greeting(0xfffe)),
                Step::Expect(MYSQL_SSL_REQUEST.to_vec()),
            ],
        ),
        (
            StarttlsProtocol::Nntp,
            vec![
                send("200 news.test ready\r\n"),
                expect("CAPABILITIES\r\n"),
                send("101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"),
                expect("STARTTLS\r\n"),
                send("382 Begin TLS negotiation now\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Sieve,
            vec![
                send(
                    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n",
                ),
                expect("STARTTLS\r\n"),
                send("OK \"Begin TLS negotiation now.\"\r\n"),
            ],
        ),
        (
            StarttlsProtocol::Irc,
            vec![
                expect("STARTTLS\r\n"),
                send(":irc.test NOTICE * :*** Looking up your hostname...\r\n"),
                send(":irc.test 670 * :STARTTLS successful, go ahead\r\n"),
            ],
        ),
    ]
}

#[test]
fn every_protocol_upgrades_with_the_transcript_and_version_of_the_blocking_connect() {
    for (protocol, script) in scripts() {
        let [(sync, sync_server), (not_sync, not_sync_server)] =
            both(protocol, &script, Then::Tls, Duration::from_secs(10));
        let sync = sync.unwrap_or_else(|e| panic!("{protocol} blocking: {e:#}"));
        let not_sync = not_sync.unwrap_or_else(|e| panic!("{protocol} async: {e:#}"));
        assert_eq!(not_sync.1, "TLSv1.3", "{protocol}");
        assert_eq!(not_sync, sync, "{protocol}");
        assert_eq!(not_sync.0.protocol, protocol);
        assert_eq!(sync_server.as_deref(), Ok("TLSv1.3"), "{protocol}");
        assert_eq!(not_sync_server.as_deref(), Ok("TLSv1.3"), "{protocol}");
    }
}

/// The error's shape, for comparing the two clients: the variant and its message.
fn shape(e: &ConnectError) -> String {
    match e {
        ConnectError::Starttls { source, .. } => format!("Starttls({source:?})"),
        other => format!("{other:?}"),
    }
}

/// What a case's STARTTLS error must be.
type Pinned = fn(&StarttlsError) -> bool;

#[test]
fn a_refusal_and_injected_bytes_are_the_blocking_connect_s_errors() {
    let mut refused = smtp_until_go_ahead();
    refused.push(send(
        "454 4.7.0 TLS not available due to temporary reason\r\n",
    ));
    let mut injected = smtp_until_go_ahead();
    injected.push(send("220 go ahead\r\n250 injected\r\n"));
    let not_offered = vec![
        send(SMTP[0]),
        expect(SMTP[1]),
        send("250-smtp.test\r\n250 PIPELINING\r\n"),
    ];
    let cases: [(&str, Vec<Step>, Pinned); 3] = [
        ("refused", refused, |e| {
            matches!(e, StarttlsError::Refused { during: "STARTTLS reply", reply, .. }
                if reply == "454 4.7.0 TLS not available due to temporary reason")
        }),
        ("injected", injected, |e| {
            matches!(e, StarttlsError::InjectedBytes { count: 14, .. })
        }),
        ("not offered", not_offered, |e| {
            matches!(
                e,
                StarttlsError::NotOffered {
                    protocol: StarttlsProtocol::Smtp,
                    ..
                }
            )
        }),
    ];
    for (name, script, pinned) in cases {
        let [(sync, sync_server), (not_sync, not_sync_server)] = both(
            StarttlsProtocol::Smtp,
            &script,
            Then::AwaitClose,
            Duration::from_secs(10),
        );
        let sync = sync.expect_err(name);
        let not_sync = not_sync.expect_err(name);
        match &not_sync {
            ConnectError::Starttls { source, .. } => assert!(pinned(source), "{name}: {source:?}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(shape(&not_sync), shape(&sync), "{name}");
        let cause = |e: &ConnectError| std::error::Error::source(e).map(|s| s.to_string());
        assert_eq!(cause(&not_sync), cause(&sync), "{name}");
        // Nothing more was sent after the refusal, and the socket was closed.
        assert_eq!(sync_server.as_deref(), Ok("closed"), "{name}");
        assert_eq!(not_sync_server.as_deref(), Ok("closed"), "{name}");
    }
}

#[test]
fn a_stalled_server_ends_the_dialogue_at_the_one_deadline() {
    let within = Duration::from_millis(400);
    // A server that accepts (the kernel completes the connect) and never speaks, and one
    // that stalls after the greeting.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let (greets, server) = serve(vec![send(SMTP[0]), expect(SMTP[1])], Then::AwaitClose);
    for (addr, during) in [
        (silent.local_addr().unwrap(), "greeting"),
        (greets, "EHLO reply"),
    ] {
        let t0 = Instant::now();
        let err = not_blocking(addr, StarttlsProtocol::Smtp, within).unwrap_err();
        let elapsed = t0.elapsed();
        assert!(
            matches!(&err, ConnectError::Starttls { source: StarttlsError::Timeout { during: d }, .. } if *d == during),
            "{err:?}"
        );
        assert!(err.is_timeout(), "{err}");
        assert!(elapsed >= within, "{elapsed:?}");
        assert!(elapsed < within + Duration::from_millis(300), "{elapsed:?}");
    }
    assert_eq!(server.join().unwrap().as_deref(), Ok("closed"));
    // The blocking connect says the same of the silent server.
    let t0 = Instant::now();
    let sync = blocking(silent.local_addr().unwrap(), StarttlsProtocol::Smtp, within).unwrap_err();
    assert!(t0.elapsed() >= within);
    let not_sync =
        not_blocking(silent.local_addr().unwrap(), StarttlsProtocol::Smtp, within).unwrap_err();
    assert_eq!(shape(&not_sync), shape(&sync));
}

#[test]
fn a_dropped_connect_closes_its_socket_mid_dialogue() {
    // The server greets, reads EHLO, then waits for the close: the client's future is
    // dropped while it waits for the EHLO reply, long before its own deadline.
    let (addr, server) = serve(vec![send(SMTP[0]), expect(SMTP[1])], Then::AwaitClose);
    runtime().block_on(async {
        let (target, config) = (url(addr), config());
        let options = options(StarttlsProtocol::Smtp, Duration::from_secs(30));
        let connect = connect_async_with(&target, &config, &options);
        let cut = tokio::time::timeout(Duration::from_millis(300), connect).await;
        assert!(cut.is_err(), "the connect must still be waiting");
    });
    let t0 = Instant::now();
    assert_eq!(server.join().unwrap().as_deref(), Ok("closed"));
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[test]
fn plain_tcp_without_starttls_is_still_not_tls() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let err = runtime()
        .block_on(connect_async_with(
            &url(addr),
            &config(),
            &ConnectOptions::new(),
        ))
        .unwrap_err();
    assert!(matches!(err, ConnectError::NotTls { .. }), "{err:?}");
}

/// `upgrade` and `upgrade_async` take the same arguments and give the same dialogue on a
/// socket the caller connected.
#[test]
fn upgrade_and_upgrade_async_agree_on_a_connected_socket() {
    let within = Duration::from_secs(5);
    let mut smtp = smtp_until_go_ahead();
    smtp.push(send("220 2.0.0 go ahead\r\n"));
    let (addr, server) = serve(smtp.clone(), Then::Tls);
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let sync = tlshake::client::upgrade(
        tcp,
        "localhost",
        &config(),
        &options(StarttlsProtocol::Smtp, within),
    )
    .unwrap();
    assert_eq!(
        server.join().unwrap().as_deref(),
        Ok(sync.stream.protocol())
    );

    let (addr, server) = serve(smtp, Then::Tls);
    let not_sync = runtime().block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (config, options) = (config(), options(StarttlsProtocol::Smtp, within));
        let upgrade = tlshake::client::upgrade_async(tcp, "localhost", &config, &options);
        tokio::time::timeout(within + Duration::from_secs(5), upgrade)
            .await
            .expect("upgrade_async ends by its deadline")
            .unwrap()
    });
    let version = not_sync.stream.get_ref().protocol().to_string();
    assert_eq!(server.join().unwrap(), Ok(version));
    assert_eq!(sync.starttls, not_sync.starttls);
    assert_eq!(sync.timings.connect, Duration::ZERO);
    assert_eq!(not_sync.timings.connect, Duration::ZERO);
    assert_eq!(not_sync.tried, vec![addr]);
}
