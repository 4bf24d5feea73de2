//! [`ConnectError`]: why a client connection could not be made.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::HandshakeError;
use crate::starttls::StarttlsError;
use crate::url::UrlError;

use super::config::ConfigError;

/// A connection by URL failed. The variants follow the steps: parse, refuse, resolve,
/// connect, STARTTLS, handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is malformed.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The configuration (or a version the URL pins) is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `sslv2://` or `sslv3://`.
    #[error("{scheme}:// is refused: {reason}")]
    SchemeRefused {
        /// The scheme given.
        scheme: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// TLS was asked of a `udp://` URL.
    #[error("udp:// gives a plain UDP socket: TLS over UDP (DTLS) is not supported; use tls:// for TLS over TCP")]
    TlsOverUdp,
    /// `connect` was given a plain `tcp://` URL.
    #[error("{url} is a plain TCP URL: use tls://{authority} for implicit TLS, or STARTTLS to upgrade the plain connection")]
    NotTls {
        /// The URL.
        url: String,
        /// Its host:port.
        authority: String,
    },
    /// The host name could not be resolved.
    #[error("cannot resolve {host}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// Name resolution did not answer before the deadline.
    #[error("timed out after {:.3} s waiting for name resolution of {host}", .elapsed.as_secs_f64())]
    ResolveTimeout {
        /// The host.
        host: String,
        /// How long it waited.
        elapsed: Duration,
    },
    /// The peer accepted the TCP connection and reset it before the connect completed on
    /// this side (the same event as a reset at the first handshake read or write, seen
    /// earlier).
    #[error("{peer} accepted the connection and reset it before the TLS handshake")]
    ResetAfterAccept {
        /// The address that accepted.
        peer: SocketAddr,
        /// How long the connect took until the reset.
        connect_time: Duration,
        /// The error of the connect (`ECONNRESET`).
        #[source]
        source: io::Error,
    },
    /// The HTTP proxy ([`ConnectOptions::proxy`](super::ConnectOptions::proxy)) did not open
    /// the tunnel.
    #[error("no tunnel through the HTTP proxy {proxy}")]
    Proxy {
        /// The proxy's host:port.
        proxy: String,
        /// What the proxy did.
        #[source]
        source: super::proxy::ProxyError,
    },
    /// The proxy address is not a host:port.
    #[error("invalid HTTP proxy address {proxy:?}: give host:port")]
    ProxyAddress {
        /// What was given.
        proxy: String,
        /// Why it is not an address.
        #[source]
        source: crate::url::UrlError,
    },
    /// Every address refused or failed.
    #[error("cannot connect to {authority}: {}", describe_attempts(.authority, .attempts))]
    Connect {
        /// The host:port asked for.
        authority: String,
        /// Each address tried, with its error.
        attempts: Vec<(SocketAddr, io::Error)>,
    },
    /// The connect deadline passed.
    #[error("connecting to {authority} timed out after {:.3} s (tried {})", .elapsed.as_secs_f64(), describe_addrs(.tried))]
    ConnectTimeout {
        /// The host:port asked for.
        authority: String,
        /// The addresses tried.
        tried: Vec<SocketAddr>,
        /// How long it took.
        elapsed: Duration,
    },
    /// The STARTTLS dialogue failed.
    #[error("STARTTLS with {peer} failed")]
    Starttls {
        /// The address connected.
        peer: SocketAddr,
        /// How long the TCP connect took, when this crate made the connection.
        connect_time: Option<Duration>,
        /// The dialogue's error, with the server's words.
        #[source]
        source: StarttlsError,
    },
    /// The TLS handshake did not complete.
    #[error("the TLS handshake with {peer} did not complete")]
    Handshake {
        /// The address connected.
        peer: SocketAddr,
        /// How long the TCP connect took (`None` when the caller connected the socket, as
        /// for [`upgrade`](crate::client::upgrade)).
        connect_time: Option<Duration>,
        /// How long STARTTLS took, if it ran.
        starttls_time: Option<Duration>,
        /// The SNI name sent in the ClientHello, if any.
        sni: Option<String>,
        /// Everything OpenSSL said.
        #[source]
        source: HandshakeError,
    },
    /// A socket operation failed.
    #[error("socket error while {during}")]
    Io {
        /// What was being done.
        during: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl ConnectError {
    /// The handshake error, when the failure was in the TLS handshake.
    pub fn handshake_error(&self) -> Option<&HandshakeError> {
        match self {
            ConnectError::Handshake { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when a deadline passed (name resolution, connect, STARTTLS or handshake).
    pub fn is_timeout(&self) -> bool {
        match self {
            ConnectError::ConnectTimeout { .. } | ConnectError::ResolveTimeout { .. } => true,
            ConnectError::Starttls { source, .. } => {
                matches!(source, StarttlsError::Timeout { .. })
            }
            ConnectError::Handshake { source, .. } => source.is_timeout(),
            _ => false,
        }
    }
}

fn describe_addrs(addrs: &[SocketAddr]) -> String {
    if addrs.is_empty() {
        return String::from("no address");
    }
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each address with its error; a lone address that is the authority itself is not repeated.
fn describe_attempts(authority: &str, attempts: &[(SocketAddr, io::Error)]) -> String {
    match attempts {
        [] => return String::from("the name resolved to no address"),
        [(a, e)] if a.to_string() == authority => return e.to_string(),
        _ => {}
    }
    attempts
        .iter()
        .map(|(a, e)| format!("{a}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}
