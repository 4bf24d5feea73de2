//! LDAP messages (RFC 4511 section 4.1.1), BER-encoded (ITU-T X.690), read far enough to
//! know the answer to the StartTLS extended request (RFC 4511 section 4.14).

use super::text::{escape_bytes, malformed};
use super::{ReplyError, MAX_REPLY_BYTES};

/// The OID of the StartTLS extended operation (RFC 4511 section 4.14.1).
pub const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";

/// The OID of the Notice of Disconnection a server sends before it closes (RFC 4511 section
/// 4.4.1).
pub const NOTICE_OF_DISCONNECTION_OID: &str = "1.3.6.1.4.1.1466.20036";

/// The tag of `extendedResp`: `[APPLICATION 24]`, constructed.
pub const EXTENDED_RESPONSE: u8 = 0x78;

/// The StartTLS extended request with message ID 1, the bytes `openssl s_client -starttls
/// ldap` sends:
///
/// ```text
/// LDAPMessage ::= SEQUENCE {             30 1d
///     messageID  INTEGER 1,              02 01 01
///     extendedReq [APPLICATION 23] {     77 18
///         requestName [0] "1.3.6.1.4.1.1466.20037" }}   80 16 ...
/// ```
pub const LDAP_STARTTLS_REQUEST: [u8; 31] = *b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16\
1.3.6.1.4.1.1466.20037";

/// One LDAP message from the server: its ID, its operation and, for responses, the
/// `LDAPResult` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapResponse {
    /// The message ID: 1 answers the StartTLS request, 0 is an unsolicited notification.
    pub message_id: u32,
    /// The tag of the protocol operation, e.g. [`EXTENDED_RESPONSE`] (`0x78`).
    pub operation: u8,
    /// The `resultCode` of a response (0 is `success`), `None` for an operation that is not
    /// a response.
    pub result_code: Option<u32>,
    /// The `diagnosticMessage`, escaped (often empty).
    pub diagnostic: String,
    /// The `responseName` OID of an extended response, if present.
    pub response_name: Option<String>,
}

impl LdapResponse {
    /// One line for messages, e.g. `"extendedResp resultCode 0 (success)"` or
    /// `"extendedResp resultCode 2 (protocolError): unsupported extended operation"`.
    pub fn to_text(&self) -> String {
        let op = if self.operation == EXTENDED_RESPONSE {
            "extendedResp".to_string()
        } else {
            format!("operation 0x{:02x}", self.operation)
        };
        let mut text = match self.result_code {
            Some(code) => match result_name(code) {
                Some(name) => format!("{op} resultCode {code} ({name})"),
                None => format!("{op} resultCode {code}"),
            },
            None => op,
        };
        if let Some(oid) = &self.response_name {
            text.push_str(&format!(" responseName {oid}"));
        }
        if !self.diagnostic.is_empty() {
            text.push_str(": ");
            text.push_str(&self.diagnostic);
        }
        text
    }

    /// True for the Notice of Disconnection (message ID 0, [`NOTICE_OF_DISCONNECTION_OID`]).
    pub fn is_notice_of_disconnection(&self) -> bool {
        self.message_id == 0 && self.response_name.as_deref() == Some(NOTICE_OF_DISCONNECTION_OID)
    }
}

/// The name RFC 4511 appendix A gives a result code, for the common ones.
pub fn result_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => return None,
    })
}

