//! Pure parsers for the plain-text replies of the STARTTLS dialogues.
//!
//! Every parser has the same shape: it takes the bytes received so far and returns
//!
//! - `Ok(Some((reply, consumed)))`: one complete reply was found at the start of the buffer;
//!   it used the first `consumed` bytes (always at least 1, never more than the buffer);
//! - `Ok(None)`: the bytes so far are a valid *beginning* of a reply; read more and call again;
//! - `Err(ReplyError)`: the bytes cannot be a reply of this protocol, or the reply grew past
//!   [`MAX_REPLY_BYTES`] / [`MAX_REPLY_LINES`].
//!
//! The parsers never panic, never allocate more than a small multiple of their input, and reject
//! a malformed start of a reply as soon as they see it (a TLS record's first byte `0x16` is
//! refused at once rather than after waiting for a line end that never comes). They are exposed
//! so that they can be fuzzed (`fuzz/fuzz_targets/starttls_replies.rs`) and reused.
//!
//! Text in the parsed replies is escaped with [`escape_bytes`]: printable ASCII is kept, every
//! other byte is shown as `\xNN`, so a hostile server cannot put terminal control sequences into
//! a log or a report.
//!
//! ```
//! use tlshake::starttls::reply::parse_smtp_reply;
//!
//! let (reply, used) = parse_smtp_reply(b"250-mx.example.org\r\n250 STARTTLS\r\n")
//!     .unwrap()
//!     .unwrap();
//! assert_eq!((reply.code, used), (250, 34));
//! assert_eq!(reply.texts().collect::<Vec<_>>(), ["mx.example.org", "STARTTLS"]);
//! // Half a reply: not an error, just not complete yet.
//! assert_eq!(parse_smtp_reply(b"250-mx.example.org\r\n250 STA"), Ok(None));
//! ```
#![doc(hidden)]

use std::fmt;
mod imap;
mod irc;
mod ldap;
mod mysql;
mod nntp;
mod numeric;
mod pop3;
mod postgres;
mod sieve;
mod text;
mod xmpp;

pub use imap::{parse_imap_response, ImapResponse, ImapStatus, ImapTag};
pub use irc::{parse_irc_message, IrcMessage};
pub use ldap::{
    parse_ldap_message, result_name as ldap_result_name, LdapResponse, EXTENDED_RESPONSE,
    LDAP_STARTTLS_REQUEST, NOTICE_OF_DISCONNECTION_OID, STARTTLS_OID,
};
pub use mysql::{parse_mysql_greeting, MysqlGreeting, CLIENT_SSL, MYSQL_SSL_REQUEST};
pub use nntp::{parse_nntp_reply, NntpReply};
pub use numeric::{parse_ftp_reply, parse_smtp_reply, NumericReply};
pub use pop3::{parse_pop3_reply, Pop3Reply};
pub use postgres::{parse_postgres_response, PostgresResponse, SSL_REQUEST};
pub use sieve::{parse_sieve_response, SieveResponse, SieveStatus};
pub use text::escape_bytes;
pub use xmpp::{parse_xmpp_item, XmppChild, XmppElement, XmppItem, XMPP_TLS_NS};

pub(crate) use text::preview;

/// The most bytes one reply may take (64 KiB), line ends and IMAP literals included.
///
/// OpenSSL's `s_client` reads each line into a 16 KiB buffer; real greetings and capability
/// lists are a few hundred bytes. A reply that grows past this is refused with
/// [`ReplyError::TooLong`], so a hostile server cannot make the client allocate without bound.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// The most lines one reply may have (1000); more gives [`ReplyError::TooManyLines`].
pub const MAX_REPLY_LINES: usize = 1000;

/// Why some bytes are not a reply of the expected protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The bytes do not have the shape of a reply of this protocol (for example a line that
    /// does not start with a three-digit code, or a TLS record instead of text).
    Malformed {
        /// What rule the bytes broke.
        reason: &'static str,
        /// The offending bytes, escaped and cut to a short length.
        preview: String,
    },
    /// A line of a multi-line SMTP/LMTP/FTP reply carries a different code than the first
    /// line, which RFC 5321 section 4.2.1 and RFC 959 section 4.2 forbid.
    MismatchedCode {
        /// The code of the first line.
        first: u16,
        /// The line with the other code, escaped.
        line: String,
    },
    /// The reply grew past `limit` bytes ([`MAX_REPLY_BYTES`]) without ending.
    TooLong {
        /// The limit that was passed.
        limit: usize,
    },
    /// The reply has more than `limit` lines ([`MAX_REPLY_LINES`]).
    TooManyLines {
        /// The limit that was passed.
        limit: usize,
    },
}
impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Malformed {
                reason, preview, ..
            } => write!(f, "malformed reply ({reason}): {preview}")?,
            ReplyError::MismatchedCode { first, line, .. } => write!(
                f,
                "multi-line reply mixes codes: it began with {first}, then sent {line}"
            )?,
            ReplyError::TooLong { limit, .. } => write!(f, "reply is longer than {limit} bytes")?,
            ReplyError::TooManyLines { limit, .. } => {
                write!(f, "reply has more than {limit} lines")?
            }
        }
        crate::error::write_causes(self, f)
    }
}
