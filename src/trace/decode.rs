//! Names and facts of TLS messages (RFC 8446 section 4, RFC 5246 section 7.4), read from
//! the bytes OpenSSL's message callback hands over. Never panics on any input.

use openssl::ssl::{SslRef, SslVersion};
use openssl::x509::X509;

/// The message's name and facts; `None` for what is not a message (record headers).
pub(super) fn describe(
    ssl: &SslRef,
    content_type: i32,
    bytes: &[u8],
) -> Option<(&'static str, Vec<String>)> {
    match content_type {
        20 => Some(("ChangeCipherSpec", Vec::new())),
        21 => Some(("Alert", alert(bytes))),
        22 => {
            let (&kind, rest) = bytes.split_first()?;
            let body = rest.get(3..).unwrap_or_default();
            Some(handshake(ssl, kind, body))
        }
        23 => Some(("ApplicationData", Vec::new())),
        _ => None,
    }
}

fn handshake(ssl: &SslRef, kind: u8, body: &[u8]) -> (&'static str, Vec<String>) {
    let tls13 = ssl.version2() == Some(SslVersion::TLS1_3);
    match kind {
        1 => ("ClientHello", client_hello(body).unwrap_or_default()),
        2 => server_hello(body),
        4 => ("NewSessionTicket", ticket(body)),
        5 => ("EndOfEarlyData", Vec::new()),
        8 => (
            "EncryptedExtensions",
            encrypted_extensions(body).unwrap_or_default(),
        ),
        11 => ("Certificate", certificate(body, tls13).unwrap_or_default()),
        12 => (
            "ServerKeyExchange",
            server_key_exchange(body).unwrap_or_default(),
        ),
        13 => ("CertificateRequest", Vec::new()),
        14 => ("ServerHelloDone", Vec::new()),
        15 => ("CertificateVerify", certificate_verify(body)),
        16 => ("ClientKeyExchange", Vec::new()),
        20 => ("Finished", Vec::new()),
        24 => ("KeyUpdate", key_update(body)),
        _ => ("Handshake (other)", vec![format!("type {kind}")]),
    }
}

/// A cursor over message bytes; every read is checked.
struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(b[0]) << 8 | usize::from(b[1]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    fn vec8(&mut self) -> Option<&'b [u8]> {
        let n = self.u8()?;
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'b [u8]> {
        let n = self.u16()?;
        self.take(n)
    }
    fn vec24(&mut self) -> Option<&'b [u8]> {
        let n = self.u24()?;
        self.take(n)
    }
}

/// The extensions of a hello: (type, data) pairs.
fn extensions(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut r = Reader(data);
    let mut out = Vec::new();
    while let (Some(kind), Some(body)) = (r.u16(), r.vec16()) {
        out.push((kind, body));
    }
    out
}

fn u16s(data: &[u8]) -> impl Iterator<Item = usize> + '_ {
    data.chunks_exact(2)
        .map(|c| usize::from(c[0]) << 8 | usize::from(c[1]))
}

fn client_hello(body: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader(body);
    r.take(2 + 32)?;
    r.vec8()?;
    let suites = r.vec16()?;
    r.vec8()?;
    let mut facts = vec![format!("{} cipher suites", suites.len() / 2)];
    for (kind, data) in extensions(r.vec16().unwrap_or_default()) {
        let mut d = Reader(data);
        match kind {
            0 => {
                let names = d.vec16().unwrap_or_default();
                let mut n = Reader(names);
                if let (Some(0), Some(name)) = (n.u8(), n.vec16()) {
                    facts.push(format!("SNI: {}", String::from_utf8_lossy(name)));
                }
            }
            10 => facts.push(format!(
                "groups offered: {}",
                list(u16s(d.vec16().unwrap_or_default()).map(group))
            )),
            16 => facts.push(format!(
                "ALPN offered: {}",
                alpn_list(d.vec16().unwrap_or_default())
            )),
            43 => facts.push(format!(
                "versions offered: {}",
                list(u16s(d.vec8().unwrap_or_default()).map(version))
            )),
            51 => {
                let shares = d.vec16().unwrap_or_default();
                let mut s = Reader(shares);
                let mut groups = Vec::new();
                while let (Some(g), Some(_)) = (s.u16(), s.vec16()) {
                    groups.push(group(g));
                }
                facts.push(format!("key shares: {}", groups.join(", ")));
            }
            _ => {}
        }
    }
    Some(facts)
}

/// The random of a HelloRetryRequest (RFC 8446 section 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn server_hello(body: &[u8]) -> (&'static str, Vec<String>) {
    let mut r = Reader(body);
    let legacy = r.u16();
    let random = r.take(32);
    let name = if random == Some(&HRR_RANDOM[..]) {
        "HelloRetryRequest"
    } else {
        "ServerHello"
    };
    let mut facts = Vec::new();
    let mut negotiated = legacy.map(version);
    let _ = r.vec8();
    if let Some(suite) = r.u16() {
        facts.push(format!("cipher: {}", cipher(suite)));
    }
    let _ = r.u8();
    for (kind, data) in extensions(r.vec16().unwrap_or_default()) {
        let mut d = Reader(data);
        match kind {
            43 => negotiated = d.u16().map(version),
            51 => {
                if let Some(g) = d.u16() {
                    facts.push(format!("group chosen: {}", group(g)));
                }
            }
            _ => {}
        }
    }
    if let Some(v) = negotiated {
        facts.insert(0, format!("version: {v}"));
    }
    (name, facts)
}

