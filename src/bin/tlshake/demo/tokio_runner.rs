//! The async runner on tokio, beside the blocking ones (built with the feature `tokio`).

use std::time::Instant;

use openssl::ssl::SslContext;
use tlshake::client::{self, ConnectOptions};
use tlshake::starttls::StarttlsProtocol;
use tlshake::url::TransportUrl;
use tlshake::NodelayPolicy;

use super::peers::{smtp_peer, tls_peer};
use super::setup::{client_config, url, SectionResult, PEER_TIMEOUT};
use crate::report::AnyError;

/// `client::connect_async` and `connect_async_with` + STARTTLS on a current-thread tokio
/// runtime: the same step function and dialogues, waited on tokio's reactor.
pub(super) fn tokio_runner(ctx: &SslContext) -> SectionResult {
    let tls_addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let smtp_addr = smtp_peer(ctx)?;
    let config = client_config()?;
    let smtp_url: TransportUrl = format!("tcp://{smtp_addr}").parse()?;
    let options = ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .deadline(Instant::now() + PEER_TIMEOUT);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tls, smtp) = runtime.block_on(async {
        let tls = client::connect_async(&url(tls_addr)?, &config).await?;
        let smtp = client::connect_async_with(&smtp_url, &config, &options).await?;
        Ok::<_, AnyError>((tls, smtp))
    })?;
    let s = tls.session();
    let stats = tls.stream.get_ref().stats();
    let go_ahead = smtp
        .starttls
        .as_ref()
        .map_or(String::new(), |t| t.go_ahead.clone());
    let text = format!(
        "client::connect_async: SSL_connect stepped on tokio's reactor, one deadline\n\
         {} {}: {} step(s), WANT_READ {}, handshake {:.2} ms, verify: {}\n\
         connect_async_with + STARTTLS: the same SMTP dialogue, go-ahead {go_ahead:?}, then {}",
        s.protocol,
        s.cipher,
        stats.steps,
        stats.want_read,
        tls.timings.handshake.as_secs_f64() * 1e3,
        s.verify
            .as_ref()
            .map_or("no certificate", |v| v.message.as_str()),
        smtp.session().protocol
    );
    let verified = s.verify.as_ref().is_some_and(|v| v.is_ok());
    if verified && stats.steps >= 1 && go_ahead.starts_with("220") {
        Ok(text)
    } else {
        Err(text.into())
    }
}
