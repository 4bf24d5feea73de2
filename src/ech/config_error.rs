//! [`EchConfigError`]: why bytes or text are not a usable ECHConfigList.

use super::config::{HpkeKem, HpkeSymmetricSuite, MAX_LEN, MIN_LEN};
use std::fmt;

/// Why bytes or text are not a usable ECHConfigList. Each says what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EchConfigError {
    /// Nothing was given, or the list holds no ECHConfig.
    Empty,
    /// PEM text without an `ECHCONFIG` block.
    NoPemBlock,
    /// A PEM `ECHCONFIG` block without its END line.
    UnterminatedPem,
    /// A character that is not base64 (and not white space).
    Base64Character {
        /// The character found.
        found: char,
        /// Its position in the text, from 0.
        position: usize,
    },
    /// Base64 whose length or padding is wrong.
    Base64Length {
        /// The number of base64 characters.
        chars: usize,
    },
    /// Shorter than OpenSSL's minimum, or not below its maximum.
    Size {
        /// The length of the wire form.
        len: usize,
    },
    /// The list's length prefix does not match the bytes.
    ListLength {
        /// What the first two bytes say.
        declared: usize,
        /// What follows them.
        actual: usize,
    },
    /// An ECHConfig or one of its fields runs past the end of what contains it.
    Truncated {
        /// Which ECHConfig, from 0.
        index: usize,
        /// The field being read (`"length"`, `"public key"`, `"cipher suites"`, ...).
        field: &'static str,
    },
    /// Bytes left inside an ECHConfig after its extensions.
    TrailingBytes {
        /// Which ECHConfig, from 0.
        index: usize,
        /// How many.
        extra: usize,
    },
    /// No ECHConfig of version 0xfe0d (RFC 9849), only unknown versions.
    NoSupportedVersion {
        /// The versions found.
        versions: Vec<u16>,
    },
    /// An ECHConfig whose cipher-suite list is empty or not a whole number of suites.
    SuiteList {
        /// Which ECHConfig, from 0.
        index: usize,
        /// The list's length.
        len: usize,
    },
    /// An ECHConfig whose KEM OpenSSL does not implement.
    UnsupportedKem {
        /// Which ECHConfig, from 0.
        index: usize,
        /// The KEM.
        kem: HpkeKem,
    },
    /// An ECHConfig none of whose symmetric suites OpenSSL implements.
    UnsupportedSuites {
        /// Which ECHConfig, from 0.
        index: usize,
        /// Its suites.
        suites: Vec<HpkeSymmetricSuite>,
    },
    /// A public key whose length is not its KEM's.
    PublicKeyLength {
        /// Which ECHConfig, from 0.
        index: usize,
        /// Its KEM.
        kem: HpkeKem,
        /// The key's length.
        len: usize,
        /// The KEM's key length.
        expected: usize,
    },
    /// An extension marked mandatory (high bit of its type set), which no client knows.
    MandatoryExtension {
        /// Which ECHConfig, from 0.
        index: usize,
        /// The extension's type.
        ext_type: u16,
    },
    /// A public name that is not a DNS name RFC 9849 section 6.1.7 allows.
    PublicName {
        /// Which ECHConfig, from 0.
        index: usize,
        /// The name, as text (lossy).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
impl fmt::Display for EchConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EchConfigError::Empty => write!(f, "the ECHConfigList is empty")?,
            EchConfigError::NoPemBlock => write!(f, "the PEM text has no -----BEGIN ECHCONFIG----- block")?,
            EchConfigError::UnterminatedPem => write!(f, "the ECHCONFIG PEM block has no -----END ECHCONFIG----- line")?,
            EchConfigError::Base64Character { found, position, .. } => write!(f, "not base64: {found:?} at character {position}")?,
            EchConfigError::Base64Length { chars, .. } => write!(f, "malformed base64: {chars} characters (without white space) is not a whole number of 4-character groups, or the padding is misplaced")?,
            EchConfigError::Size { len, .. } => write!(f, "{len} bytes: OpenSSL takes an ECHConfigList of {MIN_LEN} to {} bytes", MAX_LEN - 1)?,
            EchConfigError::ListLength { declared, actual, .. } => write!(f, "the list's length field says {declared} bytes, but {actual} follow it")?,
            EchConfigError::Truncated { index, field, .. } => write!(f, "truncated: the {field} of ECHConfig {index} runs past the end of the data")?,
            EchConfigError::TrailingBytes { index, extra, .. } => write!(f, "ECHConfig {index} has {extra} bytes after its extensions")?,
            EchConfigError::NoSupportedVersion { versions, .. } => write!(f, "no ECHConfig of version 0xfe0d (RFC 9849), which OpenSSL implements; the list has only {}", version_list(versions))?,
            EchConfigError::SuiteList { index, len, .. } => write!(f, "ECHConfig {index} has a cipher-suite list of {len} bytes: it must hold one or more 4-byte suites")?,
            EchConfigError::UnsupportedKem { index, kem, .. } => write!(f, "ECHConfig {index} uses {kem}, which OpenSSL does not implement (it has P-256, P-384, P-521, X25519 and X448)")?,
            EchConfigError::UnsupportedSuites { index, suites, .. } => write!(f, "ECHConfig {index} offers only HPKE suites OpenSSL does not implement ({}): it needs HKDF-SHA256/384/512 with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305", list(suites))?,
            EchConfigError::PublicKeyLength { index, kem, len, expected, .. } => write!(f, "ECHConfig {index}: the {kem} public key is {len} bytes, not {expected}")?,
            EchConfigError::MandatoryExtension { index, ext_type, .. } => write!(f, "ECHConfig {index} has the mandatory extension 0x{ext_type:04x}, which OpenSSL does not implement")?,
            EchConfigError::PublicName { index, name, reason, .. } => write!(f, "ECHConfig {index} has the public name {name:?}: {reason}")?,
        }
        crate::error::write_causes(self, f)
    }
}

fn version_list(v: &[u16]) -> String {
    v.iter()
        .map(|v| format!("0x{v:04x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(suites: &[HpkeSymmetricSuite]) -> String {
    suites
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
