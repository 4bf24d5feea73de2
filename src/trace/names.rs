//! The names of the code points a trace shows: protocol versions, groups (through the
//! crate's one group table), signature schemes, cipher suites and alerts, as OpenSSL 4.0
//! knows them; an unknown one as its number.

pub(super) fn version(v: usize) -> String {
    match v {
        0x0304 => "TLSv1.3".into(),
        0x0303 => "TLSv1.2".into(),
        0x0302 => "TLSv1.1".into(),
        0x0301 => "TLSv1".into(),
        other => format!("0x{other:04x}"),
    }
}

pub(super) fn group(g: usize) -> String {
    crate::groups::describe(u16::try_from(g).unwrap_or(u16::MAX))
}

/// The signature schemes OpenSSL 4.0 knows (`include/internal/tlssigalgs.h`), by codepoint,
/// with its names (the IANA names, but `gost2012_256` for the two GOST 2012 codepoints).
const SIGNATURE_SCHEMES: &[(u16, &str)] = &[
    (0x0201, "rsa_pkcs1_sha1"),
    (0x0202, "dsa_sha1"),
    (0x0203, "ecdsa_sha1"),
    (0x0301, "rsa_pkcs1_sha224"),
    (0x0302, "dsa_sha224"),
    (0x0303, "ecdsa_sha224"),
    (0x0401, "rsa_pkcs1_sha256"),
    (0x0402, "dsa_sha256"),
    (0x0403, "ecdsa_secp256r1_sha256"),
    (0x0501, "rsa_pkcs1_sha384"),
    (0x0502, "dsa_sha384"),
    (0x0503, "ecdsa_secp384r1_sha384"),
    (0x0601, "rsa_pkcs1_sha512"),
    (0x0602, "dsa_sha512"),
    (0x0603, "ecdsa_secp521r1_sha512"),
    (0x0708, "sm2sig_sm3"),
    (0x0804, "rsa_pss_rsae_sha256"),
    (0x0805, "rsa_pss_rsae_sha384"),
    (0x0806, "rsa_pss_rsae_sha512"),
    (0x0807, "ed25519"),
    (0x0808, "ed448"),
    (0x0809, "rsa_pss_pss_sha256"),
    (0x080a, "rsa_pss_pss_sha384"),
    (0x080b, "rsa_pss_pss_sha512"),
    (0x081a, "ecdsa_brainpoolP256r1tls13_sha256"),
    (0x081b, "ecdsa_brainpoolP384r1tls13_sha384"),
    (0x081c, "ecdsa_brainpoolP512r1tls13_sha512"),
    (0x0840, "gostr34102012_256"),
    (0x0841, "gostr34102012_512"),
    (0x0904, "mldsa44"),
    (0x0905, "mldsa65"),
    (0x0906, "mldsa87"),
    (0xeded, "gost2001_gost94"),
    (0xeeee, "gost2012_256"),
    (0xefef, "gost2012_512"),
];

pub(super) fn signature(s: usize) -> String {
    let code = u16::try_from(s).unwrap_or(u16::MAX);
    match SIGNATURE_SCHEMES.iter().find(|(c, _)| *c == code) {
        Some((_, name)) => (*name).to_string(),
        None if crate::groups::is_grease(code) => format!("GREASE(0x{code:04x})"),
        None => format!("0x{code:04x}"),
    }
}

pub(super) fn cipher(c: usize) -> String {
    match c {
        0x1301 => "TLS_AES_128_GCM_SHA256".into(),
        0x1302 => "TLS_AES_256_GCM_SHA384".into(),
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256".into(),
        0xc02b => "ECDHE-ECDSA-AES128-GCM-SHA256".into(),
        0xc02c => "ECDHE-ECDSA-AES256-GCM-SHA384".into(),
        0xc02f => "ECDHE-RSA-AES128-GCM-SHA256".into(),
        0xc030 => "ECDHE-RSA-AES256-GCM-SHA384".into(),
        0xcca8 => "ECDHE-RSA-CHACHA20-POLY1305".into(),
        0xcca9 => "ECDHE-ECDSA-CHACHA20-POLY1305".into(),
        other => format!("0x{other:04x}"),
    }
}

pub(super) fn alert_name(d: u8) -> String {
    let name = match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        other => return format!("alert {other}"),
    };
    name.to_string()
}
