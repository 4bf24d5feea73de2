//! The verification cache never says yes where OpenSSL says no: for every verification
//! setting a user can change on one connection (through the `openssl` crate on the `Ssl` of
//! `ClientConfig::new_ssl`, through `Handshake::ssl_mut`, or through FFI, here the harness's
//! `verify_param`), a configuration whose cache is warm gives the verdict a fresh
//! configuration gives, connection by connection, against the real `openssl s_server` of the
//! version under test. The verdict is the outcome, the X509 verify code and the length of the
//! verified chain; each setting's code is pinned as well.

use crate::common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use openssl::ssl::SslRef;
use openssl::x509::verify::{X509CheckFlags, X509VerifyFlags};
use openssl::x509::X509PurposeId;
use tlshake::client::{self, ClientConfig, ConnectOptions};
use tlshake::harness::verify_param;
use tlshake::harness::OpensslServer;
use tlshake::{HandshakeError, TlsStream};

// X509 verify codes from <openssl/x509_vfy.h>.
const OK: i32 = 0;
const UNABLE_TO_GET_CRL: i32 = 3;
const CERT_NOT_YET_VALID: i32 = 9;
const CERT_HAS_EXPIRED: i32 = 10;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const CERT_CHAIN_TOO_LONG: i32 = 22;
const INVALID_PURPOSE: i32 = 26;
const NO_EXPLICIT_POLICY: i32 = 43;
const HOSTNAME_MISMATCH: i32 = 62;
const EMAIL_MISMATCH: i32 = 63;
const IP_ADDRESS_MISMATCH: i32 = 64;
const DANE_NO_MATCH: i32 = 65;

/// What OpenSSL decided for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verdict {
    /// The handshake completed.
    done: bool,
    /// `SSL_get_verify_result`, or the verify result the failed handshake carries.
    code: i32,
    /// `SSL_get0_verified_chain`'s length, for a completed handshake.
    chain: Option<usize>,
}

