//! Transport URLs: `host:port` or `scheme://host:port`, the scheme naming the transport (`tcp`,
//! `udp`, `tls`, `ssl`, `tlsv1.2`, `tlsv1.3`, ...) and, for TLS, the protocol range.
//!
//! ```
//! use tlshake::url::{Host, Scheme, TransportUrl};
//!
//! let url: TransportUrl = "TLS://[fe80::1%eth0]:443".parse()?;
//! assert_eq!(url.scheme(), Scheme::Tls);
//! assert!(url.host().is_ip_literal());
//! assert_eq!(url.authority(), "[fe80::1%eth0]:443");
//! assert_eq!(url.to_string(), "tls://[fe80::1%eth0]:443");
//!
//! let url: TransportUrl = "example.com:25".parse()?;
//! assert_eq!(url.scheme(), Scheme::Tcp);
//! assert_eq!(url.server_name(), Some("example.com"));
//! assert_eq!(url.host(), &Host::Name("example.com".to_string()));
//! # Ok::<(), tlshake::url::UrlError>(())
//! ```
//!
//! # Grammar
//!
//! - The scheme is one of [`Scheme::KNOWN`], matched ignoring ASCII case, followed by `://`. No
//!   scheme means `tcp`. A known scheme followed by `:` and a host, without `//`
//!   (`tls:example.com:443`), is refused rather than read as host `tls`.
//! - The host is an IPv4 dotted quad, an IPv6 address in brackets with an optional zone id
//!   (`[fe80::1%eth0]`), or a DNS name. Number-and-dot hosts that are not dotted quads (`127.1`)
//!   are refused, since the resolver would read them as addresses.
//! - The port is decimal digits (leading zeros allowed), 1-65535.
//! - Nothing follows the port: no path, query, fragment, user name or whitespace.

mod error;
mod host;
mod scheme;
mod scheme_name;

use std::fmt;
use std::str::FromStr;

pub use error::{HostNameReason, UrlError};
pub use host::Host;
pub use scheme::Scheme;

/// A parsed transport URL: scheme, host and port.
///
/// Parse one with [`str::parse`], build one with [`TransportUrl::new`]. Printing always includes
/// the scheme, in lowercase, and parsing what was printed gives back the same URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransportUrl {
    scheme: Scheme,
    host: Host,
    port: u16,
}

impl TransportUrl {
    /// Builds a URL from its parts, checking them as the parser would: port 0, a zone id that is
    /// empty or has other characters than `A-Z a-z 0-9 . _ -`, and a [`Host::Name`] that is not
    /// a valid DNS name (or holds an IP address) are refused.
    pub fn new(scheme: Scheme, host: Host, port: u16) -> Result<TransportUrl, UrlError> {
        let url = TransportUrl { scheme, host, port };
        let input = url.to_string();
        match &url.host {
            Host::Ipv4(_) | Host::Ipv6 { zone: None, .. } => {}
            Host::Ipv6 { zone: Some(z), .. } => host::check_zone(&input, z)?,
            Host::Name(n) => {
                if host::parse_plain(&input, n)?.is_ip_literal() {
                    return Err(UrlError::InvalidHostName {
                        input,
                        host: n.clone(),
                        reason: HostNameReason::IpAddress,
                    });
                }
            }
        }
        if port == 0 {
            return Err(UrlError::PortZero { input });
        }
        Ok(url)
    }

    /// The scheme (`tcp` when the text named none).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port, 1-65535.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, with brackets around an IPv6 address: what is connected to and reported.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The DNS name to send as SNI and to check the certificate against, without a trailing dot
    /// (RFC 6066 section 3); `None` for an IP literal.
    ///
    /// Used with [`SSL_set_tlsext_host_name(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_servername_callback/)
    /// and [`SSL_set1_host(3)`](https://docs.openssl.org/3.0/man3/SSL_set1_host/).
    pub fn server_name(&self) -> Option<&str> {
        match &self.host {
            Host::Name(n) => Some(n.strip_suffix('.').unwrap_or(n)),
            Host::Ipv4(_) | Host::Ipv6 { .. } => None,
        }
    }
}

