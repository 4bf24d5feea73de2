//! [`ConnectError`]: why a client connection could not be made.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::HandshakeError;
use crate::starttls::StarttlsError;
use crate::url::UrlError;

use super::config::ConfigError;

/// A connection by URL failed. The variants follow the steps: parse, refuse, resolve,
/// connect, STARTTLS, handshake.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is malformed.
    Url(UrlError),
    /// The configuration (or a version the URL pins) is refused.
    Config(ConfigError),
    /// `sslv2://` or `sslv3://`.
    SchemeRefused {
        /// The scheme given.
        scheme: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// TLS was asked of a `udp://` URL.
    TlsOverUdp,
    /// A `dtls://` URL was given to a connect over TCP.
    DtlsUrl {
        /// The URL.
        url: String,
    },
    /// A URL that is not `dtls://` was given to [`dtls::connect`](crate::dtls::connect).
    NotDtls {
        /// The URL.
        url: String,
        /// Its host:port.
        authority: String,
    },
    /// The DTLS options are refused.
    Dtls(crate::dtls::DtlsError),
    /// `connect` was given a plain `tcp://` URL.
    NotTls {
        /// The URL.
        url: String,
        /// Its host:port.
        authority: String,
    },
    /// The host name could not be resolved.
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// Name resolution did not answer before the deadline.
    ResolveTimeout {
        /// The host.
        host: String,
        /// How long it waited.
        elapsed: Duration,
    },
    /// The peer accepted the TCP connection and reset it before the connect completed on
    /// this side (the same event as a reset at the first handshake read or write, seen
    /// earlier).
    ResetAfterAccept {
        /// The address that accepted.
        peer: SocketAddr,
        /// How long the connect took until the reset.
        connect_time: Duration,
        /// The error of the connect (`ECONNRESET`).
        source: io::Error,
    },
    /// The HTTP proxy ([`ConnectOptions::proxy`](super::ConnectOptions::proxy)) did not open
    /// the tunnel.
    Proxy {
        /// The proxy's host:port.
        proxy: String,
        /// What the proxy did.
        source: super::proxy::ProxyError,
    },
    /// The proxy address is not a host:port.
    ProxyAddress {
        /// What was given.
        proxy: String,
        /// Why it is not an address.
        source: crate::url::UrlError,
    },
    /// Every address refused or failed.
    Connect {
        /// The host:port asked for.
        authority: String,
        /// Each address tried, with its error.
        attempts: Vec<(SocketAddr, io::Error)>,
    },
    /// The connect deadline passed.
    ConnectTimeout {
        /// The host:port asked for.
        authority: String,
        /// The addresses tried.
        tried: Vec<SocketAddr>,
        /// How long it took.
        elapsed: Duration,
    },
    /// The STARTTLS dialogue failed.
    Starttls {
        /// The address connected.
        peer: SocketAddr,
        /// How long the TCP connect took, when this crate made the connection.
        connect_time: Option<Duration>,
        /// The dialogue's error, with the server's words.
        source: StarttlsError,
    },
    /// The TLS (or DTLS) handshake did not complete.
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
        source: HandshakeError,
    },
    /// A socket operation failed.
    Io {
        /// What was being done.
        during: &'static str,
        /// The error.
        source: io::Error,
    },
}
impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Url(inner) => return fmt::Display::fmt(inner, f),
            ConnectError::Config(inner) => return fmt::Display::fmt(inner, f),
            ConnectError::SchemeRefused { scheme, reason, .. } => write!(f, "{scheme}:// is refused: {reason}")?,
            ConnectError::TlsOverUdp => write!(f, "udp:// gives a plain UDP socket: for TLS over UDP write dtls://, for TLS over TCP tls://")?,
            ConnectError::DtlsUrl { url } => write!(f, "{url} is DTLS over UDP: connect it with dtls::connect")?,
            ConnectError::NotDtls { url, authority } => write!(f, "{url} is not a DTLS URL: write dtls://{authority}")?,
            ConnectError::Dtls(inner) => return fmt::Display::fmt(inner, f),
            ConnectError::NotTls { url, authority, .. } => write!(f, "{url} is a plain TCP URL: use tls://{authority} for implicit TLS, or STARTTLS to upgrade the plain connection")?,
            ConnectError::Resolve { host, .. } => write!(f, "cannot resolve {host}")?,
            ConnectError::ResolveTimeout { host, elapsed, .. } => write!(f, "timed out after {:.3} s waiting for name resolution of {host}", elapsed.as_secs_f64())?,
            ConnectError::ResetAfterAccept { peer, .. } => write!(f, "{peer} accepted the connection and reset it before the TLS handshake")?,
            ConnectError::Proxy { proxy, .. } => write!(f, "no tunnel through the HTTP proxy {proxy}")?,
            ConnectError::ProxyAddress { proxy, .. } => write!(f, "invalid HTTP proxy address {proxy:?}: give host:port")?,
            ConnectError::Connect { authority, attempts, .. } => write!(f, "cannot connect to {authority}: {}", describe_attempts(authority, attempts))?,
            ConnectError::ConnectTimeout { authority, tried, elapsed, .. } => write!(f, "connecting to {authority} timed out after {:.3} s (tried {})", elapsed.as_secs_f64(), describe_addrs(tried))?,
            ConnectError::Starttls { peer, .. } => write!(f, "STARTTLS with {peer} failed")?,
            ConnectError::Handshake { peer, source, .. } => {
                // A DTLS handshake counts its retransmissions; a TLS one has none.
                let proto = if source.retransmissions().is_some() { "DTLS" } else { "TLS" };
                write!(f, "the {proto} handshake with {peer} did not complete")?
            }
            ConnectError::Io { during, .. } => write!(f, "socket error while {during}")?,
        }
        crate::error::write_causes(self, f)
    }
}
/// The cause of each variant; a variant that only carries another error is that error,
/// so its causes are its own.
impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Url(inner) => inner.source(),
            ConnectError::Config(inner) => inner.source(),
            ConnectError::SchemeRefused { .. } => None,
            ConnectError::TlsOverUdp => None,
            ConnectError::DtlsUrl { .. } => None,
            ConnectError::NotDtls { .. } => None,
            ConnectError::Dtls(inner) => inner.source(),
            ConnectError::NotTls { .. } => None,
            ConnectError::Resolve { source, .. } => Some(source),
            ConnectError::ResolveTimeout { .. } => None,
            ConnectError::ResetAfterAccept { source, .. } => Some(source),
            ConnectError::Proxy { source, .. } => Some(source),
            ConnectError::ProxyAddress { source, .. } => Some(source),
            ConnectError::Connect { .. } => None,
            ConnectError::ConnectTimeout { .. } => None,
            ConnectError::Starttls { source, .. } => Some(source),
            ConnectError::Handshake { source, .. } => Some(source),
            ConnectError::Io { source, .. } => Some(source),
        }
    }
}

impl From<UrlError> for ConnectError {
    fn from(error: UrlError) -> ConnectError {
        ConnectError::Url(error)
    }
}

impl From<crate::dtls::DtlsError> for ConnectError {
    fn from(error: crate::dtls::DtlsError) -> ConnectError {
        ConnectError::Dtls(error)
    }
}

impl From<ConfigError> for ConnectError {
    fn from(error: ConfigError) -> ConnectError {
        ConnectError::Config(error)
    }
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
