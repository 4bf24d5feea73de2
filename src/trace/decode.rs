//! Names and facts of TLS messages (RFC 8446 section 4, RFC 5246 section 7.4), read from
//! the bytes OpenSSL's message callback hands over. Never panics on any input.

use openssl::ssl::{SslRef, SslVersion};
use openssl::x509::X509;

use super::names::{alert_name, cipher, group, signature, version};

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
        8 => {
            let mut facts = encrypted_extensions(body).unwrap_or_default();
            facts.extend(ech_outcome(ssl));
            ("EncryptedExtensions", facts)
        }
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
            13 => facts.push(format!(
                "signature algorithms offered: {}",
                list(u16s(d.vec16().unwrap_or_default()).map(signature))
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
            ECH_EXTENSION => facts.push(ech_client_hello(data)),
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
        if kind == ECH_EXTENSION {
            facts.push(match crate::ech::EchConfigList::from_wire(data) {
                Ok(list) => format!(
                    "ECH retry configs: {} for {}",
                    list.configs().len(),
                    list.public_names().join(", ")
                ),
                Err(e) => format!("ECH retry configs: {} bytes, unusable ({e})", data.len()),
            });
        }
    }
    Some(facts)
}

/// Whether the server accepted ECH, as the connection knows it once the ServerHello is
/// processed (the acceptance is a signal in its random, in no message of its own): said with
/// the EncryptedExtensions, sent or received. Nothing without ECH.
fn ech_outcome(ssl: &SslRef) -> Option<String> {
    use crate::ech::{EchInfo, EchStatus};
    let info = EchInfo::read(ssl);
    Some(match info.status {
        EchStatus::Accepted => match &info.inner_name {
            Some(name) => format!("ECH accepted, inner name {name}"),
            None => "ECH accepted".to_string(),
        },
        EchStatus::Rejected | EchStatus::Failed => "ECH not accepted".to_string(),
        EchStatus::Grease => "ECH: GREASE".to_string(),
        _ => return None,
    })
}

/// The `encrypted_client_hello` extension (RFC 9849 section 5).
const ECH_EXTENSION: usize = 0xfe0d;

/// The ECH extension of a ClientHello: an inner marker, or the outer one with its suite,
/// configuration id and payload size (a GREASE extension looks the same, by design).
fn ech_client_hello(data: &[u8]) -> String {
    let mut r = Reader(data);
    match r.u8() {
        Some(1) => "ECH: inner".to_string(),
        Some(0) => {
            let (kdf, aead, id) = (r.u16(), r.u16(), r.u8());
            let _enc = r.vec16();
            let payload = r.vec16().map_or(0, <[u8]>::len);
            match (kdf, aead, id) {
                (Some(kdf), Some(aead), Some(id)) => {
                    let suite = crate::ech::HpkeSymmetricSuite {
                        kdf: kdf as u16,
                        aead: aead as u16,
                    };
                    format!("ECH: outer, config id 0x{id:02x}, {suite}, {payload}-byte payload")
                }
                _ => "ECH: outer, truncated".to_string(),
            }
        }
        _ => format!("ECH: {} bytes", data.len()),
    }
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

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
