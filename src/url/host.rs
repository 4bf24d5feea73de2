//! The host of a transport URL: an IPv4 address, a bracketed IPv6 address, or a DNS name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::{HostNameReason, UrlError};

/// Longest host name, without its trailing dot (RFC 1035 section 2.3.4, as a dotted string).
const MAX_NAME_LEN: usize = 253;
/// Longest label of a host name (RFC 1035 section 2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// The host part of a [`TransportUrl`](super::TransportUrl).
///
/// Printed as written in a URL: IPv4 as a dotted quad, IPv6 in brackets (with its zone id after
/// `%`), names exactly as given (case and trailing dot kept).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 address, written as a dotted quad (`192.0.2.1`).
    Ipv4(Ipv4Addr),
    /// An IPv6 address, written in brackets (`[2001:db8::1]`).
    Ipv6 {
        /// The address.
        addr: Ipv6Addr,
        /// The zone id (scope) after `%`, as in `[fe80::1%eth0]`: an interface name or index,
        /// non-empty, of `A-Z a-z 0-9 . _ -`. Kept as text; turning it into a scope id is the
        /// connecting code's job. RFC 6874's `%25` escape is not decoded.
        zone: Option<String>,
    },
    /// A DNS name (`example.com`, `localhost`, `mail.example.` with its trailing dot).
    Name(String),
}

impl Host {
    /// True for IPv4 and IPv6 addresses, false for names.
    ///
    /// An IP literal gets no SNI and no host name check against the certificate's DNS names.
    pub fn is_ip_literal(&self) -> bool {
        !matches!(self, Host::Name(_))
    }

    /// The IP address, or `None` for a name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6 { addr, .. } => Some(IpAddr::V6(*addr)),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6 { addr, zone: None } => write!(f, "[{addr}]"),
            Host::Ipv6 {
                addr,
                zone: Some(z),
            } => write!(f, "[{addr}%{z}]"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// Parses the text between `[` and `]`: an IPv6 address with an optional `%zone`.
pub(super) fn parse_bracketed(input: &str, inner: &str) -> Result<Host, UrlError> {
    if inner.is_empty() {
        return Err(UrlError::EmptyHost {
            input: input.to_string(),
        });
    }
    let (addr_text, zone) = match inner.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (inner, None),
    };
    let addr = addr_text
        .parse::<Ipv6Addr>()
        .map_err(|_| UrlError::InvalidIpv6 {
            input: input.to_string(),
            text: addr_text.to_string(),
        })?;
    if let Some(z) = zone {
        check_zone(input, z)?;
    }
    Ok(Host::Ipv6 {
        addr,
        zone: zone.map(str::to_string),
    })
}

/// Checks a zone id: non-empty, only `A-Z a-z 0-9 . _ -`.
pub(super) fn check_zone(input: &str, zone: &str) -> Result<(), UrlError> {
    let ok = !zone.is_empty()
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(UrlError::InvalidZone {
            input: input.to_string(),
            zone: zone.to_string(),
        })
    }
}

/// True when `text` (with an optional `%zone`) is an IPv6 address: used to spot addresses
/// written without brackets.
pub(super) fn is_ipv6_text(text: &str) -> bool {
    let addr = text.split_once('%').map_or(text, |(a, _)| a);
    addr.parse::<Ipv6Addr>().is_ok()
}

/// Parses a host written without brackets (and without `:`): an IPv4 address or a DNS name.
pub(super) fn parse_plain(input: &str, text: &str) -> Result<Host, UrlError> {
    if text.is_empty() {
        return Err(UrlError::EmptyHost {
            input: input.to_string(),
        });
    }
    if let Ok(a) = text.parse::<Ipv4Addr>() {
        return Ok(Host::Ipv4(a));
    }
    if looks_like_ipv4(text) {
        return Err(UrlError::InvalidIpv4 {
            input: input.to_string(),
            text: text.to_string(),
        });
    }
    check_name(text).map_err(|reason| UrlError::InvalidHostName {
        input: input.to_string(),
        host: text.to_string(),
        reason,
    })?;
    Ok(Host::Name(text.to_string()))
}

/// True when every dot-separated part is a number as `inet_aton(3)` reads one (decimal, or hex
/// after `0x`): the resolver would take such a host for an IPv4 address, not a name.
fn looks_like_ipv4(text: &str) -> bool {
    let bare = text.strip_suffix('.').unwrap_or(text);
    !bare.is_empty() && bare.split('.').all(is_inet_number)
}

/// A decimal number, or `0x` followed by hex digits (possibly none), as `inet_aton(3)` accepts.
fn is_inet_number(part: &str) -> bool {
    match part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        Some(hex) => hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()),
    }
}

/// Checks a DNS host name; see [`HostNameReason`] for the rules.
fn check_name(name: &str) -> Result<(), HostNameReason> {
    for (position, ch) in name.char_indices() {
        if !ch.is_ascii() {
            return Err(HostNameReason::NonAscii { ch, position });
        }
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')) {
            return Err(HostNameReason::InvalidCharacter { ch, position });
        }
    }
    let bare = name.strip_suffix('.').unwrap_or(name);
    let mut position = 0;
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(HostNameReason::EmptyLabel { position });
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(HostNameReason::LabelTooLong {
                label: label.to_string(),
                len: label.len(),
            });
        }
        if label.starts_with('-') {
            return Err(HostNameReason::LeadingHyphen {
                label: label.to_string(),
            });
        }
        if label.ends_with('-') {
            return Err(HostNameReason::TrailingHyphen {
                label: label.to_string(),
            });
        }
        position += label.len() + 1;
    }
    if bare.len() > MAX_NAME_LEN {
        return Err(HostNameReason::TooLong { len: bare.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms_look_like_ipv4() {
        for text in [
            "127.1",
            "2130706433",
            "0x7f.0.0.1",
            "0x",
            "1.2.3.4.",
            "01.2.3.4",
        ] {
            assert!(looks_like_ipv4(text), "{text}");
        }
        for text in ["1e100.net", "123.example", "0xg", "a1.2", ".", "1..2"] {
            assert!(!looks_like_ipv4(text), "{text}");
        }
    }

    #[test]
    fn name_rules() {
        assert_eq!(check_name("example.com."), Ok(()));
        assert_eq!(check_name("_srv.a-b.c_d"), Ok(()));
        assert_eq!(
            check_name("a..b"),
            Err(HostNameReason::EmptyLabel { position: 2 })
        );
        assert_eq!(
            check_name("."),
            Err(HostNameReason::EmptyLabel { position: 0 })
        );
    }
}
