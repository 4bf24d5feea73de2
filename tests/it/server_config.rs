//! Bad server configurations and bind failures: each has its own error.

use crate::common;
use crate::server_support;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tlshake::bundled;
use tlshake::certstore::CertStoreError;
use tlshake::client::{ClientConfig, ConfigError};
use tlshake::fingerprint::FingerprintError;
use tlshake::server::{
    CertificateSource, ClientAuth, ServerConfig, ServerConfigBuilder, ServerConfigError,
    TlsListener,
};
use tlshake::PolicyError;
use tlshake::ProtocolSet;
use tlshake::ProtocolVersion;

use server_support::{base_config, cert};

/// The error of `config`: from [`build`](ServerConfigBuilder::build) (what can be checked
/// before a client connects), else from [`TlsListener::bind`].
fn bind_error(config: &ServerConfigBuilder) -> ServerConfigError {
    let built = match config.clone().build() {
        Ok(built) => built,
        Err(e) => return e,
    };
    match TlsListener::bind(&built) {
        Ok(listener) => panic!("bound {listener:?}, expected an error"),
        Err(e) => e,
    }
}

fn certificate_error(config: &ServerConfigBuilder) -> CertStoreError {
    match bind_error(config) {
        ServerConfigError::Certificate(e) => *e,
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[test]
fn builder_starts_at_port_zero_and_binds_the_port_given() {
    // Port 0 by default: the kernel's choice.
    let first = TlsListener::bind(&crate::common::built(&base_config())).expect("bind port 0");
    let port = first.local_addr().port();
    assert_ne!(port, 0);
    drop(first);
    // The u16 port given is the one bound (the type rules out ports past 65535).
    let again = TlsListener::bind(&crate::common::built(&base_config().port(port)))
        .expect("bind the same port");
    assert_eq!(again.local_addr().port(), port);
}

#[test]
fn port_zero_reports_the_port_it_got() {
    let listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = listener.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(listener.socket().local_addr().unwrap(), addr);
}

#[test]
fn unknown_name_in_the_store() {
    let config = base_config().certificate(
        CertificateSource::store_by_name(common::certs_dir(), "nosuch.example")
            .with_store_passwords([bundled::PASSPHRASE]),
    );
    let error = certificate_error(&config);
    assert!(
        matches!(&error, CertStoreError::NoNameMatch { name, .. } if name == "nosuch.example"),
        "{error:?}"
    );
}

#[test]
fn ambiguous_name_in_the_store() {
    // certs/ holds several valid certificates for localhost (ECDSA, RSA, via intermediate...).
    let config = base_config().certificate(
        CertificateSource::store_by_name(common::certs_dir(), "localhost")
            .with_store_passwords([bundled::PASSPHRASE]),
    );
    let error = certificate_error(&config);
    assert!(
        matches!(&error, CertStoreError::Ambiguous { candidates, .. } if candidates.len() > 1),
        "{error:?}"
    );
}

#[test]
fn bad_hash_text() {
    let config = base_config().certificate(
        CertificateSource::store_by_hash(common::certs_dir(), "12:34:zz")
            .with_store_passwords([bundled::PASSPHRASE]),
    );
    let error = certificate_error(&config);
    assert!(
        matches!(
            error,
            CertStoreError::BadFingerprint(FingerprintError::InvalidCharacter { .. })
        ),
        "{error:?}"
    );
}

#[test]
fn key_does_not_match_the_certificate() {
    let config = base_config().certificate_files(cert("server.pem"), cert("other-host.key"));
    let error = certificate_error(&config);
    assert!(
        matches!(error, CertStoreError::KeyMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn unreadable_store() {
    let missing = tempfile::tempdir().unwrap().path().join("no-such-dir");
    let config = base_config().store_certificate_by_name(&missing, "localhost");
    let error = certificate_error(&config);
    assert!(
        matches!(&error, CertStoreError::Unreadable { path, .. } if *path == missing),
        "{error:?}"
    );
}

#[test]
fn wrong_pkcs12_password() {
    let config = base_config().certificate_pkcs12(cert("server.p12"), "wrong");
    let error = certificate_error(&config);
    assert!(
        matches!(error, CertStoreError::Pkcs12Password { .. }),
        "{error:?}"
    );
    // A store with an archive it cannot open loads without it; a choice it does not find
    // names the archive, with the reason.
    let config = base_config().store_certificate_by_name(common::certs_dir(), "nosuch.example");
    let error = certificate_error(&config);
    let CertStoreError::NoNameMatch { unread, .. } = &error else {
        panic!("expected NoNameMatch, got {error:?}");
    };
    assert!(
        unread.iter().any(|file| matches!(
            file.error(),
            Some(CertStoreError::Pkcs12Password { path }) if path.ends_with("server.p12")
        )),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("wrong password for PKCS#12 file"),
        "{error}"
    );
}

#[test]
fn expired_certificate_refused_unless_allowed() {
    let config = base_config().certificate_files(cert("expired.pem"), cert("expired.key"));
    let error = certificate_error(&config);
    assert!(matches!(error, CertStoreError::Expired { .. }), "{error:?}");
    let config =
        base_config().certificate_files(cert("not-yet-valid.pem"), cert("not-yet-valid.key"));
    let error = certificate_error(&config);
    assert!(
        matches!(error, CertStoreError::NotYetValid { .. }),
        "{error:?}"
    );
    let allowed = config.allow_invalid_dates(true);
    assert!(TlsListener::bind(&crate::common::built(&allowed)).is_ok());
}

#[test]
fn sni_certificate_errors_name_the_server_name() {
    let config = base_config().sni_certificate(
        "other.example",
        CertificateSource::pem_files(cert("other-host.pem"), cert("server.key")),
    );
    let error = bind_error(&config);
    assert!(
        matches!(&error, ServerConfigError::SniCertificate { name, source } if matches!(**source, CertStoreError::KeyMismatch { .. }) && name == "other.example"),
        "{error:?}"
    );
    let twice = base_config()
        .sni_certificate(
            "a.example",
            CertificateSource::pem_files(cert("server.pem"), cert("server.key")),
        )
        .sni_certificate(
            "A.example",
            CertificateSource::pem_files(cert("server.pem"), cert("server.key")),
        );
    assert!(matches!(
        bind_error(&twice),
        ServerConfigError::DuplicateServerName { .. }
    ));
    let bad = base_config().sni_certificate(
        "not a name",
        CertificateSource::pem_files(cert("server.pem"), cert("server.key")),
    );
    assert!(matches!(
        bind_error(&bad),
        ServerConfigError::InvalidServerName { .. }
    ));
}

#[test]
fn ssl3_in_the_protocol_set() {
    let config = base_config()
        .protocols(ProtocolSet::SSL3 | ProtocolSet::TLS1_2)
        .allow_legacy_versions(true);
    let error = bind_error(&config);
    assert!(
        matches!(
            error,
            ServerConfigError::Policy(PolicyError::ProtocolRemoved {
                version: ProtocolVersion::Ssl3
            })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("SSLv3"), "{error}");
}

#[test]
fn tls1_without_the_legacy_opt_out() {
    let config = base_config().protocols(ProtocolSet::TLS1 | ProtocolSet::TLS1_2);
    let error = bind_error(&config);
    assert!(
        matches!(
            error,
            ServerConfigError::Policy(PolicyError::LegacyNeedsOptOut {
                version: ProtocolVersion::Tls1_0
            })
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("allow_legacy_versions(true)"),
        "{error}"
    );
}

#[test]
fn empty_protocol_set() {
    let error = bind_error(&base_config().protocols(ProtocolSet::EMPTY));
    assert!(
        matches!(error, ServerConfigError::Policy(PolicyError::NoVersion)),
        "{error:?}"
    );
}

#[test]
fn no_certificate() {
    let error = bind_error(&ServerConfig::builder().address("127.0.0.1"));
    assert!(
        matches!(error, ServerConfigError::NoCertificate),
        "{error:?}"
    );
}

#[test]
fn client_ca_file_problems() {
    let missing = cert("no-such-ca.pem");
    let error = bind_error(&base_config().client_auth(ClientAuth::Required {
        ca_file: missing.clone(),
    }));
    assert!(
        matches!(&error, ServerConfigError::ClientCaUnreadable { path, .. } if *path == missing),
        "{error:?}"
    );
    // A key file holds no certificate.
    let error = bind_error(&base_config().client_auth(ClientAuth::Optional {
        ca_file: cert("ca.key"),
    }));
    assert!(
        matches!(error, ServerConfigError::ClientCa { .. }),
        "{error:?}"
    );
}

#[test]
fn invalid_alpn_and_zero_settings() {
    let error = bind_error(&base_config().alpn(["h2", ""]));
    assert!(
        matches!(
            error,
            ServerConfigError::Policy(PolicyError::InvalidAlpn { .. })
        ),
        "{error:?}"
    );
    let error = bind_error(&base_config().max_pending(0));
    assert!(
        matches!(
            error,
            ServerConfigError::ZeroSetting {
                setting: "max_pending"
            }
        ),
        "{error:?}"
    );
    let error = bind_error(&base_config().handshake_timeout(Duration::ZERO));
    assert!(
        matches!(
            error,
            ServerConfigError::ZeroSetting {
                setting: "handshake_timeout"
            }
        ),
        "{error:?}"
    );
}

#[test]
fn address_not_on_this_machine() {
    let error = bind_error(&base_config().address("192.0.2.1"));
    let expected: SocketAddr = "192.0.2.1:0".parse().unwrap();
    assert!(
        matches!(error, ServerConfigError::AddressNotAvailable { addr } if addr == expected),
        "{error:?}"
    );
    assert!(error.to_string().contains("192.0.2.1"), "{error}");
}

#[test]
fn host_name_resolves_to_a_local_address() {
    let listener =
        TlsListener::bind(&crate::common::built(&base_config().address("localhost"))).unwrap();
    assert!(
        listener.local_addr().ip().is_loopback(),
        "{:?}",
        listener.local_addr()
    );
    let error = bind_error(&base_config().address("no-such-host.invalid"));
    assert!(
        matches!(&error, ServerConfigError::Resolve { host, .. } if host == "no-such-host.invalid"),
        "{error:?}"
    );
}

#[test]
fn second_bind_without_reuse_address_is_address_in_use() {
    let first = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = first.local_addr();
    let error = bind_error(&base_config().port(addr.port()).reuse_address(false));
    assert!(
        matches!(error, ServerConfigError::AddressInUse { addr: a } if a == addr),
        "{error:?}"
    );
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

#[test]
fn rebind_over_time_wait_needs_reuse_address() {
    let mut listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = listener.local_addr();
    let client = TcpStream::connect(addr).unwrap();
    // Let the listener accept it: the handshake is then pending, waiting for a ClientHello.
    let deadline = Instant::now() + Duration::from_secs(5);
    while listener.stats().pending == 0 && Instant::now() < deadline {
        let event = listener
            .next_event(Some(Instant::now() + Duration::from_millis(50)))
            .unwrap();
        assert!(event.is_none(), "{event:?}");
    }
    assert_eq!(listener.stats().pending, 1);
    // The server side closes first (its end goes to TIME_WAIT), then the client.
    drop(listener);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(std::io::Read::read(&mut &client, &mut buf).unwrap(), 0);
    drop(client);

    let port = addr.port();
    let error = bind_error(&base_config().port(port).reuse_address(false));
    assert!(
        matches!(error, ServerConfigError::AddressInUse { .. }),
        "{error:?}"
    );
    let again = TlsListener::bind(&crate::common::built(&base_config().port(port))).unwrap();
    assert_eq!(again.local_addr(), addr);
}

/// The client and the server builder run one policy: the same bad setting gives the same
/// `PolicyError`, with the same message.
#[test]
fn client_and_server_refuse_the_same_settings_alike() {
    let long = "x".repeat(256);
    let cases: Vec<(&str, ClientSetting, ServerConfigBuilder, PolicyError)> = vec![
        (
            "empty ALPN name",
            Box::new(|b| b.alpn(["h2", ""])),
            base_config().alpn(["h2", ""]),
            PolicyError::InvalidAlpn {
                protocol: String::new(),
            },
        ),
        (
            "256-byte ALPN name",
            Box::new({
                let long = long.clone();
                move |b| b.alpn([long.clone()])
            }),
            base_config().alpn([long.as_str()]),
            PolicyError::InvalidAlpn {
                protocol: long.clone(),
            },
        ),
        (
            "TLS 1.1 without the opt-out",
            Box::new(|b| {
                b.protocols(
                    ProtocolSet::range(ProtocolVersion::Tls1_1, ProtocolVersion::Tls1_3).unwrap(),
                )
            }),
            base_config().protocols(ProtocolSet::TLS1_1 | ProtocolSet::TLS1_2),
            PolicyError::LegacyNeedsOptOut {
                version: ProtocolVersion::Tls1_1,
            },
        ),
        (
            "SSL 3.0 even with the opt-out",
            Box::new(|b| {
                b.protocols(
                    ProtocolSet::range(ProtocolVersion::Ssl3, ProtocolVersion::Tls1_3).unwrap(),
                )
                .allow_legacy_versions(true)
            }),
            base_config()
                .protocols(ProtocolSet::SSL3 | ProtocolSet::TLS1_2)
                .allow_legacy_versions(true),
            PolicyError::ProtocolRemoved {
                version: ProtocolVersion::Ssl3,
            },
        ),
        (
            "security level 6",
            Box::new(|b| b.security_level(6)),
            base_config().security_level(6),
            PolicyError::SecurityLevel { level: 6 },
        ),
    ];
    for (what, client, server, expected) in cases {
        let client = match client(ClientConfig::builder()).build() {
            Err(ConfigError::Policy(e)) => e,
            other => panic!("{what}: client gave {other:?}"),
        };
        let server = match bind_error(&server) {
            ServerConfigError::Policy(e) => e,
            other => panic!("{what}: server gave {other:?}"),
        };
        assert_eq!(client, expected, "{what}");
        assert_eq!(server, expected, "{what}");
        assert_eq!(client.to_string(), server.to_string(), "{what}");
    }
    // Level 5 exists: the policy lets it through (the server's 2048-bit RSA key is then
    // OpenSSL's to refuse, not the policy's).
    assert!(ClientConfig::builder().security_level(5).build().is_ok());
    assert!(base_config()
        .security_level(2)
        .build()
        .map(|c| c.context().clone())
        .is_ok());
    assert!(!matches!(
        base_config()
            .security_level(5)
            .build()
            .map(|c| c.context().clone()),
        Err(ServerConfigError::Policy(_))
    ));
}

type ClientSetting =
    Box<dyn Fn(tlshake::client::ClientConfigBuilder) -> tlshake::client::ClientConfigBuilder>;