fn verdict(result: Result<TlsStream<TcpStream>, HandshakeError>) -> Verdict {
    match result {
        Ok(tls) => Verdict {
            done: true,
            code: tls.ssl().verify_result().as_raw(),
            chain: tls.ssl().verified_chain().map(|chain| chain.len()),
        },
        Err(e) => Verdict {
            done: false,
            code: e.verify().map_or(OK, |v| v.code),
            chain: None,
        },
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn tcp(server: &OpensslServer) -> TcpStream {
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    tcp.set_nonblocking(true).expect("nonblocking");
    tcp
}

/// The three servers the settings are tried against.
struct Servers {
    /// `server.pem`: leaf (EKU serverAuth, SAN localhost, 127.0.0.1, ::1) under the root.
    leaf: OpensslServer,
    /// The same names under an intermediate CA (a chain of three).
    chain: OpensslServer,
    /// `*.tlshake.test` under the root.
    wildcard: OpensslServer,
}

impl Servers {
    fn start() -> Servers {
        let spawn = |cert_file: &str, key: &str, chain: Option<&str>| {
            let mut b = OpensslServer::builder()
                .cert(cert(cert_file))
                .key(cert(key));
            if let Some(chain) = chain {
                b = b.chain(cert(chain));
            }
            b.spawn().expect("s_server")
        };
        Servers {
            leaf: spawn("server.pem", "server.key", None),
            chain: spawn(
                "server-via-intermediate.pem",
                "server-via-intermediate.key",
                Some("intermediate-ca.pem"),
            ),
            wildcard: spawn("wildcard.pem", "wildcard.key", None),
        }
    }
}

#[derive(Clone, Copy)]
enum Peer {
    Leaf,
    Chain,
    Wildcard,
}

impl Peer {
    fn server(self, servers: &Servers) -> &OpensslServer {
        match self {
            Peer::Leaf => &servers.leaf,
            Peer::Chain => &servers.chain,
            Peer::Wildcard => &servers.wildcard,
        }
    }

    fn host(self) -> &'static str {
        match self {
            Peer::Wildcard => "a.tlshake.test",
            _ => "localhost",
        }
    }
}

/// One per-connection verification setting, and the verify code OpenSSL gives with it.
struct Setting {
    name: &'static str,
    peer: Peer,
    apply: fn(&mut SslRef),
    code: i32,
    /// Whether the handshake completes (a verify failure aborts it).
    done: bool,
}

fn settings() -> Vec<Setting> {
    let ok = |name, peer, apply| Setting {
        name,
        peer,
        apply,
        code: OK,
        done: true,
    };
    let fails = |name, peer, apply, code| Setting {
        name,
        peer,
        apply,
        code,
        done: false,
    };
    let mut all = vec![
        ok("nothing changed", Peer::Leaf, |_| {}),
        fails(
            "purpose SSL client",
            Peer::Leaf,
            |ssl| {
                ssl.param_mut()
                    .set_purpose(X509PurposeId::SSL_CLIENT)
                    .expect("purpose")
            },
            INVALID_PURPOSE,
        ),
        ok("purpose any", Peer::Leaf, |ssl| {
            ssl.param_mut()
                .set_purpose(X509PurposeId::ANY)
                .expect("purpose")
        }),
        fails(
            "trust OCSP signing",
            Peer::Leaf,
            |ssl| verify_param::set_trust(ssl, 6).expect("trust"),
            SELF_SIGNED_CERT_IN_CHAIN,
        ),
        ok("trust SSL client", Peer::Leaf, |ssl| {
            verify_param::set_trust(ssl, 2).expect("trust")
        }),
        fails(
            "another host",
            Peer::Leaf,
            |ssl| ssl.param_mut().set_host("wrong.example").expect("host"),
            HOSTNAME_MISMATCH,
        ),
        fails(
            "host flags: no wildcards",
            Peer::Wildcard,
            |ssl| ssl.param_mut().set_hostflags(X509CheckFlags::NO_WILDCARDS),
            HOSTNAME_MISMATCH,
        ),
        ok("host flags: no partial wildcards", Peer::Wildcard, |ssl| {
            ssl.param_mut()
                .set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS)
        }),
        ok("an IP the certificate has", Peer::Leaf, |ssl| {
            ssl.param_mut()
                .set_ip("127.0.0.1".parse().expect("ip"))
                .expect("ip")
        }),
        fails(
            "an IP the certificate lacks",
            Peer::Leaf,
            |ssl| {
                ssl.param_mut()
                    .set_ip("10.0.0.1".parse().expect("ip"))
                    .expect("ip")
            },
            IP_ADDRESS_MISMATCH,
        ),
        fails(
            "an e-mail address",
            Peer::Leaf,
            |ssl| {
                ssl.param_mut()
                    .set_email("nobody@example.com")
                    .expect("email")
            },
            EMAIL_MISMATCH,
        ),
        fails(
            "depth 0 under an intermediate",
            Peer::Chain,
            |ssl| ssl.param_mut().set_depth(0),
            CERT_CHAIN_TOO_LONG,
        ),
        ok("depth 1 under an intermediate", Peer::Chain, |ssl| {
            ssl.param_mut().set_depth(1)
        }),
        ok("flag X509_STRICT", Peer::Chain, |ssl| {
            ssl.param_mut()
                .set_flags(X509VerifyFlags::X509_STRICT)
                .expect("flags")
        }),
        ok("flag PARTIAL_CHAIN", Peer::Leaf, |ssl| {
            ssl.param_mut()
                .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
                .expect("flags")
        }),
        fails(
            "flag CRL_CHECK",
            Peer::Leaf,
            |ssl| {
                ssl.param_mut()
                    .set_flags(X509VerifyFlags::CRL_CHECK)
                    .expect("flags")
            },
            UNABLE_TO_GET_CRL,
        ),
        fails(
            "check time after notAfter",
            Peer::Leaf,
            |ssl| {
                // 2200-01-01: the test certificates are valid for 100 years from their making.
                ssl.param_mut().set_time(7_258_118_400)
            },
            CERT_HAS_EXPIRED,
        ),
        fails(
            "check time before notBefore",
            Peer::Leaf,
            |ssl| {
                // 1990-01-01.
                ssl.param_mut().set_time(631_152_000)
            },
            CERT_NOT_YET_VALID,
        ),
        fails(
            "explicit policy required",
            Peer::Leaf,
            |ssl| {
                verify_param::set_policies(ssl, &["1.2.3.4"]).expect("policies");
                ssl.param_mut()
                    .set_flags(X509VerifyFlags::POLICY_CHECK | X509VerifyFlags::EXPLICIT_POLICY)
                    .expect("flags");
            },
            NO_EXPLICIT_POLICY,
        ),
    ];
    all.extend(version_specific_settings());
    all
}

