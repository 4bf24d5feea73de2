//! What can be wrong with a transport URL, one variant per mistake.

use super::scheme::Scheme;
use std::fmt;

/// Why a transport URL was refused.
///
/// Each variant keeps the whole text that was given (`input`; its message quotes at most 80
/// characters of it, and of every other part it names, with the whole length) and, where it
/// helps, the byte offset (`position`, counted from 0 in `input`) of the offending character. Built by
/// [`TransportUrl::from_str`](std::str::FromStr::from_str) and
/// [`TransportUrl::new`](super::TransportUrl::new); for `new`, `input` is the URL as it would have
/// been printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The text was empty.
    Empty,

    /// The text contains a whitespace character (space, tab, newline, ...).
    Whitespace {
        /// The text that was given.
        input: String,
        /// Byte offset of the first whitespace character.
        position: usize,
    },

    /// The text contains a control character other than whitespace (NUL, ESC, DEL, ...).
    ControlCharacter {
        /// The text that was given.
        input: String,
        /// The control character.
        ch: char,
        /// Byte offset of the control character.
        position: usize,
    },

    /// Nothing stands before `://`, as in `://host:443`.
    EmptyScheme {
        /// The text that was given.
        input: String,
    },

    /// The scheme before `://` is not one of [`Scheme::KNOWN`].
    UnknownScheme {
        /// The text that was given.
        input: String,
        /// The scheme as written.
        scheme: String,
        /// The known scheme it most likely meant (`tlsv1` → `tlsv1.0`), if any.
        suggestion: Option<Scheme>,
    },

    /// A known scheme followed by `:` but not `//`, as in `tls:/host:443` or `tls:host:443`.
    SchemeWithoutSlashes {
        /// The text that was given.
        input: String,
        /// The scheme it starts with.
        scheme: Scheme,
    },

    /// There is no host before the port, as in `:443`, `tcp://:443` or `[]:443`.
    EmptyHost {
        /// The text that was given.
        input: String,
    },

    /// There is no port, as in `example.com` or `example.com:`.
    MissingPort {
        /// The text that was given.
        input: String,
    },

    /// The port is 0, which cannot be connected to.
    PortZero {
        /// The text that was given.
        input: String,
    },

    /// The port is a number above 65535.
    PortOutOfRange {
        /// The text that was given.
        input: String,
        /// The port's digits as written.
        value: String,
    },

    /// The port is not made of decimal digits only (a sign, a letter, ...).
    PortNotNumeric {
        /// The text that was given.
        input: String,
        /// The port as written.
        text: String,
    },

    /// A `[` opens an IPv6 address but no `]` closes it.
    UnclosedBracket {
        /// The text that was given.
        input: String,
        /// Byte offset of the `[`.
        position: usize,
    },

    /// A `[` or `]` where none belongs: brackets only enclose an IPv6 address at the host's start.
    StrayBracket {
        /// The text that was given.
        input: String,
        /// The bracket, `[` or `]`.
        ch: char,
        /// Byte offset of the bracket.
        position: usize,
    },

    /// Something other than `:` follows the `]` of an IPv6 address, as in `[::1]x:443`.
    UnexpectedAfterBracket {
        /// The text that was given.
        input: String,
        /// Byte offset of the first character after `]`.
        position: usize,
    },

    /// An IPv6 address without brackets, as in `::1:443` or `fe80::1:80`.
    Ipv6WithoutBrackets {
        /// The text that was given.
        input: String,
        /// The bracketed form to write instead, e.g. `[::1]:443` (`PORT` when none was given).
        suggestion: String,
    },

    /// More than one `:` in a host:port that is not an IPv6 address, as in `host:80:90`.
    TooManyColons {
        /// The text that was given.
        input: String,
        /// Byte offset of the second `:`.
        position: usize,
    },

    /// The text in brackets is not an IPv6 address.
    InvalidIpv6 {
        /// The text that was given.
        input: String,
        /// The address as written (without brackets and zone).
        text: String,
    },

    /// The host is made of numbers and dots, as an IPv4 address is, but is not a dotted quad.
    ///
    /// The system resolver would read forms like `127.1`, `2130706433` or `0x7f.0.0.1` as IPv4
    /// addresses, so they are refused rather than taken for host names.
    InvalidIpv4 {
        /// The text that was given.
        input: String,
        /// The host as written.
        text: String,
    },

    /// The zone id after `%` in an IPv6 address is empty or uses other characters than
    /// `A-Z a-z 0-9 . _ -`.
    InvalidZone {
        /// The text that was given.
        input: String,
        /// The zone id as written (after `%`).
        zone: String,
    },

    /// The host is not a valid DNS name.
    InvalidHostName {
        /// The text that was given.
        input: String,
        /// The host name as written.
        host: String,
        /// What is wrong with it.
        reason: HostNameReason,
    },

    /// A path, query or fragment follows the port, as in `host:443/index.html`.
    TrailingPath {
        /// The text that was given.
        input: String,
        /// Everything from the `/`, `?` or `#` on.
        rest: String,
    },
}
impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Empty => write!(
                f,
                "the transport URL is empty: write host:port or scheme://host:port, \
         e.g. tls://example.com:443"
            )?,
            UrlError::Whitespace {
                input, position, ..
            } => write!(
                f,
                "{} contains whitespace at byte {position}: remove it \
         (a transport URL has no spaces)",
                quoted(input)
            )?,
            UrlError::ControlCharacter {
                input,
                ch,
                position,
                ..
            } => write!(
                f,
                "{} contains the control character {ch:?} at byte {position}: remove it",
                quoted(input)
            )?,
            UrlError::EmptyScheme { input, .. } => write!(
                f,
                "{} has an empty scheme before \"://\": write a scheme such as tcp:// or tls://, \
         or leave out \"://\" for plain TCP",
                quoted(input)
            )?,
            UrlError::UnknownScheme {
                input,
                scheme,
                suggestion,
                ..
            } => write!(
                f,
                "unknown scheme {} in {}{}: use one of {}",
                quoted(scheme),
                quoted(input),
                did_you_mean(suggestion),
                known_list()
            )?,
            UrlError::SchemeWithoutSlashes { input, scheme, .. } => write!(
                f,
                "{} has the scheme {scheme} but no \"//\" after it: write {scheme}://host:port",
                quoted(input)
            )?,
            UrlError::EmptyHost { input, .. } => write!(
                f,
                "{} has no host: write host:port, e.g. example.com:443 or [::1]:443",
                quoted(input)
            )?,
            UrlError::MissingPort { input, .. } => write!(
                f,
                "{} has no port: add one after a ':', e.g. example.com:443 or [::1]:443",
                quoted(input)
            )?,
            UrlError::PortZero { input, .. } => write!(
                f,
                "{} has port 0, which cannot be connected to: give the server's port (1-65535)",
                quoted(input)
            )?,
            UrlError::PortOutOfRange { input, value, .. } => write!(
                f,
                "port {} in {} is out of range: a port is 1-65535",
                capped(value),
                quoted(input)
            )?,
            UrlError::PortNotNumeric { input, text, .. } => write!(
                f,
                "port {} in {} is not a number: a port is written as digits, 1-65535",
                quoted(text),
                quoted(input)
            )?,
            UrlError::UnclosedBracket {
                input, position, ..
            } => write!(
                f,
                "{} opens '[' at byte {position} but never closes it: \
         write an IPv6 address as [address]:port, e.g. [::1]:443",
                quoted(input)
            )?,
            UrlError::StrayBracket {
                input,
                ch,
                position,
                ..
            } => write!(
                f,
                "{} has a stray {ch:?} at byte {position}: \
         brackets only enclose an IPv6 address, as in [::1]:443",
                quoted(input)
            )?,
            UrlError::UnexpectedAfterBracket {
                input, position, ..
            } => write!(
                f,
                "{} has unexpected text at byte {position}, right after ']': \
         the port follows the bracket with a ':', as in [::1]:443",
                quoted(input)
            )?,
            UrlError::Ipv6WithoutBrackets {
                input, suggestion, ..
            } => write!(
                f,
                "{} looks like an IPv6 address without brackets: write {}",
                quoted(input),
                capped(suggestion)
            )?,
            UrlError::TooManyColons {
                input, position, ..
            } => write!(
                f,
                "{} has a second ':' at byte {position}: write host:port with a single ':' \
         (an IPv6 address goes in brackets, as in [::1]:443)",
                quoted(input)
            )?,
            UrlError::InvalidIpv6 { input, text, .. } => write!(
                f,
                "{} in {} is not a valid IPv6 address: brackets hold only IPv6 addresses \
         (write IPv4 addresses and host names without them)",
                quoted(text),
                quoted(input)
            )?,
            UrlError::InvalidIpv4 { input, text, .. } => write!(
                f,
                "{} in {} looks like an IPv4 address but is not one: write four decimal \
         numbers 0-255 without leading zeros, as in 192.0.2.1",
                quoted(text),
                quoted(input)
            )?,
            UrlError::InvalidZone { input, zone, .. } => write!(
                f,
                "zone id {} in {} is invalid: after '%' write an interface name or index \
         using only A-Z a-z 0-9 . _ -, as in [fe80::1%eth0]:443",
                quoted(zone),
                quoted(input)
            )?,
            UrlError::InvalidHostName {
                input,
                host,
                reason,
                ..
            } => write!(
                f,
                "host name {} in {} is invalid: {reason}",
                quoted(host),
                quoted(input)
            )?,
            UrlError::TrailingPath { input, rest, .. } => write!(
                f,
                "{} has {} after the port: a transport URL ends at the port \
         (no path, query or fragment)",
                quoted(input),
                quoted(rest)
            )?,
        }
        crate::error::write_causes(self, f)
    }
}

