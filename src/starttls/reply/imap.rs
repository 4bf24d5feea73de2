//! IMAP server responses (RFC 3501 section 7 / RFC 9051 section 7), one at a time.

use super::text::{escape_bytes, preview, split_line};
use super::{ReplyError, MAX_REPLY_BYTES, MAX_REPLY_LINES};

/// Who an IMAP response is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapTag {
    /// `* ...`: untagged data or status (greeting, `CAPABILITY`, `BYE`, ...).
    Untagged,
    /// `+ ...`: the server waits for more of a command (a literal or an authentication step).
    Continuation,
    /// `tag OK|NO|BAD ...`: the completion of the command sent with this tag (escaped).
    Tagged(String),
}

/// The status word of an IMAP status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStatus {
    /// `OK`: success, or a greeting in the not-authenticated state.
    Ok,
    /// `NO`: the command failed.
    No,
    /// `BAD`: the command was not understood or not allowed.
    Bad,
    /// `PREAUTH`: greeting of a connection that is already authenticated (STARTTLS is then not
    /// allowed).
    Preauth,
    /// `BYE`: the server is closing the connection.
    Bye,
}

impl ImapStatus {
    fn from_word(word: &[u8]) -> Option<ImapStatus> {
        let status = match word.to_ascii_uppercase().as_slice() {
            b"OK" => ImapStatus::Ok,
            b"NO" => ImapStatus::No,
            b"BAD" => ImapStatus::Bad,
            b"PREAUTH" => ImapStatus::Preauth,
            b"BYE" => ImapStatus::Bye,
            _ => return None,
        };
        Some(status)
    }
}

/// One complete IMAP response: a line, plus any literals (`{N}\r\n` followed by N bytes) it
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapResponse {
    /// Untagged, continuation or tagged.
    pub tag: ImapTag,
    /// The status word, if the response is a status response (`OK`, `NO`, `BAD`, `PREAUTH`,
    /// `BYE`).
    pub status: Option<ImapStatus>,
    /// The rest of the response after the tag and the status word, escaped
    /// (e.g. `"CAPABILITY IMAP4rev1 STARTTLS"`, `"[ALERT] Begin TLS now"`).
    pub text: String,
    /// The whole response as received, escaped, final line end removed.
    pub line: String,
}

impl ImapResponse {
    /// The capability names this response announces: the words of an untagged
    /// `* CAPABILITY ...` response, or of a `[CAPABILITY ...]` response code in an `OK`
    /// status response. `None` for any other response.
    pub fn capabilities(&self) -> Option<Vec<String>> {
        let words = |s: &str| s.split_ascii_whitespace().map(String::from).collect();
        match (&self.tag, self.status) {
            (ImapTag::Untagged, None) => {
                let rest = strip_word(&self.text, "CAPABILITY")?;
                Some(words(rest))
            }
            (ImapTag::Untagged | ImapTag::Tagged(_), Some(ImapStatus::Ok)) => {
                let code = self.text.strip_prefix('[')?;
                let code = code.get(..code.find(']')?)?;
                Some(words(strip_word(code, "CAPABILITY")?))
            }
            _ => None,
        }
    }
}

/// `text` without its first word if that word is `word` (ASCII case-insensitive).
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = text.get(word.len()..)?;
    (head.eq_ignore_ascii_case(word) && (rest.is_empty() || rest.starts_with(' '))).then_some(rest)
}

/// Parses one IMAP response.
///
/// Literals are followed: a line ending in `{N}` (or `{N+}`) continues after N more bytes, as
/// in RFC 3501 section 4.3. The whole response, literals included, must fit in
/// [`MAX_REPLY_BYTES`] and [`MAX_REPLY_LINES`]. The first byte must be `*`, `+` or a printable
/// tag character, so non-text input (such as a TLS record) is refused at once.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_imap_response(buf: &[u8]) -> Result<Option<(ImapResponse, usize)>, ReplyError> {
    if let Some(&first) = buf.first() {
        if !first.is_ascii_graphic() {
            return Err(ReplyError::Malformed {
                reason: "an IMAP response must start with '*', '+' or a tag",
                preview: preview(buf),
            });
        }
    }
    let mut raw = Vec::new();
    let mut pos = 0usize;
    let mut segments = 0usize;
    loop {
        let rest = buf.get(pos..).unwrap_or_default();
        let Some((line, used)) = split_line(rest) else {
            return incomplete(buf.len());
        };
        segments += 1;
        if segments > MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines {
                limit: MAX_REPLY_LINES,
            });
        }
        let after_line = pos + used;
        let Some(literal_len) = literal_length(line)? else {
            if after_line > MAX_REPLY_BYTES {
                return too_long();
            }
            raw.extend_from_slice(line);
            return finish(&raw, after_line).map(Some);
        };
        let end = after_line
            .checked_add(literal_len)
            .filter(|&end| end <= MAX_REPLY_BYTES);
        let Some(end) = end else {
            return too_long();
        };
        let Some(literal) = buf.get(after_line..end) else {
            return incomplete(buf.len());
        };
        raw.extend_from_slice(buf.get(pos..after_line).unwrap_or_default());
        raw.extend_from_slice(literal);
        pos = end;
    }
}

