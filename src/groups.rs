//! The key-exchange groups of TLS (IANA "TLS Supported Groups"), as OpenSSL 4.0 names and
//! offers them: the one table behind the trace's names, the post-quantum flag of a session,
//! the library probe and the "needs OpenSSL 3.5" of a refused group list.
//!
//! Codepoints and names are those of OpenSSL 4.0.3's `include/internal/tlsgroups.h` and
//! `providers/common/capabilities.c` (`openssl list -all-tls-groups`), which follow the IANA
//! registry; `since` is the first release whose default provider offers the group in TLS.

use crate::library::OpensslVersion;

/// One group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    /// Its codepoint in `supported_groups` and `key_share`.
    pub(crate) code: u16,
    /// OpenSSL's name, as a group list takes it (case does not matter to OpenSSL).
    pub(crate) name: &'static str,
    /// The first OpenSSL release that offers it; `None` for the groups every supported
    /// release has, and for those only a third-party provider brings (GOST).
    pub(crate) since: Option<OpensslVersion>,
    /// Whether the key exchange resists a quantum computer: ML-KEM, alone or in a hybrid.
    pub(crate) post_quantum: bool,
}

const fn classic(code: u16, name: &'static str) -> Group {
    Group {
        code,
        name,
        since: None,
        post_quantum: false,
    }
}

const fn newer(code: u16, name: &'static str, major: u8, minor: u8, pq: bool) -> Group {
    Group {
        code,
        name,
        since: Some(OpensslVersion::new(major, minor, 0)),
        post_quantum: pq,
    }
}

/// Every group OpenSSL 4.0 knows, by codepoint.
const GROUPS: &[Group] = &[
    classic(0x0001, "sect163k1"),
    classic(0x0002, "sect163r1"),
    classic(0x0003, "sect163r2"),
    classic(0x0004, "sect193r1"),
    classic(0x0005, "sect193r2"),
    classic(0x0006, "sect233k1"),
    classic(0x0007, "sect233r1"),
    classic(0x0008, "sect239k1"),
    classic(0x0009, "sect283k1"),
    classic(0x000a, "sect283r1"),
    classic(0x000b, "sect409k1"),
    classic(0x000c, "sect409r1"),
    classic(0x000d, "sect571k1"),
    classic(0x000e, "sect571r1"),
    classic(0x000f, "secp160k1"),
    classic(0x0010, "secp160r1"),
    classic(0x0011, "secp160r2"),
    classic(0x0012, "secp192k1"),
    classic(0x0013, "secp192r1"),
    classic(0x0014, "secp224k1"),
    classic(0x0015, "secp224r1"),
    classic(0x0016, "secp256k1"),
    classic(0x0017, "secp256r1"),
    classic(0x0018, "secp384r1"),
    classic(0x0019, "secp521r1"),
    classic(0x001a, "brainpoolP256r1"),
    classic(0x001b, "brainpoolP384r1"),
    classic(0x001c, "brainpoolP512r1"),
    classic(0x001d, "x25519"),
    classic(0x001e, "x448"),
    newer(0x001f, "brainpoolP256r1tls13", 3, 2, false),
    newer(0x0020, "brainpoolP384r1tls13", 3, 2, false),
    newer(0x0021, "brainpoolP512r1tls13", 3, 2, false),
    // RFC 9189, from the GOST provider.
    classic(0x0022, "GC256A"),
    classic(0x0023, "GC256B"),
    classic(0x0024, "GC256C"),
    classic(0x0025, "GC256D"),
    classic(0x0026, "GC512A"),
    classic(0x0027, "GC512B"),
    classic(0x0028, "GC512C"),
    // RFC 8998.
    newer(0x0029, "curveSM2", 4, 0, false),
    classic(0x0100, "ffdhe2048"),
    classic(0x0101, "ffdhe3072"),
    classic(0x0102, "ffdhe4096"),
    classic(0x0103, "ffdhe6144"),
    classic(0x0104, "ffdhe8192"),
    newer(0x0200, "MLKEM512", 3, 5, true),
    newer(0x0201, "MLKEM768", 3, 5, true),
    newer(0x0202, "MLKEM1024", 3, 5, true),
    newer(0x11eb, "SecP256r1MLKEM768", 3, 5, true),
    newer(0x11ec, "X25519MLKEM768", 3, 5, true),
    newer(0x11ed, "SecP384r1MLKEM1024", 3, 5, true),
    newer(0x11ee, "curveSM2MLKEM768", 4, 0, true),
];

