//! Reads the basicConstraints `cA` flag from a certificate's DER encoding.
//!
//! The safe `openssl` API does not expose
//! [X509_check_ca(3)](https://docs.openssl.org/3.0/man3/X509_check_ca/), so this walks the few
//! DER layers needed (RFC 5280 §4.1 and §4.2.1.9). Anything malformed reads as "not a CA".

use openssl::x509::X509Ref;

const SEQUENCE: u8 = 0x30;
const BOOLEAN: u8 = 0x01;
const OBJECT_IDENTIFIER: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
/// `[3] EXPLICIT Extensions` inside `TBSCertificate`.
const EXTENSIONS: u8 = 0xa3;
/// 2.5.29.19, id-ce-basicConstraints.
const BASIC_CONSTRAINTS_OID: &[u8] = &[0x55, 0x1d, 0x13];

/// Whether `cert` has a basicConstraints extension with `cA` TRUE.
pub(crate) fn is_ca(cert: &X509Ref) -> bool {
    cert.to_der()
        .ok()
        .and_then(|der| ca_flag(&der))
        .unwrap_or(false)
}

/// `Some(flag)` if the certificate has a basicConstraints extension, `None` if it has none or
/// the encoding is not understood.
fn ca_flag(der: &[u8]) -> Option<bool> {
    let (certificate, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(certificate, SEQUENCE)?;
    while !tbs.is_empty() {
        let (tag, content, rest) = tlv(tbs)?;
        tbs = rest;
        if tag != EXTENSIONS {
            continue;
        }
        let (mut extensions, _) = expect(content, SEQUENCE)?;
        while !extensions.is_empty() {
            let (extension, rest) = expect(extensions, SEQUENCE)?;
            extensions = rest;
            let (oid, mut fields) = expect(extension, OBJECT_IDENTIFIER)?;
            if oid != BASIC_CONSTRAINTS_OID {
                continue;
            }
            if let Some((BOOLEAN, _critical, rest)) = tlv(fields) {
                fields = rest;
            }
            let (value, _) = expect(fields, OCTET_STRING)?;
            let (constraints, _) = expect(value, SEQUENCE)?;
            return Some(match tlv(constraints) {
                Some((BOOLEAN, flag, _)) => flag.iter().any(|&b| b != 0),
                _ => false,
            });
        }
    }
    None
}

/// One element with tag `tag`: its content and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    match tlv(input)? {
        (found, content, rest) if found == tag => Some((content, rest)),
        _ => None,
    }
}

/// Splits one DER tag-length-value off `input` (single-byte tags, definite lengths up to four
/// length bytes).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_first) = after_tag.split_first()?;
    let (length, body) = if first < 0x80 {
        (usize::from(first), after_first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = after_first.get(..count)?;
        let length = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, after_first.get(count..)?)
    };
    let content = body.get(..length)?;
    let rest = body.get(length..)?;
    Some((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        assert_eq!(
            tlv(&[0x04, 0x01, 0xaa, 0xbb]),
            Some((0x04, &[0xaa][..], &[0xbb][..]))
        );
        assert_eq!(
            tlv(&[0x04, 0x81, 0x01, 0xaa]),
            Some((0x04, &[0xaa][..], &[][..]))
        );
    }

    #[test]
    fn truncated_input_is_none() {
        assert_eq!(tlv(&[]), None);
        assert_eq!(tlv(&[0x30]), None);
        assert_eq!(tlv(&[0x30, 0x05, 0x00]), None);
        assert_eq!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(tlv(&[0x30, 0x82, 0x01]), None);
        assert_eq!(ca_flag(&[0x30, 0x02, 0x30, 0x00]), None);
    }

    #[test]
    fn finds_ca_flag_in_minimal_structure() {
        // Certificate { TBS { [3] { Extensions { Extension { OID bc, OCTET { SEQ { TRUE } } } } } } }
        let ext = [
            0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff,
        ];
        let mut exts = vec![0x30, ext.len() as u8];
        exts.extend_from_slice(&ext);
        let mut tagged = vec![EXTENSIONS, exts.len() as u8];
        tagged.extend_from_slice(&exts);
        let mut tbs = vec![0x30, tagged.len() as u8];
        tbs.extend_from_slice(&tagged);
        let mut cert = vec![0x30, tbs.len() as u8];
        cert.extend_from_slice(&tbs);
        assert_eq!(ca_flag(&cert), Some(true));
    }
}
