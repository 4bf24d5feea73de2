//! SMTP (RFC 3207) and LMTP (RFC 2033): greeting, `EHLO`/`LHLO`, `STARTTLS`.
//!
//! The dialogue of `openssl s_client -starttls smtp|lmtp` (apps/s_client.c): read the
//! possibly multi-line `220` greeting, send `EHLO <name>` (`LHLO` for LMTP), read the `250`
//! reply, send `STARTTLS`, read `220`. Unlike `s_client`, a reply without `STARTTLS` stops
//! the dialogue instead of "trying anyway".

use super::conversation::Conversation;
use super::reply::{parse_smtp_reply, NumericReply};
use super::{StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

pub(super) fn negotiate(
    conv: &mut Conversation<'_>,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
) -> Result<StarttlsTranscript, StarttlsError> {
    let (hello, hello_command, hello_reply) = match protocol {
        StarttlsProtocol::Lmtp => ("LHLO", "LHLO command", "LHLO reply"),
        _ => ("EHLO", "EHLO command", "EHLO reply"),
    };

    let (greeting, _) = conv.receive("greeting", parse_smtp_reply)?;
    expect_code(&greeting, 220, protocol, "greeting")?;

    let command = format!("{hello} {}\r\n", options.client_name);
    conv.send(command.as_bytes(), hello_command)?;
    let (ehlo, _) = conv.receive(hello_reply, parse_smtp_reply)?;
    if matches!(ehlo.code, 500 | 502 | 504) {
        // The server does not know EHLO/LHLO, so it has no extensions at all.
        return Err(StarttlsError::NotOffered {
            protocol,
            reply: ehlo.to_text(),
        });
    }
    expect_code(&ehlo, 250, protocol, hello_reply)?;
    let capabilities: Vec<String> = ehlo.texts().skip(1).map(str::to_owned).collect();
    if !capabilities.iter().any(|c| is_keyword(c, "STARTTLS")) {
        return Err(StarttlsError::NotOffered {
            protocol,
            reply: ehlo.to_text(),
        });
    }

    conv.send(b"STARTTLS\r\n", "STARTTLS command")?;
    let (go_ahead, _) = conv.receive("STARTTLS reply", parse_smtp_reply)?;
    expect_code(&go_ahead, 220, protocol, "STARTTLS reply")?;

    Ok(StarttlsTranscript {
        protocol,
        greeting: greeting.to_text(),
        capabilities,
        go_ahead: go_ahead.to_text(),
    })
}

/// Accepts `wanted`; a transient (4xx) or permanent (5xx) negative reply is a refusal, any
/// other code is unexpected.
pub(super) fn expect_code(
    reply: &NumericReply,
    wanted: u16,
    protocol: StarttlsProtocol,
    during: &'static str,
) -> Result<(), StarttlsError> {
    match reply.code {
        code if code == wanted => Ok(()),
        400..=599 => Err(StarttlsError::Refused {
            protocol,
            during,
            reply: reply.to_text(),
        }),
        _ => Err(StarttlsError::UnexpectedReply {
            during,
            reply: reply.to_text(),
        }),
    }
}

/// True when the first word of an EHLO line is `keyword` (ASCII case-insensitive).
fn is_keyword(line: &str, keyword: &str) -> bool {
    line.split_ascii_whitespace()
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
}