/// Other names a group list takes for a group of [`GROUPS`] (OpenSSL's aliases).
const ALIASES: &[(&str, u16)] = &[
    ("P-256", 0x0017),
    ("P-384", 0x0018),
    ("P-521", 0x0019),
    ("K-163", 0x0001),
    ("B-163", 0x0003),
    ("K-233", 0x0006),
    ("B-233", 0x0007),
    ("K-283", 0x0009),
    ("B-283", 0x000a),
    ("K-409", 0x000b),
    ("B-409", 0x000c),
    ("K-571", 0x000d),
    ("B-571", 0x000e),
];

/// Words of a group list that are not groups, and the first release that takes them.
const KEYWORDS: &[(&str, OpensslVersion)] = &[
    ("DEFAULT", OpensslVersion::new(3, 5, 0)),
    ("DEFAULT_SUITE_B", OpensslVersion::new(3, 5, 0)),
];

/// The group with this codepoint.
pub(crate) fn by_code(code: u16) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.code == code)
}

/// The group OpenSSL calls `name` (any case, aliases included).
pub(crate) fn by_name(name: &str) -> Option<&'static Group> {
    GROUPS
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(name))
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
                .and_then(|(_, code)| by_code(*code))
        })
}

/// The first release that takes `name` in a group list, when it is newer than every
/// supported release: a group, or a keyword such as `DEFAULT`.
pub(crate) fn since(name: &str) -> Option<OpensslVersion> {
    by_name(name).and_then(|g| g.since).or_else(|| {
        KEYWORDS
            .iter()
            .find(|(word, _)| word.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    })
}

/// The names of the post-quantum groups, in codepoint order (OpenSSL's listing order).
pub(crate) fn post_quantum_names() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().filter(|g| g.post_quantum).map(|g| g.name)
}

/// Whether `code` is a GREASE value (RFC 8701: `0x0a0a`, `0x1a1a`, ... `0xfafa`).
pub(crate) fn is_grease(code: u16) -> bool {
    code & 0x0f0f == 0x0a0a && code >> 8 == code & 0xff
}

/// A codepoint as the trace shows it: OpenSSL's name, `GREASE`, or the hex number.
pub(crate) fn describe(code: u16) -> String {
    match by_code(code) {
        Some(g) => g.name.to_string(),
        None if is_grease(code) => format!("GREASE(0x{code:04x})"),
        None => format!("0x{code:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepoints_are_unique_and_sorted() {
        for pair in GROUPS.windows(2) {
            assert!(pair[0].code < pair[1].code, "{pair:?}");
        }
        for (alias, code) in ALIASES {
            assert!(by_code(*code).is_some(), "{alias}");
        }
    }

    #[test]
    fn names_and_releases() {
        assert_eq!(describe(0x11ec), "X25519MLKEM768");
        assert_eq!(describe(0x11eb), "SecP256r1MLKEM768");
        assert_eq!(describe(0x11ed), "SecP384r1MLKEM1024");
        assert_eq!(describe(0x11ee), "curveSM2MLKEM768");
        assert_eq!(describe(0x0029), "curveSM2");
        assert_eq!(describe(0x0201), "MLKEM768");
        assert_eq!(describe(0x001f), "brainpoolP256r1tls13");
        assert_eq!(describe(0x2a2a), "GREASE(0x2a2a)");
        assert_eq!(describe(0x1234), "0x1234");
        assert_eq!(by_name("p-256").map(|g| g.name), Some("secp256r1"));
        assert_eq!(by_name("X25519").map(|g| g.code), Some(0x001d));
        assert_eq!(since("x25519mlkem768"), Some(OpensslVersion::new(3, 5, 0)));
        assert_eq!(since("curveSM2"), Some(OpensslVersion::new(4, 0, 0)));
        assert_eq!(since("DEFAULT"), Some(OpensslVersion::new(3, 5, 0)));
        assert_eq!(since("X25519"), None);
        assert_eq!(since("no-such-group"), None);
        assert_eq!(
            post_quantum_names().collect::<Vec<_>>(),
            [
                "MLKEM512",
                "MLKEM768",
                "MLKEM1024",
                "SecP256r1MLKEM768",
                "X25519MLKEM768",
                "SecP384r1MLKEM1024",
                "curveSM2MLKEM768"
            ]
        );
        assert!(!is_grease(0x0a0b) && !is_grease(0x1a2a) && is_grease(0xfafa));
    }

    /// The releases of the table agree with the linked library: a group dated after it is
    /// refused, and one dated at or before it is taken (run on each supported release).
    #[test]
    fn each_release_takes_exactly_the_groups_dated_at_or_before_it() {
        let running = crate::library::running();
        for g in GROUPS.iter().filter(|g| g.since.is_some()) {
            let dated = g.since.is_some_and(|since| since <= running);
            // curveSM2 needs the SM2 curve; the builds tested here have it.
            assert_eq!(
                crate::library::group_is_known(g.name),
                dated,
                "{g:?} on {running}"
            );
        }
    }
}
