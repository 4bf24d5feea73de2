//! IMAP (RFC 3501 section 6.2.1, RFC 9051): greeting, `CAPABILITY`, `STARTTLS`.
//!
//! The dialogue of `openssl s_client -starttls imap` (apps/s_client.c), with its tag `.`:
//! read the `* OK` greeting, send `. CAPABILITY`, read up to the tagged `. OK`, send
//! `. STARTTLS`, read up to `. OK`. Unlike `s_client`, a capability list without `STARTTLS`
//! stops the dialogue instead of "trying anyway".

use super::conversation::Conversation;
use super::reply::{
    parse_imap_response, ImapResponse, ImapStatus, ImapTag, MAX_REPLY_BYTES, MAX_REPLY_LINES,
};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

/// The tag `s_client` uses for its commands.
const TAG: &str = ".";

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Imap;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let (greeting, _) = conv.receive("greeting", parse_imap_response)?;
    match (&greeting.tag, greeting.status) {
        (ImapTag::Untagged, Some(ImapStatus::Ok)) => {}
        (ImapTag::Untagged, Some(ImapStatus::Bye)) => {
            return Err(refused("greeting", &greeting));
        }
        // Already authenticated: RFC 3501 allows STARTTLS only before authentication.
        (ImapTag::Untagged, Some(ImapStatus::Preauth)) => {
            return Err(StarttlsError::NotOffered {
                protocol: PROTOCOL,
                reply: greeting.line,
            });
        }
        _ => return Err(unexpected("greeting", &greeting)),
    }

    conv.send(
        format!("{TAG} CAPABILITY\r\n").as_bytes(),
        "CAPABILITY command",
    )?;
    let (untagged, done) = command_reply(conv, "CAPABILITY reply")?;
    if done.status != Some(ImapStatus::Ok) {
        return Err(unexpected("CAPABILITY reply", &done));
    }
    let mut capabilities = Vec::new();
    for response in untagged.iter().chain([&done]) {
        if let Some(names) = response.capabilities() {
            capabilities.extend(names);
        }
    }
    if !capabilities
        .iter()
        .any(|c| c.eq_ignore_ascii_case("STARTTLS"))
    {
        let mut lines: Vec<&str> = untagged.iter().map(|r| r.line.as_str()).collect();
        lines.push(&done.line);
        return Err(StarttlsError::NotOffered {
            protocol: PROTOCOL,
            reply: lines.join("\n"),
        });
    }

    conv.send(format!("{TAG} STARTTLS\r\n").as_bytes(), "STARTTLS command")?;
    let (_, go_ahead) = command_reply(conv, "STARTTLS reply")?;
    if go_ahead.status != Some(ImapStatus::Ok) {
        return Err(refused("STARTTLS reply", &go_ahead));
    }

    Ok(StarttlsTranscript {
        protocol: PROTOCOL,
        greeting: greeting.line,
        capabilities,
        go_ahead: go_ahead.line,
    })
}

/// Reads the untagged responses to a command up to its tagged completion. The responses
/// together must stay within the reply limits. An untagged `BYE` is a refusal; a continuation
/// request or another tag is unexpected.
fn command_reply(
    conv: &mut Conversation<'_>,
    during: &'static str,
) -> Result<(Vec<ImapResponse>, ImapResponse), StarttlsError> {
    let mut untagged = Vec::new();
    let mut bytes = 0usize;
    loop {
        let (response, used) = conv.receive(during, parse_imap_response)?;
        bytes += used;
        if bytes > MAX_REPLY_BYTES || untagged.len() >= MAX_REPLY_LINES {
            return Err(StarttlsError::TooLong { during });
        }
        match (&response.tag, response.status) {
            (ImapTag::Tagged(tag), _) if tag == TAG => return Ok((untagged, response)),
            (ImapTag::Untagged, Some(ImapStatus::Bye)) => return Err(refused(during, &response)),
            (ImapTag::Untagged, _) => untagged.push(response),
            _ => return Err(unexpected(during, &response)),
        }
    }
}

fn refused(during: &'static str, response: &ImapResponse) -> StarttlsError {
    StarttlsError::Refused {
        protocol: PROTOCOL,
        during,
        reply: response.line.clone(),
    }
}

fn unexpected(during: &'static str, response: &ImapResponse) -> StarttlsError {
    StarttlsError::UnexpectedReply {
        during,
        reply: response.line.clone(),
    }
}
