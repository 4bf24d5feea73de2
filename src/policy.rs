//! The protocol policy both sides enforce before any handshake: which versions may be
//! enabled, which ALPN names are well formed, which OpenSSL security levels exist, which
//! key-exchange groups the linked OpenSSL offers.
//!
//! [`ClientConfigBuilder::build`](crate::client::ClientConfigBuilder::build) and
//! [`ServerConfigBuilder::build`](crate::server::ServerConfigBuilder::build) run the same
//! checks and report the same [`PolicyError`], in
//! [`ConfigError::Policy`](crate::client::ConfigError::Policy) and
//! [`ServerConfigError::Policy`](crate::server::ServerConfigError::Policy).
//!
//! ```
//! use tlshake::client::{ClientConfig, ConfigError};
//! use tlshake::PolicyError;
//! use tlshake::server::{ServerConfig, ServerConfigError};
//!
//! let client = ClientConfig::builder().alpn(["h2", ""]).build().unwrap_err();
//! let server = ServerConfig::builder().alpn(["h2", ""]).build().unwrap_err();
//! assert!(matches!(client, ConfigError::Policy(PolicyError::InvalidAlpn { .. })));
//! assert!(matches!(server, ServerConfigError::Policy(PolicyError::InvalidAlpn { .. })));
//!
//! // A group the linked OpenSSL does not know, refused alike on both sides.
//! let client = ClientConfig::builder().groups("X25519:no-such-group").build().unwrap_err();
//! let server = ServerConfig::builder().groups("no-such-group").build().unwrap_err();
//! assert!(matches!(client, ConfigError::Policy(PolicyError::UnknownGroup { .. })));
//! assert!(matches!(server, ServerConfigError::Policy(PolicyError::UnknownGroup { .. })));
//! ```

use crate::error_queue::ErrorQueue;
use crate::library::{self, OpensslVersion};
use crate::version::ProtocolVersion;
use std::fmt;

/// The highest security level OpenSSL defines
/// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)).
pub(crate) const MAX_SECURITY_LEVEL: u32 = 5;

/// A version, ALPN, security-level or group setting that the crate refuses, on the client
/// or the server side alike. Every message names the builder method that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// SSL 2.0 or 3.0 was asked for: broken, and no longer offered by OpenSSL.
    ProtocolRemoved {
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// TLS 1.0 or 1.1 was asked for without the legacy opt-out.
    LegacyNeedsOptOut {
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// The lowest version asked for is above the highest.
    VersionRange {
        /// The minimum given.
        min: ProtocolVersion,
        /// The maximum given.
        max: ProtocolVersion,
    },
    /// No version at all is enabled: no peer could connect.
    NoVersion,
    /// An ALPN protocol name is empty or longer than 255 bytes (RFC 7301: a name is 1 to
    /// 255 bytes).
    InvalidAlpn {
        /// The name given, lossily as text.
        protocol: String,
    },
    /// The security level is not one OpenSSL defines.
    SecurityLevel {
        /// The level given.
        level: u32,
    },
    /// A key-exchange group of the list given to `groups` is unknown to the linked
    /// OpenSSL: too old for it (`needs`), or built without it.
    UnknownGroup {
        /// The group's name, as given.
        group: String,
        /// The first OpenSSL release that offers the group, when it is newer than the
        /// linked one (`X25519MLKEM768`: 3.5).
        needs: Option<OpensslVersion>,
        /// The OpenSSL this process runs on.
        linked: OpensslVersion,
    },
    /// OpenSSL refused the group list given to `groups` although it knows every group in
    /// it: its form (separators, the `?`, `*`, `-` and `/` of OpenSSL 3.5 and newer).
    GroupList {
        /// The list given.
        list: String,
        /// The OpenSSL this process runs on.
        linked: OpensslVersion,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
}
impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::ProtocolRemoved { version, .. } => write!(f, "{version} is refused: SSL 2.0 and 3.0 are broken (RFC 6176, RFC 7568) and OpenSSL no longer offers them; ask for TLS 1.2 or 1.3 (protocols)")?,
            PolicyError::LegacyNeedsOptOut { version, .. } => write!(f, "{version} is deprecated (RFC 8996) and off by default: call allow_legacy_versions(true), which also lowers the OpenSSL security level to 0, or ask for TLS 1.2 or 1.3 only")?,
            PolicyError::VersionRange { min, max, .. } => write!(f, "minimum protocol version {min} is above the maximum {max}: swap them (ProtocolSet::range)")?,
            PolicyError::NoVersion => write!(f, "the protocol set is empty: enable at least one version with protocols (the default is TLS 1.2 | TLS 1.3)")?,
            PolicyError::InvalidAlpn { protocol, .. } => write!(f, "ALPN protocol {protocol:?} is invalid: each name given to alpn must be 1 to 255 bytes, such as \"h2\" or \"http/1.1\"")?,
            PolicyError::SecurityLevel { level, .. } => write!(f, "security level {level} does not exist: give security_level a value from 0 to 5 (OpenSSL's default is 1 or 2)")?,
            PolicyError::UnknownGroup { group, needs, linked, .. } => write!(f, "{}", unknown_group(group, *needs, *linked))?,
            PolicyError::GroupList { list, linked, .. } => write!(f, "OpenSSL {linked} refused the key-exchange group list {list:?}: give groups names separated by ':', such as X25519:P-256")?,
        }
        crate::error::write_causes(self, f)
    }
}

