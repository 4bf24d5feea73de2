//! Scheme names as written in a URL: [`Scheme`]'s `FromStr`, and the near miss an unknown
//! name was probably meant to be (`tlsv1` → `tlsv1.0`), for the error.

use std::str::FromStr;

use super::error::UrlError;
use super::scheme::Scheme;

impl FromStr for Scheme {
    type Err = UrlError;

    /// Parses a scheme name without `://`, ignoring ASCII case.
    ///
    /// An empty name is [`UrlError::EmptyScheme`]; any other unknown name is
    /// [`UrlError::UnknownScheme`], with a suggestion for near misses such as `tlsv1` or `tls1.2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(UrlError::EmptyScheme {
                input: s.to_string(),
            });
        }
        Scheme::from_name(s).ok_or_else(|| unknown_scheme(s, s))
    }
}

/// The error for an unknown scheme `name` found in `input`.
pub(super) fn unknown_scheme(input: &str, name: &str) -> UrlError {
    UrlError::UnknownScheme {
        input: input.to_string(),
        scheme: name.to_string(),
        suggestion: near_miss(name),
    }
}

/// The known scheme that an unknown `name` was probably meant to be.
///
/// Compares names with case, dots, dashes, underscores and the letter `v` removed, so that
/// `tlsv1`, `TLS1.2`, `ssl3` and `tls-1.3` find their scheme; `https` suggests `tls`.
pub(super) fn near_miss(name: &str) -> Option<Scheme> {
    let squashed: String = name
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_' | 'v' | 'V'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match squashed.as_str() {
        "tls1" | "tls10" => Some(Scheme::TlsV1_0),
        "tls11" => Some(Scheme::TlsV1_1),
        "tls12" => Some(Scheme::TlsV1_2),
        "tls13" => Some(Scheme::TlsV1_3),
        "ssl2" | "ssl20" => Some(Scheme::SslV2),
        "ssl3" | "ssl30" => Some(Scheme::SslV3),
        "tls" | "tsl" | "https" => Some(Scheme::Tls),
        "ssl" => Some(Scheme::Ssl),
        "tcp" => Some(Scheme::Tcp),
        "udp" => Some(Scheme::Udp),
        "dtls" => Some(Scheme::Dtls),
        "dtls12" | "dtls1" => Some(Scheme::DtlsV1_2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_find_their_scheme() {
        assert_eq!(near_miss("tlsv1"), Some(Scheme::TlsV1_0));
        assert_eq!(near_miss("TLS1.2"), Some(Scheme::TlsV1_2));
        assert_eq!(near_miss("tls-1.3"), Some(Scheme::TlsV1_3));
        assert_eq!(near_miss("ssl3"), Some(Scheme::SslV3));
        assert_eq!(near_miss("https"), Some(Scheme::Tls));
        assert_eq!(near_miss("gopher"), None);
        assert_eq!(near_miss("tls2"), None);
    }
}
