//! `tlshake::Error`, the one error a caller can hold: every public error converts into it,
//! and the converted error says the same thing (`{}` and `{:#}`), keeps the same cause chain,
//! gives the original back, and has the kind of failure it was.

use crate::common;

use std::error::Error as StdError;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use tlshake::client::{self, ClientConfig};
use tlshake::server::{RejectReason, ServerConfig, TlsListener};
use tlshake::url::TransportUrl;
use tlshake::{Error, ErrorKind, Handshake};

/// Every public error type of the crate converts into [`Error`] (this does not compile
/// otherwise).
#[allow(dead_code)]
fn every_public_error_converts() {
    fn converts<E: Into<Error>>() {}
    converts::<tlshake::HandshakeError>();
    converts::<tlshake::client::ConnectError>();
    converts::<tlshake::client::ConfigError>();
    converts::<tlshake::client::ProxyError>();
    converts::<tlshake::server::ServerConfigError>();
    converts::<tlshake::server::ServerError>();
    converts::<tlshake::server::RejectReason>();
    converts::<tlshake::starttls::StarttlsError>();
    converts::<tlshake::starttls::UnknownStarttlsProtocol>();
    converts::<tlshake::StreamError>();
    converts::<tlshake::MultiError>();
    converts::<tlshake::LimitError>();
    converts::<tlshake::certstore::CertStoreError>();
    converts::<tlshake::session_file::SessionFileError>();
    converts::<tlshake::url::UrlError>();
    converts::<tlshake::PolicyError>();
    converts::<tlshake::fingerprint::FingerprintError>();
    converts::<tlshake::KeyLogError>();
    converts::<tlshake::ErrorQueue>();
    converts::<tlshake::UnknownVersion>();
    converts::<tlshake::UnknownNodelayPolicy>();
    converts::<tlshake::ech::EchError>();
    converts::<tlshake::ech::EchConfigError>();
    converts::<tlshake::ech::EchKeyError>();
    converts::<tlshake::harness::HarnessError>();
    converts::<tlshake::dtls::DtlsError>();
}

/// Each level of `e`'s chain, as `{}` writes it.
fn chain(e: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        out.push(cause.to_string());
        next = cause.source();
    }
    out
}

/// `make` gives the same error twice: one is converted, the other kept to compare.
fn converts_whole<E>(mut make: impl FnMut() -> E, kind: ErrorKind, levels: usize)
where
    E: StdError + Send + Sync + 'static,
    Error: From<E>,
{
    let (original, converted) = (make(), Error::from(make()));
    assert_eq!(converted.to_string(), original.to_string());
    assert_eq!(format!("{converted:#}"), format!("{original:#}"));
    assert_eq!(chain(&converted), chain(&original));
    assert_eq!(chain(&converted).len(), levels, "{:?}", chain(&original));
    assert_eq!(converted.kind(), kind, "{original:#}");
    assert!(converted.downcast_ref::<E>().is_some());
    // {:#} tells the causes {} leaves out.
    let tells_its_own = (&original as &dyn StdError)
        .downcast_ref::<tlshake::HandshakeError>()
        .is_some();
    if levels > 1 && !tells_its_own {
        let whole = format!("{converted:#}");
        for cause in &chain(&original)[1..] {
            assert!(whole.contains(cause.as_str()), "{whole} lacks {cause}");
        }
        assert!(!converted.to_string().contains(&chain(&original)[1]));
    }
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A peer that answers in plaintext and closes.
fn plaintext_peer() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in l.incoming().take(2).flatten() {
            let _ = s.write_all(b"220 smtp.example ESMTP ready\r\n");
        }
    });
    port
}

