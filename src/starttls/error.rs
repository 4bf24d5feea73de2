//! What can go wrong in a STARTTLS dialogue, and what to do about it.

use std::fmt;
use std::io;

use super::reply::{MAX_REPLY_BYTES, MAX_REPLY_LINES};
use super::StarttlsProtocol;
use crate::advice::Advice;

/// The most characters of server text an error message shows.
const SHOWN_CHARS: usize = 300;

/// Why the plain-text part of a STARTTLS upgrade did not reach the server's go-ahead.
///
/// Server text in every variant is escaped (see
/// [`escape_bytes`](super::reply::escape_bytes)); lines of a multi-line reply are joined with
/// `\n`. The [`Display`](std::fmt::Display) output shows it on one line, cut to a sane length.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StarttlsError {
    /// The server said no: a refusal in its greeting (SMTP `554`, IMAP `* BYE`, POP3 `-ERR`,
    /// FTP `421`) or to the upgrade command (SMTP `454`, IMAP `NO`/`BAD`, POP3 `-ERR`, FTP `4xx`
    /// / `5xx`, PostgreSQL `N`).
    Refused {
        /// The protocol spoken.
        protocol: StarttlsProtocol,
        /// Which step was refused, e.g. `"STARTTLS reply"`.
        during: &'static str,
        /// The server's refusal, e.g. `"454 4.7.0 TLS not available"`.
        reply: String,
    },
    /// The server does not offer the upgrade: its `EHLO`/`LHLO` reply or its IMAP capabilities
    /// lack `STARTTLS`, or an IMAP server greeted with `PREAUTH` (after which STARTTLS is not
    /// allowed). Unlike `openssl s_client`, which then "tries anyway", tlshake stops here.
    NotOffered {
        /// The protocol spoken.
        protocol: StarttlsProtocol,
        /// The reply that lacks the offer (the capability list, or the greeting).
        reply: String,
    },
    /// The server sent something that is not a valid reply at this step: a wrong code (a
    /// greeting that is not `220`), a malformed line, a TLS record, or other binary data.
    UnexpectedReply {
        /// The step, e.g. `"greeting"` or `"EHLO reply"`.
        during: &'static str,
        /// What the server sent, escaped.
        reply: String,
    },
    /// The server sent more bytes right after its go-ahead, before the TLS handshake.
    ///
    /// Those bytes were read in plain text but would be taken as part of the protected session:
    /// this is the STARTTLS command-injection flaw (CVE-2011-0411 in Postfix, CVE-2021-23222 in
    /// libpq), by which a man in the middle adds plaintext that looks encrypted to the
    /// application. They are never passed on; the connection must be dropped.
    InjectedBytes {
        /// How many extra bytes had been received (at least this many were sent).
        count: usize,
        /// The first of them (up to 64 bytes), escaped.
        preview: String,
    },
    /// The server closed the connection (end of file) before the dialogue was over.
    Closed {
        /// The step, e.g. `"greeting"`.
        during: &'static str,
        /// The bytes of an unfinished reply received before the close, escaped (often empty).
        received: String,
    },
    /// A read or write timed out (`WouldBlock` or `TimedOut` from the stream): the server did
    /// not answer within the socket timeout the caller set.
    Timeout {
        /// The step, e.g. `"greeting"`.
        during: &'static str,
    },
    /// A reply passed the size limits ([`MAX_REPLY_BYTES`], [`MAX_REPLY_LINES`]).
    TooLong {
        /// The step, e.g. `"EHLO reply"`.
        during: &'static str,
    },
    /// The client name given for `EHLO`/`LHLO` cannot be sent safely.
    InvalidClientName {
        /// The name that was given, escaped.
        name: String,
    },
    /// The XMPP stream header needs a server name (`to=`) and none was given, or the one
    /// given cannot be sent safely.
    InvalidXmppHost {
        /// The name that was given, escaped (empty when none was).
        name: String,
    },
    /// Reading from or writing to the stream failed.
    Io {
        /// The step, e.g. `"STARTTLS command"`.
        during: &'static str,
        /// The error from the stream.
        #[source]
        source: io::Error,
    },
}
impl fmt::Display for StarttlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StarttlsError::Refused { protocol, during, reply, .. } => write!(f, "the {} server refused at the {during}: \"{}\"; it will not start TLS on this connection: \
         check that TLS is enabled on the server{}", protocol.label(), shown(reply), implicit_tls_advice(*protocol))?,
            StarttlsError::NotOffered { protocol, reply, .. } => write!(f, "the {} server does not offer {}; it said: \"{}\"; {}", protocol.label(), protocol.upgrade_command(), shown(reply), not_offered_advice(*protocol))?,
            StarttlsError::UnexpectedReply { during, reply, .. } => write!(f, "unexpected server reply at the {during}: \"{}\"; {}", shown(reply), unexpected_advice(reply))?,
            StarttlsError::InjectedBytes { count, preview, .. } => write!(f, "the server sent {count} byte(s) after its go-ahead, before the TLS handshake: \"{preview}\"; \
         plaintext there can be injected by an attacker (the STARTTLS injection flaw, \
         CVE-2011-0411), so the connection was not upgraded: close it")?,
            StarttlsError::Closed { during, received, .. } => write!(f, "the server closed the connection at the {during}{}; check the server's logs, it may \
         refuse this client or expect TLS from the first byte", received_note(received))?,
            StarttlsError::Timeout { during, .. } => write!(f, "timed out at the {during}: {}", timeout_advice(during))?,
            StarttlsError::TooLong { during, .. } => write!(f, "the server's reply at the {during} passed the limit of {MAX_REPLY_BYTES} bytes or \
         {MAX_REPLY_LINES} lines; reading stopped there: this is not a working server of the \
         chosen protocol")?,
            StarttlsError::InvalidClientName { name, .. } => write!(f, "invalid EHLO/LHLO client name \"{name}\": use a domain name or an address literal such \
         as [192.0.2.1], 1 to 255 printable ASCII characters without spaces")?,
            StarttlsError::InvalidXmppHost { name, .. } => write!(f, "invalid or missing XMPP host \"{name}\": set StarttlsOptions::xmpp_host to the XMPP \
         domain, 1 to 255 printable ASCII characters without spaces, quotes, <, > or &")?,
            StarttlsError::Io { during, .. } => write!(f, "I/O error at the {during}")?,
        }
        crate::error::write_causes(self, f)
    }
}

