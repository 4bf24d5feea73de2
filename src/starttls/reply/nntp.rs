//! NNTP responses (RFC 3977 section 3.2): a status line `NNN text`, followed for the
//! multi-line responses (such as `101`, the capability list) by data lines up to a line
//! holding a single `.`.

use super::text::{escape_bytes, preview, split_line};
use super::{ReplyError, MAX_REPLY_BYTES, MAX_REPLY_LINES};

/// One NNTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NntpReply {
    /// The three-digit status code, e.g. `200`, `101`, `382`.
    pub code: u16,
    /// The status line as received, escaped, line end removed.
    pub line: String,
    /// The data lines of a multi-line response, dot-stuffing removed, escaped; without the
    /// final `.`. Empty for a single-line response.
    pub data: Vec<String>,
}

impl NntpReply {
    /// The status line and the data lines, joined with `\n`.
    pub fn to_text(&self) -> String {
        std::iter::once(self.line.as_str())
            .chain(self.data.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The status codes followed by a data block (RFC 3977 section 3.2.1 and its commands).
fn is_multi_line(code: u16) -> bool {
    matches!(
        code,
        100 | 101 | 215 | 220 | 221 | 222 | 224 | 225 | 230 | 231
    )
}

/// Parses one NNTP response: a line starting with three digits then a space or the line end,
/// and for the multi-line codes the data block after it.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_nntp_reply(buf: &[u8]) -> Result<Option<(NntpReply, usize)>, ReplyError> {
    let Some((line, mut used)) = split_line(buf) else {
        if !could_start_status(buf) {
            return Err(malformed(buf));
        }
        return too_long_or_none(buf);
    };
    let code = status_code(line).ok_or_else(|| malformed(line))?;
    let mut reply = NntpReply {
        code,
        line: escape_bytes(line),
        data: Vec::new(),
    };
    if is_multi_line(code) {
        loop {
            let rest = buf.get(used..).unwrap_or_default();
            let Some((data, n)) = split_line(rest) else {
                return too_long_or_none(buf);
            };
            used += n;
            if data == b"." {
                break;
            }
            if reply.data.len() >= MAX_REPLY_LINES {
                return Err(ReplyError::TooManyLines {
                    limit: MAX_REPLY_LINES,
                });
            }
            let data = data.strip_prefix(b".").unwrap_or(data);
            reply.data.push(escape_bytes(data));
            if used > MAX_REPLY_BYTES {
                break;
            }
        }
    }
    if used > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong {
            limit: MAX_REPLY_BYTES,
        });
    }
    Ok(Some((reply, used)))
}

fn too_long_or_none<T>(buf: &[u8]) -> Result<Option<T>, ReplyError> {
    if buf.len() > MAX_REPLY_BYTES {
        Err(ReplyError::TooLong {
            limit: MAX_REPLY_BYTES,
        })
    } else {
        Ok(None)
    }
}

fn status_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match line.get(3) {
        None | Some(b' ') => {}
        Some(_) => return None,
    }
    digits.iter().try_fold(0u16, |n, &d| {
        n.checked_mul(10)?.checked_add(u16::from(d - b'0'))
    })
}

/// True when `buf` (no line end yet) can still begin a status line.
fn could_start_status(buf: &[u8]) -> bool {
    buf.iter().enumerate().all(|(i, &b)| match i {
        0..=2 => b.is_ascii_digit(),
        3 => b == b' ' || b == b'\r',
        _ => true,
    })
}

fn malformed(bytes: &[u8]) -> ReplyError {
    ReplyError::Malformed {
        reason: "an NNTP response must start with a three-digit code",
        preview: preview(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_and_capabilities() {
        let (r, used) = parse_nntp_reply(b"200 news ready\r\n").unwrap().unwrap();
        assert_eq!((r.code, used, r.data.len()), (200, 16, 0));
        let caps = b"101 Capability list:\r\nVERSION 2\r\nSTARTTLS\r\n..dot\r\n.\r\nnext";
        let (r, used) = parse_nntp_reply(caps).unwrap().unwrap();
        assert_eq!(used, caps.len() - 4);
        assert_eq!(r.data, ["VERSION 2", "STARTTLS", ".dot"]);
        assert_eq!(parse_nntp_reply(b"101 caps\r\nSTARTTLS\r\n"), Ok(None));
    }

    #[test]
    fn garbage() {
        assert!(parse_nntp_reply(b"\x16\x03").is_err());
        assert!(parse_nntp_reply(b"* OK imap\r\n").is_err());
        assert!(parse_nntp_reply(b"2000\r\n").is_err());
    }
}
