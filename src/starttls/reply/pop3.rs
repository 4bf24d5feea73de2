//! POP3 status lines (RFC 1939 section 3): `+OK text` or `-ERR text`.

use super::text::{escape_bytes, one_line, preview};
use super::ReplyError;

/// One POP3 status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Reply {
    /// `true` for `+OK`, `false` for `-ERR`.
    pub positive: bool,
    /// The whole line as received, escaped, line end removed (e.g. `"+OK Begin TLS"`).
    pub line: String,
}

impl Pop3Reply {
    /// The text after the status indicator and its space.
    pub fn text(&self) -> &str {
        let indicator = if self.positive { 3 } else { 4 };
        let rest = self.line.get(indicator..).unwrap_or_default();
        rest.strip_prefix(' ').unwrap_or(rest)
    }
}

/// Parses one POP3 status line: `+OK` or `-ERR` (any letter case), then the end of the line or
/// a space and text. Anything else is refused as soon as the first bytes show it.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_pop3_reply(buf: &[u8]) -> Result<Option<(Pop3Reply, usize)>, ReplyError> {
    let malformed = |bytes: &[u8]| ReplyError::Malformed {
        reason: "a POP3 reply must start with +OK or -ERR",
        preview: preview(bytes),
    };
    let Some((line, used)) = one_line(buf, could_start_status, malformed)? else {
        return Ok(None);
    };
    let positive = match status_of(line) {
        Some(positive) => positive,
        None => return Err(malformed(line)),
    };
    let reply = Pop3Reply {
        positive,
        line: escape_bytes(line),
    };
    Ok(Some((reply, used)))
}

const OK: &[u8] = b"+OK";
const ERR: &[u8] = b"-ERR";

/// The status of a complete line, if it is `+OK` / `-ERR` followed by nothing or a space.
fn status_of(line: &[u8]) -> Option<bool> {
    [(OK, true), (ERR, false)]
        .into_iter()
        .find_map(|(indicator, positive)| {
            let (head, rest) = line.split_at_checked(indicator.len())?;
            let ends = matches!(rest.first(), None | Some(b' '));
            (head.eq_ignore_ascii_case(indicator) && ends).then_some(positive)
        })
}

/// True when a line without its end yet can still become `+OK...` or `-ERR...`.
fn could_start_status(partial: &[u8]) -> bool {
    [OK, ERR].into_iter().any(|indicator| {
        let n = partial.len().min(indicator.len());
        let head_matches = match (partial.get(..n), indicator.get(..n)) {
            (Some(got), Some(want)) => got.eq_ignore_ascii_case(want),
            _ => false,
        };
        let next_ok = match partial.get(indicator.len()) {
            None => true,
            Some(b) => matches!(b, b' ' | b'\r'),
        };
        head_matches && next_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_and_err() {
        let (r, used) = parse_pop3_reply(b"+OK POP3 ready <1@x>\r\n")
            .unwrap()
            .unwrap();
        assert!(r.positive);
        assert_eq!((r.text(), used), ("POP3 ready <1@x>", 22));
        let (r, _) = parse_pop3_reply(b"-ERR no TLS\r\n").unwrap().unwrap();
        assert!(!r.positive);
        assert_eq!(r.text(), "no TLS");
        let (r, _) = parse_pop3_reply(b"+ok\n").unwrap().unwrap();
        assert_eq!((r.positive, r.text()), (true, ""));
    }

    #[test]
    fn incomplete() {
        for partial in [&b""[..], b"+", b"+O", b"+OK", b"-ER", b"+OK hello"] {
            assert_eq!(parse_pop3_reply(partial), Ok(None), "{partial:?}");
        }
    }

    #[test]
    fn malformed_early_and_late() {
        for bad in [
            &b"220 "[..],
            b"+OKAY",
            b"\x16\x03",
            b"+NO\r\n",
            b"-ERROR\r\n",
        ] {
            assert!(
                matches!(parse_pop3_reply(bad), Err(ReplyError::Malformed { .. })),
                "{bad:?}"
            );
        }
    }
}
