//! The scheme of a transport URL: the socket transport (`tcp`, `udp`, `ssl`, `tls`, ...).

use std::fmt;
use std::str::FromStr;

use super::error::UrlError;
use crate::version::ProtocolVersion;

/// A socket transport: plain TCP or UDP, or TLS with a protocol range (the names PHP's socket
/// transports use; the README maps them).
///
/// Names are matched case-insensitively when parsed and always printed in lowercase.
/// `sslv2` and `sslv3` parse like every other scheme, so that they can be recognised and refused
/// later with [`Scheme::refusal_reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `tcp://`: a plain TCP connection, and the scheme of a URL that names none.
    Tcp,
    /// `udp://`: a plain UDP socket (no TLS).
    Udp,
    /// `ssl://`: TLS with the default protocol range (the legacy name of `tls://`).
    Ssl,
    /// `tls://`: TLS with the default protocol range.
    Tls,
    /// `tlsv1.0://`: TLS pinned to TLS 1.0.
    TlsV1_0,
    /// `tlsv1.1://`: TLS pinned to TLS 1.1.
    TlsV1_1,
    /// `tlsv1.2://`: TLS pinned to TLS 1.2.
    TlsV1_2,
    /// `tlsv1.3://`: TLS pinned to TLS 1.3.
    TlsV1_3,
    /// `sslv2://`: SSL 2.0, recognised only to be refused.
    SslV2,
    /// `sslv3://`: SSL 3.0, recognised only to be refused.
    SslV3,
}

impl Scheme {
    /// Every scheme, in the order they are listed in messages.
    pub const KNOWN: [Scheme; 10] = [
        Scheme::Tcp,
        Scheme::Udp,
        Scheme::Ssl,
        Scheme::Tls,
        Scheme::TlsV1_0,
        Scheme::TlsV1_1,
        Scheme::TlsV1_2,
        Scheme::TlsV1_3,
        Scheme::SslV2,
        Scheme::SslV3,
    ];

    /// The scheme's name, lowercase, without `://`: `"tcp"`, `"tlsv1.2"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp",
            Scheme::Udp => "udp",
            Scheme::Ssl => "ssl",
            Scheme::Tls => "tls",
            Scheme::TlsV1_0 => "tlsv1.0",
            Scheme::TlsV1_1 => "tlsv1.1",
            Scheme::TlsV1_2 => "tlsv1.2",
            Scheme::TlsV1_3 => "tlsv1.3",
            Scheme::SslV2 => "sslv2",
            Scheme::SslV3 => "sslv3",
        }
    }

    /// Finds the scheme with this exact name, ignoring ASCII case (`"TLS"` is `tls`).
    ///
    /// There are no aliases: `tlsv1` is not `tlsv1.0`. Parsing with [`str::parse`] instead gives
    /// an error that suggests the nearest scheme.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::KNOWN
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// True when the connection is wrapped in SSL/TLS: `ssl`, `tls`, `tlsv1.x`, `sslv2`, `sslv3`.
    pub fn is_tls(self) -> bool {
        !matches!(self, Scheme::Tcp | Scheme::Udp)
    }

    /// The single protocol version this scheme allows, or `None` when it allows the configured
    /// range (`ssl`, `tls`) or is not TLS at all (`tcp`, `udp`).
    pub fn pinned_version(self) -> Option<ProtocolVersion> {
        match self {
            Scheme::TlsV1_0 => Some(ProtocolVersion::Tls1_0),
            Scheme::TlsV1_1 => Some(ProtocolVersion::Tls1_1),
            Scheme::TlsV1_2 => Some(ProtocolVersion::Tls1_2),
            Scheme::TlsV1_3 => Some(ProtocolVersion::Tls1_3),
            Scheme::SslV2 => Some(ProtocolVersion::Ssl2),
            Scheme::SslV3 => Some(ProtocolVersion::Ssl3),
            Scheme::Tcp | Scheme::Udp | Scheme::Ssl | Scheme::Tls => None,
        }
    }

    /// Why a client refuses this scheme, for `sslv2` and `sslv3`; `None` for every other scheme.
    ///
    /// Parsing accepts these schemes; refusing them is the client configuration's job, and this
    /// is the reason it gives.
    pub fn refusal_reason(self) -> Option<&'static str> {
        match self {
            Scheme::SslV2 => Some(
                "SSL 2.0 is removed from OpenSSL and insecure (RFC 6176); \
                 use tls:// or tlsv1.2:// / tlsv1.3://",
            ),
            Scheme::SslV3 => Some(
                "SSL 3.0 is removed from OpenSSL and insecure (RFC 7568); \
                 use tls:// or tlsv1.2:// / tlsv1.3://",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = UrlError;

    /// Parses a scheme name without `://`, ignoring ASCII case.
    ///
    /// An empty name is [`UrlError::EmptyScheme`]; any other unknown name is
    /// [`UrlError::UnknownScheme`], with a suggestion for near misses such as `tlsv1` or `tls1.2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(UrlError::EmptyScheme {
                input: s.to_string(),
            });
        }
        Scheme::from_name(s).ok_or_else(|| unknown_scheme(s, s))
    }
}

/// The error for an unknown scheme `name` found in `input`.
pub(super) fn unknown_scheme(input: &str, name: &str) -> UrlError {
    UrlError::UnknownScheme {
        input: input.to_string(),
        scheme: name.to_string(),
        suggestion: near_miss(name),
    }
}

/// The known scheme that an unknown `name` was probably meant to be.
///
/// Compares names with case, dots, dashes, underscores and the letter `v` removed, so that
/// `tlsv1`, `TLS1.2`, `ssl3` and `tls-1.3` find their scheme; `https` suggests `tls`.
pub(super) fn near_miss(name: &str) -> Option<Scheme> {
    let squashed: String = name
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_' | 'v' | 'V'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match squashed.as_str() {
        "tls1" | "tls10" => Some(Scheme::TlsV1_0),
        "tls11" => Some(Scheme::TlsV1_1),
        "tls12" => Some(Scheme::TlsV1_2),
        "tls13" => Some(Scheme::TlsV1_3),
        "ssl2" | "ssl20" => Some(Scheme::SslV2),
        "ssl3" | "ssl30" => Some(Scheme::SslV3),
        "tls" | "tsl" | "https" => Some(Scheme::Tls),
        "ssl" => Some(Scheme::Ssl),
        "tcp" => Some(Scheme::Tcp),
        "udp" => Some(Scheme::Udp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_find_their_scheme() {
        assert_eq!(near_miss("tlsv1"), Some(Scheme::TlsV1_0));
        assert_eq!(near_miss("TLS1.2"), Some(Scheme::TlsV1_2));
        assert_eq!(near_miss("tls-1.3"), Some(Scheme::TlsV1_3));
        assert_eq!(near_miss("ssl3"), Some(Scheme::SslV3));
        assert_eq!(near_miss("https"), Some(Scheme::Tls));
        assert_eq!(near_miss("gopher"), None);
        assert_eq!(near_miss("tls2"), None);
    }
}
