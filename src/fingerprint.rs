//! Certificate fingerprints, parsed the way people paste them.
//!
//! A fingerprint is a digest of a certificate's DER encoding
//! ([X509_digest(3)](https://docs.openssl.org/3.0/man3/X509_digest/)). People copy them from many
//! places, and [`Fingerprint::parse`] accepts all the usual spellings:
//!
//! - a Windows thumbprint, `9d a4 ... 3f` or `9DA4...3F`, even with the invisible left-to-right
//!   mark (U+200E) that the Windows certificate dialog puts in front of it;
//! - `openssl x509 -noout -fingerprint -sha256` output, `sha256 Fingerprint=70:3D:...:3A`;
//! - plain hex ([`Fingerprint::to_hex`]) or a `sha256:`/`sha1:`/`md5:` prefixed form.
//!
//! Spaces, tabs, line breaks and colons are ignored anywhere; hex digits may be in either case.
//! Without a prefix the digest is chosen by the number of hex digits: 32 for MD5, 40 for SHA-1,
//! 64 for SHA-256.
//!
//! ```
//! use tlshake::fingerprint::{DigestKind, Fingerprint};
//!
//! let fp: Fingerprint = "\u{200e}44 81 a3 8c ec 9f f5 5c a6 4e 2c 54 a4 26 0c 55 53 9a c5 b4"
//!     .parse()
//!     .unwrap();
//! assert_eq!(fp.kind(), DigestKind::Sha1);
//! assert_eq!(fp.to_string(), "44:81:A3:8C:EC:9F:F5:5C:A6:4E:2C:54:A4:26:0C:55:53:9A:C5:B4");
//! assert_eq!(fp.to_hex(), "4481a38cec9ff55ca64e2c54a4260c55539ac5b4");
//! ```

use std::fmt;
use std::str::FromStr;

use openssl::hash::MessageDigest;
use openssl::x509::X509Ref;

use crate::error_queue::ErrorQueue;

/// The digest a fingerprint was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestKind {
    /// MD5: 16 bytes, 32 hex digits. Broken as a hash; accepted only to recognise old pins.
    Md5,
    /// SHA-1: 20 bytes, 40 hex digits, the Windows "thumbprint".
    Sha1,
    /// SHA-256: 32 bytes, 64 hex digits.
    Sha256,
}

impl DigestKind {
    /// Every kind, shortest first.
    pub const ALL: [DigestKind; 3] = [DigestKind::Md5, DigestKind::Sha1, DigestKind::Sha256];

