//! [`ConnectOptions`](crate::client::ConnectOptions): the extra choices of one connection (STARTTLS, a deadline, a proxy).

use std::time::Instant;

use crate::starttls::{StarttlsOptions, StarttlsProtocol};

/// Extra choices for [`connect_with`](crate::client::connect_with). Build it with [`ConnectOptions::new`](crate::client::ConnectOptions::new) and its setters:
///
/// ```
/// use std::time::{Duration, Instant};
/// use tlshake::client::ConnectOptions;
/// use tlshake::starttls::StarttlsProtocol;
///
/// let options = ConnectOptions::new()
///     .starttls(StarttlsProtocol::Smtp)
///     .deadline(Instant::now() + Duration::from_secs(5));
/// assert!(options.deadline.is_some());
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Run this STARTTLS dialogue on the plain connection before the handshake (the URL must
    /// then be `tcp://`, or a TLS scheme whose version rules still apply).
    pub starttls: Option<StarttlsProtocol>,
    /// Options of the STARTTLS dialogue.
    pub starttls_options: StarttlsOptions,
    /// One deadline for everything (connect + STARTTLS + handshake), instead of the
    /// configuration's separate connect and handshake timeouts.
    pub deadline: Option<Instant>,
    /// Tunnel through this HTTP proxy (`host:port`) with an HTTP `CONNECT` first, within the
    /// connect deadline; a proxy that refuses is [`ProxyError`](crate::client::ProxyError).
    pub proxy: Option<String>,
}

impl ConnectOptions {
    /// No STARTTLS, default STARTTLS options, the configuration's own timeouts.
    #[must_use]
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// Run this STARTTLS dialogue before the handshake.
    #[must_use]
    pub fn starttls(mut self, protocol: StarttlsProtocol) -> ConnectOptions {
        self.starttls = Some(protocol);
        self
    }

    /// Options of the STARTTLS dialogue.
    #[must_use]
    pub fn starttls_options(mut self, options: StarttlsOptions) -> ConnectOptions {
        self.starttls_options = options;
        self
    }

    /// One deadline for connect, STARTTLS and handshake together.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> ConnectOptions {
        self.deadline = Some(deadline);
        self
    }

    /// Tunnel through this HTTP proxy (`host:port`) with `CONNECT` first.
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<String>) -> ConnectOptions {
        self.proxy = Some(proxy.into());
        self
    }
}