fn incomplete<T>(len: usize) -> Result<Option<T>, ReplyError> {
    if len > MAX_REPLY_BYTES {
        too_long()
    } else {
        Ok(None)
    }
}

fn too_long<T>() -> Result<T, ReplyError> {
    Err(ReplyError::TooLong {
        limit: MAX_REPLY_BYTES,
    })
}

/// The N of a line ending in `{N}` or `{N+}`, if it has one.
fn literal_length(line: &[u8]) -> Result<Option<usize>, ReplyError> {
    let Some(inner) = line.strip_suffix(b"}") else {
        return Ok(None);
    };
    let Some(open) = inner.iter().rposition(|&b| b == b'{') else {
        return Ok(None);
    };
    let digits = inner.get(open + 1..).unwrap_or_default();
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let mut n = 0usize;
    for &d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(d - b'0')))
            .filter(|&n| n <= MAX_REPLY_BYTES)
            .ok_or(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES,
            })?;
    }
    Ok(Some(n))
}

/// Splits a complete response into tag, status and text.
fn finish(raw: &[u8], used: usize) -> Result<(ImapResponse, usize), ReplyError> {
    let bad = |reason| ReplyError::Malformed {
        reason,
        preview: preview(raw),
    };
    let (first, rest) = split_word(raw);
    let tag = match first {
        b"" => return Err(bad("an IMAP response must start with '*', '+' or a tag")),
        b"*" => ImapTag::Untagged,
        b"+" => ImapTag::Continuation,
        tag => ImapTag::Tagged(escape_bytes(tag)),
    };
    let (word, after_word) = split_word(rest);
    let status = match tag {
        ImapTag::Continuation => None,
        _ => ImapStatus::from_word(word),
    };
    let text = if status.is_some() { after_word } else { rest };
    if let ImapTag::Tagged(_) = tag {
        if !matches!(
            status,
            Some(ImapStatus::Ok | ImapStatus::No | ImapStatus::Bad)
        ) {
            return Err(bad("a tagged IMAP response must be OK, NO or BAD"));
        }
    }
    let response = ImapResponse {
        tag,
        status,
        text: escape_bytes(text),
        line: escape_bytes(raw),
    };
    Ok((response, used))
}

/// The bytes up to the first space, and the bytes after that space.
fn split_word(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b' ') {
        Some(sp) => (
            bytes.get(..sp).unwrap_or_default(),
            bytes.get(sp + 1..).unwrap_or_default(),
        ),
        None => (bytes, b""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> (ImapResponse, usize) {
        parse_imap_response(buf).unwrap().unwrap()
    }

    #[test]
    fn greeting() {
        let (r, used) = parse(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\nmore");
        assert_eq!(used, 44);
        assert_eq!(r.tag, ImapTag::Untagged);
        assert_eq!(r.status, Some(ImapStatus::Ok));
        assert_eq!(r.text, "[CAPABILITY IMAP4rev1 STARTTLS] ready");
        assert_eq!(
            r.capabilities(),
            Some(vec!["IMAP4rev1".into(), "STARTTLS".into()])
        );
    }

    #[test]
    fn untagged_capability_data() {
        let (r, _) = parse(b"* capability IMAP4rev1 STARTTLS LOGINDISABLED\r\n");
        assert_eq!(r.status, None);
        assert_eq!(
            r.capabilities(),
            Some(vec![
                "IMAP4rev1".into(),
                "STARTTLS".into(),
                "LOGINDISABLED".into()
            ])
        );
    }

    #[test]
    fn tagged_completion() {
        let (r, _) = parse(b". BAD command unknown\r\n");
        assert_eq!(r.tag, ImapTag::Tagged(".".into()));
        assert_eq!(r.status, Some(ImapStatus::Bad));
        assert_eq!(r.text, "command unknown");
        assert_eq!(r.capabilities(), None);
    }

    #[test]
    fn tagged_without_status_is_malformed() {
        assert!(matches!(
            parse_imap_response(b"a1 CAPABILITY x\r\n"),
            Err(ReplyError::Malformed { .. })
        ));
    }

    #[test]
    fn literal_is_followed_across_line_ends() {
        let buf = b"* 1 FETCH (BODY {5}\r\n\r\n. O) \r\n. OK done\r\n";
        let (r, used) = parse(buf);
        assert_eq!(used, 30);
        assert_eq!(r.line, "* 1 FETCH (BODY {5}\\r\\n\\r\\n. O) ");
        assert_eq!(parse_imap_response(&buf[..24]), Ok(None));
    }

    #[test]
    fn huge_literal_is_too_long() {
        assert_eq!(
            parse_imap_response(b"* X {99999999999999999999999}\r\n"),
            Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES
            })
        );
    }

    #[test]
    fn incomplete_and_binary() {
        assert_eq!(parse_imap_response(b""), Ok(None));
        assert_eq!(parse_imap_response(b"* OK"), Ok(None));
        assert!(matches!(
            parse_imap_response(&[0x16, 0x03]),
            Err(ReplyError::Malformed { .. })
        ));
    }
}