impl StarttlsError {
    /// What to do about it: the advice that ends the [`Display`](std::fmt::Display) text,
    /// on its own, for a report that shows advice apart from the error. `None` for
    /// [`Io`](Self::Io), whose cause is in [`source`](std::error::Error::source).
    pub fn advice(&self) -> Option<String> {
        match self {
            StarttlsError::Refused { protocol, .. } => Some(format!(
                "check that TLS is enabled on the server{}",
                implicit_tls_advice(*protocol)
            )),
            StarttlsError::NotOffered { protocol, .. } => Some(not_offered_advice(*protocol)),
            StarttlsError::UnexpectedReply { reply, .. } => {
                Some(unexpected_advice(reply).to_string())
            }
            StarttlsError::InjectedBytes { .. } => Some(
                "the connection was not upgraded because plaintext after the go-ahead can be \
                 injected by an attacker: close it"
                    .to_string(),
            ),
            StarttlsError::Closed { .. } => Some(
                "check the server's logs, it may refuse this client or expect TLS from the \
                 first byte"
                    .to_string(),
            ),
            StarttlsError::Timeout { during } => Some(timeout_advice(during).to_string()),
            StarttlsError::TooLong { .. } => {
                Some("this is not a working server of the chosen protocol".to_string())
            }
            StarttlsError::InvalidClientName { .. } => Some(
                "use a domain name or an address literal such as [192.0.2.1], 1 to 255 \
                 printable ASCII characters without spaces"
                    .to_string(),
            ),
            StarttlsError::InvalidXmppHost { .. } => Some(
                "set StarttlsOptions::xmpp_host to the XMPP domain, 1 to 255 printable ASCII \
                 characters without spaces, quotes, <, > or &"
                    .to_string(),
            ),
            StarttlsError::Io { .. } => None,
        }
    }

    /// The settings the [`advice`](Self::advice) names, as API items
    /// ([`Advice::XmppHost`] is `StarttlsOptions::xmpp_host`), so that a front end can say
    /// them in its own words.
    pub fn advised(&self) -> Vec<Advice> {
        match self {
            StarttlsError::InvalidXmppHost { .. } => vec![Advice::XmppHost],
            _ => Vec::new(),
        }
    }

