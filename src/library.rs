//! Which OpenSSL, exactly: the headers tlshake was compiled against, the library it runs on
//! (they differ when a shared `libssl` is upgraded under the binary), and what that library
//! offers (post-quantum key exchange, Encrypted Client Hello).
//!
//! ```
//! use tlshake::library::{self, OpensslVersion};
//!
//! let running = library::running();
//! assert!(running >= OpensslVersion::new(3, 0, 0)); // the lowest tlshake builds with
//! let info = library::LibraryInfo::probe();
//! // OpenSSL 3.5 and newer offer the hybrid X25519MLKEM768 (and lead with it by default).
//! assert_eq!(
//!     info.post_quantum_groups.contains(&"X25519MLKEM768"),
//!     running >= OpensslVersion::new(3, 5, 0)
//! );
//! ```

use std::fmt;

use openssl::ssl::{SslContext, SslMethod};

/// An OpenSSL release, from its `OPENSSL_VERSION_NUMBER` (`0xMNN00PP0`: major, minor,
/// patch): `3.0.22` is `0x30000160`. Ordered as releases are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpensslVersion(u64);

impl OpensslVersion {
    /// The release `major.minor.patch`.
    pub const fn new(major: u8, minor: u8, patch: u8) -> OpensslVersion {
        OpensslVersion((major as u64) << 28 | (minor as u64) << 20 | (patch as u64) << 4)
    }

    /// The release of an `OPENSSL_VERSION_NUMBER` (the form
    /// [`OpenSSL_version_num(3)`](https://docs.openssl.org/3.0/man3/OpenSSL_version/)
    /// returns).
    pub const fn from_number(number: u64) -> OpensslVersion {
        OpensslVersion(number)
    }

    /// The `OPENSSL_VERSION_NUMBER`.
    pub const fn number(self) -> u64 {
        self.0
    }

    /// The major version (3 for 3.5.5).
    pub const fn major(self) -> u8 {
        (self.0 >> 28 & 0xf) as u8
    }

    /// The minor version (5 for 3.5.5).
    pub const fn minor(self) -> u8 {
        (self.0 >> 20 & 0xff) as u8
    }

    /// The patch release (5 for 3.5.5).
    pub const fn patch(self) -> u8 {
        (self.0 >> 4 & 0xff) as u8
    }

    /// `major.minor` only: how a release line is named (`3.5`).
    pub fn line(self) -> String {
        format!("{}.{}", self.major(), self.minor())
    }
}

/// `3.0.22`.
impl fmt::Display for OpensslVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major(), self.minor(), self.patch())
    }
}

/// The OpenSSL whose headers tlshake was compiled against: `OPENSSL_VERSION_NUMBER` as the
/// build script read it from `openssl-sys`.
pub fn built_against() -> OpensslVersion {
    let hex = env!("TLSHAKE_OPENSSL_VERSION_NUMBER");
    OpensslVersion(u64::from_str_radix(hex, 16).unwrap_or(0))
}

/// The OpenSSL this process runs on
/// ([`OpenSSL_version_num(3)`](https://docs.openssl.org/3.0/man3/OpenSSL_version/)).
pub fn running() -> OpensslVersion {
    OpensslVersion(u64::try_from(openssl::version::number()).unwrap_or(0))
}

/// What the running OpenSSL is and offers; [`probe`](Self::probe) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LibraryInfo {
    /// The headers tlshake was compiled against ([`built_against`]).
    pub built_against: OpensslVersion,
    /// The library this process runs on ([`running`]).
    pub running: OpensslVersion,
    /// The running library's own description, `"OpenSSL 3.5.5 27 Jan 2026"`
    /// ([`OpenSSL_version(3)`](https://docs.openssl.org/3.0/man3/OpenSSL_version/) with
    /// `OPENSSL_VERSION`).
    pub running_text: String,
    /// The post-quantum key-exchange groups the running library accepts in a group list
    /// ([`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)
    /// on a fresh context), in OpenSSL's order: `X25519MLKEM768`, `SecP256r1MLKEM768`, ... on
    /// OpenSSL 3.5 and newer; none before.
    pub post_quantum_groups: Vec<&'static str>,
    /// Whether the library has Encrypted Client Hello: OpenSSL 4.0 and newer, unless built
    /// with `no-ech`.
    pub ech: bool,
}

impl LibraryInfo {
    /// Reads the versions and probes the running library.
    pub fn probe() -> LibraryInfo {
        LibraryInfo {
            built_against: built_against(),
            running: running(),
            running_text: openssl::version::version().to_string(),
            post_quantum_groups: crate::groups::post_quantum_names()
                .filter(|name| group_is_known(name))
                .collect(),
            ech: cfg!(all(ossl400, not(ossl_no_ech))),
        }
    }

    /// Whether the running library offers any post-quantum key-exchange group.
    pub fn offers_post_quantum(&self) -> bool {
        !self.post_quantum_groups.is_empty()
    }
}

/// Whether the running OpenSSL accepts `list` as a key-exchange group list: a fresh client
/// context takes it with
/// [`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/).
/// The probe leaves this thread's error queue as it found it.
pub(crate) fn group_is_known(list: &str) -> bool {
    SslContext::builder(SslMethod::tls_client())
        .and_then(|mut b| b.set_groups_list(list))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_and_order_as_releases() {
        let v = OpensslVersion::from_number(0x3000_0160);
        assert_eq!((v.major(), v.minor(), v.patch()), (3, 0, 22));
        assert_eq!(v.to_string(), "3.0.22");
        assert_eq!(v.line(), "3.0");
        assert_eq!(OpensslVersion::new(3, 0, 22), v);
        assert_eq!(OpensslVersion::new(4, 0, 3).number(), 0x4000_0030);
        assert!(OpensslVersion::new(3, 5, 0) > OpensslVersion::new(3, 0, 22));
        assert!(OpensslVersion::new(4, 0, 0) > OpensslVersion::new(3, 6, 3));
        // Built statically (or against the same shared library): the two agree on the line.
        assert_eq!(built_against().line(), running().line());
    }

    #[test]
    fn the_probe_matches_the_release() {
        let info = LibraryInfo::probe();
        let pq = running() >= OpensslVersion::new(3, 5, 0);
        assert_eq!(info.offers_post_quantum(), pq, "{info:?}");
        assert_eq!(info.post_quantum_groups.contains(&"X25519MLKEM768"), pq);
        assert!(
            info.running_text.contains(&running().to_string()),
            "{info:?}"
        );
        assert!(!group_is_known("no-such-group"));
        assert!(group_is_known("X25519:P-256"));
    }
}
