//! STARTTLS dialogues against scripted plain-text servers, and properties of the reply
//! parsers.

use crate::starttls_peers;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use starttls_peers::{expect, send, Peer, Step};
use tlshake::starttls::reply::{
    self, parse_ftp_reply, parse_imap_response, parse_pop3_reply, parse_postgres_response,
    parse_smtp_reply, ReplyError, SSL_REQUEST,
};
use tlshake::starttls::{
    negotiate, negotiate_with_deadline, StarttlsError, StarttlsOptions, StarttlsProtocol,
    StarttlsTranscript,
};

/// The client's socket timeout when the test does not test timeouts.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Sent by the client after the dialogue, answered by [`AFTER`]: shows that the stream is
/// positioned right after the go-ahead.
const MARKER: &str = "MARKER\r\n";
const AFTER: &[u8] = b"AFTER\r\n";

/// A TLS 1.2 ServerHello record header and the start of its body.
const TLS_RECORD: &[u8] = &[
    0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x03,
];

/// Runs a dialogue that must succeed, then checks that client and server are still in step.
fn upgrade(
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
    mut script: Vec<Step>,
) -> StarttlsTranscript {
    script.push(expect(MARKER));
    script.push(Step::Send(AFTER.to_vec()));
    let peer = Peer::spawn(script);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let transcript = negotiate(&mut stream, protocol, options).expect("dialogue succeeds");
    stream.write_all(MARKER.as_bytes()).expect("write marker");
    let mut after = [0u8; AFTER.len()];
    stream.read_exact(&mut after).expect("read after marker");
    assert_eq!(after, AFTER);
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    assert_eq!(transcript.protocol, protocol);
    transcript
}

/// Runs a dialogue that must fail; the server's script must still have been followed.
fn failure(protocol: StarttlsProtocol, timeout: Duration, script: Vec<Step>) -> StarttlsError {
    let peer = Peer::spawn(script);
    let mut stream = peer.connect(timeout);
    let result = negotiate(&mut stream, protocol, &StarttlsOptions::default());
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    result.expect_err("dialogue fails")
}

fn smtp_until_starttls(ehlo_reply: &str) -> Vec<Step> {
    vec![
        send("220 mx.example.org ESMTP\r\n"),
        expect("EHLO mail.example.com\r\n"),
        send(ehlo_reply),
        expect("STARTTLS\r\n"),
    ]
}

// ---- success paths ----

