//! TlsListener against GnuTLS's client, `gnutls-cli` (Debian package gnutls-bin).
//!
//! Ignored by default; `scripts/test.sh` installs gnutls-bin and runs them.

use crate::server_support;

use std::process::Command;

use tlshake::Hint;
use tlshake::ProtocolSet;

use server_support::{
    base_config, cert, established, failure, have, run_peer, start, PeerRun, PEER_LIMIT,
};

fn gnutls_cli(port: u16, extra: &[&str]) -> PeerRun {
    assert!(
        have("gnutls-cli"),
        "gnutls-cli is not installed: install the Debian package gnutls-bin (scripts/test.sh does)"
    );
    let mut command = Command::new("gnutls-cli");
    command
        .arg("--x509cafile")
        .arg(cert("ca.pem"))
        .arg("-p")
        .arg(port.to_string())
        .args(extra)
        .arg("localhost");
    run_peer(command, b"", PEER_LIMIT)
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_client_completes_tls13() {
    // All interfaces: `localhost` may resolve to ::1 or 127.0.0.1.
    let (addr, server) = start(&base_config().address("*"), 1);
    let client = gnutls_cli(addr.port(), &[]);
    let accepted = established(server.join().unwrap());
    let out = client.output();
    assert!(out.contains("Handshake was completed"), "{out}");
    assert!(out.contains("(TLS1.3"), "{out}");
    assert_eq!(accepted.session.protocol, "TLSv1.3");
    assert_eq!(accepted.session.sni.as_deref(), Some("localhost"));
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_client_completes_tls12() {
    let (addr, server) = start(&base_config().address("*"), 1);
    let client = gnutls_cli(
        addr.port(),
        &["--priority", "NORMAL:-VERS-TLS-ALL:+VERS-TLS1.2"],
    );
    let accepted = established(server.join().unwrap());
    let out = client.output();
    assert!(out.contains("(TLS1.2"), "{out}");
    assert_eq!(accepted.session.protocol, "TLSv1.2");
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_tls13_only_client_against_a_tls12_listener_fails() {
    let config = base_config().address("*").protocols(ProtocolSet::TLS1_2);
    let (addr, server) = start(&config, 1);
    let client = gnutls_cli(
        addr.port(),
        &["--priority", "NORMAL:-VERS-TLS-ALL:+VERS-TLS1.3"],
    );
    let error = failure(server.join().unwrap());
    let no_shared = matches!(error.hint(), Some(Hint::NoSharedVersion { .. }));
    assert!(
        no_shared || error.reasons().contains(&"unsupported protocol"),
        "{error}"
    );
    assert!(!client.succeeded(), "{}", client.output());
    let out = client.output();
    assert!(out.contains("Error in protocol version"), "{out}");
}
