//! Failures, each with its typed kind and hint: a wrong host name, an untrusted CA, a
//! plaintext peer, a peer that stalls past the deadline.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use openssl::ssl::SslContext;
use tlshake::client::{self, ClientConfig, ConnectError, ConnectOptions};
use tlshake::{ErrorKind, Hint, NodelayPolicy};

use crate::bundled;

use super::peers::{peer, tls_peer};
use super::setup::{client_config, url, SectionResult};
use crate::report::{self, Failure};

/// Describes a failed connection and checks it is a handshake error of `kind` with a hint
/// matching `hint_ok`.
fn expect_failure(
    result: Result<client::TlsConnection, ConnectError>,
    kind: ErrorKind,
    hint_ok: fn(&Hint) -> bool,
) -> SectionResult {
    let e = match result {
        Ok(_) => return Err("the handshake succeeded".into()),
        Err(e) => e,
    };
    let Some(h) = e.handshake_error() else {
        return Err(Failure::because("failed before the handshake", e).into());
    };
    let text = format!(
        "kind {}, {} (ret {}), reasons: {}\nerror (with its hint): {h:#}",
        h.kind().name(),
        h.ssl_error().name(),
        h.ret(),
        h.reasons().join("; "),
    );
    if h.kind() == kind && h.hint().is_some_and(hint_ok) {
        Ok(text)
    } else {
        Err(text.into())
    }
}

pub(super) fn wrong_name(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("wrong.example")
        .build()?;
    expect_failure(
        client::connect(&url(addr)?, &config),
        ErrorKind::CertificateVerification,
        |h| matches!(h, Hint::NameMismatch { .. }),
    )
}

pub(super) fn untrusted_ca(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::ROGUE_CA_PEM.as_bytes())
        .build()?;
    expect_failure(
        client::connect(&url(addr)?, &config),
        ErrorKind::CertificateVerification,
        |h| matches!(h, Hint::UnknownIssuer { .. } | Hint::SelfSigned { .. }),
    )
}

pub(super) fn plaintext_peer() -> SectionResult {
    let addr = peer(1, |mut tcp| {
        let _ = tcp.write_all(b"220 demo ESMTP\r\n");
        let mut buf = [0u8; 1024];
        while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    })?;
    expect_failure(
        client::connect(&url(addr)?, &client_config()?),
        ErrorKind::Protocol,
        |h| matches!(h, Hint::PlaintextPeer { .. }),
    )
}

pub(super) fn stall() -> SectionResult {
    let addr = peer(1, |mut tcp| {
        let mut buf = [0u8; 1024];
        while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    })?;
    let options = ConnectOptions::new().deadline(Instant::now() + Duration::from_millis(300));
    let t0 = Instant::now();
    let result = client::connect_with(&url(addr)?, &client_config()?, &options);
    let waited = t0.elapsed();
    let text = expect_failure(result, ErrorKind::Timeout, |h| {
        matches!(h, Hint::Timeout { .. })
    });
    let bounded = waited < Duration::from_millis(800);
    let returned = format!("returned after {:.0} ms", waited.as_secs_f64() * 1e3);
    match text {
        Ok(t) if bounded => Ok(format!("{t}\n{returned}")),
        Ok(t) => Err(format!("{t}\n{returned}").into()),
        Err(e) => Err(format!("{}\n{returned}", report::chain(&*e)).into()),
    }
}
