//! The handshake's timeline: every message recorded, as `--trace` prints it.

use std::io::Read;
use std::time::Instant;

use openssl::ssl::{Ssl, SslContext};
use tlshake::client::{self, ClientConfig, ConnectOptions};
use tlshake::Handshake;

use crate::bundled;

use super::peers::peer;
use super::setup::{url, SectionResult, PEER_TIMEOUT};

/// One handshake with every message recorded: what `--trace` prints.
pub(super) fn timeline(ctx: &SslContext) -> SectionResult {
    let ctx = ctx.clone();
    let addr = peer(1, move |tcp| {
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        if let Ok(Ok(mut tls)) = Handshake::server(ssl, tcp).map(|hs| hs.finish()) {
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink);
        }
    })?;
    let sink = tlshake::trace::TraceSink::new();
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .trace(sink.clone())
        .build()?;
    let options = ConnectOptions::new().deadline(Instant::now() + PEER_TIMEOUT);
    let mut conn = client::connect_with(&url(addr)?, &config, &options)?;
    let _ = conn.stream.shutdown();
    let events = sink.take();
    if !events.iter().any(|e| e.message == "CertificateVerify") {
        return Err(format!("no CertificateVerify in {} messages", events.len()).into());
    }
    Ok(crate::trace::to_text(&events).trim_end().to_string())
}
