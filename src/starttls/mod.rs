//! STARTTLS: the plain-text dialogue that asks a server to switch a connection to TLS.
//!
//! [`negotiate`] runs the protocol's own dialogue on a connected plain stream up to the
//! server's go-ahead, the way
//! [`openssl s_client -starttls PROTO`](https://docs.openssl.org/3.0/man1/openssl-s_client/)
//! does (OpenSSL 3.0, `apps/s_client.c`), and leaves the stream positioned right after the
//! go-ahead, ready for the TLS handshake on the same socket:
//!
//! | protocol | dialogue (client `>`, server `<`) |
//! |---|---|
//! | SMTP | `< 220 ...`, `> EHLO name`, `< 250-... STARTTLS`, `> STARTTLS`, `< 220 ...` |
//! | LMTP | as SMTP, with `LHLO` |
//! | IMAP | `< * OK ...`, `> . CAPABILITY`, `< * CAPABILITY ... STARTTLS`, `< . OK`, `> . STARTTLS`, `< . OK ...` |
//! | POP3 | `< +OK ...`, `> STLS`, `< +OK ...` |
//! | FTP | `< 220 ...`, `> AUTH TLS`, `< 234 ...` |
//! | PostgreSQL | `> SSLRequest` (8 bytes), `< S` |
//! | XMPP | `> <stream:stream ... to='HOST'>`, `< <stream:stream ...>`, `< <stream:features><starttls .../>...`, `> <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, `< <proceed .../>` |
//! | XMPP server | as XMPP, with `xmlns='jabber:server'` |
//! | IRC | `> STARTTLS`, `< :server 670 ...` |
//! | MySQL | `< greeting` (protocol 10, `CLIENT_SSL` set), `> SSL request` (36 bytes) |
//! | NNTP | `< 200 ...`, `> CAPABILITIES`, `< 101 ... STARTTLS ... .`, `> STARTTLS`, `< 382 ...` |
//! | ManageSieve | `< "STARTTLS" ... OK ...`, `> STARTTLS`, `< OK ...` |
//! | LDAP | `> ExtendedRequest 1.3.6.1.4.1.1466.20037` (BER), `< ExtendedResponse resultCode 0` |
//!
//! `openssl s_client` also knows `telnet` (the START_TLS option 46 of
//! `draft-altman-telnet-starttls`); tlshake does not speak it, because no server can test it:
//! the one telnet server with TLS in Debian, `telnetd-ssl`, negotiates TLS through its own
//! AUTHENTICATION option instead (it opens with `IAC DO NEW-ENVIRON`, not `IAC DO
//! START_TLS`), and `openssl s_client -starttls telnet` fails against it too.
//!
//! Where `s_client` prints "Didn't find STARTTLS in server response, trying anyway..." or
//! ignores the server's answer, tlshake stops with a typed [`StarttlsError`]: a client that
//! asked for TLS should not carry on in plain text or guess.
//!
//! # Injected bytes (CVE-2011-0411)
//!
//! Replies are read in chunks, so the client can see bytes that the server sent *after* its
//! go-ahead. A server that is about to start TLS must not send anything before the client's
//! `ClientHello`; plaintext found there could have been added by a man in the middle and would
//! later be taken for part of the protected session (the STARTTLS command-injection flaw:
//! CVE-2011-0411 in Postfix, CVE-2021-23222 in PostgreSQL's libpq). [`negotiate`] therefore
//! fails with [`StarttlsError::InjectedBytes`] when any byte is left after the go-ahead, and
//! never hands such bytes to TLS or to the application. Bytes that arrive later, in another
//! packet, are read by the TLS handshake, which fails on them as a malformed record.
//!
//! # One dialogue, several runners
//!
//! Each dialogue is written once and runs as a sans-IO [`Dialogue`]: it says what to write
//! and when to read ([`DialogueStep`]) and never touches a socket or a clock. [`negotiate`]
//! is its blocking runner; `tlshake::tokio::negotiate_starttls` (feature `tokio`) is its
//! runner on tokio, which [`client::connect_async_with`](crate::client) uses.
//!
//! # Time
//!
//! [`negotiate`] is blocking and takes no clock: set read and write timeouts on the socket
//! ([`TcpStream::set_read_timeout`](std::net::TcpStream::set_read_timeout)); a read or write
//! that fails with `WouldBlock` or `TimedOut` becomes [`StarttlsError::Timeout`]. Those timeouts
//! bound each read; [`negotiate_with_deadline`] bounds the whole dialogue on a `TcpStream`.
//!
//! # Limits
//!
//! Every reply is capped at [`reply::MAX_REPLY_BYTES`] (64 KiB) and
//! [`reply::MAX_REPLY_LINES`] (1000 lines), so a hostile server cannot make the client
//! allocate without bound ([`StarttlsError::TooLong`]).

