//! The fuzz targets as property tests (cargo-fuzz needs a nightly toolchain; these run on
//! stable in every `cargo test`): the transport URL parser, the fingerprint parser, the
//! STARTTLS reply parsers, and a memory-BIO server fed arbitrary first flights. Each replays
//! its seed corpus in fuzz/corpus/ first, then runs random cases: `PROPTEST_CASES` sets how
//! many (scripts/test.sh raises it; the default here is 256).

use std::path::{Path, PathBuf};

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod};
use proptest::prelude::*;
use tlshake::fingerprint::Fingerprint;
use tlshake::membio::MemoryHandshake;
use tlshake::starttls::reply::{
    parse_ftp_reply, parse_imap_response, parse_pop3_reply, parse_postgres_response,
    parse_smtp_reply, ReplyError,
};
use tlshake::url::TransportUrl;
use tlshake::{bundled, HandshakeOutcome};

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
}

#[test]
fn starttls_reply_corpus() {
    for (_, bytes) in corpus("starttls_replies") {
        check_replies(&bytes);
    }
}

// ---- a memory-BIO server fed arbitrary first flights -----------------------------------

fn server_context() -> SslContext {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(bundled::cert_path("server.pem"))
        .unwrap();
    b.set_private_key_file(bundled::cert_path("server.key"), SslFiletype::PEM)
        .unwrap();
    b.build()
}

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
    let ctx = server_context();
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
    fn memory_server_survives_arbitrary_first_flights(data in first_flights(), eof in any::<bool>()) {
        thread_local!(static CTX: SslContext = server_context());
        CTX.with(|ctx| check_first_flight(ctx, &data, eof));
    }
}
