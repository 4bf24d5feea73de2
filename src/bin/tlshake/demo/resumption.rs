//! A resumed reconnection: the second connection offers the first one's session ticket.

use std::io::Read;
use std::time::Instant;

use openssl::ssl::{Ssl, SslContext};
use tlshake::client::{self, ClientConfig, ConnectOptions};
use tlshake::Handshake;

use crate::bundled;

use super::peers::peer;
use super::setup::{url, SectionResult, PEER_TIMEOUT};

/// Two connections to one server: the second offers the session ticket the first got
/// (under TLS 1.3 it arrives after the handshake, so the client waits for it) and resumes.
pub(super) fn resumed_reconnection(ctx: &SslContext) -> SectionResult {
    let ctx = ctx.clone();
    let addr = peer(2, move |tcp| {
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        if let Ok(Ok(mut tls)) = Handshake::server(ssl, tcp).map(|hs| hs.finish()) {
            // Until the client's close_notify.
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink);
            let _ = tls.shutdown();
        }
    })?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .resume_sessions(true)
        .build()?;
    let url = url(addr)?;
    let mut lines = Vec::new();
    for attempt in 1..=2 {
        let deadline = Instant::now() + PEER_TIMEOUT;
        let options = ConnectOptions::new().deadline(deadline);
        let mut conn = client::connect_with(&url, &config, &options)?;
        let s = conn.session();
        let ticket = client::wait_for_session(&mut conn.stream, deadline)?.is_some();
        let _ = conn.stream.shutdown();
        lines.push(format!(
            "connection {attempt}: {}, {}, handshake {:.2} ms, ticket for the next: {}",
            if s.resumed { "resumed" } else { "new session" },
            s.protocol,
            conn.timings.handshake.as_secs_f64() * 1e3,
            if ticket { "yes" } else { "no" }
        ));
        if attempt == 2 && !s.resumed {
            return Err(format!(
                "the second connection was not resumed\n{}",
                lines.join("\n")
            )
            .into());
        }
    }
    lines.push("(tlshake connect URL --reconnect N; --sess-out/--sess-in FILE as s_client)".into());
    Ok(lines.join("\n"))
}
