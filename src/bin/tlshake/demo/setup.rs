//! What the sections of the demo share: time limits and sizes, the server's context, a client
//! that trusts the bundled CA, a peer's URL, and what a section returns.

use std::net::SocketAddr;
use std::time::Duration;

use crate::bundled;
use openssl::ssl::SslContext;
use tlshake::client::ClientConfig;
use tlshake::server::ServerConfig;
use tlshake::url::TransportUrl;

use crate::report::AnyError;
use crate::serve::bundled_certificate;

/// Per-connection limit of every peer thread of the demo.
pub(super) const PEER_TIMEOUT: Duration = Duration::from_secs(5);
/// Request and response size of the Nagle section.
pub(super) const NAGLE_BYTES: usize = 100;
/// Connections per Nagle measurement.
pub(super) const NAGLE_ROUNDS: usize = 20;

/// What a section showed, or why it did not show what it should: what it saw instead, or the
/// error that stopped it (said with its whole chain of causes).
pub(super) type SectionResult = Result<String, AnyError>;

/// The demo's server context: the bundled certificate for localhost.
pub(super) fn server_context() -> Result<SslContext, AnyError> {
    let key = bundled_certificate()?;
    Ok(ServerConfig::builder()
        .certificate(key)
        .build()
        .map(|c| c.context().clone())?)
}

/// A client that trusts the bundled CA.
pub(super) fn client_config() -> Result<ClientConfig, AnyError> {
    Ok(ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .build()?)
}

/// `tls://ADDR`.
pub(super) fn url(addr: SocketAddr) -> Result<TransportUrl, AnyError> {
    Ok(format!("tls://{addr}").parse()?)
}
