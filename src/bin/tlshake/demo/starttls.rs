//! STARTTLS: the SMTP dialogue, then the TLS handshake on the same connection.

use std::time::Instant;

use openssl::ssl::SslContext;
use tlshake::client::{self, ConnectOptions};
use tlshake::starttls::StarttlsProtocol;
use tlshake::url::TransportUrl;

use super::peers::smtp_peer;
use super::setup::{client_config, SectionResult, PEER_TIMEOUT};

pub(super) fn starttls(ctx: &SslContext) -> SectionResult {
    let addr = smtp_peer(ctx)?;
    let url: TransportUrl = format!("tcp://{addr}").parse()?;
    let options = ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .deadline(Instant::now() + PEER_TIMEOUT);
    let conn = client::connect_with(&url, &client_config()?, &options)?;
    let s = conn.session();
    Ok(format!(
        "220 greeting, EHLO, 250-STARTTLS, STARTTLS, 220, then the TLS handshake\n\
         dialogue {:.2} ms, handshake {:.2} ms: {} {}",
        conn.timings.starttls.unwrap_or_default().as_secs_f64() * 1e3,
        conn.timings.handshake.as_secs_f64() * 1e3,
        s.protocol,
        s.cipher
    ))
}