mod conversation;
mod deadline;
mod error;
mod ftp;
mod imap;
mod irc;
mod ldap;
mod mysql;
mod nntp;
mod pop3;
mod postgres;
mod protocol;
pub mod reply;
mod sieve;
mod smtp;
mod xmpp;

use std::io::{self, Read, Write};

pub use conversation::{Dialogue, DialogueStep};
pub use deadline::negotiate_with_deadline;
pub use error::StarttlsError;
pub use protocol::{StarttlsProtocol, UnknownStarttlsProtocol};

use conversation::Conversation;

/// The client name `EHLO`/`LHLO` sends by default: `mail.example.com`, the default of
/// `openssl s_client -name`, so that tlshake and `s_client` send the same bytes.
pub const DEFAULT_CLIENT_NAME: &str = "mail.example.com";

/// Choices for the dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StarttlsOptions {
    /// The name sent with SMTP `EHLO` / LMTP `LHLO` (`s_client -name`). Defaults to
    /// [`DEFAULT_CLIENT_NAME`] (`mail.example.com`), as in `s_client`; RFC 5321 asks for the
    /// client's own fully qualified domain name or an address literal such as `[192.0.2.1]`,
    /// so real mail clients should set it. It must be 1 to 255 printable ASCII characters
    /// without spaces ([`StarttlsError::InvalidClientName`] otherwise), so that it cannot add
    /// a command of its own.
    pub client_name: String,
    /// The server name sent in the XMPP stream header's `to=` attribute (`s_client
    /// -xmpphost`): the XMPP domain, which must be a virtual host of the server or it will
    /// not offer STARTTLS. `client::upgrade` uses the host it is given when this
    /// is `None`; [`negotiate`] then refuses with [`StarttlsError::InvalidXmppHost`]. At most 255
    /// printable ASCII characters without spaces, quotes, `<`, `>` or `&`.
    pub xmpp_host: Option<String>,
}

impl Default for StarttlsOptions {
    fn default() -> Self {
        StarttlsOptions {
            client_name: DEFAULT_CLIENT_NAME.to_owned(),
            xmpp_host: None,
        }
    }
}

impl StarttlsOptions {
    /// These options with another `EHLO`/`LHLO` client name.
    pub fn with_client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// These options with another XMPP domain for the stream header's `to=`.
    pub fn with_xmpp_host(mut self, host: impl Into<String>) -> Self {
        self.xmpp_host = Some(host.into());
        self
    }

    /// The XMPP host to send, checked so that it cannot break out of its attribute.
    fn xmpp_host(&self) -> Result<&str, StarttlsError> {
        let host = self.xmpp_host.as_deref().unwrap_or_default();
        let fits = (1..=255).contains(&host.len())
            && host
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b'<' | b'>' | b'&'));
        if fits {
            Ok(host)
        } else {
            Err(StarttlsError::InvalidXmppHost {
                name: reply::escape_bytes(host.as_bytes()),
            })
        }
    }

    fn check(&self) -> Result<(), StarttlsError> {
        let name = self.client_name.as_bytes();
        let fits = (1..=255).contains(&name.len()) && name.iter().all(u8::is_ascii_graphic);
        if fits {
            Ok(())
        } else {
            Err(StarttlsError::InvalidClientName {
                name: reply::escape_bytes(name),
            })
        }
    }
}

/// What the server said during a successful dialogue. Server text is escaped with
/// [`reply::escape_bytes`]; the lines of a multi-line reply are joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StarttlsTranscript {
    /// The protocol spoken.
    pub protocol: StarttlsProtocol,
    /// The server's greeting, e.g. `"220 mx.example.org ESMTP"`, the XMPP stream header, or
    /// the MySQL handshake summary; empty for PostgreSQL and LDAP, whose servers do not
    /// greet. For IRC, the notices sent before the answer.
    pub greeting: String,
    /// The extensions the server announced: the `EHLO`/`LHLO` keyword lines after the first
    /// (`"SIZE 10240000"`, `"STARTTLS"`, ...) or the IMAP capability names (`"IMAP4rev1"`,
    /// `"STARTTLS"`, ...), the NNTP capability lines, the ManageSieve capabilities, the XMPP
    /// stream features, or the MySQL capability flags. Empty for POP3, FTP, PostgreSQL, IRC
    /// and LDAP, whose `s_client` dialogues do not ask.
    pub capabilities: Vec<String>,
    /// The server's go-ahead, e.g. `"220 2.0.0 Ready to start TLS"`, `". OK Begin TLS"`,
    /// `"+OK"`, `"234 AUTH TLS OK."`, `"S"`, `"<proceed .../>"`, `"382 ..."`, or
    /// `"extendedResp resultCode 0 (success)"`. Empty for MySQL, whose server starts TLS
    /// without one.
    pub go_ahead: String,
}

