//! The PostgreSQL server's answer to an `SSLRequest` (PostgreSQL documentation, "Message
//! Flow", section "SSL Session Encryption").

use super::text::{escape_bytes, preview};
use super::{ReplyError, MAX_REPLY_BYTES};

/// The 8-byte `SSLRequest` message: length 8, then the request code 80877103 (`1234` in the
/// high 16 bits, `5679` in the low 16 bits), both big-endian. OpenSSL's `s_client -starttls
/// postgres` sends exactly these bytes.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// What a PostgreSQL server answered to the `SSLRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostgresResponse {
    /// `S`: the server is willing; the TLS handshake starts next.
    Accept,
    /// `N`: the server does not accept TLS on this connection.
    Refuse,
    /// `E` + an `ErrorResponse` message: the server did not understand the request (a server
    /// older than SSL support, or something that is not PostgreSQL).
    Error {
        /// The message's fields as (field type, escaped value), e.g. `('S', "FATAL")`,
        /// `('M', "unsupported frontend protocol")`.
        fields: Vec<(char, String)>,
    },
}

impl PostgresResponse {
    /// A short text for the response: `S`, `N`, or `E` followed by the error fields
    /// (`E S=FATAL C=0A000 M=...`).
    pub fn to_text(&self) -> String {
        match self {
            PostgresResponse::Accept => "S".to_owned(),
            PostgresResponse::Refuse => "N".to_owned(),
            PostgresResponse::Error { fields } => {
                let mut text = String::from("E");
                for (kind, value) in fields {
                    text.push_str(&format!(" {kind}={value}"));
                }
                text
            }
        }
    }
}

/// Parses the server's answer to [`SSL_REQUEST`]: the single byte `S` or `N`, or an
/// `ErrorResponse` (`E`, a 4-byte big-endian length that counts itself, then fields of one type
/// byte and a NUL-terminated string, ended by a NUL). Any other first byte is
/// [`ReplyError::Malformed`], as is an `ErrorResponse` longer than [`MAX_REPLY_BYTES`].
///
/// See the [module documentation](super) for the return convention.
pub fn parse_postgres_response(
    buf: &[u8],
) -> Result<Option<(PostgresResponse, usize)>, ReplyError> {
    match buf.first() {
        None => Ok(None),
        Some(b'S') => Ok(Some((PostgresResponse::Accept, 1))),
        Some(b'N') => Ok(Some((PostgresResponse::Refuse, 1))),
        Some(b'E') => parse_error_response(buf),
        Some(_) => Err(ReplyError::Malformed {
            reason: "a PostgreSQL server answers an SSLRequest with S, N or an error message",
            preview: preview(buf),
        }),
    }
}

fn parse_error_response(buf: &[u8]) -> Result<Option<(PostgresResponse, usize)>, ReplyError> {
    let malformed = |reason| ReplyError::Malformed {
        reason,
        preview: preview(buf),
    };
    let Some(len_bytes) = buf.get(1..5) else {
        return Ok(None);
    };
    let mut len = [0u8; 4];
    len.copy_from_slice(len_bytes);
    let len = u32::from_be_bytes(len);
    let total = usize::try_from(len)
        .ok()
        .filter(|&n| (5..MAX_REPLY_BYTES).contains(&n))
        .ok_or_else(|| malformed("the error message length is implausible"))?
        + 1;
    let Some(body) = buf.get(5..total) else {
        return Ok(None);
    };
    let mut fields = Vec::new();
    let mut rest = body;
    loop {
        match rest.split_first() {
            Some((0, [])) => break,
            Some((&kind, tail)) if kind != 0 => {
                let nul = tail
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or_else(|| malformed("an error field is not NUL-terminated"))?;
                let value = tail.get(..nul).unwrap_or_default();
                fields.push((char::from(kind), escape_bytes(value)));
                rest = tail.get(nul + 1..).unwrap_or_default();
            }
            _ => return Err(malformed("the error message does not end with one NUL")),
        }
    }
    Ok(Some((PostgresResponse::Error { fields }, total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_request_is_the_documented_code() {
        assert_eq!(SSL_REQUEST[4..], 80_877_103u32.to_be_bytes());
    }

    #[test]
    fn single_bytes() {
        assert_eq!(parse_postgres_response(b""), Ok(None));
        assert_eq!(
            parse_postgres_response(b"Sxyz"),
            Ok(Some((PostgresResponse::Accept, 1)))
        );
        assert_eq!(
            parse_postgres_response(b"N"),
            Ok(Some((PostgresResponse::Refuse, 1)))
        );
        assert!(matches!(
            parse_postgres_response(b"\x16\x03\x01"),
            Err(ReplyError::Malformed { .. })
        ));
    }

    #[test]
    fn error_response() {
        let body = b"SFATAL\0C0A000\0Munsupported frontend protocol\0\0";
        let mut msg = vec![b'E'];
        msg.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        msg.extend_from_slice(body);
        for cut in 0..msg.len() {
            assert_eq!(parse_postgres_response(&msg[..cut]), Ok(None), "cut {cut}");
        }
        let (r, used) = parse_postgres_response(&msg).unwrap().unwrap();
        assert_eq!(used, msg.len());
        assert_eq!(
            r.to_text(),
            "E S=FATAL C=0A000 M=unsupported frontend protocol"
        );
    }

    #[test]
    fn error_response_with_text_as_length_is_malformed() {
        assert!(matches!(
            parse_postgres_response(b"EFATAL: no"),
            Err(ReplyError::Malformed { .. })
        ));
    }

    #[test]
    fn error_response_without_final_nul_is_malformed() {
        assert!(matches!(
            parse_postgres_response(b"E\0\0\0\x07Mx\0"),
            Err(ReplyError::Malformed { .. })
        ));
    }
}
