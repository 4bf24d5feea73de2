//! ManageSieve (RFC 5804 section 2.2): capabilities, `STARTTLS`, `OK`.
//!
//! The dialogue of `openssl s_client -starttls sieve` (apps/s_client.c): read the greeting's
//! capability lines up to `OK`, send `STARTTLS`, go on only on `OK`. Unlike `s_client`, a
//! greeting without the `"STARTTLS"` capability stops the dialogue.

use super::conversation::Conversation;
use super::reply::{parse_sieve_response, SieveResponse, SieveStatus};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Sieve;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let (greeting, _) = conv.receive("greeting", parse_sieve_response)?;
    if greeting.status != SieveStatus::Ok {
        return Err(refused("greeting", &greeting));
    }
    if !greeting.offers_starttls() {
        return Err(StarttlsError::NotOffered {
            protocol: PROTOCOL,
            reply: text(&greeting),
        });
    }
    conv.send(b"STARTTLS\r\n", "STARTTLS command")?;
    let (go_ahead, _) = conv.receive("STARTTLS reply", parse_sieve_response)?;
    if go_ahead.status != SieveStatus::Ok {
        return Err(refused("STARTTLS reply", &go_ahead));
    }
    Ok(StarttlsTranscript {
        protocol: PROTOCOL,
        greeting: greeting.line,
        capabilities: greeting.capabilities,
        go_ahead: go_ahead.line,
    })
}

/// The capability lines and the status line, quoted names restored, joined with `\n`.
fn text(response: &SieveResponse) -> String {
    let mut lines: Vec<String> = response.capabilities.clone();
    lines.push(response.line.clone());
    lines.join("\n")
}

fn refused(during: &'static str, response: &SieveResponse) -> StarttlsError {
    StarttlsError::Refused {
        protocol: PROTOCOL,
        during,
        reply: text(response),
    }
}
