//! Line splitting and safe escaping of server text.

use std::fmt::Write as _;

use super::{ReplyError, MAX_REPLY_BYTES};

/// How many bytes of an offending reply an error message shows.
const PREVIEW_BYTES: usize = 64;

/// Escapes bytes for display: printable ASCII (space to `~`) is kept, a backslash becomes
/// `\\`, tab, CR and LF become `\t`, `\r`, `\n`, and every other byte becomes `\xNN`.
///
/// The result is plain ASCII with no control characters, so server text can be logged or
/// printed without letting the server write escape sequences to a terminal.
///
/// ```
/// use tlshake::starttls::reply::escape_bytes;
///
/// assert_eq!(escape_bytes(b"220 ok\r\n"), "220 ok\\r\\n");
/// assert_eq!(escape_bytes(&[0x16, 0x03, 0x01]), "\\x16\\x03\\x01");
/// ```
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// Escapes at most the first 64 bytes, adding `...` when there were more.
pub(crate) fn preview(bytes: &[u8]) -> String {
    match bytes.get(..PREVIEW_BYTES) {
        Some(head) if bytes.len() > PREVIEW_BYTES => format!("{}...", escape_bytes(head)),
        _ => escape_bytes(bytes),
    }
}

/// The error of bytes that break `reason`, with a preview of them.
pub(super) fn malformed(reason: &'static str, bytes: &[u8]) -> ReplyError {
    ReplyError::Malformed {
        reason,
        preview: preview(bytes),
    }
}

/// The first line of a one-line reply, within [`MAX_REPLY_BYTES`]: `Ok(None)` while it is
/// incomplete; [`malformed`] as soon as its first bytes cannot start a reply
/// (`could_start` says no); [`ReplyError::TooLong`] past the cap, complete or not.
pub(super) fn one_line(
    buf: &[u8],
    could_start: impl FnOnce(&[u8]) -> bool,
    malformed: impl FnOnce(&[u8]) -> ReplyError,
) -> Result<Option<(&[u8], usize)>, ReplyError> {
    let too_long = ReplyError::TooLong {
        limit: MAX_REPLY_BYTES,
    };
    match split_line(buf) {
        Some((_, used)) if used > MAX_REPLY_BYTES => Err(too_long),
        Some(line) => Ok(Some(line)),
        None if !could_start(buf) => Err(malformed(buf)),
        None if buf.len() > MAX_REPLY_BYTES => Err(too_long),
        None => Ok(None),
    }
}

/// Splits off the first line: the line without its `\n` or `\r\n`, and the bytes it used
/// including the line end. `None` when no `\n` has arrived yet.
///
/// A bare `\n` is accepted as a line end, as OpenSSL's `BIO_gets` (used by `s_client`) does.
pub(super) fn split_line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let lf = buf.iter().position(|&b| b == b'\n')?;
    let line = buf.get(..lf)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, lf + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_printable_and_escapes_the_rest() {
        assert_eq!(escape_bytes(b"a\\b\t\x00\xff~"), "a\\\\b\\t\\x00\\xff~");
    }

    #[test]
    fn preview_cuts_long_input() {
        let long = [b'a'; 100];
        assert_eq!(preview(&long), format!("{}...", "a".repeat(64)));
        assert_eq!(preview(b"short"), "short");
    }

    #[test]
    fn split_line_handles_crlf_lf_and_incomplete() {
        assert_eq!(split_line(b"ab\r\ncd"), Some((&b"ab"[..], 4)));
        assert_eq!(split_line(b"ab\ncd"), Some((&b"ab"[..], 3)));
        assert_eq!(split_line(b"ab\r"), None);
    }
}