    /// True when the server answered with what looks like a TLS record (first bytes `16 03`):
    /// it speaks TLS from the first byte, so connect with TLS directly instead of STARTTLS.
    pub fn server_spoke_tls(&self) -> bool {
        matches!(self, StarttlsError::UnexpectedReply { reply, .. } if looks_like_tls(reply))
    }
}

fn looks_like_tls(escaped: &str) -> bool {
    escaped.starts_with("\\x16\\x03")
}

/// Server text for a one-line message: lines joined with ` | `, cut to [`SHOWN_CHARS`].
fn shown(text: &str) -> String {
    let one_line = text.replace('\n', " | ");
    match one_line.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", one_line.get(..cut).unwrap_or_default()),
        None => one_line,
    }
}

fn implicit_tls_advice(protocol: StarttlsProtocol) -> String {
    match protocol.implicit_tls_port() {
        Some(port) => format!(", or connect with TLS from the first byte (usually port {port})"),
        None => String::new(),
    }
}

fn not_offered_advice(protocol: StarttlsProtocol) -> String {
    let what = match protocol {
        StarttlsProtocol::Mysql => "give the server a certificate and key (ssl_cert, ssl_key), \
                                   without which it does not set CLIENT_SSL"
            .to_string(),
        StarttlsProtocol::Xmpp | StarttlsProtocol::XmppServer => "check that the XMPP host \
                                                                  (to=) is a virtual host of \
                                                                  the server with a \
                                                                  certificate"
            .to_string(),
        _ => "enable STARTTLS on the server".to_string(),
    };
    format!("{what}{}", implicit_tls_advice(protocol))
}

fn unexpected_advice(reply: &str) -> &'static str {
    if looks_like_tls(reply) {
        "that is a TLS record: this port speaks TLS from the first byte, so connect with TLS \
         directly instead of STARTTLS"
    } else {
        "check that the server on this port speaks the chosen protocol"
    }
}

fn received_note(received: &str) -> String {
    if received.is_empty() {
        String::new()
    } else {
        format!(" after sending \"{}\"", shown(received))
    }
}

fn timeout_advice(during: &str) -> &'static str {
    if during == "greeting" {
        "the server sent nothing before the socket timeout; if this port speaks TLS from the \
         first byte (implicit TLS), connect with TLS directly, otherwise raise the timeout"
    } else {
        "the server did not answer before the socket timeout; raise the timeout or check the \
         server"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advised_settings_are_named_in_the_advice_and_the_message() {
        let err = StarttlsError::InvalidXmppHost { name: "a b".into() };
        assert_eq!(err.advised(), [Advice::XmppHost]);
        for text in [err.to_string(), err.advice().unwrap_or_default()] {
            assert!(text.contains(Advice::XmppHost.api_name()), "{text}");
            assert!(!text.contains("--"), "{text}");
        }
    }

    #[test]
    fn refused_shows_reply_and_advice() {
        let err = StarttlsError::Refused {
            protocol: StarttlsProtocol::Smtp,
            during: "STARTTLS reply",
            reply: "454 4.7.0 TLS not available".into(),
        };
        assert_eq!(
            err.to_string(),
            "the SMTP server refused at the STARTTLS reply: \"454 4.7.0 TLS not available\"; it \
             will not start TLS on this connection: check that TLS is enabled on the server, or \
             connect with TLS from the first byte (usually port 465)"
        );
    }

    #[test]
    fn long_multi_line_text_is_shown_on_one_short_line() {
        let err = StarttlsError::NotOffered {
            protocol: StarttlsProtocol::Lmtp,
            reply: format!("250-a\n250 {}", "x".repeat(1000)),
        };
        let text = err.to_string();
        assert!(text.contains("\"250-a | 250 xxx"), "{text}");
        assert!(text.contains("...\""), "{text}");
        assert!(text.len() < 450, "{}", text.len());
    }

    #[test]
    fn tls_record_gets_its_own_advice() {
        let err = StarttlsError::UnexpectedReply {
            during: "greeting",
            reply: "\\x16\\x03\\x01\\x00".into(),
        };
        assert!(err.server_spoke_tls());
        assert!(err.to_string().contains("connect with TLS directly"));
    }

    #[test]
    fn io_keeps_its_source() {
        let err = StarttlsError::Io {
            during: "EHLO command",
            source: io::Error::new(io::ErrorKind::BrokenPipe, "pipe"),
        };
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("pipe"));
    }
}