/// What is wrong with a DNS host name (inside [`UrlError::InvalidHostName`]).
///
/// A host name is labels of 1-63 characters from `A-Z a-z 0-9 - _`, not starting or ending with
/// `-`, joined by dots, at most 253 characters in all, with an optional trailing dot. Positions
/// are byte offsets within the host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostNameReason {
    /// A character outside `A-Z a-z 0-9 - _ .`.
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Byte offset within the host name.
        position: usize,
    },

    /// A non-ASCII character: internationalised names must be given in their `xn--` form.
    NonAscii {
        /// The character.
        ch: char,
        /// Byte offset within the host name.
        position: usize,
    },

    /// An empty label: a leading dot, two dots in a row, or a name that is only a dot.
    EmptyLabel {
        /// Byte offset within the host name where the empty label starts.
        position: usize,
    },

    /// A label longer than 63 characters.
    LabelTooLong {
        /// The label.
        label: String,
        /// Its length in bytes.
        len: usize,
    },

    /// A label starting with `-`.
    LeadingHyphen {
        /// The label.
        label: String,
    },

    /// A label ending with `-`.
    TrailingHyphen {
        /// The label.
        label: String,
    },

    /// The name (without its trailing dot) is longer than 253 characters.
    TooLong {
        /// Its length in bytes, without the trailing dot.
        len: usize,
    },

    /// A [`Host::Name`](super::Host::Name) given to [`TransportUrl::new`](super::TransportUrl::new)
    /// holds an IP address: use [`Host::Ipv4`](super::Host::Ipv4) or
    /// [`Host::Ipv6`](super::Host::Ipv6).
    IpAddress,
}
impl fmt::Display for HostNameReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostNameReason::InvalidCharacter { ch, position, .. } => write!(
                f,
                "{ch:?} at byte {position} is not allowed: a host name uses only A-Z a-z 0-9 - _ \
         and dots"
            )?,
            HostNameReason::NonAscii { ch, position, .. } => write!(
                f,
                "{ch:?} at byte {position} is not ASCII: write an internationalised name in its \
         xn-- (punycode) form"
            )?,
            HostNameReason::EmptyLabel { position, .. } => write!(
                f,
                "it has an empty label at byte {position} (a leading dot or two dots in a row)"
            )?,
            HostNameReason::LabelTooLong { label, len, .. } => write!(
                f,
                "its label {} is {len} characters long: a label has at most 63",
                quoted(label)
            )?,
            HostNameReason::LeadingHyphen { label, .. } => {
                write!(f, "its label {} starts with '-'", quoted(label))?
            }
            HostNameReason::TrailingHyphen { label, .. } => {
                write!(f, "its label {} ends with '-'", quoted(label))?
            }
            HostNameReason::TooLong { len, .. } => write!(
                f,
                "it is {len} characters long: a host name has at most 253"
            )?,
            HostNameReason::IpAddress => write!(
                f,
                "it is an IP address, not a name: use Host::Ipv4 or Host::Ipv6"
            )?,
        }
        crate::error::write_causes(self, f)
    }
}

/// The most characters of given text that a message quotes: a long input is cut there, so
/// a 100 kB URL gives a message of a few lines, not the whole text again.
pub(crate) const QUOTED_CHARS: usize = 80;

/// `text` quoted (`{:?}`), or its first [`QUOTED_CHARS`] characters quoted and marked as cut,
/// with the whole length: `"aaaa..." (100000 bytes)`.
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => {
            let head = format!("{:?}", text.get(..cut).unwrap_or_default());
            let open = head.strip_suffix('"').unwrap_or(&head);
            format!("{open}...\" ({} bytes)", text.len())
        }
        None => format!("{text:?}"),
    }
}

/// `text` as it is, or its first [`QUOTED_CHARS`] characters and `...` when longer.
pub(crate) fn capped(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!(
            "{}... ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
        None => text.to_string(),
    }
}

/// `" (did you mean tls://?)"` for a suggestion, nothing without one.
fn did_you_mean(suggestion: &Option<Scheme>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}://?)"),
        None => String::new(),
    }
}

/// The known schemes, comma-separated: `tcp, udp, ssl, ...`.
fn known_list() -> String {
    Scheme::KNOWN
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
