//! Protocol versions, as named by OpenSSL (`TLSv1.3`, `TLS1_3_VERSION`), transport URL schemes
//! and the `tlshake` command line.

use std::fmt;
use std::str::FromStr;

use openssl::ssl::SslVersion;

/// The default cipher list for TLS 1.2 and below, on both sides
/// ([`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)):
/// the forward-secret AEAD suites only, ECDHE with AES-GCM or ChaCha20-Poly1305, for ECDSA
/// and RSA certificates (the TLS 1.2 suites of Mozilla's "intermediate" configuration,
/// without its finite-field DHE). TLS 1.3 suites all have forward secrecy and are AEAD.
///
/// CBC suites (`ECDHE-*-AES*-SHA`, `-SHA256`, `-SHA384`) come only with the opt-out
/// [`TLS12_CIPHERS_WITH_CBC`] (`allow_cbc_ciphers(true)` on
/// [`ClientConfigBuilder`](crate::client::ClientConfigBuilder::allow_cbc_ciphers) and
/// [`ServerConfig`](crate::server::ServerConfigBuilder::allow_cbc_ciphers)) or an explicit list
/// ([`ClientConfigBuilder::ciphers`](crate::client::ClientConfigBuilder::ciphers)).
pub const TLS12_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// The TLS 1.2 cipher list of the CBC opt-out (`allow_cbc_ciphers(true)`): OpenSSL's
/// `DEFAULT` minus every suite without forward secrecy (static-RSA key exchange) and the
/// broken or anonymous ones (NULL, aNULL, RC4, DES, 3DES). It adds the CBC suites (with
/// HMAC-SHA1 or SHA-2) and finite-field DHE to [`TLS12_CIPHERS`], for peers that have
/// nothing newer.
pub const TLS12_CIPHERS_WITH_CBC: &str = "DEFAULT:!kRSA:!aNULL:!eNULL:!RC4:!DES:!3DES";

