//! Replies with a three-digit code: SMTP and LMTP (RFC 5321 section 4.2), FTP (RFC 959
//! section 4.2).

use super::text::{escape_bytes, preview, split_line};
use super::{ReplyError, MAX_REPLY_BYTES, MAX_REPLY_LINES};

/// One complete SMTP, LMTP or FTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumericReply {
    /// The three-digit reply code, e.g. `220`.
    pub code: u16,
    /// Every line as received, escaped with [`escape_bytes`], line ends removed
    /// (e.g. `"250-PIPELINING"`, `"250 STARTTLS"`).
    pub lines: Vec<String>,
}

impl NumericReply {
    /// The text of each line after its `NNN-` / `NNN ` prefix. An FTP continuation line that
    /// does not start with the code is returned whole.
    pub fn texts(&self) -> impl Iterator<Item = &str> + '_ {
        let code = self.code.to_string();
        self.lines
            .iter()
            .map(move |line| match line.strip_prefix(&code) {
                Some(rest) if rest.is_empty() => rest,
                Some(rest) if rest.starts_with([' ', '-']) => rest.get(1..).unwrap_or_default(),
                _ => line.as_str(),
            })
    }

    /// The lines joined with `\n`, as the server wrote them (escaped).
    pub fn to_text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Parses one SMTP or LMTP reply (RFC 5321 section 4.2): every line is `NNN-text`, the last
/// is `NNN text` or `NNN`, and all lines carry the same code (else
/// [`ReplyError::MismatchedCode`]).
///
/// See the [module documentation](super) for the return convention.
pub fn parse_smtp_reply(buf: &[u8]) -> Result<Option<(NumericReply, usize)>, ReplyError> {
    parse_numeric(buf, Dialect::Smtp)
}

/// Parses one FTP reply (RFC 959 section 4.2): like SMTP, except that the lines between the
/// first `NNN-text` and the last `NNN text` may be any text. An inner line that looks like the
/// end of a reply with another code (`NNN text`) is refused as [`ReplyError::MismatchedCode`].
///
/// See the [module documentation](super) for the return convention.
pub fn parse_ftp_reply(buf: &[u8]) -> Result<Option<(NumericReply, usize)>, ReplyError> {
    parse_numeric(buf, Dialect::Ftp)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Smtp,
    Ftp,
}

/// What follows the three digits of a coded line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// `NNN text` or `NNN`: the last line.
    Last,
    /// `NNN-text`: more lines follow.
    More,
}

fn parse_numeric(
    buf: &[u8],
    dialect: Dialect,
) -> Result<Option<(NumericReply, usize)>, ReplyError> {
    let mut pos = 0usize;
    let mut first_code: Option<u16> = None;
    let mut lines = Vec::new();
    loop {
        let rest = buf.get(pos..).unwrap_or_default();
        let Some((line, used)) = split_line(rest) else {
            // Reject a bad start as early as possible, then wait for more bytes.
            let must_be_coded = first_code.is_none() || dialect == Dialect::Smtp;
            if must_be_coded && !is_coded_prefix(rest) {
                return Err(malformed(first_code, rest));
            }
            if buf.len() > MAX_REPLY_BYTES {
                return Err(ReplyError::TooLong {
                    limit: MAX_REPLY_BYTES,
                });
            }
            return Ok(None);
        };
        pos += used;
        if pos > MAX_REPLY_BYTES {
            return Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES,
            });
        }
        if lines.len() >= MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines {
                limit: MAX_REPLY_LINES,
            });
        }
        let coded = coded_line(line);
        lines.push(escape_bytes(line));
        let done = match (first_code, coded) {
            (None, None) => return Err(malformed(None, line)),
            (None, Some((code, sep))) => {
                first_code = Some(code);
                sep == Separator::Last
            }
            (Some(first), Some((code, sep))) if code == first => sep == Separator::Last,
            (Some(first), Some((_, sep))) if dialect == Dialect::Smtp || sep == Separator::Last => {
                return Err(ReplyError::MismatchedCode {
                    first,
                    line: preview(line),
                });
            }
            (Some(first), None) if dialect == Dialect::Smtp => {
                return Err(malformed(Some(first), line));
            }
            // FTP: free text between the first and the last line.
            (Some(_), _) => false,
        };
        if done {
            let code = first_code.unwrap_or_default();
            return Ok(Some((NumericReply { code, lines }, pos)));
        }
    }
}

fn malformed(first_code: Option<u16>, bytes: &[u8]) -> ReplyError {
    ReplyError::Malformed {
        reason: match first_code {
            None => "a reply must start with a three-digit code",
            Some(_) => "a continuation line must start with the reply's three-digit code",
        },
        preview: preview(bytes),
    }
}

