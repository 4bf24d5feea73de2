//! IRC messages (RFC 1459 section 2.3.1, with IRCv3 message tags): `[@tags ][:prefix ]COMMAND
//! params [:trailing]`.

use super::text::{escape_bytes, one_line, preview};
use super::ReplyError;

/// One IRC message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrcMessage {
    /// The prefix without its `:`, e.g. `"irc.example.org"`, escaped.
    pub prefix: Option<String>,
    /// The command: letters (`"NOTICE"`) or a three-digit numeric (`"670"`).
    pub command: String,
    /// The parameters, the trailing one without its `:`, escaped.
    pub params: Vec<String>,
    /// The whole line as received, escaped, line end removed.
    pub line: String,
}

impl IrcMessage {
    /// The numeric reply code, when the command is three digits (`670`, `691`, `451`).
    pub fn numeric(&self) -> Option<u16> {
        if self.command.len() == 3 {
            self.command.parse().ok()
        } else {
            None
        }
    }
}

/// Parses one IRC message line. The command must be letters or three digits; a line that
/// cannot start a message (a TLS record, binary data) is refused at its first byte.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_irc_message(buf: &[u8]) -> Result<Option<(IrcMessage, usize)>, ReplyError> {
    let could_start = |buf: &[u8]| {
        buf.first()
            .is_none_or(|&b| b == b':' || b == b'@' || b.is_ascii_alphanumeric())
    };
    let Some((line, used)) = one_line(buf, could_start, malformed)? else {
        return Ok(None);
    };
    let mut rest = line;
    if rest.first() == Some(&b'@') {
        rest = after_space(rest).ok_or_else(|| malformed(line))?;
    }
    let mut prefix = None;
    if let Some(p) = rest.strip_prefix(b":") {
        let end = p
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| malformed(line))?;
        if end == 0 {
            return Err(malformed(line));
        }
        prefix = Some(escape_bytes(&p[..end]));
        rest = after_space(rest).ok_or_else(|| malformed(line))?;
    }
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let command = &rest[..end];
    let letters = !command.is_empty() && command.iter().all(u8::is_ascii_alphabetic);
    let numeric = command.len() == 3 && command.iter().all(u8::is_ascii_digit);
    if !(letters || numeric) {
        return Err(malformed(line));
    }
    let mut params = Vec::new();
    let mut tail = rest.get(end..).unwrap_or_default();
    loop {
        while let Some(t) = tail.strip_prefix(b" ") {
            tail = t;
        }
        if tail.is_empty() {
            break;
        }
        if let Some(trailing) = tail.strip_prefix(b":") {
            params.push(escape_bytes(trailing));
            break;
        }
        let end = tail.iter().position(|&b| b == b' ').unwrap_or(tail.len());
        params.push(escape_bytes(&tail[..end]));
        tail = &tail[end..];
    }
    let message = IrcMessage {
        prefix,
        command: escape_bytes(command),
        params,
        line: escape_bytes(line),
    };
    Ok(Some((message, used)))
}

/// The bytes after the first run of spaces, if any non-space byte follows.
fn after_space(bytes: &[u8]) -> Option<&[u8]> {
    let space = bytes.iter().position(|&b| b == b' ')?;
    let rest = &bytes[space..];
    let start = rest.iter().position(|&b| b != b' ')?;
    Some(&rest[start..])
}

fn malformed(bytes: &[u8]) -> ReplyError {
    ReplyError::Malformed {
        reason: "an IRC message is [:prefix ]COMMAND params",
        preview: preview(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_with_trailing() {
        let buf = b":irc.localhost 670 * :STARTTLS successful, go ahead with TLS handshake\r\n";
        let (m, used) = parse_irc_message(buf).unwrap().unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(m.numeric(), Some(670));
        assert_eq!(m.prefix.as_deref(), Some("irc.localhost"));
        assert_eq!(
            m.params,
            ["*", "STARTTLS successful, go ahead with TLS handshake"]
        );
        let (m, _) = parse_irc_message(b"NOTICE * :*** hi\r\n").unwrap().unwrap();
        assert_eq!((m.command.as_str(), m.numeric()), ("NOTICE", None));
    }

    #[test]
    fn garbage() {
        assert!(parse_irc_message(b"\x16\x03").is_err());
        assert!(parse_irc_message(b":only-prefix\r\n").is_err());
        assert!(parse_irc_message(b"\r\n").is_err());
        assert!(parse_irc_message(b"12 x\r\n").is_err());
        assert_eq!(parse_irc_message(b":irc 670"), Ok(None));
    }
}
