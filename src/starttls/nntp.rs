//! NNTP (RFC 4642, RFC 3977): greeting, `CAPABILITIES`, `STARTTLS`.
//!
//! The dialogue of `openssl s_client -starttls nntp` (apps/s_client.c): read the `200`/`201`
//! greeting, send `CAPABILITIES`, read the `101` list, send `STARTTLS`, go on only on `382`.
//! Unlike `s_client`, a list without `STARTTLS` stops the dialogue instead of "trying anyway".

use super::conversation::Conversation;
use super::reply::{parse_nntp_reply, NntpReply};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Nntp;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let (greeting, _) = conv.receive("greeting", parse_nntp_reply)?;
    match greeting.code {
        200 | 201 => {}
        400 | 502 => return Err(refused("greeting", &greeting)),
        _ => return Err(unexpected("greeting", &greeting)),
    }

    conv.send(b"CAPABILITIES\r\n", "CAPABILITIES command")?;
    let (caps, _) = conv.receive("CAPABILITIES reply", parse_nntp_reply)?;
    let offered = caps.code == 101
        && caps.data.iter().any(|line| {
            line.split(' ')
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("STARTTLS"))
        });
    if !offered {
        return Err(StarttlsError::NotOffered {
            protocol: PROTOCOL,
            reply: caps.to_text(),
        });
    }

    conv.send(b"STARTTLS\r\n", "STARTTLS command")?;
    let (go_ahead, _) = conv.receive("STARTTLS reply", parse_nntp_reply)?;
    match go_ahead.code {
        382 => Ok(StarttlsTranscript {
            protocol: PROTOCOL,
            greeting: greeting.line,
            capabilities: caps.data,
            go_ahead: go_ahead.line,
        }),
        400..=599 => Err(refused("STARTTLS reply", &go_ahead)),
        _ => Err(unexpected("STARTTLS reply", &go_ahead)),
    }
}

fn refused(during: &'static str, reply: &NntpReply) -> StarttlsError {
    StarttlsError::Refused {
        protocol: PROTOCOL,
        during,
        reply: reply.to_text(),
    }
}

fn unexpected(during: &'static str, reply: &NntpReply) -> StarttlsError {
    StarttlsError::UnexpectedReply {
        during,
        reply: reply.to_text(),
    }
}
