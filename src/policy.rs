//! The protocol policy both sides enforce before any handshake: which versions may be
//! enabled, which ALPN names are well formed, which OpenSSL security levels exist.
//!
//! [`ClientConfigBuilder::build`](crate::client::ClientConfigBuilder::build) and
//! [`ServerConfig::build_context`](crate::server::ServerConfig::build_context) run the same
//! checks and report the same [`PolicyError`], in
//! [`ConfigError::Policy`](crate::client::ConfigError::Policy) and
//! [`ServerConfigError::Policy`](crate::server::ServerConfigError::Policy).
//!
//! ```
//! use tlshake::client::{ClientConfig, ConfigError};
//! use tlshake::policy::PolicyError;
//! use tlshake::server::{ServerConfig, ServerConfigError};
//!
//! let client = ClientConfig::builder().alpn(["h2", ""]).build().unwrap_err();
//! let server = ServerConfig::builder().alpn(["h2", ""]).build_context().unwrap_err();
//! assert!(matches!(client, ConfigError::Policy(PolicyError::InvalidAlpn { .. })));
//! assert!(matches!(server, ServerConfigError::Policy(PolicyError::InvalidAlpn { .. })));
//! ```

use crate::version::ProtocolVersion;

/// The highest security level OpenSSL defines
/// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)).
pub const MAX_SECURITY_LEVEL: u32 = 5;

/// A version, ALPN or security-level setting that the crate refuses, on the client or the
/// server side alike. Every message names the builder method that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// SSL 2.0 or 3.0 was asked for: broken, and no longer offered by OpenSSL.
    #[error("{version} is refused: SSL 2.0 and 3.0 are broken (RFC 6176, RFC 7568) and OpenSSL no longer offers them; ask for TLS 1.2 or 1.3 (protocols)")]
    ProtocolRemoved {
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// TLS 1.0 or 1.1 was asked for without the legacy opt-out.
    #[error("{version} is deprecated (RFC 8996) and off by default: call allow_legacy_versions(true), which also lowers the OpenSSL security level to 0, or ask for TLS 1.2 or 1.3 only")]
    LegacyNeedsOptOut {
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// The lowest version asked for is above the highest.
    #[error(
        "minimum protocol version {min} is above the maximum {max}: swap them (ProtocolSet::range)"
    )]
    VersionRange {
        /// The minimum given.
        min: ProtocolVersion,
        /// The maximum given.
        max: ProtocolVersion,
    },
    /// No version at all is enabled: no peer could connect.
    #[error("the protocol set is empty: enable at least one version with protocols (the default is TLS 1.2 | TLS 1.3)")]
    NoVersion,
    /// An ALPN protocol name is empty or longer than 255 bytes (RFC 7301: a name is 1 to
    /// 255 bytes).
    #[error("ALPN protocol {protocol:?} is invalid: each name given to alpn must be 1 to 255 bytes, such as \"h2\" or \"http/1.1\"")]
    InvalidAlpn {
        /// The name given, lossily as text.
        protocol: String,
    },
    /// The security level is not one OpenSSL defines.
    #[error("security level {level} does not exist: give security_level a value from 0 to 5 (OpenSSL's default is 1 or 2)")]
    SecurityLevel {
        /// The level given.
        level: u32,
    },
}

/// Refuses SSL 2.0/3.0 always, and TLS 1.0/1.1 without the opt-out.
pub(crate) fn check_versions(
    versions: impl IntoIterator<Item = ProtocolVersion>,
    allow_legacy: bool,
) -> Result<(), PolicyError> {
    for version in versions {
        if version.is_removed() {
            return Err(PolicyError::ProtocolRemoved { version });
        }
        if version.is_legacy() && !allow_legacy {
            return Err(PolicyError::LegacyNeedsOptOut { version });
        }
    }
    Ok(())
}

/// The versions of a protocol set: at least one, and each allowed by [`check_versions`].
pub(crate) fn check_set(
    versions: impl IntoIterator<Item = ProtocolVersion>,
    allow_legacy: bool,
) -> Result<(), PolicyError> {
    let versions: Vec<ProtocolVersion> = versions.into_iter().collect();
    if versions.is_empty() {
        return Err(PolicyError::NoVersion);
    }
    check_versions(versions, allow_legacy)
}

/// Refuses a level OpenSSL does not define.
pub(crate) fn check_security_level(level: Option<u32>) -> Result<(), PolicyError> {
    match level {
        Some(level) if level > MAX_SECURITY_LEVEL => Err(PolicyError::SecurityLevel { level }),
        _ => Ok(()),
    }
}

/// Checks every ALPN name and gives the list in wire format (each name after its length
/// byte), as `SSL_CTX_set_alpn_protos` takes it.
pub(crate) fn alpn_wire<P: AsRef<[u8]>>(protocols: &[P]) -> Result<Vec<u8>, PolicyError> {
    let mut wire = Vec::new();
    for p in protocols {
        let p = p.as_ref();
        let len = u8::try_from(p.len())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| PolicyError::InvalidAlpn {
                protocol: String::from_utf8_lossy(p).into_owned(),
            })?;
        wire.push(len);
        wire.extend_from_slice(p);
    }
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            check_versions([ProtocolVersion::Ssl3, ProtocolVersion::Tls1_2], true),
            Err(PolicyError::ProtocolRemoved {
                version: ProtocolVersion::Ssl3
            })
        );
        assert_eq!(
            check_versions([ProtocolVersion::Tls1_1], false),
            Err(PolicyError::LegacyNeedsOptOut {
                version: ProtocolVersion::Tls1_1
            })
        );
        assert_eq!(check_versions([ProtocolVersion::Tls1_0], true), Ok(()));
        assert_eq!(check_set([], true), Err(PolicyError::NoVersion));
        assert_eq!(
            check_set([ProtocolVersion::Tls1_1, ProtocolVersion::Tls1_2], false),
            Err(PolicyError::LegacyNeedsOptOut {
                version: ProtocolVersion::Tls1_1
            })
        );
        assert_eq!(check_set([ProtocolVersion::Tls1_3], false), Ok(()));
        assert_eq!(
            crate::server::ProtocolSet::range(ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2),
            Err(PolicyError::VersionRange {
                min: ProtocolVersion::Tls1_3,
                max: ProtocolVersion::Tls1_2
            })
        );
    }

    #[test]
    fn alpn_and_levels() {
        assert_eq!(
            alpn_wire(&["h2", "http/1.1"]).as_deref(),
            Ok(&b"\x02h2\x08http/1.1"[..])
        );
        let long = "x".repeat(256);
        for bad in ["", long.as_str()] {
            assert!(
                matches!(
                    alpn_wire(&["h2", bad]),
                    Err(PolicyError::InvalidAlpn { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(alpn_wire(&["x".repeat(255)]).is_ok());
        assert_eq!(check_security_level(Some(5)), Ok(()));
        assert_eq!(
            check_security_level(Some(6)),
            Err(PolicyError::SecurityLevel { level: 6 })
        );
    }
}
