//! FTP (RFC 4217): greeting, `AUTH TLS`.
//!
//! The dialogue of `openssl s_client -starttls ftp` (apps/s_client.c): read the possibly
//! multi-line `220` greeting, send `AUTH TLS`, read the answer. tlshake also checks that the
//! answer is `234`, and accepts one `120` ("service ready in nnn minutes") before the `220`,
//! as RFC 959 allows.

use super::conversation::Conversation;
use super::reply::parse_ftp_reply;
use super::smtp::expect_code;
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let protocol = StarttlsProtocol::Ftp;
    let (mut greeting, _) = conv.receive("greeting", parse_ftp_reply)?;
    let mut greeting_text = greeting.to_text();
    if greeting.code == 120 {
        (greeting, _) = conv.receive("greeting", parse_ftp_reply)?;
        greeting_text = format!("{greeting_text}\n{}", greeting.to_text());
    }
    expect_code(&greeting, 220, protocol, "greeting")?;

    conv.send(b"AUTH TLS\r\n", "AUTH TLS command")?;
    let (go_ahead, _) = conv.receive("AUTH TLS reply", parse_ftp_reply)?;
    expect_code(&go_ahead, 234, protocol, "AUTH TLS reply")?;

    Ok(StarttlsTranscript {
        protocol,
        greeting: greeting_text,
        capabilities: Vec::new(),
        go_ahead: go_ahead.to_text(),
    })
}
