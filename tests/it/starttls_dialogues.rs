//! The XMPP, LDAP, NNTP, ManageSieve, MySQL and IRC dialogues against scripted plain-text
//! servers: the exact bytes sent, the go-ahead, and each pinned refusal (the server does not
//! offer TLS, says no, speaks another protocol, or sends a malformed reply).

use crate::starttls_peers;

use std::io::{Read, Write};
use std::time::Duration;

use starttls_peers::{expect, send, Peer, Step};
use tlshake::starttls::reply::{LDAP_STARTTLS_REQUEST, MYSQL_SSL_REQUEST};
use tlshake::starttls::{
    negotiate, StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript,
};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const MARKER: &str = "MARKER\r\n";
const AFTER: &[u8] = b"AFTER\r\n";
const TLS_RECORD: &[u8] = &[
    0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x03,
];

fn xmpp_options() -> StarttlsOptions {
    StarttlsOptions::default().with_xmpp_host("example.org")
}

/// A dialogue that must succeed; the stream must be right after the go-ahead.
fn upgrade(protocol: StarttlsProtocol, mut script: Vec<Step>) -> StarttlsTranscript {
    script.push(expect(MARKER));
    script.push(Step::Send(AFTER.to_vec()));
    let peer = Peer::spawn(script);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let transcript = negotiate(&mut stream, protocol, &xmpp_options()).expect("dialogue succeeds");
    stream.write_all(MARKER.as_bytes()).expect("write marker");
    let mut after = [0u8; AFTER.len()];
    stream.read_exact(&mut after).expect("read after marker");
    assert_eq!(after, AFTER);
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    assert_eq!(transcript.protocol, protocol);
    transcript
}

/// A dialogue that must fail, with the server's script followed to its end.
fn failure_with(
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
    script: Vec<Step>,
) -> StarttlsError {
    let peer = Peer::spawn(script);
    let mut stream = peer.connect(CLIENT_TIMEOUT);
    let result = negotiate(&mut stream, protocol, options);
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    result.expect_err("dialogue fails")
}

fn failure(protocol: StarttlsProtocol, script: Vec<Step>) -> StarttlsError {
    failure_with(protocol, &xmpp_options(), script)
}

// ---- XMPP ----------------------------------------------------------------------------------

const XMPP_HEADER: &str = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
                           xmlns='jabber:client' to='example.org' version='1.0'>";
const XMPP_SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream \
    xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' id='42' \
    from='example.org' version='1.0'>";
const STARTTLS_ELEMENT: &str = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

fn xmpp_until_features(features: &str) -> Vec<Step> {
    vec![
        expect(XMPP_HEADER),
        send(XMPP_SERVER_HEADER),
        send(features),
    ]
}