#[test]
fn smtp_success() {
    let script = vec![
        send("220-mx.example.org ESMTP\r\n220 no spam\r\n"),
        expect("EHLO mail.example.com\r\n"),
        send("250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"),
        expect("STARTTLS\r\n"),
        send("220 2.0.0 Ready to start TLS\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Smtp, &StarttlsOptions::default(), script);
    assert_eq!(t.greeting, "220-mx.example.org ESMTP\n220 no spam");
    assert_eq!(t.capabilities, ["PIPELINING", "SIZE 10240000", "STARTTLS"]);
    assert_eq!(t.go_ahead, "220 2.0.0 Ready to start TLS");
}

#[test]
fn lmtp_success_with_own_client_name() {
    let script = vec![
        send("220 lmtp.example.org LMTP\r\n"),
        expect("LHLO client.example.org\r\n"),
        send("250-lmtp.example.org\r\n250-starttls\r\n250 ENHANCEDSTATUSCODES\r\n"),
        expect("STARTTLS\r\n"),
        send("220 go ahead\r\n"),
    ];
    let options = StarttlsOptions::default().with_client_name("client.example.org");
    let t = upgrade(StarttlsProtocol::Lmtp, &options, script);
    assert_eq!(t.greeting, "220 lmtp.example.org LMTP");
    assert_eq!(t.capabilities, ["starttls", "ENHANCEDSTATUSCODES"]);
    assert_eq!(t.go_ahead, "220 go ahead");
}

#[test]
fn imap_success() {
    let script = vec![
        send("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n"),
        expect(". CAPABILITY\r\n"),
        send("* CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED\r\n. OK Pre-login capabilities listed.\r\n"),
        expect(". STARTTLS\r\n"),
        send(". OK Begin TLS negotiation now.\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Imap, &StarttlsOptions::default(), script);
    assert_eq!(
        t.greeting,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready."
    );
    assert_eq!(
        t.capabilities,
        ["IMAP4rev1", "SASL-IR", "STARTTLS", "LOGINDISABLED"]
    );
    assert_eq!(t.go_ahead, ". OK Begin TLS negotiation now.");
}

#[test]
fn pop3_success() {
    let script = vec![
        send("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
        expect("STLS\r\n"),
        send("+OK Begin TLS negotiation\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Pop3, &StarttlsOptions::default(), script);
    assert_eq!(
        t.greeting,
        "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"
    );
    assert!(t.capabilities.is_empty());
    assert_eq!(t.go_ahead, "+OK Begin TLS negotiation");
}

#[test]
fn ftp_success_with_multi_line_greeting() {
    let script = vec![
        send("220-Welcome to the FTP service.\r\n  Be nice.\r\n220 Ready\r\n"),
        expect("AUTH TLS\r\n"),
        send("234 Proceed with negotiation.\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Ftp, &StarttlsOptions::default(), script);
    assert_eq!(
        t.greeting,
        "220-Welcome to the FTP service.\n  Be nice.\n220 Ready"
    );
    assert!(t.capabilities.is_empty());
    assert_eq!(t.go_ahead, "234 Proceed with negotiation.");
}

#[test]
fn ftp_accepts_one_120_before_the_greeting() {
    let script = vec![
        send("120 ready in 1 minute\r\n"),
        send("220 Ready\r\n"),
        expect("AUTH TLS\r\n"),
        send("234 AUTH TLS OK.\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Ftp, &StarttlsOptions::default(), script);
    assert_eq!(t.greeting, "120 ready in 1 minute\n220 Ready");
}

#[test]
fn postgres_success() {
    let script = vec![Step::Expect(SSL_REQUEST.to_vec()), send("S")];
    let t = upgrade(
        StarttlsProtocol::Postgres,
        &StarttlsOptions::default(),
        script,
    );
    assert_eq!(t.greeting, "");
    assert!(t.capabilities.is_empty());
    assert_eq!(t.go_ahead, "S");
}

#[test]
fn deadline_variant_succeeds_and_restores_socket_timeouts() {
    let peer = Peer::spawn(vec![
        send("+OK ready\r\n"),
        expect("STLS\r\n"),
        send("+OK go\r\n"),
    ]);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let deadline = Instant::now() + Duration::from_secs(5);
    let options = StarttlsOptions::default();
    let t = negotiate_with_deadline(&mut stream, StarttlsProtocol::Pop3, &options, deadline)
        .expect("dialogue succeeds");
    assert_eq!(t.go_ahead, "+OK go");
    assert_eq!(
        stream.read_timeout().expect("timeout"),
        Some(CLIENT_TIMEOUT)
    );
    assert_eq!(
        stream.write_timeout().expect("timeout"),
        Some(CLIENT_TIMEOUT)
    );
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
}

// ---- refusals ----

#[test]
fn smtp_454_is_refused() {
    let mut script = smtp_until_starttls("250-mx\r\n250 STARTTLS\r\n");
    script.push(send("454 4.7.0 TLS not available due to local problem\r\n"));
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    match &err {
        StarttlsError::Refused {
            protocol: StarttlsProtocol::Smtp,
            during: "STARTTLS reply",
            reply,
        } => assert_eq!(reply, "454 4.7.0 TLS not available due to local problem"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("\"454 4.7.0 TLS not available"),
        "{err}"
    );
}

#[test]
fn smtp_554_greeting_is_refused() {
    let script = vec![send("554 no service for you\r\n"), Step::AwaitClose];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Refused { during: "greeting", ref reply, .. } if reply == "554 no service for you"
    ));
}

#[test]
fn smtp_without_starttls_is_not_offered_and_nothing_more_is_sent() {
    let script = vec![
        send("220 mx ESMTP\r\n"),
        expect("EHLO mail.example.com\r\n"),
        send("250-mx\r\n250-SIZE 100\r\n250 XSTARTTLS\r\n"),
        Step::AwaitClose,
    ];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    match err {
        StarttlsError::NotOffered {
            protocol: StarttlsProtocol::Smtp,
            reply,
        } => assert_eq!(reply, "250-mx\n250-SIZE 100\n250 XSTARTTLS"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn smtp_server_without_ehlo_is_not_offered() {
    let script = vec![
        send("220 old ESMTP\r\n"),
        expect("EHLO mail.example.com\r\n"),
        send("502 command not implemented\r\n"),
        Step::AwaitClose,
    ];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    assert!(matches!(err, StarttlsError::NotOffered { .. }), "{err:?}");
}

#[test]
fn pop3_err_is_refused() {
    let script = vec![
        send("+OK ready\r\n"),
        expect("STLS\r\n"),
        send("-ERR command not permitted\r\n"),
    ];
    let err = failure(StarttlsProtocol::Pop3, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Refused { protocol: StarttlsProtocol::Pop3, during: "STLS reply", ref reply }
            if reply == "-ERR command not permitted"
    ));
}

#[test]
fn imap_bad_is_refused() {
    let script = vec![
        send("* OK ready\r\n"),
        expect(". CAPABILITY\r\n"),
        send("* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n"),
        expect(". STARTTLS\r\n"),
        send(". BAD STARTTLS not available\r\n"),
    ];
    let err = failure(StarttlsProtocol::Imap, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Refused { protocol: StarttlsProtocol::Imap, during: "STARTTLS reply", ref reply }
            if reply == ". BAD STARTTLS not available"
    ));
}

#[test]
fn imap_without_starttls_capability_is_not_offered() {
    let script = vec![
        send("* OK ready\r\n"),
        expect(". CAPABILITY\r\n"),
        send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n. OK done\r\n"),
        Step::AwaitClose,
    ];
    let err = failure(StarttlsProtocol::Imap, CLIENT_TIMEOUT, script);
    match err {
        StarttlsError::NotOffered { reply, .. } => {
            assert_eq!(reply, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\n. OK done")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn imap_preauth_greeting_is_not_offered() {
    let script = vec![send("* PREAUTH welcome back\r\n"), Step::AwaitClose];
    let err = failure(StarttlsProtocol::Imap, CLIENT_TIMEOUT, script);
    assert!(matches!(err, StarttlsError::NotOffered { .. }), "{err:?}");
}

#[test]
fn ftp_530_is_refused() {
    let script = vec![
        send("220 FTP ready\r\n"),
        expect("AUTH TLS\r\n"),
        send("530 Please login with USER and PASS.\r\n"),
    ];
    let err = failure(StarttlsProtocol::Ftp, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Refused { protocol: StarttlsProtocol::Ftp, during: "AUTH TLS reply", ref reply }
            if reply == "530 Please login with USER and PASS."
    ));
}

#[test]
fn postgres_n_is_refused() {
    let script = vec![Step::Expect(SSL_REQUEST.to_vec()), send("N")];
    let err = failure(StarttlsProtocol::Postgres, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Refused { protocol: StarttlsProtocol::Postgres, ref reply, .. } if reply == "N"
    ));
}

#[test]
fn postgres_error_response_is_unexpected() {
    let body = b"SFATAL\0C08P01\0Munsupported frontend protocol 1234.5679\0\0";
    let mut message = vec![b'E'];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(body);
    let script = vec![Step::Expect(SSL_REQUEST.to_vec()), Step::Send(message)];
    let err = failure(StarttlsProtocol::Postgres, CLIENT_TIMEOUT, script);
    match err {
        StarttlsError::UnexpectedReply { during, reply } => {
            assert_eq!(during, "SSLRequest reply");
            assert_eq!(
                reply,
                "E S=FATAL C=08P01 M=unsupported frontend protocol 1234.5679"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

// ---- broken servers ----

#[test]
fn close_before_greeting_is_closed() {
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, vec![]);
    assert!(matches!(
        err,
        StarttlsError::Closed { during: "greeting", ref received } if received.is_empty()
    ));
}

#[test]
fn close_after_ehlo_is_closed() {
    let script = vec![send("220 mx\r\n"), expect("EHLO mail.example.com\r\n")];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    assert!(matches!(
        err,
        StarttlsError::Closed {
            during: "EHLO reply",
            ..
        }
    ));
}

#[test]
fn close_in_the_middle_of_a_reply_shows_what_came() {
    let err = failure(
        StarttlsProtocol::Ftp,
        CLIENT_TIMEOUT,
        vec![send("220-partial\r\n220")],
    );
    match &err {
        StarttlsError::Closed { during, received } => {
            assert_eq!(
                (*during, received.as_str()),
                ("greeting", "220-partial\\r\\n220")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("after sending \"220-partial"),
        "{err}"
    );
}

#[test]
fn stalled_server_times_out() {
    let started = Instant::now();
    let err = failure(
        StarttlsProtocol::Imap,
        Duration::from_millis(300),
        vec![Step::AwaitClose],
    );
    assert!(
        matches!(err, StarttlsError::Timeout { during: "greeting" }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.to_string().contains("implicit TLS"), "{err}");
}

#[test]
fn deadline_bounds_a_dripping_server() {
    let drip = Step::Drip(
        b"220-".iter().chain([b'a'; 60].iter()).copied().collect(),
        Duration::from_millis(50),
    );
    let peer = Peer::spawn(vec![drip]);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let started = Instant::now();
    let deadline = started + Duration::from_millis(400);
    let options = StarttlsOptions::default();
    let err = negotiate_with_deadline(&mut stream, StarttlsProtocol::Smtp, &options, deadline)
        .expect_err("deadline passes");
    let elapsed = started.elapsed();
    assert!(
        matches!(err, StarttlsError::Timeout { during: "greeting" }),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(
        stream.read_timeout().expect("timeout"),
        Some(CLIENT_TIMEOUT)
    );
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
}

#[test]
fn bytes_after_the_smtp_go_ahead_are_refused() {
    let mut script = smtp_until_starttls("250-mx\r\n250 STARTTLS\r\n");
    script.push(send("220 go ahead\r\n250 injected\r\n"));
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    match &err {
        StarttlsError::InjectedBytes { count, preview } => {
            assert_eq!((*count, preview.as_str()), (14, "250 injected\\r\\n"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("CVE-2011-0411"), "{err}");
}

#[test]
fn bytes_after_the_other_go_aheads_are_refused() {
    let cases = [
        (
            StarttlsProtocol::Imap,
            vec![
                send("* OK ready\r\n"),
                expect(". CAPABILITY\r\n"),
                send("* CAPABILITY STARTTLS\r\n. OK\r\n"),
                expect(". STARTTLS\r\n"),
                send(". OK go\r\n* BYE\r\n"),
            ],
            7,
            "* BYE\\r\\n",
        ),
        (
            StarttlsProtocol::Pop3,
            vec![
                send("+OK\r\n"),
                expect("STLS\r\n"),
                send("+OK\r\n+OK x\r\n"),
            ],
            7,
            "+OK x\\r\\n",
        ),
        (
            StarttlsProtocol::Ftp,
            vec![
                send("220 a\r\n"),
                expect("AUTH TLS\r\n"),
                send("234 b\r\n230 c\r\n"),
            ],
            7,
            "230 c\\r\\n",
        ),
        (
            StarttlsProtocol::Postgres,
            vec![Step::Expect(SSL_REQUEST.to_vec()), send("SR")],
            1,
            "R",
        ),
    ];
    for (protocol, script, count, injected) in cases {
        let err = failure(protocol, CLIENT_TIMEOUT, script);
        assert!(
            matches!(&err, StarttlsError::InjectedBytes { count: n, preview }
                if (*n, preview.as_str()) == (count, injected)),
            "{protocol}: {err:?}"
        );
    }
}

#[test]
fn tls_from_the_first_byte_is_unexpected() {
    for protocol in [
        StarttlsProtocol::Smtp,
        StarttlsProtocol::Lmtp,
        StarttlsProtocol::Imap,
        StarttlsProtocol::Pop3,
        StarttlsProtocol::Ftp,
    ] {
        let err = failure(
            protocol,
            CLIENT_TIMEOUT,
            vec![Step::Send(TLS_RECORD.to_vec())],
        );
        assert!(
            matches!(&err, StarttlsError::UnexpectedReply { during: "greeting", reply }
                if reply.starts_with("\\x16\\x03\\x03\\x00")),
            "{protocol}: {err:?}"
        );
        assert!(err.server_spoke_tls(), "{protocol}");
        assert!(
            err.to_string().contains("connect with TLS directly"),
            "{err}"
        );
    }
    let script = vec![
        Step::Expect(SSL_REQUEST.to_vec()),
        Step::Send(TLS_RECORD.to_vec()),
    ];
    let err = failure(StarttlsProtocol::Postgres, CLIENT_TIMEOUT, script);
    assert!(err.server_spoke_tls(), "{err:?}");
}

#[test]
fn wrong_greeting_code_is_unexpected() {
    let err = failure(
        StarttlsProtocol::Smtp,
        CLIENT_TIMEOUT,
        vec![send("331 password please\r\n"), Step::AwaitClose],
    );
    assert!(matches!(
        err,
        StarttlsError::UnexpectedReply { during: "greeting", ref reply } if reply == "331 password please"
    ));
}

#[test]
fn mixed_codes_in_ehlo_reply_are_unexpected() {
    let script = vec![
        send("220 mx\r\n"),
        expect("EHLO mail.example.com\r\n"),
        send("250-mx\r\n220 STARTTLS\r\n"),
        Step::AwaitClose,
    ];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    assert!(
        matches!(
            err,
            StarttlsError::UnexpectedReply {
                during: "EHLO reply",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn endless_greeting_is_too_long() {
    let mut greeting = b"220-".to_vec();
    greeting.resize(reply::MAX_REPLY_BYTES + 8192, b'a');
    let err = failure(
        StarttlsProtocol::Smtp,
        CLIENT_TIMEOUT,
        vec![Step::Flood(greeting)],
    );
    assert!(
        matches!(err, StarttlsError::TooLong { during: "greeting" }),
        "{err:?}"
    );
}

#[test]
fn too_many_ehlo_lines_is_too_long() {
    let script = vec![
        send("220 mx\r\n"),
        expect("EHLO mail.example.com\r\n"),
        Step::Flood("250-X\r\n".repeat(reply::MAX_REPLY_LINES + 1).into_bytes()),
    ];
    let err = failure(StarttlsProtocol::Smtp, CLIENT_TIMEOUT, script);
    assert!(
        matches!(
            err,
            StarttlsError::TooLong {
                during: "EHLO reply"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn endless_imap_untagged_responses_are_too_long() {
    let script = vec![
        send("* OK ready\r\n"),
        expect(". CAPABILITY\r\n"),
        Step::Flood(
            "* 1 EXISTS\r\n"
                .repeat(reply::MAX_REPLY_LINES + 1)
                .into_bytes(),
        ),
    ];
    let err = failure(StarttlsProtocol::Imap, CLIENT_TIMEOUT, script);
    assert!(
        matches!(
            err,
            StarttlsError::TooLong {
                during: "CAPABILITY reply"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn client_name_with_line_break_is_refused_before_any_io() {
    let options = StarttlsOptions::default().with_client_name("x\r\nRCPT TO:<a@b>");
    for name in ["", "two words"] {
        let options = StarttlsOptions::default().with_client_name(name);
        let mut sink = std::io::Cursor::new(Vec::new());
        let err = negotiate(&mut sink, StarttlsProtocol::Smtp, &options).expect_err("refused");
        assert!(
            matches!(err, StarttlsError::InvalidClientName { .. }),
            "{err:?}"
        );
    }
    let peer = Peer::spawn(vec![Step::AwaitClose]);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let err = negotiate(&mut stream, StarttlsProtocol::Smtp, &options).expect_err("refused");
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    match err {
        StarttlsError::InvalidClientName { name } => assert_eq!(name, "x\\r\\nRCPT TO:<a@b>"),
        other => panic!("unexpected {other:?}"),
    }
}

// ---- parser properties ----

type Check = fn(&[u8]) -> Option<Result<usize, ReplyError>>;

/// Every parser, reduced to "consumed bytes or error" (`None` = incomplete).
fn parsers() -> [(&'static str, Check); 11] {
    fn reduce<T>(r: Result<Option<(T, usize)>, ReplyError>) -> Option<Result<usize, ReplyError>> {
        r.map(|o| o.map(|(_, n)| n)).transpose()
    }
    [
        ("smtp", |b| reduce(parse_smtp_reply(b))),
        ("ftp", |b| reduce(parse_ftp_reply(b))),
        ("imap", |b| reduce(parse_imap_response(b))),
        ("pop3", |b| reduce(parse_pop3_reply(b))),
        ("postgres", |b| reduce(parse_postgres_response(b))),
        ("xmpp", |b| reduce(reply::parse_xmpp_item(b))),
        ("ldap", |b| reduce(reply::parse_ldap_message(b))),
        ("nntp", |b| reduce(reply::parse_nntp_reply(b))),
        ("sieve", |b| reduce(reply::parse_sieve_response(b))),
        ("mysql", |b| reduce(reply::parse_mysql_greeting(b))),
        ("irc", |b| reduce(reply::parse_irc_message(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes: no panic, a consumed count within the input, and the same answer when the
    /// input is cut right after the reply (a parser never looks past its reply).
    #[test]
    fn parsers_are_total_and_stop_at_their_reply(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for (name, parse) in parsers() {
            if let Some(Ok(used)) = parse(&bytes) {
                prop_assert!(used >= 1 && used <= bytes.len(), "{name}: {used}");
                prop_assert_eq!(parse(&bytes[..used]), Some(Ok(used)), "{}", name);
            }
        }
    }

    /// Text-like input (what a confused server would send) exercises the line logic.
    #[test]
    fn parsers_are_total_on_text(text in "([0-9]{3}[ -]|[*+.] |[+-](OK|ERR)| )?[ -~]{0,40}(\r\n[ -~]{0,40}){0,6}") {
        for (name, parse) in parsers() {
            if let Some(Ok(used)) = parse(text.as_bytes()) {
                prop_assert!(used >= 1 && used <= text.len(), "{name}: {used}");
            }
        }
    }

    /// A well-formed SMTP reply followed by anything parses to exactly itself.
    #[test]
    fn smtp_reply_round_trips(
        code in 100u16..600,
        texts in proptest::collection::vec("[ -~]{0,30}", 1..8),
        trailing in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut wire = Vec::new();
        let last = texts.len() - 1;
        for (i, text) in texts.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            wire.extend_from_slice(format!("{code}{sep}{text}\r\n").as_bytes());
        }
        let reply_len = wire.len();
        wire.extend_from_slice(&trailing);
        let (reply, used) = parse_smtp_reply(&wire).unwrap().unwrap();
        prop_assert_eq!(used, reply_len);
        prop_assert_eq!(reply.code, code);
        let escaped: Vec<String> = texts.iter().map(|t| reply::escape_bytes(t.as_bytes())).collect();
        prop_assert_eq!(reply.texts().collect::<Vec<_>>(), escaped);
        // Every strict prefix is incomplete, not an error.
        for cut in 0..reply_len {
            prop_assert_eq!(parse_smtp_reply(&wire[..cut]), Ok(None));
        }
    }
}
