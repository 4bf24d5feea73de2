//! Reading the first bytes a peer sent: is it TLS at all, and which versions did its hello name?
//!
//! Used only to explain failures (plaintext peers, no shared version); never on the success
//! path, and never trusted for anything but a hint.

use crate::version::ProtocolVersion;

/// True when `bytes` start like a TLS record (content type 20..=24, major version 3) or an
/// SSL 2.0-style ClientHello (high bit of the first byte set).
pub(crate) fn looks_like_tls(bytes: &[u8]) -> bool {
    match bytes {
        [] => true,
        [first, ..] if first & 0x80 != 0 => true,
        [ty, rest @ ..] => {
            (0x14..=0x18).contains(ty) && rest.first().is_none_or(|major| *major == 3)
        }
    }
}

/// True when the bytes are mostly printable text: what a plaintext protocol greeting or an
/// HTTP request looks like.
pub(crate) fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    printable * 10 >= bytes.len() * 9
}

/// Renders peer bytes for a message: printable ASCII kept, `\r\n` and others escaped, cut at
/// `max` bytes.
pub(crate) fn escape_bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for b in bytes.iter().take(max) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(*b)),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    if bytes.len() > max {
        out.push_str("...");
    }
    out
}

/// The protocol versions a ClientHello offered or a ServerHello chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelloVersions {
    /// True for a ClientHello, false for a ServerHello.
    pub(crate) client_hello: bool,
    /// The versions named, newest first (supported_versions when present, else the legacy
    /// version field).
    pub(crate) versions: Vec<ProtocolVersion>,
}