#[test]
fn configuration_errors_keep_their_chain() {
    converts_whole(
        || {
            "tls://example.com:99999"
                .parse::<TransportUrl>()
                .unwrap_err()
        },
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || ClientConfig::builder().ciphers("NOPE").build().unwrap_err(),
        ErrorKind::Config,
        2,
    );
    converts_whole(
        || {
            ClientConfig::builder()
                .key_log("/nonexistent/dir/keys.log")
                .build()
                .unwrap_err()
        },
        ErrorKind::Config,
        3,
    );
    converts_whole(
        || tlshake::internals::check_groups("no-such-group").unwrap_err(),
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || {
            tlshake::certstore::CertStore::load_dir(Path::new("/nonexistent/store"), &[])
                .unwrap_err()
        },
        ErrorKind::Config,
        2,
    );
    converts_whole(
        || match tlshake::session_file::read_session("/nonexistent/session.pem") {
            Err(e) => e,
            Ok(_) => panic!("a missing file was read"),
        },
        ErrorKind::Config,
        2,
    );
    converts_whole(
        || {
            "zz".parse::<tlshake::fingerprint::Fingerprint>()
                .unwrap_err()
        },
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || "tls9".parse::<tlshake::ProtocolVersion>().unwrap_err(),
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || "sometimes".parse::<tlshake::NodelayPolicy>().unwrap_err(),
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || {
            "gopher"
                .parse::<tlshake::starttls::StarttlsProtocol>()
                .unwrap_err()
        },
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || tlshake::ech::EchConfigList::parse(b"!!").unwrap_err(),
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || {
            ServerConfig::builder()
                .certificate_files("/nonexistent/server.pem", "/nonexistent/server.key")
                .build()
                .map(|c| c.context().clone())
                .unwrap_err()
        },
        ErrorKind::Config,
        3,
    );
    converts_whole(
        || {
            tlshake::dtls::DtlsOptions::new()
                .mtu(100)
                .check()
                .unwrap_err()
        },
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || {
            let config = ClientConfig::builder().build().expect("config");
            let url: TransportUrl = "dtls://127.0.0.1:9".parse().expect("url");
            let options = tlshake::dtls::DtlsOptions::new().mtu(100);
            tlshake::dtls::connect(&url, &config, &options).unwrap_err()
        },
        ErrorKind::Config,
        1,
    );
    converts_whole(
        || {
            let method = openssl::ssl::SslMethod::dtls();
            let ctx = openssl::ssl::SslContext::builder(method).unwrap().build();
            let mut ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
            tlshake::dtls::DtlsOptions::new()
                .srtp_profiles("SRTP_NONSENSE")
                .apply(&mut ssl)
                .unwrap_err()
        },
        ErrorKind::Config,
        2,
    );
    converts_whole(
        || {
            let stack = openssl::x509::X509::from_pem(b"junk").unwrap_err();
            tlshake::ErrorQueue::from(stack)
        },
        ErrorKind::Setup,
        1,
    );
}

/// A variant that only carries another error (`ConnectError::Config`, `ConfigError::Policy`,
/// ...) is that error: the same words and the same causes, never its message twice.
#[test]
fn a_wrapping_variant_is_the_error_it_wraps() {
    let inner = || ClientConfig::builder().ciphers("NOPE").build().unwrap_err();
    let wrapped = client::ConnectError::from(inner());
    assert_eq!(chain(&wrapped), chain(&inner()));
    assert_eq!(format!("{wrapped:#}"), format!("{:#}", inner()));
    let policy = ClientConfig::builder()
        .groups("no-such-group")
        .build()
        .unwrap_err();
    let alone = tlshake::internals::check_groups("no-such-group").unwrap_err();
    assert_eq!(chain(&policy), chain(&alone));
}

#[test]
fn connection_errors_keep_their_chain_and_kind() {
    let port = closed_port();
    let url: TransportUrl = format!("tls://127.0.0.1:{port}").parse().expect("url");
    let config = ClientConfig::builder().build().expect("config");
    converts_whole(
        || client::connect(&url, &config).unwrap_err(),
        ErrorKind::Refused,
        1,
    );

    let plain = plaintext_peer();
    let url: TransportUrl = format!("tls://127.0.0.1:{plain}").parse().expect("url");
    let original = client::connect(&url, &config).unwrap_err();
    let converted = Error::from(client::connect(&url, &config).unwrap_err());
    assert_eq!(converted.kind(), ErrorKind::Protocol, "{original:#}");
    assert_eq!(chain(&converted), chain(&original));
    assert_eq!(format!("{converted:#}"), format!("{original:#}"));
    assert!(matches!(
        converted.hint(),
        Some(tlshake::Hint::PlaintextPeer { .. })
    ));
    assert_eq!(
        converted.handshake().map(|h| h.kind()),
        Some(ErrorKind::Protocol)
    );
    let whole = format!("{converted:#}");
    assert!(whole.contains("wrong version number"), "{whole}");
    assert!(
        whole.contains("hint: the peer answered in plaintext"),
        "{whole}"
    );
}

#[test]
fn handshake_and_server_errors_keep_their_chain_and_kind() {
    let plain = plaintext_peer();
    let handshake = || {
        let config = ClientConfig::builder().build().expect("config");
        let tcp = TcpStream::connect(("127.0.0.1", plain)).expect("connect");
        tcp.set_nonblocking(true).expect("nonblocking");
        Handshake::client(config.new_ssl("localhost").expect("ssl"), tcp)
            .expect("handshake")
            .drive(Instant::now() + Duration::from_secs(10))
            .unwrap_err()
    };
    converts_whole(handshake, ErrorKind::Protocol, 2);

    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let server = || {
        ServerConfig::builder()
            .address("127.0.0.1")
            .port(port)
            .certificate_files(common::cert("server.pem"), common::cert("server.key"))
    };
    converts_whole(
        || TlsListener::bind(&crate::common::built(&server())).unwrap_err(),
        ErrorKind::Listener,
        1,
    );
    drop(taken);
    let mut listener =
        TlsListener::bind(&crate::common::built(&server().port(0))).expect("listener");
    converts_whole(|| listener_timeout(&mut listener), ErrorKind::Timeout, 1);
    converts_whole(
        || RejectReason::TooManyPending { limit: 1 },
        ErrorKind::Refused,
        1,
    );
}

fn listener_timeout(listener: &mut TlsListener) -> tlshake::server::ServerError {
    listener.accept_one(Instant::now()).unwrap_err()
}