#[test]
fn xmpp_success() {
    let mut script = xmpp_until_features(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>\
         </starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
    );
    script.push(expect(STARTTLS_ELEMENT));
    script.push(send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    let t = upgrade(StarttlsProtocol::Xmpp, script);
    assert!(t.greeting.starts_with("<stream:stream"), "{t:?}");
    assert_eq!(
        t.capabilities,
        [
            "starttls (urn:ietf:params:xml:ns:xmpp-tls)",
            "mechanisms (urn:ietf:params:xml:ns:xmpp-sasl)"
        ]
    );
    assert_eq!(
        t.go_ahead,
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
}

#[test]
fn xmpp_server_sends_the_server_namespace() {
    let script = vec![
        expect(&XMPP_HEADER.replace("jabber:client", "jabber:server")),
        Step::AwaitClose,
    ];
    let peer = Peer::spawn(script);
    let mut stream = peer.connect(Duration::from_millis(300));
    let err = negotiate(&mut stream, StarttlsProtocol::XmppServer, &xmpp_options());
    drop(stream);
    assert_eq!(peer.join(), Ok(()));
    assert!(
        matches!(
            err,
            Err(StarttlsError::Timeout {
                during: "stream header reply"
            })
        ),
        "{err:?}"
    );
}

#[test]
fn xmpp_features_without_starttls_are_not_offered() {
    let mut script = xmpp_until_features(
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
    );
    script.push(Step::AwaitClose);
    let err = failure(StarttlsProtocol::Xmpp, script);
    assert!(
        matches!(&err, StarttlsError::NotOffered { protocol: StarttlsProtocol::Xmpp, reply }
            if reply.contains("mechanisms")),
        "{err:?}"
    );
}

#[test]
fn xmpp_starttls_in_another_namespace_is_not_offered() {
    let mut script =
        xmpp_until_features("<stream:features><starttls xmlns='x'/></stream:features>");
    script.push(Step::AwaitClose);
    let err = failure(StarttlsProtocol::Xmpp, script);
    assert!(matches!(err, StarttlsError::NotOffered { .. }), "{err:?}");
}

#[test]
fn xmpp_failure_is_refused() {
    let mut script = xmpp_until_features(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
    );
    script.push(expect(STARTTLS_ELEMENT));
    script.push(send(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>",
    ));
    let err = failure(StarttlsProtocol::Xmpp, script);
    assert!(
        matches!(&err, StarttlsError::Refused { during: "starttls reply", reply, .. }
            if reply == "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        "{err:?}"
    );
}

#[test]
fn xmpp_stream_error_is_refused() {
    let script = vec![
        expect(XMPP_HEADER),
        send(XMPP_SERVER_HEADER),
        send(
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
              </stream:error></stream:stream>",
        ),
    ];
    let err = failure(StarttlsProtocol::Xmpp, script);
    assert!(
        matches!(&err, StarttlsError::Refused { during: "stream features", reply, .. }
            if reply.contains("host-unknown")),
        "{err:?}"
    );
}

#[test]
fn xmpp_host_is_required_and_checked_before_any_io() {
    for host in [None, Some("a'b"), Some("a b"), Some("<x>")] {
        let mut options = StarttlsOptions::default();
        options.xmpp_host = host.map(str::to_string);
        let err = failure_with(StarttlsProtocol::Xmpp, &options, vec![Step::AwaitClose]);
        assert!(
            matches!(err, StarttlsError::InvalidXmppHost { .. }),
            "{host:?}: {err:?}"
        );
        assert!(
            err.to_string().contains("StarttlsOptions::xmpp_host"),
            "{err}"
        );
    }
}

#[test]
fn xmpp_bytes_after_proceed_are_refused() {
    let mut script = xmpp_until_features(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
    );
    script.push(expect(STARTTLS_ELEMENT));
    script.push(send(
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><x/>",
    ));
    let err = failure(StarttlsProtocol::Xmpp, script);
    assert!(
        matches!(err, StarttlsError::InjectedBytes { count: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn xmpp_wrong_protocol_and_malformed_xml_are_unexpected() {
    for reply in ["220 mx.example.org ESMTP\r\n", "<stream:stream a=b>"] {
        let err = failure(
            StarttlsProtocol::Xmpp,
            vec![expect(XMPP_HEADER), send(reply), Step::AwaitClose],
        );
        assert!(
            matches!(
                &err,
                StarttlsError::UnexpectedReply {
                    during: "stream header reply",
                    ..
                }
            ),
            "{reply}: {err:?}"
        );
    }
    let err = failure(
        StarttlsProtocol::Xmpp,
        vec![
            expect(XMPP_HEADER),
            send(XMPP_SERVER_HEADER),
            send("<a><b></a>"),
            Step::AwaitClose,
        ],
    );
    assert!(
        matches!(
            err,
            StarttlsError::UnexpectedReply {
                during: "stream features",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- LDAP ----------------------------------------------------------------------------------

/// An extendedResp for message `id` with `code` and `diagnostic`.
fn ldap_response(id: u8, code: u8, diagnostic: &str) -> Vec<u8> {
    let mut op = vec![0x0a, 0x01, code, 0x04, 0x00, 0x04, diagnostic.len() as u8];
    op.extend_from_slice(diagnostic.as_bytes());
    let mut body = vec![0x02, 0x01, id, 0x78, op.len() as u8];
    body.extend(op);
    let mut message = vec![0x30, body.len() as u8];
    message.extend(body);
    message
}

#[test]
fn ldap_success_sends_the_s_client_request() {
    let script = vec![
        Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
        Step::Send(ldap_response(1, 0, "")),
    ];
    let t = upgrade(StarttlsProtocol::Ldap, script);
    assert_eq!(t.go_ahead, "extendedResp resultCode 0 (success)");
    assert_eq!(t.greeting, "");
}

#[test]
fn ldap_result_codes() {
    let cases = [
        (2, "unsupported extended operation", "not offered"),
        (52, "Could not initialize TLS", "refused"),
        (1, "", "refused"),
    ];
    for (code, diagnostic, kind) in cases {
        let script = vec![
            Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
            Step::Send(ldap_response(1, code, diagnostic)),
        ];
        let err = failure(StarttlsProtocol::Ldap, script);
        let got = match &err {
            StarttlsError::NotOffered { reply, .. } => ("not offered", reply),
            StarttlsError::Refused { reply, .. } => ("refused", reply),
            other => panic!("{code}: {other:?}"),
        };
        assert_eq!(got.0, kind, "{code}");
        assert!(
            got.1
                .starts_with(&format!("extendedResp resultCode {code} (")),
            "{got:?}"
        );
        assert!(got.1.ends_with(diagnostic), "{got:?}");
    }
}

#[test]
fn ldap_notice_of_disconnection_is_refused() {
    let oid = b"1.3.6.1.4.1.1466.20036";
    let mut op = vec![
        0x0a,
        0x01,
        52,
        0x04,
        0x00,
        0x04,
        0x00,
        0x8a,
        oid.len() as u8,
    ];
    op.extend_from_slice(oid);
    let mut body = vec![0x02, 0x01, 0x00, 0x78, op.len() as u8];
    body.extend(op);
    let mut message = vec![0x30, body.len() as u8];
    message.extend(body);
    let script = vec![
        Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
        Step::Send(message),
    ];
    let err = failure(StarttlsProtocol::Ldap, script);
    assert!(
        matches!(&err, StarttlsError::Refused { reply, .. } if reply.contains("20036")),
        "{err:?}"
    );
}

#[test]
fn ldap_wrong_message_and_garbage_are_unexpected() {
    let cases: [(Vec<u8>, &str); 4] = [
        (
            ldap_response(2, 0, ""),
            "extendedResp resultCode 0 (success)",
        ),
        (b"220 mx.example.org ESMTP\r\n".to_vec(), "220 mx"),
        (vec![0x30, 0x05, 0x02, 0x01, 0x01, 0x78, 0x00], "0\\x05"),
        (TLS_RECORD.to_vec(), "\\x16\\x03"),
    ];
    for (reply, shown) in cases {
        let script = vec![
            Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
            Step::Send(reply),
        ];
        let err = failure(StarttlsProtocol::Ldap, script);
        assert!(
            matches!(&err, StarttlsError::UnexpectedReply { during: "StartTLS response", reply }
                if reply.starts_with(shown)),
            "{shown}: {err:?}"
        );
    }
}

// ---- NNTP ----------------------------------------------------------------------------------

fn nntp_until_starttls() -> Vec<Step> {
    vec![
        send("200 news.example.org InterNetNews NNRP server ready\r\n"),
        expect("CAPABILITIES\r\n"),
        send("101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"),
        expect("STARTTLS\r\n"),
    ]
}

#[test]
fn nntp_success() {
    let mut script = nntp_until_starttls();
    script.push(send("382 Begin TLS negotiation now\r\n"));
    let t = upgrade(StarttlsProtocol::Nntp, script);
    assert_eq!(t.capabilities, ["VERSION 2", "READER", "STARTTLS"]);
    assert_eq!(t.go_ahead, "382 Begin TLS negotiation now");
}

#[test]
fn nntp_refusals() {
    let err = failure(
        StarttlsProtocol::Nntp,
        vec![
            send("502 You have no permission to talk\r\n"),
            Step::AwaitClose,
        ],
    );
    assert!(
        matches!(
            err,
            StarttlsError::Refused {
                during: "greeting",
                ..
            }
        ),
        "{err:?}"
    );

    let mut script = nntp_until_starttls();
    script.push(send("580 Can not initiate TLS negotiation\r\n"));
    let err = failure(StarttlsProtocol::Nntp, script);
    assert!(
        matches!(&err, StarttlsError::Refused { during: "STARTTLS reply", reply, .. }
            if reply == "580 Can not initiate TLS negotiation"),
        "{err:?}"
    );
}

#[test]
fn nntp_without_starttls_is_not_offered() {
    for caps in [
        "101 Capability list:\r\nVERSION 2\r\nREADER\r\n.\r\n",
        "500 What?\r\n",
    ] {
        let script = vec![
            send("201 read only\r\n"),
            expect("CAPABILITIES\r\n"),
            send(caps),
            Step::AwaitClose,
        ];
        let err = failure(StarttlsProtocol::Nntp, script);
        assert!(
            matches!(err, StarttlsError::NotOffered { .. }),
            "{caps}: {err:?}"
        );
    }
}

#[test]
fn nntp_wrong_protocol_and_garbage_are_unexpected() {
    for greeting in ["* OK IMAP4rev1 ready\r\n", "2000 x\r\n", "331 password\r\n"] {
        let err = failure(
            StarttlsProtocol::Nntp,
            vec![send(greeting), Step::AwaitClose],
        );
        assert!(
            matches!(
                &err,
                StarttlsError::UnexpectedReply {
                    during: "greeting",
                    ..
                }
            ),
            "{greeting}: {err:?}"
        );
    }
    let err = failure(
        StarttlsProtocol::Nntp,
        vec![Step::Send(TLS_RECORD.to_vec())],
    );
    assert!(err.server_spoke_tls(), "{err:?}");
}

// ---- ManageSieve ---------------------------------------------------------------------------

const SIEVE_GREETING: &str =
    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto\"\r\n\
                              \"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n";

#[test]
fn sieve_success() {
    let script = vec![
        send(SIEVE_GREETING),
        expect("STARTTLS\r\n"),
        send("OK \"Begin TLS negotiation now.\"\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Sieve, script);
    assert_eq!(
        t.capabilities,
        [
            "IMPLEMENTATION Dovecot Pigeonhole",
            "SIEVE fileinto",
            "STARTTLS",
            "VERSION 1.0"
        ]
    );
    assert_eq!(t.greeting, "OK \"Dovecot ready.\"");
    assert_eq!(t.go_ahead, "OK \"Begin TLS negotiation now.\"");
}

#[test]
fn sieve_refusals() {
    let script = vec![
        send(SIEVE_GREETING),
        expect("STARTTLS\r\n"),
        send("NO \"TLS is off\"\r\n"),
    ];
    let err = failure(StarttlsProtocol::Sieve, script);
    assert!(
        matches!(&err, StarttlsError::Refused { during: "STARTTLS reply", reply, .. }
            if reply == "NO \"TLS is off\""),
        "{err:?}"
    );
    let err = failure(
        StarttlsProtocol::Sieve,
        vec![send("BYE \"Too many connections\"\r\n")],
    );
    assert!(
        matches!(
            err,
            StarttlsError::Refused {
                during: "greeting",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn sieve_without_starttls_is_not_offered() {
    let script = vec![
        send("\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN\"\r\nOK \"ready\"\r\n"),
        Step::AwaitClose,
    ];
    let err = failure(StarttlsProtocol::Sieve, script);
    assert!(
        matches!(&err, StarttlsError::NotOffered { reply, .. }
            if reply == "IMPLEMENTATION x\nSASL PLAIN\nOK \"ready\""),
        "{err:?}"
    );
}

#[test]
fn sieve_wrong_protocol_and_garbage_are_unexpected() {
    for greeting in ["+OK POP3 ready\r\n", "\"STARTTLS\r\n", "OKAY\r\n"] {
        let err = failure(
            StarttlsProtocol::Sieve,
            vec![send(greeting), Step::AwaitClose],
        );
        assert!(
            matches!(
                &err,
                StarttlsError::UnexpectedReply {
                    during: "greeting",
                    ..
                }
            ),
            "{greeting}: {err:?}"
        );
    }
    let err = failure(
        StarttlsProtocol::Sieve,
        vec![Step::Send(TLS_RECORD.to_vec())],
    );
    assert!(err.server_spoke_tls(), "{err:?}");
}

// ---- MySQL ---------------------------------------------------------------------------------

/// A protocol-10 greeting with these lower capability flags.
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

#[test]
fn mysql_success_sends_the_s_client_ssl_request() {
    let script = vec![
        Step::Send(mysql_greeting(0xfffe)),
        Step::Expect(MYSQL_SSL_REQUEST.to_vec()),
    ];
    let t = upgrade(StarttlsProtocol::Mysql, script);
    assert_eq!(
        t.greeting,
        "protocol 10, server 10.11.6-MariaDB-0+deb12u1, connection 9, capabilities 0x81fffffe"
    );
    assert!(t.capabilities.iter().any(|c| c == "CLIENT_SSL"), "{t:?}");
    assert_eq!(t.go_ahead, "");
}

#[test]
fn mysql_without_client_ssl_is_not_offered_and_nothing_is_sent() {
    let script = vec![Step::Send(mysql_greeting(0xf7fe)), Step::AwaitClose];
    let err = failure(StarttlsProtocol::Mysql, script);
    assert!(
        matches!(&err, StarttlsError::NotOffered { protocol: StarttlsProtocol::Mysql, reply }
            if reply.contains("capabilities 0x81fff7fe")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("give the server a certificate"),
        "{err}"
    );
}

#[test]
fn mysql_error_packet_is_refused() {
    let mut packet = vec![0, 0, 0, 0, 0xff, 0x6a, 0x04];
    packet.extend_from_slice(b"Host '192.0.2.1' is not allowed to connect");
    packet[0] = (packet.len() - 4) as u8;
    let err = failure(
        StarttlsProtocol::Mysql,
        vec![Step::Send(packet), Step::AwaitClose],
    );
    assert!(
        matches!(&err, StarttlsError::Refused { during: "greeting", reply, .. }
            if reply == "error 1130: Host '192.0.2.1' is not allowed to connect"),
        "{err:?}"
    );
}

#[test]
fn mysql_wrong_protocol_and_garbage_are_unexpected() {
    let mut truncated = mysql_greeting(0xffff);
    truncated.truncate(20);
    truncated[0] = 16;
    let cases: [Vec<u8>; 4] = [
        b"220 mx.example.org ESMTP\r\n".to_vec(),
        b"\x05\x00\x00\x00\x09abcd".to_vec(),
        truncated,
        TLS_RECORD.to_vec(),
    ];
    for reply in cases {
        let err = failure(
            StarttlsProtocol::Mysql,
            vec![Step::Send(reply.clone()), Step::AwaitClose],
        );
        assert!(
            matches!(
                err,
                StarttlsError::UnexpectedReply {
                    during: "greeting",
                    ..
                }
            ),
            "{reply:?}: {err:?}"
        );
    }
    let err = failure(
        StarttlsProtocol::Mysql,
        vec![Step::Send(TLS_RECORD.to_vec())],
    );
    assert!(err.server_spoke_tls(), "{err:?}");
}

#[test]
fn mysql_bytes_after_the_greeting_are_refused() {
    let mut bytes = mysql_greeting(0xffff);
    bytes.extend_from_slice(b"xyz");
    let err = failure(
        StarttlsProtocol::Mysql,
        vec![Step::Send(bytes), Step::Expect(MYSQL_SSL_REQUEST.to_vec())],
    );
    assert!(
        matches!(err, StarttlsError::InjectedBytes { count: 3, .. }),
        "{err:?}"
    );
}

// ---- IRC -----------------------------------------------------------------------------------

#[test]
fn irc_success_after_notices() {
    let script = vec![
        expect("STARTTLS\r\n"),
        send(":irc.example.org NOTICE * :*** Looking up your hostname...\r\n"),
        send(":irc.example.org 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"),
    ];
    let t = upgrade(StarttlsProtocol::Irc, script);
    assert_eq!(
        t.greeting,
        ":irc.example.org NOTICE * :*** Looking up your hostname..."
    );
    assert_eq!(
        t.go_ahead,
        ":irc.example.org 670 * :STARTTLS successful, go ahead with TLS handshake"
    );
}

#[test]
fn irc_refusals() {
    let cases = [
        (":irc 691 * :STARTTLS failure\r\n", "refused"),
        (
            "ERROR :Closing link: (unknown@127.0.0.1) [Registration timeout]\r\n",
            "refused",
        ),
        (":irc 421 * STARTTLS :Unknown command\r\n", "not offered"),
        (":irc 451 * :You have not registered\r\n", "not offered"),
    ];
    for (reply, kind) in cases {
        let err = failure(
            StarttlsProtocol::Irc,
            vec![expect("STARTTLS\r\n"), send(reply)],
        );
        let got = match &err {
            StarttlsError::Refused { reply, .. } => ("refused", reply),
            StarttlsError::NotOffered { reply, .. } => ("not offered", reply),
            other => panic!("{reply}: {other:?}"),
        };
        assert_eq!((got.0, got.1.as_str()), (kind, reply.trim_end()), "{reply}");
    }
}

#[test]
fn irc_wrong_protocol_and_garbage_are_unexpected() {
    for reply in ["* OK IMAP4rev1\r\n", ":only-a-prefix\r\n", "\r\n"] {
        let err = failure(
            StarttlsProtocol::Irc,
            vec![expect("STARTTLS\r\n"), send(reply), Step::AwaitClose],
        );
        assert!(
            matches!(
                err,
                StarttlsError::UnexpectedReply {
                    during: "STARTTLS reply",
                    ..
                }
            ),
            "{reply:?}: {err:?}"
        );
    }
    let err = failure(
        StarttlsProtocol::Irc,
        vec![expect("STARTTLS\r\n"), Step::Send(TLS_RECORD.to_vec())],
    );
    assert!(err.server_spoke_tls(), "{err:?}");
}

// ---- replies split across reads, and endless replies -------------------------------------

#[test]
fn replies_dripped_a_byte_at_a_time_still_parse() {
    let pause = Duration::from_millis(1);
    let script = vec![
        Step::Expect(LDAP_STARTTLS_REQUEST.to_vec()),
        Step::Drip(ldap_response(1, 0, "ok"), pause),
    ];
    let t = upgrade(StarttlsProtocol::Ldap, script);
    assert_eq!(t.go_ahead, "extendedResp resultCode 0 (success): ok");

    let script = vec![
        Step::Drip(mysql_greeting(0xffff), pause),
        Step::Expect(MYSQL_SSL_REQUEST.to_vec()),
    ];
    upgrade(StarttlsProtocol::Mysql, script);

    let mut script = vec![expect(XMPP_HEADER)];
    script.push(Step::Drip(
        format!(
            "{XMPP_SERVER_HEADER}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
             </stream:features>"
        )
        .into_bytes(),
        pause,
    ));
    script.push(expect(STARTTLS_ELEMENT));
    script.push(send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    upgrade(StarttlsProtocol::Xmpp, script);
}

#[test]
fn endless_replies_are_too_long() {
    let notices = ":irc NOTICE * :*** hello\r\n".repeat(1100);
    let err = failure(
        StarttlsProtocol::Irc,
        vec![expect("STARTTLS\r\n"), Step::Flood(notices.into_bytes())],
    );
    assert!(
        matches!(
            err,
            StarttlsError::TooLong {
                during: "STARTTLS reply"
            }
        ),
        "{err:?}"
    );

    let features = format!("<stream:features>{}", "<a/>".repeat(20_000));
    let err = failure(
        StarttlsProtocol::Xmpp,
        vec![
            expect(XMPP_HEADER),
            send(XMPP_SERVER_HEADER),
            Step::Flood(features.into_bytes()),
        ],
    );
    assert!(
        matches!(
            err,
            StarttlsError::TooLong {
                during: "stream features"
            }
        ),
        "{err:?}"
    );

    let caps = "\"X\"\r\n".repeat(1100);
    let err = failure(
        StarttlsProtocol::Sieve,
        vec![Step::Flood(caps.into_bytes())],
    );
    assert!(
        matches!(err, StarttlsError::TooLong { during: "greeting" }),
        "{err:?}"
    );
}