/// OpenSSL 4.0: several expected IP addresses or e-mail addresses, any one enough.
#[cfg(ossl400)]
fn version_specific_settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "a second IP that matches",
            peer: Peer::Leaf,
            apply: |ssl| {
                ssl.param_mut()
                    .set_ip("10.0.0.1".parse().expect("ip"))
                    .expect("ip");
                verify_param::add_ip(ssl, "127.0.0.1".parse().expect("ip")).expect("add ip");
            },
            code: OK,
            done: true,
        },
        Setting {
            name: "two e-mail addresses, neither matching",
            peer: Peer::Leaf,
            apply: |ssl| {
                ssl.param_mut().set_email("a@example.com").expect("email");
                verify_param::add_rfc822(ssl, "b@example.com").expect("add email");
            },
            code: EMAIL_MISMATCH,
            done: false,
        },
    ]
}

#[cfg(not(ossl400))]
fn version_specific_settings() -> Vec<Setting> {
    Vec::new()
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .expect("config")
}

/// A setting applied to the `Ssl` of `new_ssl`, before the handshake.
fn through_new_ssl(config: &ClientConfig, servers: &Servers, s: &Setting) -> Verdict {
    let mut ssl = config.new_ssl(s.peer.host()).expect("ssl");
    (s.apply)(&mut ssl);
    let hs = tlshake::Handshake::client(ssl, tcp(s.peer.server(servers))).expect("handshake");
    verdict(hs.drive(deadline()))
}

/// A setting applied through `Handshake::ssl_mut` of a handshake the configuration started.
fn through_ssl_mut(config: &ClientConfig, servers: &Servers, s: &Setting) -> Verdict {
    let mut hs = config
        .handshake(s.peer.host(), tcp(s.peer.server(servers)))
        .expect("handshake");
    (s.apply)(hs.ssl_mut());
    verdict(hs.drive(deadline()))
}

/// A connection the configuration makes and drives alone (sealed: the cache may answer).
fn untouched(config: &ClientConfig, server: &OpensslServer, name: &str) -> Verdict {
    verdict(
        config
            .handshake(name, tcp(server))
            .expect("handshake")
            .drive(deadline()),
    )
}

/// Warms `config`'s cache for every peer: each chain verified once, then hit.
fn warm(config: &ClientConfig, servers: &Servers) {
    for peer in [Peer::Leaf, Peer::Chain, Peer::Wildcard] {
        for _ in 0..3 {
            let v = untouched(config, peer.server(servers), peer.host());
            assert!(v.done && v.code == OK, "{v:?}");
        }
    }
    assert_eq!(config.verify_cache_stats(), (6, 3), "3 misses, then hits");
}

#[test]
fn every_setting_gets_the_verdict_of_a_fresh_configuration() {
    let servers = Servers::start();
    let warm_config = config();
    warm(&warm_config, &servers);
    type Path = fn(&ClientConfig, &Servers, &Setting) -> Verdict;
    let paths: [(&str, Path); 2] = [("new_ssl", through_new_ssl), ("ssl_mut", through_ssl_mut)];
    for s in settings() {
        for (path, run) in paths {
            let fresh = run(&config(), &servers, &s);
            let warmed = [
                run(&warm_config, &servers, &s),
                run(&warm_config, &servers, &s),
            ];
            assert_eq!(
                (fresh.done, fresh.code),
                (s.done, s.code),
                "{}: {path}: a fresh configuration's verdict",
                s.name
            );
            for v in warmed {
                assert_eq!(
                    v, fresh,
                    "{}: {path}: the warm cache answered otherwise",
                    s.name
                );
            }
            // The setting changed nothing for the next untouched connection.
            let after = untouched(&warm_config, s.peer.server(&servers), s.peer.host());
            assert!(
                after.done && after.code == OK,
                "{}: {path}: {after:?}",
                s.name
            );
        }
    }
}

#[test]
fn the_expected_identity_is_in_the_key() {
    let servers = Servers::start();
    let warm_config = config();
    warm(&warm_config, &servers);
    // The connection is untouched (the cache may answer): only the key tells these apart.
    for (name, done, code) in [
        ("localhost", true, OK),
        ("127.0.0.1", true, OK),
        ("::1", true, OK),
        ("wrong.example", false, HOSTNAME_MISMATCH),
        ("10.0.0.1", false, IP_ADDRESS_MISMATCH),
        ("a.tlshake.test", false, HOSTNAME_MISMATCH),
    ] {
        let fresh = untouched(&config(), &servers.leaf, name);
        assert_eq!((fresh.done, fresh.code), (done, code), "{name}: fresh");
        for _ in 0..2 {
            assert_eq!(
                untouched(&warm_config, &servers.leaf, name),
                fresh,
                "{name}: warm"
            );
        }
    }
}