/// One SSL/TLS protocol version.
///
/// `Ssl2` and `Ssl3` exist so that they can be *recognised* (in URLs, flags, protocol sets) and
/// refused with a reason: OpenSSL removed SSL 2.0 and disables SSL 3.0, and both are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// SSL 2.0 (RFC 6176 prohibits it; not in OpenSSL since 1.1.0).
    Ssl2,
    /// SSL 3.0 (RFC 7568 deprecates it; POODLE).
    Ssl3,
    /// TLS 1.0 (RFC 8996 deprecates it); needs the legacy opt-out and security level 0.
    Tls1_0,
    /// TLS 1.1 (RFC 8996 deprecates it); needs the legacy opt-out and security level 0.
    Tls1_1,
    /// TLS 1.2.
    Tls1_2,
    /// TLS 1.3.
    Tls1_3,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [ProtocolVersion; 6] = [
        ProtocolVersion::Ssl2,
        ProtocolVersion::Ssl3,
        ProtocolVersion::Tls1_0,
        ProtocolVersion::Tls1_1,
        ProtocolVersion::Tls1_2,
        ProtocolVersion::Tls1_3,
    ];

    /// The OpenSSL constant for this version (`SSL_CTX_set_min_proto_version`), or `None` for
    /// SSL 2.0, which OpenSSL no longer knows.
    pub fn to_openssl(self) -> Option<SslVersion> {
        match self {
            ProtocolVersion::Ssl2 => None,
            ProtocolVersion::Ssl3 => Some(SslVersion::SSL3),
            ProtocolVersion::Tls1_0 => Some(SslVersion::TLS1),
            ProtocolVersion::Tls1_1 => Some(SslVersion::TLS1_1),
            ProtocolVersion::Tls1_2 => Some(SslVersion::TLS1_2),
            ProtocolVersion::Tls1_3 => Some(SslVersion::TLS1_3),
        }
    }

    /// The version number on the wire and in OpenSSL's `TLS1_2_VERSION`-style constants
    /// (`0x0303` for TLS 1.2; `0x0002` for SSL 2.0).
    pub fn wire(self) -> u16 {
        match self {
            ProtocolVersion::Ssl2 => 0x0002,
            ProtocolVersion::Ssl3 => 0x0300,
            ProtocolVersion::Tls1_0 => 0x0301,
            ProtocolVersion::Tls1_1 => 0x0302,
            ProtocolVersion::Tls1_2 => 0x0303,
            ProtocolVersion::Tls1_3 => 0x0304,
        }
    }

    /// The version with this wire number, if it is one tlshake knows.
    pub fn from_wire(wire: u16) -> Option<ProtocolVersion> {
        ProtocolVersion::ALL.into_iter().find(|v| v.wire() == wire)
    }

    /// The name OpenSSL gives this version (`SSL_get_version`): `"TLSv1.3"`, `"SSLv3"`, ...
    pub fn openssl_name(self) -> &'static str {
        match self {
            ProtocolVersion::Ssl2 => "SSLv2",
            ProtocolVersion::Ssl3 => "SSLv3",
            ProtocolVersion::Tls1_0 => "TLSv1",
            ProtocolVersion::Tls1_1 => "TLSv1.1",
            ProtocolVersion::Tls1_2 => "TLSv1.2",
            ProtocolVersion::Tls1_3 => "TLSv1.3",
        }
    }

    /// The short name used on the command line: `tls1`, `tls1.1`, `tls1.2`, `tls1.3`, `ssl2`,
    /// `ssl3`.
    pub fn cli_name(self) -> &'static str {
        match self {
            ProtocolVersion::Ssl2 => "ssl2",
            ProtocolVersion::Ssl3 => "ssl3",
            ProtocolVersion::Tls1_0 => "tls1",
            ProtocolVersion::Tls1_1 => "tls1.1",
            ProtocolVersion::Tls1_2 => "tls1.2",
            ProtocolVersion::Tls1_3 => "tls1.3",
        }
    }

    /// Parses OpenSSL's own name (`SSL_get_version` output) back into a version.
    pub fn from_openssl_name(name: &str) -> Option<ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .find(|v| v.openssl_name() == name)
    }

    /// True for SSL 2.0 and SSL 3.0, which tlshake recognises but always refuses.
    pub fn is_removed(self) -> bool {
        matches!(self, ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3)
    }

    /// True for TLS 1.0 and 1.1, which need the explicit legacy opt-out.
    pub fn is_legacy(self) -> bool {
        matches!(self, ProtocolVersion::Tls1_0 | ProtocolVersion::Tls1_1)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openssl_name())
    }
}

/// A protocol version name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownVersion {
    /// The text that was given.
    pub given: String,
}
impl fmt::Display for UnknownVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnknownVersion { given, .. } = self;
        write!(f, "unknown protocol version {given:?}: use one of tls1, tls1.1, tls1.2, tls1.3 (ssl2 and ssl3 are recognised but refused)")?;
        crate::error::write_causes(self, f)
    }
}

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;

    /// Accepts the command-line names (`tls1`, `tls1.0`, `tls1.1`, `tls1.2`, `tls1.3`, `ssl2`,
    /// `ssl3`) and OpenSSL's names (`TLSv1.2`, ...), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let v = match lower.as_str() {
            "ssl2" | "sslv2" => ProtocolVersion::Ssl2,
            "ssl3" | "sslv3" => ProtocolVersion::Ssl3,
            "tls1" | "tls1.0" | "tlsv1" | "tlsv1.0" => ProtocolVersion::Tls1_0,
            "tls1.1" | "tlsv1.1" => ProtocolVersion::Tls1_1,
            "tls1.2" | "tlsv1.2" => ProtocolVersion::Tls1_2,
            "tls1.3" | "tlsv1.3" => ProtocolVersion::Tls1_3,
            _ => {
                return Err(UnknownVersion {
                    given: s.to_string(),
                })
            }
        };
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.cli_name().parse::<ProtocolVersion>(), Ok(v));
            assert_eq!(
                ProtocolVersion::from_openssl_name(v.openssl_name()),
                Some(v)
            );
        }
        assert!("tls2".parse::<ProtocolVersion>().is_err());
    }
}