fn version_from_wire(v: u16) -> Option<ProtocolVersion> {
    ProtocolVersion::from_wire(v)
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// Parses the first handshake record of `bytes` as a ClientHello or ServerHello and returns
/// the versions it names. `None` when the bytes are not a (complete enough) hello.
pub(crate) fn hello_versions(bytes: &[u8]) -> Option<HelloVersions> {
    let mut rec = Reader { buf: bytes };
    if rec.u8()? != 0x16 {
        return None;
    }
    let _record_version = rec.u16()?;
    let body = rec.vec16().or(Some(rec.buf))?;
    let mut hs = Reader { buf: body };
    let msg_type = hs.u8()?;
    let len = hs.u24()?;
    let mut msg = Reader {
        buf: hs.take(len).unwrap_or(hs.buf),
    };
    let client_hello = match msg_type {
        1 => true,
        2 => false,
        _ => return None,
    };
    let legacy = msg.u16()?;
    msg.take(32)?;
    msg.vec8()?;
    if client_hello {
        msg.vec16()?;
        msg.vec8()?;
    } else {
        msg.u16()?;
        msg.u8()?;
    }
    // The extensions, as far as the bytes go: only the peer's first bytes are kept, and a
    // hello with a post-quantum key share (1,216 bytes for X25519MLKEM768 alone) is longer.
    let (exts, cut_short) = match msg.u16() {
        Some(n) => match msg.take(usize::from(n)) {
            Some(all) => (all, false),
            None => (msg.buf, true),
        },
        // No extensions at all (a hello before TLS 1.3), or not a byte of their length.
        None => (&[][..], !msg.buf.is_empty()),
    };
    let mut versions = Vec::new();
    {
        let mut exts = Reader { buf: exts };
        while let (Some(ty), Some(data)) = (exts.u16(), exts.vec16()) {
            if ty != 43 {
                continue;
            }
            let mut d = Reader { buf: data };
            if client_hello {
                let list = d.vec8().unwrap_or_default();
                versions.extend(
                    list.chunks_exact(2)
                        .filter_map(|c| version_from_wire(u16::from_be_bytes([c[0], c[1]]))),
                );
            } else if let Some(v) = d.u16().and_then(version_from_wire) {
                versions.push(v);
            }
        }
    }
    // The legacy version field names the versions only when there is no
    // supported_versions extension; in a hello cut short, that extension may be in the
    // part that is missing, and then the versions are not known.
    if versions.is_empty() && !cut_short {
        versions.extend(version_from_wire(legacy));
    }
    versions.sort_by(|a, b| b.cmp(a));
    versions.dedup();
    Some(HelloVersions {
        client_hello,
        versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_not_tls() {
        assert!(!looks_like_tls(b"220 mail ESMTP\r\n"));
        assert!(looks_like_text(b"220 mail ESMTP\r\n"));
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x00, 0x10]));
        assert!(!looks_like_text(&[0x16, 0x03, 0x01, 0x00, 0x10]));
    }

    #[test]
    fn escapes_control_bytes() {
        assert_eq!(escape_bytes(b"220 a\r\n\x01", 64), "220 a\\r\\n\\x01");
        assert_eq!(escape_bytes(b"abcdef", 3), "abc...");
    }

    #[test]
    fn parses_a_minimal_client_hello() {
        // ClientHello, legacy 1.2, supported_versions {1.3, 1.2}.
        let mut hello = vec![0x03, 0x03];
        hello.extend([0u8; 32]);
        hello.push(0); // session id
        hello.extend([0, 2, 0x13, 0x01]); // cipher suites
        hello.extend([1, 0]); // compression
        let ext = [0u8, 43, 0, 5, 4, 0x03, 0x04, 0x03, 0x03];
        hello.extend((ext.len() as u16).to_be_bytes());
        hello.extend(ext);
        let mut hs = vec![1, 0, 0, hello.len() as u8];
        hs.extend(hello);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        let v = hello_versions(&rec).expect("a hello");
        assert!(v.client_hello);
        assert_eq!(
            v.versions,
            vec![ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2]
        );
        assert_eq!(hello_versions(&rec[..20]), None);
        assert_eq!(hello_versions(b"GET / HTTP/1.1\r\n"), None);
    }

    /// A ClientHello (legacy version 1.2) with `exts`, in one record.
    fn client_hello(exts: &[u8]) -> Vec<u8> {
        let mut hello = vec![0x03, 0x03];
        hello.extend([0u8; 32]);
        hello.push(0); // session id
        hello.extend([0, 2, 0x13, 0x01]); // cipher suites
        hello.extend([1, 0]); // compression
        hello.extend((exts.len() as u16).to_be_bytes());
        hello.extend(exts);
        let len = hello.len() as u32;
        let mut hs = vec![1];
        hs.extend(&len.to_be_bytes()[1..]);
        hs.extend(hello);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn a_hello_cut_short_names_the_versions_it_got_to() {
        // supported_versions {1.3}, then a key share of 1,216 bytes (X25519MLKEM768 + x25519).
        let mut exts = vec![0u8, 43, 0, 3, 2, 0x03, 0x04];
        exts.extend([0, 51]);
        exts.extend(1220u16.to_be_bytes());
        exts.extend(1218u16.to_be_bytes());
        exts.extend([0x11, 0xec]);
        exts.extend(1216u16.to_be_bytes());
        exts.extend(vec![0xab; 1216]);
        let rec = client_hello(&exts);
        assert!(rec.len() > 1024);
        // Only the first 1,024 bytes are kept: supported_versions is in them.
        let v = hello_versions(&rec[..1024]).expect("a hello");
        assert_eq!(v.versions, vec![ProtocolVersion::Tls1_3]);
        // Cut inside supported_versions: not known, and not the legacy 1.2 either.
        let v = hello_versions(&rec[..client_hello(&[]).len() + 4]).expect("a hello");
        assert_eq!(v.versions, vec![]);
        // Whole, with no supported_versions: the legacy field.
        let v = hello_versions(&client_hello(&[0, 0, 0, 0])).expect("a hello");
        assert_eq!(v.versions, vec![ProtocolVersion::Tls1_2]);
    }
}