/// The reproduction: three connections fill the cache, the fourth asks for the
/// SSL-client purpose on the `Ssl` of `new_ssl`. OpenSSL says 26 (unsuitable purpose), warm
/// cache or not, on every version.
#[test]
fn a_purpose_set_after_a_warm_cache_is_still_refused() {
    let server = OpensslServer::builder().spawn().expect("s_server");
    let config = config();
    let url: tlshake::url::TransportUrl = format!("tls://localhost:{}", server.port())
        .parse()
        .expect("url");
    for _ in 0..3 {
        client::connect(&url, &config).expect("untouched connections verify");
    }
    assert_eq!(config.verify_cache_stats(), (2, 1));
    let mut ssl = config.new_ssl("localhost").expect("ssl");
    ssl.param_mut()
        .set_purpose(X509PurposeId::SSL_CLIENT)
        .expect("purpose");
    let err = tlshake::Handshake::client(ssl, tcp(&server))
        .expect("handshake")
        .drive(deadline())
        .expect_err("the SSL-client purpose does not fit a serverAuth-only leaf");
    assert_eq!(
        err.verify().map(|v| v.code),
        Some(INVALID_PURPOSE),
        "{err:#}"
    );
    assert_eq!(
        config.verify_cache_stats(),
        (2, 2),
        "verified in full: a miss, never a hit"
    );
    // The cache still serves the untouched connections.
    client::connect(&url, &config).expect("untouched");
    assert_eq!(config.verify_cache_stats(), (3, 2));
}

#[test]
fn dane_records_are_honoured_with_a_warm_cache() {
    let server = OpensslServer::builder().spawn().expect("s_server");
    // The leaf's SubjectPublicKeyInfo, hashed: a DANE-EE(3) SPKI(1) SHA-256(1) record.
    let leaf = openssl::x509::X509::from_pem(&std::fs::read(cert("server.pem")).expect("pem"))
        .expect("leaf");
    let spki = leaf
        .public_key()
        .and_then(|k| k.public_key_to_der())
        .expect("spki");
    let matching = openssl::sha::sha256(&spki).to_vec();
    let other = vec![0u8; 32];

    // A plain configuration's context is not DANE-enabled: no connection can take records.
    let plain = config();
    let mut ssl = plain.new_ssl("localhost").expect("ssl");
    assert!(
        verify_param::add_dane_tlsa(&mut ssl, "localhost", (3, 1, 1), &matching).is_err(),
        "SSL_dane_enable needs SSL_CTX_dane_enable"
    );

    let dane = |builder| verify_param::dane_client_config(builder).expect("dane config");
    let warm_config = dane(ClientConfig::builder().ca_file(cert("ca.pem")));
    for _ in 0..3 {
        let v = untouched(&warm_config, &server, "localhost");
        assert!(v.done && v.code == OK, "{v:?}");
    }
    assert_eq!(warm_config.verify_cache_stats(), (2, 1));
    for (data, done, code, chain) in [
        (&matching, true, OK, Some(1)),
        (&other, false, DANE_NO_MATCH, None),
    ] {
        let run = |config: &ClientConfig| {
            let mut ssl = config.new_ssl("localhost").expect("ssl");
            assert!(
                verify_param::add_dane_tlsa(&mut ssl, "localhost", (3, 1, 1), data)
                    .expect("record")
            );
            verdict(
                tlshake::Handshake::client(ssl, tcp(&server))
                    .expect("handshake")
                    .drive(deadline()),
            )
        };
        let fresh = run(&dane(ClientConfig::builder().ca_file(cert("ca.pem"))));
        assert_eq!(fresh, Verdict { done, code, chain }, "fresh");
        assert_eq!(run(&warm_config), fresh, "warm");
    }
}

#[test]
fn a_deadline_bound_upgrade_is_untouched_and_cached() {
    // client::upgrade makes and drives its own Ssl: the cache answers its second call.
    let server = OpensslServer::builder().spawn().expect("s_server");
    let config = config();
    for _ in 0..2 {
        let tcp = TcpStream::connect(server.addr()).expect("connect");
        client::upgrade(
            tcp,
            "localhost",
            &config,
            &ConnectOptions::new().deadline(deadline()),
        )
        .expect("upgrade");
    }
    assert_eq!(config.verify_cache_stats(), (1, 1));
}