/// Parses one LDAP message: a definite-length BER `SEQUENCE` (`30 LL ...`) holding the
/// message ID and a protocol operation. The first byte must be `0x30`, so a text banner or a
/// TLS record is refused at once; a length past [`MAX_REPLY_BYTES`] is refused before its
/// bytes arrive.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_ldap_message(buf: &[u8]) -> Result<Option<(LdapResponse, usize)>, ReplyError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != 0x30 {
        return Err(malformed(
            "an LDAP message must start with a SEQUENCE (0x30)",
            buf,
        ));
    }
    let Some((len, header)) = read_length(buf, 1)? else {
        return Ok(None);
    };
    if len > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong {
            limit: MAX_REPLY_BYTES,
        });
    }
    let total = header + len;
    let Some(body) = buf.get(header..total) else {
        return Ok(None);
    };
    let whole = &buf[..total];
    let bad = |reason| malformed(reason, whole);
    let mut r = Reader { buf: body, pos: 0 };
    let id = r.element().ok_or_else(|| bad("no message ID"))?;
    if id.tag != 0x02 {
        return Err(bad("the message ID must be an INTEGER"));
    }
    let message_id = unsigned(id.content).ok_or_else(|| bad("message ID out of range"))?;
    let op = r.element().ok_or_else(|| bad("no protocol operation"))?;
    let mut response = LdapResponse {
        message_id,
        operation: op.tag,
        result_code: None,
        diagnostic: String::new(),
        response_name: None,
    };
    // The responses that carry an LDAPResult: bind, search done, modify, add, delete,
    // modify DN, compare, extended.
    if matches!(
        op.tag,
        0x61 | 0x65 | 0x67 | 0x69 | 0x6b | 0x6d | 0x6f | 0x78
    ) {
        let mut inner = Reader {
            buf: op.content,
            pos: 0,
        };
        let code = inner.element().ok_or_else(|| bad("no resultCode"))?;
        if code.tag != 0x0a {
            return Err(bad("resultCode must be an ENUMERATED"));
        }
        response.result_code =
            Some(unsigned(code.content).ok_or_else(|| bad("resultCode out of range"))?);
        let matched = inner.element().ok_or_else(|| bad("no matchedDN"))?;
        let diagnostic = inner.element().ok_or_else(|| bad("no diagnosticMessage"))?;
        if matched.tag != 0x04 || diagnostic.tag != 0x04 {
            return Err(bad("matchedDN and diagnosticMessage must be OCTET STRINGs"));
        }
        response.diagnostic = escape_bytes(diagnostic.content);
        while inner.pos < inner.buf.len() {
            let e = inner.element().ok_or_else(|| bad("a truncated element"))?;
            if e.tag == 0x8a {
                response.response_name = Some(escape_bytes(e.content));
            }
        }
    }
    Ok(Some((response, total)))
}

/// One BER element: its tag byte and content.
struct Element<'b> {
    tag: u8,
    content: &'b [u8],
}

/// Reads elements one after another from complete content.
struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl<'b> Reader<'b> {
    fn element(&mut self) -> Option<Element<'b>> {
        let tag = *self.buf.get(self.pos)?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags are not used by LDAP
        }
        let (len, header) = read_length(self.buf, self.pos + 1).ok()??;
        let content = self.buf.get(header..header.checked_add(len)?)?;
        self.pos = header + len;
        Some(Element { tag, content })
    }
}

/// Reads a definite BER length at `buf[at]`: `(length, offset of the content)`, `None` when
/// more bytes are needed. Indefinite lengths (`0x80`), which LDAP forbids (RFC 4511 section
/// 5.1), and lengths of more than 4 bytes are refused.
fn read_length(buf: &[u8], at: usize) -> Result<Option<(usize, usize)>, ReplyError> {
    let Some(&b) = buf.get(at) else {
        return Ok(None);
    };
    if b < 0x80 {
        return Ok(Some((usize::from(b), at + 1)));
    }
    let count = usize::from(b & 0x7f);
    if count == 0 || count > 4 {
        return Err(malformed(
            "LDAP needs a definite BER length of at most 4 bytes",
            buf,
        ));
    }
    let Some(bytes) = buf.get(at + 1..at + 1 + count) else {
        return Ok(None);
    };
    let len = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    Ok(Some((len, at + 1 + count)))
}

/// A non-negative INTEGER or ENUMERATED of at most 4 content bytes.
fn unsigned(content: &[u8]) -> Option<u32> {
    if content.is_empty() || content.len() > 5 || content.first()? & 0x80 != 0 {
        return None;
    }
    let value = content.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encodes_the_oid() {
        // The bytes of s_client's ldap_tls_genconf, as `openssl asn1parse` shows them.
        let hex: String = LDAP_STARTTLS_REQUEST
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "301d02010177188016312e332e362e312e342e312e313436362e3230303337"
        );
        assert_eq!(&LDAP_STARTTLS_REQUEST[9..], STARTTLS_OID.as_bytes());
        assert_eq!(
            usize::from(LDAP_STARTTLS_REQUEST[1]) + 2,
            LDAP_STARTTLS_REQUEST.len()
        );
    }

    #[test]
    fn success_response() {
        let buf = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
        let (r, used) = parse_ldap_message(buf).unwrap().unwrap();
        assert_eq!(used, 14);
        assert_eq!((r.message_id, r.result_code), (1, Some(0)));
        assert_eq!(r.to_text(), "extendedResp resultCode 0 (success)");
        assert_eq!(parse_ldap_message(&buf[..9]), Ok(None));
    }

    #[test]
    fn garbage_is_refused_at_once() {
        assert!(parse_ldap_message(b"\x16\x03").is_err());
        assert!(parse_ldap_message(b"\x30\x80").is_err());
        assert!(matches!(
            parse_ldap_message(b"\x30\x84\x7f\xff\xff\xff"),
            Err(ReplyError::TooLong { .. })
        ));
        assert!(parse_ldap_message(b"\x30\x03\x04\x01\x01").is_err());
    }
}