impl fmt::Display for TransportUrl {
    /// `scheme://host:port`, the scheme in lowercase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl FromStr for TransportUrl {
    type Err = UrlError;

    /// Parses `host:port` or `scheme://host:port`; see the [module docs](self) for the grammar.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        check_characters(input)?;
        let (scheme, start) = split_scheme(input)?;
        let (host, port) = parse_authority(input, start)?;
        Ok(TransportUrl { scheme, host, port })
    }
}

/// Characters that end the authority: the start of a path, query or fragment.
const PATH_START: [char; 3] = ['/', '?', '#'];

/// Refuses whitespace and control characters anywhere.
fn check_characters(input: &str) -> Result<(), UrlError> {
    for (position, ch) in input.char_indices() {
        if ch.is_whitespace() {
            return Err(UrlError::Whitespace {
                input: input.to_string(),
                position,
            });
        }
        if ch.is_control() {
            return Err(UrlError::ControlCharacter {
                input: input.to_string(),
                ch,
                position,
            });
        }
    }
    Ok(())
}

/// Finds the scheme and the byte offset where the authority starts.
fn split_scheme(input: &str) -> Result<(Scheme, usize), UrlError> {
    if let Some(end) = input.find("://") {
        let prefix = &input[..end];
        // Text with these characters is part of an authority, not a scheme.
        let is_scheme = !prefix.contains([':', '[', ']', '/', '?', '#', '%', '@']);
        if is_scheme {
            if prefix.is_empty() {
                return Err(UrlError::EmptyScheme {
                    input: input.to_string(),
                });
            }
            let scheme = Scheme::from_name(prefix)
                .ok_or_else(|| scheme_name::unknown_scheme(input, prefix))?;
            return Ok((scheme, end + "://".len()));
        }
    }
    if let Some((prefix, after)) = input.split_once(':') {
        if let Some(scheme) = Scheme::from_name(prefix) {
            if after.starts_with('/') || after.contains([':', '[']) {
                return Err(UrlError::SchemeWithoutSlashes {
                    input: input.to_string(),
                    scheme,
                });
            }
        }
    }
    Ok((Scheme::Tcp, 0))
}

/// Parses `host:port` starting at byte `start` of `input`.
fn parse_authority(input: &str, start: usize) -> Result<(Host, u16), UrlError> {
    let auth = &input[start..];
    if auth.is_empty() {
        return Err(UrlError::EmptyHost {
            input: input.to_string(),
        });
    }
    if auth.starts_with('[') {
        parse_bracketed_authority(input, start)
    } else {
        parse_plain_authority(input, start)
    }
}

/// Parses `[v6]:port` starting at byte `start` of `input` (where the `[` is).
fn parse_bracketed_authority(input: &str, start: usize) -> Result<(Host, u16), UrlError> {
    let auth = &input[start..];
    let close = auth.find(']').ok_or_else(|| UrlError::UnclosedBracket {
        input: input.to_string(),
        position: start,
    })?;
    let inner = &auth[1..close];
    if let Some(p) = inner.find('[') {
        return Err(stray_bracket(input, '[', start + 1 + p));
    }
    let host = host::parse_bracketed(input, inner)?;

    let after_start = start + close + 1;
    let after = &input[after_start..];
    let Some(port_and_rest) = after.strip_prefix(':') else {
        return Err(match after.chars().next() {
            None => UrlError::MissingPort {
                input: input.to_string(),
            },
            Some(c) if PATH_START.contains(&c) => UrlError::MissingPort {
                input: input.to_string(),
            },
            Some(c @ ('[' | ']')) => stray_bracket(input, c, after_start),
            Some(_) => UrlError::UnexpectedAfterBracket {
                input: input.to_string(),
                position: after_start,
            },
        });
    };
    let port_start = after_start + 1;
    let (port_text, rest) = split_path(port_and_rest);
    if let Some((p, ch)) = find_bracket(port_text) {
        return Err(stray_bracket(input, ch, port_start + p));
    }
    let port = parse_port(input, port_text)?;
    check_no_path(input, rest)?;
    Ok((host, port))
}