/// Runs the plain-text STARTTLS dialogue of `protocol` on `stream`, up to and including the
/// server's go-ahead, like `openssl s_client -starttls` (see the [module docs](self)).
///
/// On success the stream is positioned right after the go-ahead and nothing after it has been
/// consumed: start the TLS handshake on it. If the server sent any byte after its go-ahead
/// that was already received, the dialogue fails with [`StarttlsError::InjectedBytes`].
///
/// Blocking; set socket timeouts first (a `WouldBlock` or `TimedOut` error from the stream
/// becomes [`StarttlsError::Timeout`]), or use [`negotiate_with_deadline`].
///
/// ```no_run
/// use std::net::TcpStream;
/// use std::time::Duration;
/// use tlshake::starttls::{negotiate, StarttlsOptions, StarttlsProtocol};
///
/// let mut stream = TcpStream::connect(("mail.example.org", 25))?;
/// stream.set_read_timeout(Some(Duration::from_secs(10)))?;
/// stream.set_write_timeout(Some(Duration::from_secs(10)))?;
/// let options = StarttlsOptions::default().with_client_name("client.example.org");
/// let transcript = negotiate(&mut stream, StarttlsProtocol::Smtp, &options)?;
/// assert!(transcript.go_ahead.starts_with("220"));
/// // `stream` is now ready for the TLS handshake.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate<S: Read + Write>(
    stream: &mut S,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
) -> Result<StarttlsTranscript, StarttlsError> {
    // The blocking runner of the sans-IO [`Dialogue`].
    let mut dialogue = Dialogue::new(protocol, options);
    let mut chunk = [0u8; CHUNK];
    loop {
        match dialogue.step() {
            DialogueStep::Finished => return dialogue.finish(),
            DialogueStep::Transmit(bytes) => {
                let whole = bytes.len();
                match stream.write(bytes) {
                    Ok(0) => dialogue.io_failed(io::ErrorKind::WriteZero.into()),
                    // A command is flushed once it is all written, as `write_all` + `flush`.
                    Ok(n) if n >= whole => match stream.flush() {
                        Ok(()) => dialogue.transmitted(n),
                        Err(e) => dialogue.io_failed(e),
                    },
                    Ok(n) => dialogue.transmitted(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => dialogue.io_failed(e),
                }
            }
            DialogueStep::Receive => match stream.read(&mut chunk) {
                Ok(0) => dialogue.closed(),
                Ok(n) => dialogue.received(chunk.get(..n).unwrap_or(&chunk)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => dialogue.io_failed(e),
            },
        }
    }
}

/// How many bytes one read of a runner asks for.
pub(crate) const CHUNK: usize = 4096;

/// Runs `protocol`'s dialogue over `conv` (one run of a [`Dialogue`]).
fn dispatch(
    conv: &mut Conversation<'_>,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
) -> Result<StarttlsTranscript, StarttlsError> {
    match protocol {
        StarttlsProtocol::Smtp | StarttlsProtocol::Lmtp => smtp::negotiate(conv, protocol, options),
        StarttlsProtocol::Imap => imap::negotiate(conv),
        StarttlsProtocol::Pop3 => pop3::negotiate(conv),
        StarttlsProtocol::Ftp => ftp::negotiate(conv),
        StarttlsProtocol::Postgres => postgres::negotiate(conv),
        StarttlsProtocol::Xmpp | StarttlsProtocol::XmppServer => {
            xmpp::negotiate(conv, protocol, options)
        }
        StarttlsProtocol::Irc => irc::negotiate(conv),
        StarttlsProtocol::Mysql => mysql::negotiate(conv),
        StarttlsProtocol::Nntp => nntp::negotiate(conv),
        StarttlsProtocol::Sieve => sieve::negotiate(conv),
        StarttlsProtocol::Ldap => ldap::negotiate(conv),
    }
}