fn unknown_group(group: &str, needs: Option<OpensslVersion>, linked: OpensslVersion) -> String {
    match needs {
        Some(needs) => format!(
            "key-exchange group {group:?} needs OpenSSL {} or newer; this is {linked}: leave \
             groups unset for OpenSSL's own list, or name groups this version offers, such as \
             X25519:P-256",
            needs.line()
        ),
        None => format!(
            "key-exchange group {group:?} is unknown to OpenSSL {linked}: give groups names \
             it offers, such as X25519:P-256"
        ),
    }
}

/// Checks a key-exchange group list against the linked OpenSSL, as
/// [`ClientConfigBuilder::groups`](crate::client::ClientConfigBuilder::groups) and
/// [`ServerConfigBuilder::groups`](crate::server::ServerConfigBuilder::groups) are checked when built: the
/// library must take the list whole
/// ([`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)
/// on a fresh context). When it does not, the first name it does not know is the reason
/// ([`PolicyError::UnknownGroup`], naming the release that brought a newer group), else the
/// list's form ([`PolicyError::GroupList`]). A name marked `?` (OpenSSL 3.5 and newer:
/// "ignore if unknown") may be unknown.
///
/// ```
/// use tlshake::PolicyError;
/// use tlshake::internals::check_groups;
///
/// assert_eq!(check_groups("X25519:P-256"), Ok(()));
/// assert!(matches!(
///     check_groups("X25519:P-257"),
///     Err(PolicyError::UnknownGroup { group, .. }) if group == "P-257"
/// ));
/// ```
pub fn check_groups(list: &str) -> Result<(), PolicyError> {
    let whole = openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::tls_client())
        .and_then(|mut b| b.set_groups_list(list));
    let Err(stack) = whole else {
        return Ok(());
    };
    let linked = library::running();
    let unknown = list
        .split([':', '/'])
        .filter(|item| !item.starts_with('?'))
        .map(|item| item.trim_start_matches(['*', '-']))
        .find(|name| !name.is_empty() && !library::group_is_known(name));
    match unknown {
        Some(name) => Err(PolicyError::UnknownGroup {
            group: name.to_string(),
            needs: crate::groups::since(name).filter(|since| *since > linked),
            linked,
        }),
        None => Err(PolicyError::GroupList {
            list: list.to_string(),
            linked,
            source: stack.into(),
        }),
    }
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

    /// The post-quantum hybrid is OpenSSL 3.5's: older releases refuse it with the release
    /// that brought it, in the words the issue asks for.
    #[test]
    fn a_post_quantum_group_needs_openssl_3_5() {
        let linked = library::running();
        let result = check_groups("X25519MLKEM768:X25519");
        if linked >= OpensslVersion::new(3, 5, 0) {
            assert_eq!(result, Ok(()));
            // A `?` name may be unknown (3.5+), and DEFAULT is OpenSSL's own list.
            assert_eq!(check_groups("?no-such-group:DEFAULT"), Ok(()));
        } else {
            let e = result.unwrap_err();
            assert_eq!(
                e,
                PolicyError::UnknownGroup {
                    group: "X25519MLKEM768".into(),
                    needs: Some(OpensslVersion::new(3, 5, 0)),
                    linked
                }
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "key-exchange group \"X25519MLKEM768\" needs OpenSSL 3.5 or newer; this is \
                     {linked}: leave groups unset for OpenSSL's own list, or name groups this \
                     version offers, such as X25519:P-256"
                )
            );
            // DEFAULT is a word of 3.5's lists.
            assert!(matches!(
                check_groups("DEFAULT"),
                Err(PolicyError::UnknownGroup { needs: Some(v), .. }) if v == OpensslVersion::new(3, 5, 0)
            ));
        }
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
        assert!(matches!(
            check_groups("X25519::P-256"),
            Err(PolicyError::GroupList { .. })
        ));
        assert_eq!(check_groups("X25519:P-256"), Ok(()));
        let linked = library::running();
        assert_eq!(
            check_groups("X25519:no-such-group:P-256"),
            Err(PolicyError::UnknownGroup {
                group: "no-such-group".into(),
                needs: None,
                linked
            })
        );
        assert_eq!(check_security_level(Some(5)), Ok(()));
        assert_eq!(
            check_security_level(Some(6)),
            Err(PolicyError::SecurityLevel { level: 6 })
        );
    }
}