/// Parses `host:port` without brackets, starting at byte `start` of `input`.
fn parse_plain_authority(input: &str, start: usize) -> Result<(Host, u16), UrlError> {
    let (hostport, rest) = split_path(&input[start..]);
    if let Some((p, ch)) = find_bracket(hostport) {
        return Err(stray_bracket(input, ch, start + p));
    }
    let Some(last_colon) = hostport.rfind(':') else {
        return Err(if hostport.is_empty() {
            UrlError::EmptyHost {
                input: input.to_string(),
            }
        } else {
            UrlError::MissingPort {
                input: input.to_string(),
            }
        });
    };
    let host_text = &hostport[..last_colon];
    let port_text = &hostport[last_colon + 1..];
    if let Some(first_colon) = host_text.find(':') {
        return Err(extra_colons(input, start, hostport, first_colon));
    }
    let host = host::parse_plain(input, host_text)?;
    let port = parse_port(input, port_text)?;
    check_no_path(input, rest)?;
    Ok((host, port))
}

/// The error for a `host:port` with more than one `:`: an IPv6 address missing its brackets,
/// or simply too many colons.
fn extra_colons(input: &str, start: usize, hostport: &str, first_colon: usize) -> UrlError {
    let (before_last, last) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
    let port_given = !last.is_empty() && last.chars().all(|c| c.is_ascii_digit());
    let suggestion = if port_given && host::is_ipv6_text(before_last) {
        Some(format!("[{before_last}]:{last}"))
    } else if host::is_ipv6_text(hostport) {
        Some(format!("[{hostport}]:PORT"))
    } else if host::is_ipv6_text(before_last) {
        Some(format!("[{before_last}]:PORT"))
    } else {
        None
    };
    match suggestion {
        Some(suggestion) => UrlError::Ipv6WithoutBrackets {
            input: input.to_string(),
            suggestion,
        },
        None => {
            // The second colon: the first one after `first_colon`.
            let second = hostport[first_colon + 1..]
                .find(':')
                .map_or(first_colon, |p| first_colon + 1 + p);
            UrlError::TooManyColons {
                input: input.to_string(),
                position: start + second,
            }
        }
    }
}

/// Splits `text` at the first `/`, `?` or `#`: (authority part, path part).
fn split_path(text: &str) -> (&str, &str) {
    let end = text.find(PATH_START).unwrap_or(text.len());
    text.split_at(end)
}

/// Refuses a non-empty path, query or fragment.
fn check_no_path(input: &str, rest: &str) -> Result<(), UrlError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(UrlError::TrailingPath {
            input: input.to_string(),
            rest: rest.to_string(),
        })
    }
}

/// Parses the port: decimal digits, 1-65535.
fn parse_port(input: &str, text: &str) -> Result<u16, UrlError> {
    if text.is_empty() {
        return Err(UrlError::MissingPort {
            input: input.to_string(),
        });
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(UrlError::PortNotNumeric {
            input: input.to_string(),
            text: text.to_string(),
        });
    }
    let significant = text.trim_start_matches('0');
    if significant.is_empty() {
        return Err(UrlError::PortZero {
            input: input.to_string(),
        });
    }
    let out_of_range = || UrlError::PortOutOfRange {
        input: input.to_string(),
        value: text.to_string(),
    };
    if significant.len() > 5 {
        return Err(out_of_range());
    }
    significant.parse::<u16>().map_err(|_| out_of_range())
}

/// The first `[` or `]` in `text`, with its byte offset.
fn find_bracket(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| matches!(c, '[' | ']'))
}

/// The error for a bracket at byte `position` of `input` where none belongs.
fn stray_bracket(input: &str, ch: char, position: usize) -> UrlError {
    UrlError::StrayBracket {
        input: input.to_string(),
        ch,
        position,
    }
}