/// The code and separator of a complete line, if it is `NNN`, `NNN text` or `NNN-text` with
/// a first digit from 1 to 5.
fn coded_line(line: &[u8]) -> Option<(u16, Separator)> {
    let (digits, rest) = line.split_at_checked(3)?;
    let code = code_of(digits)?;
    let sep = match rest.first() {
        None | Some(b' ') => Separator::Last,
        Some(b'-') => Separator::More,
        Some(_) => return None,
    };
    Some((code, sep))
}

fn code_of(digits: &[u8]) -> Option<u16> {
    match digits {
        [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// True when an incomplete line (no `\n` yet) can still become a coded line.
fn is_coded_prefix(partial: &[u8]) -> bool {
    partial.iter().enumerate().take(4).all(|(i, &b)| match i {
        0 => (b'1'..=b'5').contains(&b),
        1 | 2 => b.is_ascii_digit(),
        _ => matches!(b, b' ' | b'-' | b'\r'),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> NumericReply {
        NumericReply {
            code,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn single_line() {
        assert_eq!(
            parse_smtp_reply(b"220 mx ESMTP\r\n"),
            Ok(Some((reply(220, &["220 mx ESMTP"]), 14)))
        );
    }

    #[test]
    fn code_only_line_and_bare_lf() {
        assert_eq!(
            parse_smtp_reply(b"220\n"),
            Ok(Some((reply(220, &["220"]), 4)))
        );
    }

    #[test]
    fn multi_line_stops_at_last_line_and_leaves_the_rest() {
        let buf = b"250-mx\r\n250-SIZE 100\r\n250 STARTTLS\r\n220 next";
        let (r, used) = parse_smtp_reply(buf).unwrap().unwrap();
        assert_eq!(r, reply(250, &["250-mx", "250-SIZE 100", "250 STARTTLS"]));
        assert_eq!(used, 36);
        assert_eq!(
            r.texts().collect::<Vec<_>>(),
            ["mx", "SIZE 100", "STARTTLS"]
        );
    }

    #[test]
    fn incomplete_input_is_none() {
        for partial in [
            &b""[..],
            b"2",
            b"25",
            b"250",
            b"250-",
            b"250-mx\r",
            b"250-mx\r\n250 ST",
        ] {
            assert_eq!(parse_smtp_reply(partial), Ok(None), "{partial:?}");
        }
    }

    #[test]
    fn mismatched_codes_are_malformed() {
        assert_eq!(
            parse_smtp_reply(b"250-mx\r\n220 STARTTLS\r\n"),
            Err(ReplyError::MismatchedCode {
                first: 250,
                line: "220 STARTTLS".into()
            })
        );
    }

    #[test]
    fn tls_record_is_refused_at_the_first_byte() {
        assert!(matches!(
            parse_smtp_reply(&[0x16, 0x03, 0x01]),
            Err(ReplyError::Malformed { preview, .. }) if preview == "\\x16\\x03\\x01"
        ));
    }

    #[test]
    fn bad_separator_is_refused_early() {
        assert!(matches!(
            parse_smtp_reply(b"220x"),
            Err(ReplyError::Malformed { .. })
        ));
        assert!(matches!(
            parse_smtp_reply(b"220-a\r\nxyz"),
            Err(ReplyError::Malformed { .. })
        ));
    }

    #[test]
    fn ftp_allows_free_text_inside_a_multi_line_reply() {
        let buf = b"220-Welcome\r\n  to the server\r\n123-not an end\r\n220 Ready\r\n";
        let (r, used) = parse_ftp_reply(buf).unwrap().unwrap();
        assert_eq!(r.code, 220);
        assert_eq!(used, buf.len());
        assert_eq!(
            r.texts().collect::<Vec<_>>(),
            ["Welcome", "  to the server", "123-not an end", "Ready"]
        );
        // The same text is not a valid SMTP reply.
        assert!(parse_smtp_reply(buf).is_err());
    }

    #[test]
    fn ftp_refuses_an_inner_end_line_with_another_code() {
        assert_eq!(
            parse_ftp_reply(b"220-Welcome\r\n530 no\r\n"),
            Err(ReplyError::MismatchedCode {
                first: 220,
                line: "530 no".into()
            })
        );
    }

    #[test]
    fn too_many_lines() {
        let buf = "250-x\r\n".repeat(MAX_REPLY_LINES + 1);
        assert_eq!(
            parse_smtp_reply(buf.as_bytes()),
            Err(ReplyError::TooManyLines {
                limit: MAX_REPLY_LINES
            })
        );
    }

    #[test]
    fn too_long_without_line_end() {
        let mut buf = b"250-".to_vec();
        buf.resize(MAX_REPLY_BYTES + 1, b'a');
        assert_eq!(
            parse_smtp_reply(&buf),
            Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES
            })
        );
    }
}
