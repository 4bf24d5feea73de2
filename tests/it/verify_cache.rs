//! The client's certificate-verification cache (`ClientOptions::verify_cache`) against the
//! real `openssl s_server`: hits for the same chain and name, full verification otherwise,
//! failures never remembered.

use crate::common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use tlshake::client::{self, ClientConfig, ClientConfigBuilder};
use tlshake::harness::OpensslServer;
use tlshake::url::TransportUrl;

fn builder() -> ClientConfigBuilder {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .handshake_timeout(Duration::from_secs(10))
}

fn connect(config: &ClientConfig, host: &str, port: u16) -> bool {
    let url: TransportUrl = format!("tls://{host}:{port}").parse().unwrap();
    client::connect(&url, config).is_ok()
}

/// A handshake checking `name` (as SNI and host name) against the server at `port`.
fn connect_as(config: &ClientConfig, name: &str, port: u16) -> bool {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    client::upgrade(
        tcp,
        name,
        config,
        &tlshake::client::ConnectOptions::new().deadline(deadline),
    )
    .is_ok()
}

#[test]
fn second_connection_to_the_same_server_hits() {
    let server = OpensslServer::builder().spawn().unwrap();
    let config = builder().build().unwrap();
    assert_eq!(config.verify_cache_stats(), (0, 0));
    assert!(connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (0, 1));
    assert!(connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (1, 1));
    // A clone shares the context and so the cache.
    assert!(connect(&config.clone(), "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (2, 1));
}

#[test]
fn off_means_no_cache() {
    let server = OpensslServer::builder().spawn().unwrap();
    let config = builder().verify_cache(false).build().unwrap();
    assert!(!config.options().verify_cache);
    assert!(connect(&config, "localhost", server.port()));
    assert!(connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (0, 0));
}

#[test]
fn another_name_for_the_same_chain_is_verified_again() {
    let server = OpensslServer::builder().spawn().unwrap();
    let config = builder().build().unwrap();
    assert!(connect(&config, "localhost", server.port()));
    assert!(connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (1, 1));
    // The IP literal is a different expected identity: verified in full (and it passes).
    assert!(connect(&config, "127.0.0.1", server.port()));
    assert_eq!(config.verify_cache_stats(), (1, 2));
    // A name the certificate does not carry fails, although the chain is cached.
    assert!(!connect_as(&config, "wrong.example", server.port()));
    assert!(!connect_as(&config, "wrong.example", server.port()));
    assert_eq!(config.verify_cache_stats(), (1, 4));
    // And the cached name still hits.
    assert!(connect_as(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (2, 4));
}

#[test]
fn a_different_chain_is_verified_in_full() {
    let good = OpensslServer::builder().spawn().unwrap();
    let rogue = OpensslServer::builder()
        .cert(cert("rogue-server.pem"))
        .key(cert("rogue-server.key"))
        .spawn()
        .unwrap();
    let other = OpensslServer::builder()
        .cert(cert("other-host.pem"))
        .key(cert("other-host.key"))
        .spawn()
        .unwrap();
    let config = builder().build().unwrap();
    assert!(connect(&config, "localhost", good.port()));
    // Same subject and name, unknown issuer: rejected, never a hit.
    assert!(!connect(&config, "localhost", rogue.port()));
    assert!(!connect(&config, "localhost", rogue.port()));
    // Trusted issuer, other name: rejected as localhost, accepted as its own name.
    assert!(!connect_as(&config, "localhost", other.port()));
    assert!(connect_as(&config, "other.example", other.port()));
    assert!(connect_as(&config, "other.example", other.port()));
    assert_eq!(config.verify_cache_stats(), (1, 5));
}

#[test]
fn an_expired_entry_is_not_used() {
    let server = OpensslServer::builder().spawn().unwrap();
    let config = builder().verify_cache_ttl(Duration::ZERO).build().unwrap();
    assert_eq!(config.options().verify_cache_ttl, Duration::ZERO);
    assert!(connect(&config, "localhost", server.port()));
    assert!(connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (0, 2));
}

#[test]
fn a_failed_verification_is_not_cached() {
    let server = OpensslServer::builder().spawn().unwrap();
    // Trusts only the rogue CA: the bundled server's chain fails.
    let config = ClientConfig::builder()
        .ca_file(cert("rogue-ca.pem"))
        .build()
        .unwrap();
    assert!(!connect(&config, "localhost", server.port()));
    assert!(!connect(&config, "localhost", server.port()));
    assert_eq!(config.verify_cache_stats(), (0, 2));
}

#[test]
fn self_signed_and_pinning_still_decide_on_a_miss() {
    let server = OpensslServer::builder()
        .cert(cert("self-signed.pem"))
        .key(cert("self-signed.key"))
        .spawn()
        .unwrap();
    let strict = builder().build().unwrap();
    assert!(!connect(&strict, "localhost", server.port()));
    assert!(!connect(&strict, "localhost", server.port()));
    assert_eq!(strict.verify_cache_stats(), (0, 2));
    let lenient = builder().allow_self_signed(true).build().unwrap();
    assert!(connect(&lenient, "localhost", server.port()));
    assert!(connect(&lenient, "localhost", server.port()));
    assert_eq!(lenient.verify_cache_stats(), (1, 1));
}
