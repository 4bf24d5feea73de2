//! POP3 (RFC 2595 section 4): greeting, `STLS`.
//!
//! The dialogue of `openssl s_client -starttls pop3` (apps/s_client.c): read the `+OK`
//! greeting, send `STLS`, read the answer. Like `s_client`, no `CAPA` is sent, so the
//! transcript has no capabilities; tlshake also checks that both answers are `+OK`.

use super::conversation::Conversation;
use super::reply::{parse_pop3_reply, Pop3Reply};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let (greeting, _) = conv.receive("greeting", parse_pop3_reply)?;
    expect_ok(&greeting, "greeting")?;

    conv.send(b"STLS\r\n", "STLS command")?;
    let (go_ahead, _) = conv.receive("STLS reply", parse_pop3_reply)?;
    expect_ok(&go_ahead, "STLS reply")?;

    Ok(StarttlsTranscript {
        protocol: StarttlsProtocol::Pop3,
        greeting: greeting.line,
        capabilities: Vec::new(),
        go_ahead: go_ahead.line,
    })
}

fn expect_ok(reply: &Pop3Reply, during: &'static str) -> Result<(), StarttlsError> {
    if reply.positive {
        Ok(())
    } else {
        Err(StarttlsError::Refused {
            protocol: StarttlsProtocol::Pop3,
            during,
            reply: reply.line.clone(),
        })
    }
}
