//! [`ServerConfig`]: a server configuration checked and built, its `SslContext`s made once.

use openssl::ssl::SslContext;

use super::builder::ServerConfigBuilder;

/// The configuration of a TLS listener: what `openssl s_server` takes on its command line
/// (address, port, certificate, protocol versions, client verification), built into one
/// `SslContext`.
///
/// Defaults: all interfaces (`[::]` with IPv4 mapped in, `0.0.0.0` on a machine without
/// IPv6), `SO_REUSEADDR` on, TLS 1.2 and 1.3 only, no client certificate, session tickets on,
/// a 10 s handshake timeout per connection, [`NodelayPolicy::Always`](crate::NodelayPolicy::Always),
/// at most 1024 handshakes in progress, client-initiated renegotiation refused.
///
/// The `SslContext`s are built once, by [`build`](ServerConfigBuilder::build), and shared by
/// every connection of every listener bound with the configuration (clone it to bind several
/// listeners: the clones share the contexts).
///
/// ```
/// use std::time::Duration;
/// use tlshake::bundled;
/// use tlshake::server::{ServerConfig, TlsListener};
/// use tlshake::ProtocolSet;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let files = bundled::CertsDir::write()?; // the TEST certificate, in a temporary directory
/// let config = ServerConfig::builder()
///     .address("127.0.0.1")
///     .certificate_files(files.path("server.pem"), files.path("server.key"))
///     .protocols(ProtocolSet::TLS1_3)
///     .handshake_timeout(Duration::from_secs(5))
///     .build()?;
/// let listener = TlsListener::bind(&config)?;
/// assert_ne!(listener.local_addr().port(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    pub(crate) settings: ServerConfigBuilder,
    context: SslContext,
}

impl ServerConfig {
    /// A builder with the defaults, as [`ClientConfig::builder`](crate::client::ClientConfig::builder)
    /// starts the client's: port 0 (a free port the system picks; see
    /// [`TlsListener::local_addr`](super::TlsListener::local_addr)) until
    /// [`port`](ServerConfigBuilder::port) says otherwise; [`build`](ServerConfigBuilder::build)
    /// checks the certificates, the policy and the connection settings.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder::default()
    }

    /// The server's default `SslContext`, built once by
    /// [`build`](ServerConfigBuilder::build) and shared by every connection of every
    /// listener bound with this configuration (or a clone of it).
    pub fn context(&self) -> &SslContext {
        &self.context
    }

    pub(crate) fn new(settings: ServerConfigBuilder, context: SslContext) -> ServerConfig {
        ServerConfig { settings, context }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
