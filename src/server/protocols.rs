//! [`ProtocolSet`]: which protocol versions a listener accepts, as a set of flags.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use openssl::ssl::SslOptions;

use crate::policy::PolicyError;
use crate::version::{ProtocolVersion, UnknownVersion};

/// A set of protocol versions, written like flags: `ProtocolSet::TLS1_2 | ProtocolSet::TLS1_3`.
///
/// The set may have a hole (TLS 1.0 and TLS 1.2 but not TLS 1.1): the listener then allows the
/// range from the lowest to the highest version
/// ([`SSL_CTX_set_min_proto_version(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_min_proto_version/))
/// and switches the missing ones off with `SSL_OP_NO_TLSv1_1` and friends
/// ([`SSL_CTX_set_options(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/)).
///
/// The default is {TLS 1.2, TLS 1.3}: TLS 1.0 and 1.1 are deprecated by RFC 8996. SSL 2.0 and SSL 3.0 can be named so that
/// they are refused with a reason; TLS 1.0 and 1.1 need the explicit legacy opt-out.
///
/// ```
/// use tlshake::ProtocolSet;
/// use tlshake::ProtocolVersion;
///
/// let set = ProtocolSet::TLS1_2 | ProtocolSet::TLS1_3;
/// assert_eq!(set, ProtocolSet::default());
/// assert!(set.contains(ProtocolVersion::Tls1_3));
/// assert_eq!("tls1.2,tls1.3".parse::<ProtocolSet>(), Ok(set));
/// assert_eq!(set.to_string(), "TLSv1.2 | TLSv1.3");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolSet {
    bits: u8,
}

impl ProtocolSet {
    /// No version at all (refused by the listener: nothing could connect).
    pub const EMPTY: ProtocolSet = ProtocolSet { bits: 0 };
    /// SSL 2.0: recognised so that it can be refused.
    pub const SSL2: ProtocolSet = ProtocolSet::of(ProtocolVersion::Ssl2);
    /// SSL 3.0: recognised so that it can be refused.
    pub const SSL3: ProtocolSet = ProtocolSet::of(ProtocolVersion::Ssl3);
    /// TLS 1.0 (needs the legacy opt-out).
    pub const TLS1: ProtocolSet = ProtocolSet::of(ProtocolVersion::Tls1_0);
    /// TLS 1.1 (needs the legacy opt-out).
    pub const TLS1_1: ProtocolSet = ProtocolSet::of(ProtocolVersion::Tls1_1);
    /// TLS 1.2.
    pub const TLS1_2: ProtocolSet = ProtocolSet::of(ProtocolVersion::Tls1_2);
    /// TLS 1.3.
    pub const TLS1_3: ProtocolSet = ProtocolSet::of(ProtocolVersion::Tls1_3);

    /// Every version from `lowest` to `highest`, both included (what a minimum and a maximum
    /// protocol version say; `openssl s_client -min_protocol -max_protocol`). A `lowest`
    /// above `highest` is refused with [`PolicyError::VersionRange`].
    ///
    /// ```
    /// use tlshake::ProtocolSet;
    /// use tlshake::ProtocolVersion::{Tls1_2, Tls1_3};
    ///
    /// assert_eq!(ProtocolSet::range(Tls1_2, Tls1_3), Ok(ProtocolSet::default()));
    /// assert!(ProtocolSet::range(Tls1_3, Tls1_2).is_err());
    /// ```
    pub fn range(
        lowest: ProtocolVersion,
        highest: ProtocolVersion,
    ) -> Result<ProtocolSet, PolicyError> {
        if lowest > highest {
            return Err(PolicyError::VersionRange {
                min: lowest,
                max: highest,
            });
        }
        Ok(ProtocolVersion::ALL
            .into_iter()
            .filter(|v| *v >= lowest && *v <= highest)
            .fold(ProtocolSet::EMPTY, ProtocolSet::with))
    }

    /// The set holding only `version`.
    pub const fn of(version: ProtocolVersion) -> ProtocolSet {
        ProtocolSet {
            bits: 1 << bit_index(version),
        }
    }

    /// True when `version` is in the set.
    pub fn contains(self, version: ProtocolVersion) -> bool {
        self.bits & ProtocolSet::of(version).bits != 0
    }

    /// The set with `version` added.
    pub fn with(self, version: ProtocolVersion) -> ProtocolSet {
        self | ProtocolSet::of(version)
    }

    /// The set with `version` removed.
    pub fn without(self, version: ProtocolVersion) -> ProtocolSet {
        ProtocolSet {
            bits: self.bits & !ProtocolSet::of(version).bits,
        }
    }

