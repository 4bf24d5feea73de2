//! LDAP (RFC 4511 section 4.14): the StartTLS extended operation.
//!
//! The dialogue of `openssl s_client -starttls ldap` (apps/s_client.c): send the extended
//! request `1.3.6.1.4.1.1466.20037` as message 1, read the extended response, go on only if
//! its result code is 0 (`success`). The server sends no greeting. A `protocolError` (2) is
//! what RFC 4511 section 4.12 has a server answer for an extended operation it does not know,
//! so it is reported as "not offered"; any other code is the server's refusal.

use super::conversation::Conversation;
use super::reply::{parse_ldap_message, EXTENDED_RESPONSE, LDAP_STARTTLS_REQUEST};
use super::{StarttlsError, StarttlsProtocol, StarttlsTranscript};

const PROTOCOL: StarttlsProtocol = StarttlsProtocol::Ldap;

pub(super) fn negotiate(conv: &mut Conversation<'_>) -> Result<StarttlsTranscript, StarttlsError> {
    conv.send(&LDAP_STARTTLS_REQUEST, "StartTLS request")?;
    let during = "StartTLS response";
    let (response, _) = conv.receive(during, parse_ldap_message)?;
    let reply = response.to_text();
    if response.is_notice_of_disconnection() {
        return Err(StarttlsError::Refused {
            protocol: PROTOCOL,
            during,
            reply,
        });
    }
    if response.message_id != 1 || response.operation != EXTENDED_RESPONSE {
        return Err(StarttlsError::UnexpectedReply { during, reply });
    }
    match response.result_code {
        Some(0) => Ok(StarttlsTranscript {
            protocol: PROTOCOL,
            greeting: String::new(),
            capabilities: Vec::new(),
            go_ahead: reply,
        }),
        Some(2) => Err(StarttlsError::NotOffered {
            protocol: PROTOCOL,
            reply,
        }),
        _ => Err(StarttlsError::Refused {
            protocol: PROTOCOL,
            during,
            reply,
        }),
    }
}
