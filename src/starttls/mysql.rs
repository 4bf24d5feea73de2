//! MySQL and MariaDB: the protocol-10 greeting, then the SSL request packet.
//!
//! The dialogue of `openssl s_client -starttls mysql` (apps/s_client.c): read the server's
//! initial handshake, check that it is protocol 10 and sets `CLIENT_SSL`, send the SSL
//! request (sequence ID 1), then start TLS at once: the server sends no go-ahead, so the
//! transcript's `go_ahead` is empty. A server without `CLIENT_SSL` (no certificate
//! configured) is refused as "not offered" before anything is sent.

use super::conversation::Conversation;
use super::reply::{parse_mysql_greeting, MysqlGreeting, CLIENT_SSL, MYSQL_SSL_REQUEST};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Mysql;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    let (greeting, _) = conv.receive("greeting", parse_mysql_greeting)?;
    let capabilities = match &greeting {
        MysqlGreeting::Handshake { capabilities, .. } => *capabilities,
        MysqlGreeting::Error { .. } => {
            return Err(StarttlsError::Refused {
                protocol: PROTOCOL,
                during: "greeting",
                reply: greeting.to_text(),
            })
        }
    };
    if capabilities & CLIENT_SSL == 0 {
        return Err(StarttlsError::NotOffered {
            protocol: PROTOCOL,
            reply: greeting.to_text(),
        });
    }
    conv.send(&MYSQL_SSL_REQUEST, "SSL request")?;
    Ok(StarttlsTranscript {
        protocol: PROTOCOL,
        greeting: greeting.to_text(),
        capabilities: greeting
            .capability_names()
            .into_iter()
            .map(str::to_string)
            .collect(),
        go_ahead: String::new(),
    })
}
