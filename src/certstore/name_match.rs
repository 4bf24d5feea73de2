//! Host name matching against certificate names (RFC 6125 §6.4).

use std::net::IpAddr;

/// Whether the certificate name `pattern` (a CN or DNS subjectAltName) covers the host `name`,
/// following [RFC 6125 §6.4](https://www.rfc-editor.org/rfc/rfc6125#section-6.4):
///
/// - comparison is ASCII case-insensitive, and one trailing dot (`example.com.`) is ignored on
///   either side;
/// - a pattern equal to the name always matches (so asking for `*.example.com` finds the
///   wildcard certificate itself);
/// - a wildcard must be the whole leftmost label (`*.example.com`) and matches exactly one
///   non-empty label: `a.example.com`, but neither `example.com` nor `a.b.example.com`;
/// - partial wildcards (`f*o.example.com`, `*o.example.com`), wildcards in other labels
///   (`a.*.example.com`) and wildcards directly over a single-label suffix (`*.com`) are not
///   supported and match nothing else;
/// - a wildcard never matches an IP address (`*.0.0.1` does not cover `127.0.0.1`).
///
/// This is the rule of
/// [X509_check_host(3)](https://docs.openssl.org/3.0/man3/X509_check_host/) without its
/// partial-wildcard extension.
///
/// ```
/// use tlshake::certstore::name_matches;
///
/// assert!(name_matches("*.example.com", "WWW.example.com"));
/// assert!(!name_matches("*.example.com", "example.com"));
/// assert!(!name_matches("*.example.com", "a.b.example.com"));
/// ```
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern = strip_trailing_dot(pattern);
    let name = strip_trailing_dot(name);
    if pattern.is_empty() || name.is_empty() {
        return false;
    }
    if pattern.eq_ignore_ascii_case(name) {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    if suffix.contains('*') || !suffix.contains('.') || suffix.split('.').any(str::is_empty) {
        return false;
    }
    if looks_like_ip(name) {
        return false;
    }
    match name.split_once('.') {
        Some((label, rest)) => {
            !label.is_empty() && !label.contains('*') && rest.eq_ignore_ascii_case(suffix)
        }
        None => false,
    }
}

fn strip_trailing_dot(text: &str) -> &str {
    text.strip_suffix('.').unwrap_or(text)
}

/// IPv4 or IPv6 literal, with or without IPv6 brackets.
fn looks_like_ip(name: &str) -> bool {
    let unbracketed = name
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(name);
    unbracketed.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn exact_names_match_case_insensitively() {
        assert!(name_matches("example.com", "example.com"));
        assert!(name_matches("Example.COM", "example.com"));
        assert!(name_matches("localhost", "LOCALHOST"));
        assert!(!name_matches("example.com", "example.org"));
        assert!(!name_matches("example.com", "www.example.com"));
        assert!(!name_matches("www.example.com", "example.com"));
    }

    #[test]
    fn one_trailing_dot_is_ignored() {
        assert!(name_matches("example.com.", "example.com"));
        assert!(name_matches("example.com", "example.com."));
        assert!(name_matches("*.example.com", "a.example.com."));
        assert!(!name_matches("example.com", "example.com.."));
    }

    #[test]
    fn empty_never_matches() {
        assert!(!name_matches("", ""));
        assert!(!name_matches("", "example.com"));
        assert!(!name_matches("example.com", ""));
        assert!(!name_matches(".", "."));
    }

    #[test]
    fn wildcard_matches_exactly_one_leftmost_label() {
        assert!(name_matches("*.example.com", "a.example.com"));
        assert!(name_matches("*.example.com", "WWW.Example.Com"));
        assert!(name_matches("*.EXAMPLE.com", "mail.example.com"));
        assert!(name_matches("*.example.com", "xn--bcher-kva.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", ".example.com"));
        assert!(!name_matches("*.example.com", "a.example.org"));
        assert!(!name_matches("*.example.com", "aexample.com"));
    }

    #[test]
    fn unsupported_wildcards_match_nothing_else() {
        assert!(!name_matches("f*o.example.com", "foo.example.com"));
        assert!(!name_matches("*o.example.com", "foo.example.com"));
        assert!(!name_matches("f*.example.com", "foo.example.com"));
        assert!(!name_matches("a.*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.*.example.com", "a.b.example.com"));
        assert!(!name_matches("**.example.com", "a.example.com"));
        assert!(!name_matches("*", "localhost"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("*.", "a."));
        assert!(!name_matches("*..com", "a..com"));
    }

    #[test]
    fn pattern_equal_to_name_matches_even_with_a_star() {
        assert!(name_matches("*.example.com", "*.example.com"));
        assert!(name_matches("*.Example.com", "*.example.COM"));
        assert!(!name_matches("*.example.com", "*.*.example.com"));
    }

    #[test]
    fn wildcard_never_matches_an_ip_address() {
        assert!(!name_matches("*.0.0.1", "127.0.0.1"));
        assert!(!name_matches("*.168.1.1", "192.168.1.1"));
        assert!(name_matches("127.0.0.1", "127.0.0.1"));
        assert!(name_matches("::1", "::1"));
        assert!(!name_matches("*.example.com", "[::1]"));
    }
}