fn encrypted_extensions(body: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader(body);
    let mut facts = Vec::new();
    for (kind, data) in extensions(r.vec16()?) {
        if kind == 16 {
            let mut d = Reader(data);
            facts.push(format!(
                "ALPN: {}",
                alpn_list(d.vec16().unwrap_or_default())
            ));
        }
    }
    Some(facts)
}

fn certificate(body: &[u8], tls13: bool) -> Option<Vec<String>> {
    let mut r = Reader(body);
    if tls13 {
        r.vec8()?;
    }
    let mut list = Reader(r.vec24()?);
    let mut subjects = Vec::new();
    while let Some(der) = list.vec24() {
        if tls13 {
            list.vec16()?;
        }
        subjects.push(match X509::from_der(der) {
            Ok(cert) => crate::session::name_to_string(cert.subject_name()),
            Err(_) => "(undecodable certificate)".to_string(),
        });
    }
    if subjects.is_empty() {
        return Some(vec!["no certificate".to_string()]);
    }
    Some(vec![format!("subjects: {}", subjects.join("; "))])
}

fn server_key_exchange(body: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader(body);
    if r.u8()? != 3 {
        return Some(Vec::new());
    }
    let g = r.u16()?;
    r.vec8()?;
    let mut facts = vec![format!("group chosen: {}", group(g))];
    if let Some(s) = r.u16() {
        facts.push(format!("signature: {}", signature(s)));
    }
    Some(facts)
}

fn certificate_verify(body: &[u8]) -> Vec<String> {
    Reader(body)
        .u16()
        .map(|s| vec![format!("signature: {}", signature(s))])
        .unwrap_or_default()
}

fn ticket(body: &[u8]) -> Vec<String> {
    let lifetime = body
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    lifetime
        .map(|s| vec![format!("lifetime {s} s")])
        .unwrap_or_default()
}

fn key_update(body: &[u8]) -> Vec<String> {
    match body.first() {
        Some(0) => vec!["update not requested".to_string()],
        Some(1) => vec!["update requested".to_string()],
        _ => Vec::new(),
    }
}

fn alert(bytes: &[u8]) -> Vec<String> {
    let (Some(&level), Some(&description)) = (bytes.first(), bytes.get(1)) else {
        return Vec::new();
    };
    let level = match level {
        1 => "warning",
        2 => "fatal",
        _ => "level?",
    };
    vec![format!("{level} {}", alert_name(description))]
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn alpn_list(data: &[u8]) -> String {
    let mut r = Reader(data);
    let mut names = Vec::new();
    while let Some(name) = r.vec8() {
        names.push(crate::starttls::reply::escape_bytes(name));
    }
    names.join(", ")
}

fn version(v: usize) -> String {
    match v {
        0x0304 => "TLSv1.3".into(),
        0x0303 => "TLSv1.2".into(),
        0x0302 => "TLSv1.1".into(),
        0x0301 => "TLSv1".into(),
        other => format!("0x{other:04x}"),
    }
}

fn group(g: usize) -> String {
    match g {
        0x0017 => "secp256r1".into(),
        0x0018 => "secp384r1".into(),
        0x0019 => "secp521r1".into(),
        0x001d => "x25519".into(),
        0x001e => "x448".into(),
        0x0100 => "ffdhe2048".into(),
        0x0101 => "ffdhe3072".into(),
        0x0102 => "ffdhe4096".into(),
        0x0103 => "ffdhe6144".into(),
        0x0104 => "ffdhe8192".into(),
        0x11ec => "X25519MLKEM768".into(),
        other => format!("0x{other:04x}"),
    }
}

fn signature(s: usize) -> String {
    match s {
        0x0401 => "rsa_pkcs1_sha256".into(),
        0x0501 => "rsa_pkcs1_sha384".into(),
        0x0601 => "rsa_pkcs1_sha512".into(),
        0x0403 => "ecdsa_secp256r1_sha256".into(),
        0x0503 => "ecdsa_secp384r1_sha384".into(),
        0x0603 => "ecdsa_secp521r1_sha512".into(),
        0x0804 => "rsa_pss_rsae_sha256".into(),
        0x0805 => "rsa_pss_rsae_sha384".into(),
        0x0806 => "rsa_pss_rsae_sha512".into(),
        0x0807 => "ed25519".into(),
        0x0808 => "ed448".into(),
        other => format!("0x{other:04x}"),
    }
}

fn cipher(c: usize) -> String {
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

fn alert_name(d: u8) -> String {
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
        other => return format!("alert {other}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ssl::{Ssl, SslContext, SslMethod};

    #[test]
    fn any_bytes_decode_without_panic() {
        let ctx = SslContext::builder(SslMethod::tls_client())
            .unwrap()
            .build();
        let ssl = Ssl::new(&ctx).unwrap();
        // A small xorshift: every length up to 300, every content type and message type.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..300usize {
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            for kind in [1u8, 2, 4, 8, 11, 12, 15, 24, 99] {
                if let Some(first) = bytes.first_mut() {
                    *first = kind;
                }
                for content_type in [20, 21, 22, 23, 256] {
                    let _ = describe(&ssl, content_type, &bytes);
                }
            }
        }
        assert_eq!(
            describe(&ssl, 21, &[2, 40]).map(|d| d.1),
            Some(vec!["fatal handshake_failure".to_string()])
        );
        assert_eq!(describe(&ssl, 256, &[22, 3, 3, 0, 5]), None);
    }
}