    /// The digest length in bytes: 16, 20 or 32.
    // A digest kind is never empty, so an `is_empty` would only mislead.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        match self {
            DigestKind::Md5 => 16,
            DigestKind::Sha1 => 20,
            DigestKind::Sha256 => 32,
        }
    }

    /// The number of hex digits a fingerprint of this kind has: 32, 40 or 64.
    pub fn hex_digits(self) -> usize {
        self.len() * 2
    }

    /// The conventional name: `"MD5"`, `"SHA-1"`, `"SHA-256"`.
    pub fn name(self) -> &'static str {
        match self {
            DigestKind::Md5 => "MD5",
            DigestKind::Sha1 => "SHA-1",
            DigestKind::Sha256 => "SHA-256",
        }
    }

    /// The prefix [`Fingerprint::parse`] accepts for this kind: `"md5"`, `"sha1"`, `"sha256"`.
    pub fn prefix(self) -> &'static str {
        match self {
            DigestKind::Md5 => "md5",
            DigestKind::Sha1 => "sha1",
            DigestKind::Sha256 => "sha256",
        }
    }

    /// The OpenSSL digest ([EVP_md5(3)](https://docs.openssl.org/3.0/man3/EVP_md5/),
    /// [EVP_sha1(3)](https://docs.openssl.org/3.0/man3/EVP_sha1/),
    /// [EVP_sha256(3)](https://docs.openssl.org/3.0/man3/EVP_sha256/)).
    pub fn message_digest(self) -> MessageDigest {
        match self {
            DigestKind::Md5 => MessageDigest::md5(),
            DigestKind::Sha1 => MessageDigest::sha1(),
            DigestKind::Sha256 => MessageDigest::sha256(),
        }
    }

    /// The kind whose fingerprints have `digits` hex digits, if any.
    pub fn from_hex_digits(digits: usize) -> Option<DigestKind> {
        DigestKind::ALL
            .into_iter()
            .find(|kind| kind.hex_digits() == digits)
    }

    /// Recognises a prefix such as `sha256`, `SHA-256`, `sha1`, `SHA1 Fingerprint`, `md5`.
    fn from_prefix(prefix: &str) -> Option<DigestKind> {
        let lower = prefix.trim().to_ascii_lowercase();
        let name = lower
            .strip_suffix("fingerprint")
            .map_or(lower.as_str(), str::trim_end);
        match name.replace('-', "").as_str() {
            "md5" => Some(DigestKind::Md5),
            "sha1" => Some(DigestKind::Sha1),
            "sha256" => Some(DigestKind::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for DigestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A certificate fingerprint: a digest kind and its bytes.
///
/// `Display` gives the upper-case, colon-separated form without prefix (`AA:BB:...`), which
/// [`Fingerprint::parse`] reads back; [`Fingerprint::to_hex`] gives plain lower-case hex.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint {
    kind: DigestKind,
    bytes: Vec<u8>,
}

impl Fingerprint {
    /// Parses a fingerprint as people paste it; see the [module documentation](self).
    ///
    /// A prefix (`sha256:`, `SHA-1:`, `md5:`, `sha256 Fingerprint=`, ...) fixes the kind;
    /// otherwise the number of hex digits does.
    pub fn parse(text: &str) -> Result<Fingerprint, FingerprintError> {
        parse_text(None, text)
    }

    /// Parses a fingerprint that must be of `kind`. A prefix, if present, must name `kind`.
    pub fn parse_with(kind: DigestKind, text: &str) -> Result<Fingerprint, FingerprintError> {
        parse_text(Some(kind), text)
    }

    /// Wraps digest bytes; fails with [`FingerprintError::WrongLength`] unless there are exactly
    /// [`DigestKind::len`] of them.
    pub fn from_bytes(kind: DigestKind, bytes: Vec<u8>) -> Result<Fingerprint, FingerprintError> {
        if bytes.len() == kind.len() {
            Ok(Fingerprint { kind, bytes })
        } else {
            Err(FingerprintError::WrongLength {
                digits: bytes.len() * 2,
                expected: Some(kind),
            })
        }
    }

    /// Computes the fingerprint of `cert`
    /// ([X509_digest(3)](https://docs.openssl.org/3.0/man3/X509_digest/)).
    pub fn of(cert: &X509Ref, kind: DigestKind) -> Result<Fingerprint, ErrorQueue> {
        let digest = cert.digest(kind.message_digest())?;
        Ok(Fingerprint {
            kind,
            bytes: digest.to_vec(),
        })
    }

    /// Whether `cert` has this fingerprint. A digest that OpenSSL cannot compute (MD5 in FIPS
    /// mode, for example) never matches.
    pub fn matches(&self, cert: &X509Ref) -> bool {
        Fingerprint::of(cert, self.kind).is_ok_and(|computed| computed == *self)
    }

    /// The digest kind.
    pub fn kind(&self) -> DigestKind {
        self.kind
    }

    /// The digest bytes; [`DigestKind::len`] of them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Plain lower-case hex, no separators.
    pub fn to_hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    /// `Fingerprint(SHA-256 AA:BB:...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({} {self})", self.kind)
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(text: &str) -> Result<Fingerprint, FingerprintError> {
        Fingerprint::parse(text)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Fingerprint {
    /// Serialises as the `Display` form, `AA:BB:...`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a fingerprint could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The text holds no hex digits at all.
    Empty,
    /// A character that is neither a hex digit nor a separator.
    InvalidCharacter {
        /// Index of the character in the original text, counted from 0 in characters (not
        /// bytes; an invisible mark counts as one).
        position: usize,
        /// The offending character.
        character: char,
        /// The whole text as given.
        text: String,
    },
    /// An even number of hex digits, but not a length any digest has.
    WrongLength {
        /// How many hex digits were found.
        digits: usize,
        /// The kind a prefix or the caller asked for; `None` when any kind was acceptable.
        expected: Option<DigestKind>,
    },
    /// An odd number of hex digits: a digit was lost or added while copying.
    OddDigits {
        /// How many hex digits were found.
        digits: usize,
        /// The kind a prefix or the caller asked for; `None` when any kind was acceptable.
        expected: Option<DigestKind>,
    },
    /// A `name:` prefix that names no supported digest.
    UnknownPrefix {
        /// The prefix as written, without the `:` or `=`.
        prefix: String,
    },
    /// The prefix names a different digest than the one required.
    PrefixMismatch {
        /// The prefix as written.
        prefix: String,
        /// The kind the prefix names.
        found: DigestKind,
        /// The kind required.
        expected: DigestKind,
    },
}
impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FingerprintError::Empty => write!(f, "empty fingerprint: give the certificate's SHA-1 thumbprint (40 hex digits) or SHA-256 \
         fingerprint (64 hex digits), e.g. from `openssl x509 -noout -fingerprint -sha256`")?,
            FingerprintError::InvalidCharacter { position, character, text, .. } => write!(f, "invalid character {character:?} at position {position} in fingerprint {text:?}: \
         fingerprints are hex digits, optionally separated by spaces or colons\n{}", caret_line(text, *position))?,
            FingerprintError::WrongLength { digits, expected, .. } => write!(f, "fingerprint has {digits} hex digits; {}", expected_lengths(*expected))?,
            FingerprintError::OddDigits { digits, expected, .. } => write!(f, "fingerprint has an odd number of hex digits ({digits}): every byte is two hex digits, \
         so one is missing or extra; {}", expected_lengths(*expected))?,
            FingerprintError::UnknownPrefix { prefix, .. } => write!(f, "unknown fingerprint prefix {prefix:?}: use `sha256:`, `sha1:` or `md5:`, or no prefix \
         at all")?,
            FingerprintError::PrefixMismatch { prefix, found, expected, .. } => write!(f, "fingerprint prefix {prefix:?} names {found}, but a {expected} fingerprint is required \
         here ({} hex digits)", expected.hex_digits())?,
        }
        crate::error::write_causes(self, f)
    }
}

/// Text for "which lengths would have been right".
fn expected_lengths(expected: Option<DigestKind>) -> String {
    match expected {
        Some(kind) => format!("a {kind} fingerprint has {} hex digits", kind.hex_digits()),
        None => "expected 32 (MD5), 40 (SHA-1 thumbprint) or 64 (SHA-256)".to_owned(),
    }
}

/// The text again with a caret under character `position`; non-printing characters are shown as
/// `?` so that the caret lines up.
fn caret_line(text: &str, position: usize) -> String {
    let shown: String = text
        .chars()
        .map(|c| if is_unprintable(c) { '?' } else { c })
        .collect();
    format!("  {shown}\n  {}^", " ".repeat(position))
}

/// Control characters and the zero-width / direction marks that print as nothing.
fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
        )
}

