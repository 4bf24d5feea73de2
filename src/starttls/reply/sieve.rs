//! ManageSieve responses (RFC 5804 section 1.2 and 4): capability lines (`"NAME" "value"`),
//! then a status line `OK`, `NO` or `BYE`.

use super::text::{escape_bytes, preview, split_line};
use super::{ReplyError, MAX_REPLY_BYTES, MAX_REPLY_LINES};

/// The status that ends a ManageSieve response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SieveStatus {
    /// `OK`: the command succeeded.
    Ok,
    /// `NO`: the command failed.
    No,
    /// `BYE`: the server is closing the connection.
    Bye,
}

/// One ManageSieve response: the capability lines before it (the greeting has them) and the
/// status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveResponse {
    /// The status of the last line.
    pub status: SieveStatus,
    /// The capabilities, each its name and value joined by a space (`"SIEVE fileinto"`,
    /// `"STARTTLS"`), escaped.
    pub capabilities: Vec<String>,
    /// The status line as received, escaped, e.g. `"OK \"Dovecot ready.\""`.
    pub line: String,
}

impl SieveResponse {
    /// True when a capability is named `STARTTLS` (in any letter case).
    pub fn offers_starttls(&self) -> bool {
        self.capabilities.iter().any(|c| {
            c.split(' ')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("STARTTLS"))
        })
    }
}

/// Parses one ManageSieve response: quoted capability lines, then a status line (`OK`, `NO`,
/// `BYE` in any letter case, then the line end or a space). Any other line is refused.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_sieve_response(buf: &[u8]) -> Result<Option<(SieveResponse, usize)>, ReplyError> {
    let mut used = 0usize;
    let mut capabilities = Vec::new();
    loop {
        let rest = buf.get(used..).unwrap_or_default();
        let Some((line, n)) = split_line(rest) else {
            if !could_start_line(rest) {
                return Err(malformed(rest));
            }
            if buf.len() > MAX_REPLY_BYTES {
                return Err(ReplyError::TooLong {
                    limit: MAX_REPLY_BYTES,
                });
            }
            return Ok(None);
        };
        used += n;
        if used > MAX_REPLY_BYTES {
            return Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES,
            });
        }
        if let Some(status) = status_of(line) {
            let response = SieveResponse {
                status,
                capabilities,
                line: escape_bytes(line),
            };
            return Ok(Some((response, used)));
        }
        if capabilities.len() >= MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines {
                limit: MAX_REPLY_LINES,
            });
        }
        capabilities.push(capability(line).ok_or_else(|| malformed(line))?);
    }
}

/// `"NAME"` or `"NAME" "value"`: the name and value joined by a space.
fn capability(line: &[u8]) -> Option<String> {
    let (name, rest) = quoted(line)?;
    let rest = match rest {
        [] => return Some(escape_bytes(&name)),
        [b' ', rest @ ..] => rest,
        _ => return None,
    };
    let (value, tail) = quoted(rest)?;
    if !tail.is_empty() {
        return None;
    }
    let mut text = name;
    text.push(b' ');
    text.extend_from_slice(&value);
    Some(escape_bytes(&text))
}

/// A quoted string at the start of `line` (with `\"` and `\\` escapes): its content and the
/// bytes after it.
fn quoted(line: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut rest = line.strip_prefix(b"\"")?;
    let mut out = Vec::new();
    loop {
        match rest {
            [b'"', tail @ ..] => return Some((out, tail)),
            [b'\\', c, tail @ ..] => {
                out.push(*c);
                rest = tail;
            }
            [c, tail @ ..] => {
                out.push(*c);
                rest = tail;
            }
            [] => return None,
        }
    }
}

fn status_of(line: &[u8]) -> Option<SieveStatus> {
    for (word, status) in [
        (&b"OK"[..], SieveStatus::Ok),
        (b"NO", SieveStatus::No),
        (b"BYE", SieveStatus::Bye),
    ] {
        let Some(head) = line.get(..word.len()) else {
            continue;
        };
        if head.eq_ignore_ascii_case(word) && matches!(line.get(word.len()), None | Some(b' ')) {
            return Some(status);
        }
    }
    None
}

/// True when `rest` (no line end yet) can still begin a capability or status line.
fn could_start_line(rest: &[u8]) -> bool {
    let Some(&first) = rest.first() else {
        return true;
    };
    first == b'"' || matches!(first.to_ascii_uppercase(), b'O' | b'N' | b'B')
}

fn malformed(bytes: &[u8]) -> ReplyError {
    ReplyError::Malformed {
        reason: "a ManageSieve line must be a quoted capability or OK, NO or BYE",
        preview: preview(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dovecot_greeting() {
        let buf = b"\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SASL\" \"\"\r\n\
                    \"STARTTLS\"\r\nOK \"Dovecot ready.\"\r\n";
        let (r, used) = parse_sieve_response(buf).unwrap().unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(r.status, SieveStatus::Ok);
        assert_eq!(
            r.capabilities,
            ["IMPLEMENTATION Dovecot Pigeonhole", "SASL ", "STARTTLS"]
        );
        assert!(r.offers_starttls());
        assert_eq!(r.line, "OK \"Dovecot ready.\"");
        assert_eq!(parse_sieve_response(b"\"SASL\"\r\nOK"), Ok(None));
    }

    #[test]
    fn garbage() {
        assert!(parse_sieve_response(b"\x16\x03").is_err());
        assert!(parse_sieve_response(b"220 smtp\r\n").is_err());
        assert!(parse_sieve_response(b"\"unterminated\r\n").is_err());
        assert!(parse_sieve_response(b"OKAY\r\n").is_err());
    }
}
