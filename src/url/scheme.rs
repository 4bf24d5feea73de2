//! The scheme of a transport URL: the socket transport (`tcp`, `udp`, `ssl`, `tls`, ...).

use std::fmt;

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
    /// `dtls://`: DTLS over UDP (DTLS 1.2), connected with
    /// [`dtls::connect`](crate::dtls::connect).
    Dtls,
    /// `dtlsv1.2://`: DTLS pinned to DTLS 1.2 (the only DTLS version offered, so the same as
    /// `dtls://`).
    DtlsV1_2,
}

impl Scheme {
    /// Every scheme, in the order they are listed in messages.
    pub const KNOWN: [Scheme; 12] = [
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
        Scheme::Dtls,
        Scheme::DtlsV1_2,
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
            Scheme::Dtls => "dtls",
            Scheme::DtlsV1_2 => "dtlsv1.2",
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

    /// True when the connection is wrapped in SSL/TLS over TCP: `ssl`, `tls`, `tlsv1.x`,
    /// `sslv2`, `sslv3`.
    pub fn is_tls(self) -> bool {
        !matches!(
            self,
            Scheme::Tcp | Scheme::Udp | Scheme::Dtls | Scheme::DtlsV1_2
        )
    }

    /// True for DTLS over UDP: `dtls`, `dtlsv1.2`.
    pub fn is_dtls(self) -> bool {
        matches!(self, Scheme::Dtls | Scheme::DtlsV1_2)
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
            Scheme::Tcp
            | Scheme::Udp
            | Scheme::Ssl
            | Scheme::Tls
            | Scheme::Dtls
            | Scheme::DtlsV1_2 => None,
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
