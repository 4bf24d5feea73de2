//! IRC (the IRCv3 `tls` extension): `STARTTLS`, answered by numeric `670`.
//!
//! The dialogue of `openssl s_client -starttls irc` (apps/s_client.c): send `STARTTLS` at
//! once, then read messages until numeric `670` (`RPL_STARTTLS`); `691`
//! (`ERR_STARTTLS`) is a failure, and `421` (unknown command) or `451` (not registered) mean
//! the server does not know the command. Notices the server sends first (`*** Looking up your hostname...`) are
//! kept as the transcript's greeting.

use super::conversation::Conversation;
use super::reply::{parse_irc_message, MAX_REPLY_BYTES, MAX_REPLY_LINES};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Irc;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    conv.send(b"STARTTLS\r\n", "STARTTLS command")?;
    let during = "STARTTLS reply";
    let mut before = Vec::new();
    let mut bytes = 0usize;
    loop {
        let (message, used) = conv.receive(during, parse_irc_message)?;
        bytes += used;
        if bytes > MAX_REPLY_BYTES || before.len() >= MAX_REPLY_LINES {
            return Err(StarttlsError::TooLong { during });
        }
        match message.numeric() {
            Some(670) => {
                return Ok(StarttlsTranscript {
                    protocol: PROTOCOL,
                    greeting: before.join("\n"),
                    capabilities: Vec::new(),
                    go_ahead: message.line,
                })
            }
            Some(691) => {
                return Err(StarttlsError::Refused {
                    protocol: PROTOCOL,
                    during,
                    reply: message.line,
                })
            }
            Some(421 | 451) => {
                return Err(StarttlsError::NotOffered {
                    protocol: PROTOCOL,
                    reply: message.line,
                })
            }
            _ if message.command.eq_ignore_ascii_case("ERROR") => {
                return Err(StarttlsError::Refused {
                    protocol: PROTOCOL,
                    during,
                    reply: message.line,
                })
            }
            _ => before.push(message.line),
        }
    }
}