    /// True when the set holds no version.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The versions in the set, oldest first.
    pub fn versions(self) -> impl Iterator<Item = ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .filter(move |v| self.contains(*v))
    }

    /// The oldest version in the set.
    pub fn lowest(self) -> Option<ProtocolVersion> {
        self.versions().next()
    }

    /// The newest version in the set.
    pub fn highest(self) -> Option<ProtocolVersion> {
        self.versions().last()
    }

    /// The versions between the lowest and the highest that are not in the set (the holes).
    pub fn holes(self) -> Vec<ProtocolVersion> {
        match (self.lowest(), self.highest()) {
            (Some(lo), Some(hi)) => ProtocolVersion::ALL
                .into_iter()
                .filter(|v| *v > lo && *v < hi && !self.contains(*v))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The `SSL_OP_NO_*` options that switch the holes off.
    pub(crate) fn hole_options(self) -> SslOptions {
        let mut options = SslOptions::empty();
        for v in self.holes() {
            options |= match v {
                ProtocolVersion::Tls1_0 => SslOptions::NO_TLSV1,
                ProtocolVersion::Tls1_1 => SslOptions::NO_TLSV1_1,
                ProtocolVersion::Tls1_2 => SslOptions::NO_TLSV1_2,
                ProtocolVersion::Ssl3 => SslOptions::NO_SSLV3,
                _ => SslOptions::empty(),
            };
        }
        options
    }
}

const fn bit_index(version: ProtocolVersion) -> u8 {
    match version {
        ProtocolVersion::Ssl2 => 0,
        ProtocolVersion::Ssl3 => 1,
        ProtocolVersion::Tls1_0 => 2,
        ProtocolVersion::Tls1_1 => 3,
        ProtocolVersion::Tls1_2 => 4,
        ProtocolVersion::Tls1_3 => 5,
    }
}

impl Default for ProtocolSet {
    /// {TLS 1.2, TLS 1.3}.
    fn default() -> ProtocolSet {
        ProtocolSet::TLS1_2 | ProtocolSet::TLS1_3
    }
}

impl BitOr for ProtocolSet {
    type Output = ProtocolSet;

    fn bitor(self, rhs: ProtocolSet) -> ProtocolSet {
        ProtocolSet {
            bits: self.bits | rhs.bits,
        }
    }
}

impl BitOrAssign for ProtocolSet {
    fn bitor_assign(&mut self, rhs: ProtocolSet) {
        self.bits |= rhs.bits;
    }
}

impl From<ProtocolVersion> for ProtocolSet {
    fn from(version: ProtocolVersion) -> ProtocolSet {
        ProtocolSet::of(version)
    }
}

impl FromIterator<ProtocolVersion> for ProtocolSet {
    fn from_iter<I: IntoIterator<Item = ProtocolVersion>>(iter: I) -> ProtocolSet {
        iter.into_iter()
            .fold(ProtocolSet::EMPTY, |set, v| set.with(v))
    }
}

impl fmt::Display for ProtocolSet {
    /// The OpenSSL names joined with ` | ` (`TLSv1.2 | TLSv1.3`), or `(none)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        let names: Vec<&str> = self.versions().map(ProtocolVersion::openssl_name).collect();
        f.write_str(&names.join(" | "))
    }
}

impl fmt::Debug for ProtocolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolSet({self})")
    }
}

impl FromStr for ProtocolSet {
    type Err = UnknownVersion;

    /// Version names separated by commas, `|`, `+` or spaces (`tls1.2,tls1.3`); see
    /// [`ProtocolVersion`]'s `FromStr` for the names. An empty text is the empty set.
    fn from_str(s: &str) -> Result<ProtocolSet, UnknownVersion> {
        s.split(|c: char| c == ',' || c == '|' || c == '+' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(str::parse::<ProtocolVersion>)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_the_missing_middle_versions() {
        let set = ProtocolSet::TLS1 | ProtocolSet::TLS1_2;
        assert_eq!(set.holes(), vec![ProtocolVersion::Tls1_1]);
        assert_eq!(set.hole_options(), SslOptions::NO_TLSV1_1);
        assert_eq!(set.lowest(), Some(ProtocolVersion::Tls1_0));
        assert_eq!(set.highest(), Some(ProtocolVersion::Tls1_2));
        let set = ProtocolSet::TLS1 | ProtocolSet::TLS1_3;
        assert_eq!(
            set.hole_options(),
            SslOptions::NO_TLSV1_1 | SslOptions::NO_TLSV1_2
        );
        assert!(ProtocolSet::default().holes().is_empty());
    }

    #[test]
    fn parses_and_prints() {
        let set: ProtocolSet = "tls1 | TLSv1.2".parse().unwrap();
        assert_eq!(set, ProtocolSet::TLS1 | ProtocolSet::TLS1_2);
        assert_eq!(set.to_string(), "TLSv1 | TLSv1.2");
        assert_eq!("".parse::<ProtocolSet>(), Ok(ProtocolSet::EMPTY));
        assert_eq!(
            "tls1.2,tls9".parse::<ProtocolSet>(),
            Err(UnknownVersion {
                given: "tls9".to_string()
            })
        );
        assert_eq!(set.without(ProtocolVersion::Tls1_0), ProtocolSet::TLS1_2);
    }
}
