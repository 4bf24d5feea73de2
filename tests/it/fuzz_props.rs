//! The fuzz targets as property tests (cargo-fuzz needs a nightly toolchain; these run on
//! stable in every `cargo test`): the transport URL parser, the fingerprint parser, the
//! STARTTLS reply parsers, and a memory-BIO server fed arbitrary first flights. Each replays
//! its seed corpus in fuzz/corpus/ first, then runs random cases: `PROPTEST_CASES` sets how
//! many (scripts/test.sh raises it; the default here is 256).

use crate::common;
use std::path::{Path, PathBuf};

use openssl::ssl::{Ssl, SslContext};
use proptest::prelude::*;
use tlshake::fingerprint::Fingerprint;
use tlshake::starttls::reply::{
    escape_bytes, parse_ftp_reply, parse_imap_response, parse_irc_message, parse_ldap_message,
    parse_mysql_greeting, parse_nntp_reply, parse_pop3_reply, parse_postgres_response,
    parse_sieve_response, parse_smtp_reply, parse_xmpp_item, MysqlGreeting, ReplyError, XmppItem,
    CLIENT_SSL, XMPP_TLS_NS,
};
use tlshake::url::TransportUrl;
use tlshake::HandshakeOutcome;
use tlshake::MemoryHandshake;

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
    )
}

// ---- transport URL ---------------------------------------------------------------------

