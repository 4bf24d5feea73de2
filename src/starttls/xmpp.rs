//! XMPP (RFC 6120 section 5): stream header, `<stream:features>`, `<starttls/>`, `<proceed/>`.
//!
//! The dialogue of `openssl s_client -starttls xmpp` / `xmpp-server` (apps/s_client.c): send
//! the stream header with `to='HOST'` (`-xmpphost`), read the server's stream header and
//! features, send `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, read `<proceed/>`.
//! Unlike `s_client`, features without `<starttls/>` stop the dialogue, and `<failure/>` or a
//! stream error is reported as the server's refusal.

use super::conversation::Conversation;
use super::reply::{parse_xmpp_item, XmppElement, XmppItem, XMPP_TLS_NS};
use super::{StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

pub(super) fn negotiate(
    conv: &mut Conversation<'_>,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
) -> Result<StarttlsTranscript, StarttlsError> {
    let host = options.xmpp_host()?;
    let namespace = if protocol == StarttlsProtocol::XmppServer {
        "server"
    } else {
        "client"
    };
    let header = format!(
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
         xmlns='jabber:{namespace}' to='{host}' version='1.0'>"
    );
    conv.send(header.as_bytes(), "stream header")?;

    let during = "stream header reply";
    let greeting = loop {
        match conv.receive(during, parse_xmpp_item)?.0 {
            XmppItem::Declaration => {}
            XmppItem::StreamOpen(open) => break open,
            item => return Err(unexpected_item(protocol, during, item)),
        }
    };
    let during = "stream features";
    let features = match conv.receive(during, parse_xmpp_item)?.0 {
        XmppItem::Element(e) if e.local_name() == "features" => e,
        item => return Err(unexpected_item(protocol, during, item)),
    };
    if !features.offers_starttls() {
        return Err(StarttlsError::NotOffered {
            protocol,
            reply: features.text,
        });
    }
    let capabilities = features
        .children
        .iter()
        .map(|c| match &c.xmlns {
            Some(ns) => format!("{} ({ns})", c.name),
            None => c.name.clone(),
        })
        .collect();

    conv.send(
        format!("<starttls xmlns='{XMPP_TLS_NS}'/>").as_bytes(),
        "starttls command",
    )?;
    let during = "starttls reply";
    let answer = match conv.receive(during, parse_xmpp_item)?.0 {
        XmppItem::Element(e) => e,
        item => return Err(unexpected_item(protocol, during, item)),
    };
    if answer.xmlns.as_deref() == Some(XMPP_TLS_NS) && answer.local_name() == "proceed" {
        return Ok(StarttlsTranscript {
            protocol,
            greeting: greeting.text,
            capabilities,
            go_ahead: answer.text,
        });
    }
    Err(unexpected_element(protocol, during, answer))
}

fn unexpected_item(
    protocol: StarttlsProtocol,
    during: &'static str,
    item: XmppItem,
) -> StarttlsError {
    match item {
        XmppItem::Element(e) => unexpected_element(protocol, during, e),
        XmppItem::StreamClose => StarttlsError::Refused {
            protocol,
            during,
            reply: "</stream:stream>".to_string(),
        },
        XmppItem::Declaration => StarttlsError::UnexpectedReply {
            during,
            reply: "<?xml ...?>".to_string(),
        },
        XmppItem::StreamOpen(e) => StarttlsError::UnexpectedReply {
            during,
            reply: e.text,
        },
    }
}

/// A stream error or a TLS `<failure/>` is the server's refusal; anything else is unexpected.
fn unexpected_element(
    protocol: StarttlsProtocol,
    during: &'static str,
    e: XmppElement,
) -> StarttlsError {
    let refusal = e.local_name() == "error" && e.name.contains(':')
        || e.local_name() == "failure" && e.xmlns.as_deref() == Some(XMPP_TLS_NS);
    if refusal {
        StarttlsError::Refused {
            protocol,
            during,
            reply: e.text,
        }
    } else {
        StarttlsError::UnexpectedReply {
            during,
            reply: e.text,
        }
    }
}