/// Invisible marks that come along when a fingerprint is copied from a dialog; ignored.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{feff}')
}

fn is_separator(c: char) -> bool {
    c == ':' || c.is_whitespace() || is_invisible(c)
}

/// Splits off a `name:` or `name Fingerprint=` prefix. Returns the prefix text (trimmed, without
/// invisible marks) and the character index where the digits start.
///
/// A head counts as a prefix when it is one word, optionally followed by `Fingerprint`, and that
/// word starts with a letter, is at least three characters long and is not all hex digits:
/// `sha1`, `SHA-256 Fingerprint`, `xyz`; but not `ab` (the first pair of a colon-separated
/// fingerprint), `9g` or `ab cd eg` (typos inside one).
fn split_prefix(text: &str) -> Option<(String, usize)> {
    let (byte_end, _) = text.char_indices().find(|&(_, c)| c == ':' || c == '=')?;
    let raw_head = text.get(..byte_end)?;
    let head: String = raw_head.chars().filter(|&c| !is_invisible(c)).collect();
    let head = head.trim();
    let mut words = head.split_whitespace();
    let name = words.next()?;
    let rest_ok = match (words.next(), words.next()) {
        (None, _) => true,
        (Some(word), None) => word.eq_ignore_ascii_case("fingerprint"),
        (Some(_), Some(_)) => false,
    };
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let name_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let all_hex = name.chars().all(|c| c.is_ascii_hexdigit());
    if rest_ok && starts_with_letter && name_chars && !all_hex && name.len() >= 3 {
        Some((head.to_owned(), raw_head.chars().count() + 1))
    } else {
        None
    }
}

fn parse_text(forced: Option<DigestKind>, text: &str) -> Result<Fingerprint, FingerprintError> {
    let (prefix_kind, digits_start) = match split_prefix(text) {
        Some((prefix, start)) => {
            let kind = DigestKind::from_prefix(&prefix).ok_or_else(|| {
                FingerprintError::UnknownPrefix {
                    prefix: prefix.clone(),
                }
            })?;
            if let Some(expected) = forced.filter(|&expected| expected != kind) {
                return Err(FingerprintError::PrefixMismatch {
                    prefix,
                    found: kind,
                    expected,
                });
            }
            (Some(kind), start)
        }
        None => (None, 0),
    };
    let expected = forced.or(prefix_kind);

    let mut nibbles = Vec::with_capacity(64);
    for (position, character) in text.chars().enumerate().skip(digits_start) {
        if let Some(value) = character.to_digit(16) {
            // `to_digit(16)` is below 16, so it fits in a nibble.
            nibbles.push(value as u8);
        } else if !is_separator(character) {
            return Err(FingerprintError::InvalidCharacter {
                position,
                character,
                text: text.to_owned(),
            });
        }
    }

    let digits = nibbles.len();
    if digits == 0 {
        return Err(FingerprintError::Empty);
    }
    if digits % 2 != 0 {
        return Err(FingerprintError::OddDigits { digits, expected });
    }
    let kind = match expected {
        Some(kind) if kind.hex_digits() == digits => kind,
        Some(kind) => {
            return Err(FingerprintError::WrongLength {
                digits,
                expected: Some(kind),
            })
        }
        None => DigestKind::from_hex_digits(digits).ok_or(FingerprintError::WrongLength {
            digits,
            expected: None,
        })?,
    };
    let bytes = nibbles
        .chunks_exact(2)
        .map(|pair| pair.iter().fold(0u8, |acc, nibble| (acc << 4) | nibble))
        .collect();
    Ok(Fingerprint { kind, bytes })
}
