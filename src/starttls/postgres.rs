//! PostgreSQL: the `SSLRequest` message.
//!
//! The dialogue of `openssl s_client -starttls postgres` (apps/s_client.c): send the 8-byte
//! `SSLRequest`, read the answer, go on only if it is the single byte `S`. The server sends no
//! greeting, so the transcript's greeting is empty.

use super::conversation::Conversation;
use super::reply::{parse_postgres_response, PostgresResponse, SSL_REQUEST};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let protocol = StarttlsProtocol::Postgres;
    conv.send(&SSL_REQUEST, "SSLRequest")?;
    let (answer, _) = conv.receive("SSLRequest reply", parse_postgres_response)?;
    match answer {
        PostgresResponse::Accept => Ok(StarttlsTranscript {
            protocol,
            greeting: String::new(),
            capabilities: Vec::new(),
            go_ahead: answer.to_text(),
        }),
        PostgresResponse::Refuse => Err(StarttlsError::Refused {
            protocol,
            during: "SSLRequest reply",
            reply: answer.to_text(),
        }),
        PostgresResponse::Error { .. } => Err(StarttlsError::UnexpectedReply {
            during: "SSLRequest reply",
            reply: answer.to_text(),
        }),
    }
}