fn check_url(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    match text.parse::<TransportUrl>() {
        Ok(url) => {
            let printed = url.to_string();
            assert_eq!(
                printed.parse::<TransportUrl>().as_ref(),
                Ok(&url),
                "{printed:?}"
            );
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn url_corpus() {
    for (path, bytes) in corpus("transport_url") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ok = check_url(&bytes);
        assert_eq!(ok, name.starts_with("ok-"), "{name}");
    }
}

// ---- fingerprints ----------------------------------------------------------------------

fn check_fingerprint(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    match Fingerprint::parse(&text) {
        Ok(fp) => {
            // What it prints parses back to the same fingerprint.
            let printed = fp.to_string();
            assert_eq!(
                Fingerprint::parse(&printed).as_ref(),
                Ok(&fp),
                "{printed:?}"
            );
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn fingerprint_corpus() {
    for (path, bytes) in corpus("fingerprint") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(check_fingerprint(&bytes), name.starts_with("ok-"), "{name}");
    }
}

// ---- STARTTLS replies ------------------------------------------------------------------

/// A reply parser: the reply and the bytes it used, `None` when more bytes are needed.
type ReplyParser<T> = fn(&[u8]) -> Result<Option<(T, usize)>, ReplyError>;

/// A complete reply uses between 1 and all of the bytes, and the same input cut right after
/// the reply gives the same answer.
fn check_reply<T: PartialEq + std::fmt::Debug>(data: &[u8], parse: ReplyParser<T>) {
    if let Ok(Some((reply, used))) = parse(data) {
        assert!(
            used >= 1 && used <= data.len(),
            "used {used} of {}",
            data.len()
        );
        let again = parse(&data[..used]);
        assert_eq!(again, Ok(Some((reply, used))));
    }
}

fn check_replies(data: &[u8]) {
    check_reply(data, parse_smtp_reply);
    check_reply(data, parse_ftp_reply);
    check_reply(data, parse_imap_response);
    check_reply(data, parse_pop3_reply);
    check_reply(data, parse_postgres_response);
    check_reply(data, parse_xmpp_item);
    check_reply(data, parse_ldap_message);
    check_reply(data, parse_nntp_reply);
    check_reply(data, parse_sieve_response);
    check_reply(data, parse_mysql_greeting);
    check_reply(data, parse_irc_message);
}

/// A well-formed reply that fills `data`: it parses to one reply using every byte, and every
/// shorter prefix is a valid beginning (`Ok(None)`), so a reply split across reads is never
/// refused early. Returns the reply.
fn whole_reply<T: PartialEq + std::fmt::Debug>(data: &[u8], parse: ReplyParser<T>) -> T {
    for cut in 0..data.len() {
        assert_eq!(parse(&data[..cut]), Ok(None), "prefix {cut} of {data:?}");
    }
    match parse(data) {
        Ok(Some((reply, used))) if used == data.len() => reply,
        other => panic!("{other:?} for {data:?}"),
    }
}

/// An LDAP extendedResp for message `id` with `code` and `diagnostic`, in BER, with a long
/// length form when the content needs one.
fn ldap_response(id: u8, code: u8, diagnostic: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        match content.len() {
            n if n < 0x80 => v.push(n as u8),
            n if n < 0x100 => v.extend([0x81, n as u8]),
            n => v.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        v.extend_from_slice(content);
        v
    }
    let mut op = tlv(0x0a, &[code]);
    op.extend(tlv(0x04, b""));
    op.extend(tlv(0x04, diagnostic));
    let mut body = tlv(0x02, &[id]);
    body.extend(tlv(0x78, &op));
    tlv(0x30, &body)
}

fn mysql_greeting(version: &str, id: u32, caps: u32) -> Vec<u8> {
    let mut p = vec![0x0a];
    p.extend_from_slice(version.as_bytes());
    p.push(0);
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(b"12345678\0");
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.extend_from_slice(&[0x21, 0x02, 0x00]);
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    let len = u32::try_from(p.len()).unwrap().to_le_bytes();
    let mut packet = vec![len[0], len[1], len[2], 0];
    packet.extend(p);
    packet
}

#[test]
fn starttls_reply_corpus() {
    for (_, bytes) in corpus("starttls_replies") {
        check_replies(&bytes);
    }
}

// ---- a memory-BIO server fed arbitrary first flights -----------------------------------

/// Feeds `data` (then end of file when `eof`) to a fresh server: it never completes, never
/// panics, and a failure always carries a kind and, if protocol-level, OpenSSL's reasons.
fn check_first_flight(ctx: &SslContext, data: &[u8], eof: bool) {
    let mut s = MemoryHandshake::server(Ssl::new(ctx).unwrap()).unwrap();
    s.feed(data);
    if eof {
        s.feed_eof();
    }
    match s.step() {
        HandshakeOutcome::Done => panic!("a server completed on {data:02x?}"),
        HandshakeOutcome::Want(_) => assert!(!eof, "wants more after EOF"),
        HandshakeOutcome::Failed(e) | HandshakeOutcome::Shutdown(e) => {
            assert!(!e.to_string().is_empty());
            if e.kind() == tlshake::ErrorKind::Protocol {
                assert!(!e.queue().is_empty(), "{e:?}");
            }
        }
    }
    assert!(openssl::error::ErrorStack::get().errors().is_empty());
}

#[test]
fn first_flight_corpus() {
    let ctx = common::server_ctx("server.pem", "server.key").build();
    for (_, bytes) in corpus("first_flight") {
        check_first_flight(&ctx, &bytes, false);
        check_first_flight(&ctx, &bytes, true);
    }
}

/// Byte strings that look like TLS often: a record header with a plausible type and version,
/// then anything.
fn first_flights() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        (
            prop::sample::select(vec![20u8, 21, 22, 23, 0x80]),
            0u8..5,
            proptest::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(t, minor, body)| {
                let len = u16::try_from(body.len()).unwrap().to_be_bytes();
                let mut v = vec![t, 3, minor, len[0], len[1]];
                v.extend(body);
                v
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn url_parser_roundtrips(s in "\\PC{0,40}|(tls|ssl|tcp)://[a-z0-9.:\\[\\]%]{0,30}(:[0-9]{0,6})?") {
        check_url(s.as_bytes());
    }

    #[test]
    fn fingerprint_parser_roundtrips(s in "\\PC{0,100}|((sha256|sha1|md5|SHA-1):)?[0-9a-fA-F:]{0,100}") {
        check_fingerprint(s.as_bytes());
    }

    #[test]
    fn starttls_parsers_keep_their_contract(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        text in "([0-9]{3}[ -][ -~]{0,20}\r?\n){0,4}|(\\* |[A-Z0-9.]+ )?(OK|NO|BAD|\\+OK|-ERR)[ -~]{0,20}\r\n",
    ) {
        check_replies(&data);
        check_replies(text.as_bytes());
    }

    #[test]
    fn new_starttls_parsers_keep_their_contract_on_text(
        text in "(<[a-z:]{1,10}( [a-z]{1,5}='[ -&(-;=-~]{0,10}')?/?>|</[a-z:]{1,10}>|\"[A-Z]{1,8}\"( \"[a-z ]{0,8}\")?\r\n|(OK|NO|BYE)( \"[ -~]{0,10}\")?\r\n|:[a-z.]{1,10} [0-9]{3}( [ -~]{0,10})?\r\n|[0-9]{3} [ -~]{0,10}\r\n|\\.\r\n){0,8}",
    ) {
        check_replies(text.as_bytes());
    }

    #[test]
    fn xmpp_features_parse_whole(
        children in proptest::collection::vec(("[a-z]{1,8}", proptest::option::of("[a-z:.-]{0,20}"), any::<bool>()), 0..6),
        declaration in any::<bool>(),
    ) {
        let mut text = String::from("<stream:features>");
        for (name, ns, nested) in &children {
            let attr = ns.as_ref().map(|n| format!(" xmlns='{n}'")).unwrap_or_default();
            if *nested {
                text.push_str(&format!("<{name}{attr}><required/>x</{name}>"));
            } else {
                text.push_str(&format!("<{name}{attr}/>"));
            }
        }
        text.push_str("</stream:features>");
        let XmppItem::Element(e) = whole_reply(text.as_bytes(), parse_xmpp_item) else {
            panic!("not an element: {text}")
        };
        let names: Vec<&str> = e.children.iter().map(|c| c.name.as_str()).collect();
        let wanted: Vec<&str> = children.iter().map(|(n, _, _)| n.as_str()).collect();
        prop_assert_eq!(names, wanted);
        let offers = children.iter().any(|(n, ns, _)| n == "starttls" && ns.as_deref() == Some(XMPP_TLS_NS));
        prop_assert_eq!(e.offers_starttls(), offers);
        if declaration {
            let item = whole_reply(b"<?xml version='1.0'?>", parse_xmpp_item);
            prop_assert_eq!(item, XmppItem::Declaration);
        }
    }

    #[test]
    fn ldap_responses_parse_whole(id in 1u8..128, code in 0u8..128, diagnostic in proptest::collection::vec(any::<u8>(), 0..300)) {
        let bytes = ldap_response(id, code, &diagnostic);
        let r = whole_reply(&bytes, parse_ldap_message);
        prop_assert_eq!((r.message_id, r.result_code), (u32::from(id), Some(u32::from(code))));
        prop_assert_eq!(r.diagnostic, escape_bytes(&diagnostic));
    }

    #[test]
    fn nntp_capabilities_parse_whole(lines in proptest::collection::vec("[ -~]{0,30}", 0..10)) {
        let mut text = String::from("101 Capability list:\r\n");
        for line in &lines {
            let stuffed = if line.starts_with('.') { format!(".{line}") } else { line.clone() };
            text.push_str(&stuffed);
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        let r = whole_reply(text.as_bytes(), parse_nntp_reply);
        prop_assert_eq!(r.code, 101);
        let wanted: Vec<String> = lines.iter().map(|l| escape_bytes(l.as_bytes())).collect();
        prop_assert_eq!(r.data, wanted);
    }

    #[test]
    fn sieve_greetings_parse_whole(caps in proptest::collection::vec(("[A-Z]{1,10}", proptest::option::of("[ !#-\\[\\]-~]{0,20}")), 0..8)) {
        let mut text = String::new();
        for (name, value) in &caps {
            match value {
                Some(v) => text.push_str(&format!("\"{name}\" \"{v}\"\r\n")),
                None => text.push_str(&format!("\"{name}\"\r\n")),
            }
        }
        text.push_str("OK \"ready\"\r\n");
        let r = whole_reply(text.as_bytes(), parse_sieve_response);
        let wanted: Vec<String> = caps
            .iter()
            .map(|(n, v)| v.as_ref().map_or(n.clone(), |v| format!("{n} {v}")))
            .collect();
        prop_assert_eq!(r.offers_starttls(), caps.iter().any(|(n, _)| n == "STARTTLS"));
        prop_assert_eq!(r.capabilities, wanted);
    }

    #[test]
    fn mysql_greetings_parse_whole(version in "[ -~]{0,40}", id in any::<u32>(), caps in any::<u32>()) {
        let bytes = mysql_greeting(&version, id, caps);
        let g = whole_reply(&bytes, parse_mysql_greeting);
        prop_assert_eq!(&g, &MysqlGreeting::Handshake {
            server_version: escape_bytes(version.as_bytes()),
            connection_id: id,
            capabilities: caps,
        });
        prop_assert_eq!(g.capability_names().contains(&"CLIENT_SSL"), caps & CLIENT_SSL != 0);
    }

    #[test]
    fn irc_numerics_parse_whole(
        prefix in proptest::option::of("[a-z.]{1,15}"),
        numeric in 100u16..1000,
        params in proptest::collection::vec("[!-9;-~]{1,8}", 0..4),
        trailing in proptest::option::of("[ -~]{0,30}"),
    ) {
        let mut line = prefix.as_ref().map(|p| format!(":{p} ")).unwrap_or_default();
        line.push_str(&numeric.to_string());
        for p in &params {
            line.push(' ');
            line.push_str(p);
        }
        if let Some(t) = &trailing {
            line.push_str(" :");
            line.push_str(t);
        }
        line.push_str("\r\n");
        let m = whole_reply(line.as_bytes(), parse_irc_message);
        prop_assert_eq!(m.numeric(), Some(numeric));
        prop_assert_eq!(m.prefix, prefix);
        let mut wanted = params.clone();
        wanted.extend(trailing);
        let wanted: Vec<String> = wanted.iter().map(|p| escape_bytes(p.as_bytes())).collect();
        prop_assert_eq!(m.params, wanted);
    }

    #[test]
    fn memory_server_survives_arbitrary_first_flights(data in first_flights(), eof in any::<bool>()) {
        thread_local!(static CTX: SslContext = common::server_ctx("server.pem", "server.key").build());
        CTX.with(|ctx| check_first_flight(ctx, &data, eof));
    }
}
