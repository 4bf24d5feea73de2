//! [`HandshakeError`]: everything OpenSSL said about a handshake that did not complete.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use crate::code::{Role, SslErrorCode, Want};
use crate::error_queue::ErrorQueue;
use crate::error_queue::OpensslError;
use crate::hint::Hint;

/// What went wrong, in broad strokes. Match on this; read the rest of the error for the
/// details. A [`HandshakeError`] has one of the handshake's kinds (`Shutdown` to `Callback`);
/// the crate's root [`Error`](crate::Error) also has those of the steps around it (`Config`
/// to `Stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The handshake function returned 0: the handshake was shut down in a controlled way.
    Shutdown,
    /// `SSL_ERROR_SSL` after the peer's certificate failed verification; see
    /// [`HandshakeError::verify`].
    CertificateVerification,
    /// `SSL_ERROR_SSL`: a protocol error (bad record, alert from the peer, no shared version or
    /// cipher, ...); see [`HandshakeError::queue`].
    Protocol,
    /// The peer closed the connection without a close_notify alert in the middle of the
    /// handshake (OpenSSL 3: `unexpected eof while reading`; OpenSSL 1.1.1: `SSL_ERROR_SYSCALL`
    /// with no errno).
    UnexpectedEof,
    /// `SSL_ERROR_ZERO_RETURN`: the peer sent close_notify during the handshake.
    ZeroReturn,
    /// `SSL_ERROR_SYSCALL` with an operating-system error; see [`HandshakeError::io_error`].
    Io,
    /// The deadline passed before the handshake completed.
    Timeout,
    /// Waiting for the socket to become readable or writable failed (select/poll error).
    Wait,
    /// The connection object could not be set up (`SSL_new`, BIO creation, ...).
    Setup,
    /// A driver that only waits on sockets met a callback-driven want (X509 lookup, async
    /// job, ClientHello callback, retry-verify; see
    /// [`HandshakeError::waiting_for`]): nothing the peer sends will end it. Step the
    /// handshake by hand ([`Handshake::step`](crate::Handshake::step)) or in a
    /// [`HandshakeSet`](crate::engine::HandshakeSet), which hands such wants back.
    Callback,
    /// A setting or an input was refused before any I/O (a configuration, a URL, a
    /// certificate or key file, a version name).
    Config,
    /// A host name could not be resolved.
    Resolve,
    /// The TCP connection (or the proxy's tunnel) could not be made.
    Connect,
    /// Refused before any handshake: the peer refused the connection or STARTTLS, or a
    /// listener closed the connection without one.
    Refused,
    /// The plaintext dialogue before STARTTLS failed (an unexpected reply, bytes injected).
    Starttls,
    /// A listener's own socket or event loop failed (bind, accept, epoll).
    Listener,
    /// Reading or writing an established connection failed.
    Stream,
}

impl ErrorKind {
    /// A short lower-case name (`"protocol"`, `"unexpected_eof"`, ...), stable for JSON.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Shutdown => "shutdown",
            ErrorKind::CertificateVerification => "certificate_verification",
            ErrorKind::Protocol => "protocol",
            ErrorKind::UnexpectedEof => "unexpected_eof",
            ErrorKind::ZeroReturn => "zero_return",
            ErrorKind::Io => "io",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Wait => "wait",
            ErrorKind::Callback => "callback",
            ErrorKind::Setup => "setup",
            ErrorKind::Config => "config",
            ErrorKind::Resolve => "resolve",
            ErrorKind::Connect => "connect",
            ErrorKind::Refused => "refused",
            ErrorKind::Starttls => "starttls",
            ErrorKind::Listener => "listener",
            ErrorKind::Stream => "stream",
        }
    }
}

/// The X509 verification result of the peer's certificate
/// ([`SSL_get_verify_result(3)`](https://docs.openssl.org/3.0/man3/SSL_get_verify_result/)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[doc(alias = "SSL_get_verify_result")]
pub struct VerifyResult {
    /// The `X509_V_*` code; 0 is `X509_V_OK`.
    pub code: i32,
    /// OpenSSL's text for it (`X509_verify_cert_error_string`).
    pub message: String,
}

impl VerifyResult {
    /// True when the code is `X509_V_OK`.
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

impl fmt::Display for VerifyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X509 verify code {} ({})", self.code, self.message)
    }
}

/// Which OpenSSL function performed the handshake step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFunction {
    /// [`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/).
    Connect,
    /// [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/).
    Accept,
    /// [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/).
    DoHandshake,
}

impl HandshakeFunction {
    /// The C name of the function.
    pub fn name(self) -> &'static str {
        match self {
            HandshakeFunction::Connect => "SSL_connect",
            HandshakeFunction::Accept => "SSL_accept",
            HandshakeFunction::DoHandshake => "SSL_do_handshake",
        }
    }
}

/// A handshake that did not complete: the raw return value, the named `SSL_get_error` code,
/// the whole OpenSSL error queue, the X509 verify result, the OS error, the first bytes the
/// peer sent, and a [`Hint`] a person can act on. Nothing OpenSSL reported is dropped.
///
/// One pointer wide; read it through its accessors and match on [`kind`](Self::kind).
pub struct HandshakeError {
    inner: Box<ErrorInner>,
}

#[derive(Debug)]
pub(crate) struct ErrorInner {
    pub(crate) kind: ErrorKind,
    pub(crate) role: Role,
    pub(crate) function: HandshakeFunction,
    pub(crate) ret: i32,
    pub(crate) ssl_error: SslErrorCode,
    pub(crate) queue: ErrorQueue,
    pub(crate) verify: Option<VerifyResult>,
    pub(crate) io: Option<io::Error>,
    pub(crate) peer_bytes: Vec<u8>,
    pub(crate) bytes_received: u64,
    pub(crate) hint: Option<Hint>,
    pub(crate) waiting_for: Option<Want>,
    pub(crate) elapsed: Option<Duration>,
    pub(crate) peer_certificate: Option<openssl::x509::X509>,
    pub(crate) ech: Option<crate::ech::EchInfo>,
    /// DTLS: expiries of the retransmission timer when the handshake ended.
    pub(crate) retransmissions: Option<u32>,
}

impl HandshakeError {
    pub(crate) fn from_inner(inner: ErrorInner) -> HandshakeError {
        HandshakeError {
            inner: Box::new(inner),
        }
    }

    pub(crate) fn inner_mut(&mut self) -> &mut ErrorInner {
        &mut self.inner
    }

    /// What went wrong, in broad strokes.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Which side this end played.
    pub fn role(&self) -> Role {
        self.inner.role
    }

    /// The OpenSSL function whose return value this is.
    pub fn function(&self) -> HandshakeFunction {
        self.inner.function
    }

    /// The raw return value of the handshake function (0 or negative).
    pub fn ret(&self) -> i32 {
        self.inner.ret
    }

    /// The named [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/) code.
    #[doc(alias = "SSL_get_error")]
    pub fn ssl_error(&self) -> SslErrorCode {
        self.inner.ssl_error
    }

    /// Every entry of the OpenSSL error queue for this call, oldest first, in the form every
    /// public error of the crate carries it ([`ErrorQueue`]; a slice of [`OpensslError`]).
    pub fn queue(&self) -> &ErrorQueue {
        &self.inner.queue
    }

    /// The reasons of the queue entries (`"wrong version number"`, ...), oldest first.
    pub fn reasons(&self) -> Vec<&str> {
        self.inner
            .queue
            .iter()
            .map(OpensslError::reason_or_text)
            .collect()
    }

    /// True if any queue entry has this `ERR_GET_REASON` code.
    pub fn has_reason_code(&self, reason_code: i32) -> bool {
        self.inner
            .queue
            .iter()
            .any(|e| e.reason_code == reason_code)
    }

    /// The X509 verify result of the peer's certificate
    /// ([`SSL_get_verify_result(3)`](https://docs.openssl.org/3.0/man3/SSL_get_verify_result/)),
    /// when one was received; `None` when no certificate arrived (a plaintext peer, a client
    /// that sent none), where OpenSSL still reports `X509_V_OK`. With verification off the
    /// result is still OpenSSL's (18 for a self-signed certificate, for example).
    pub fn verify(&self) -> Option<&VerifyResult> {
        self.inner.verify.as_ref()
    }

    /// The certificate the peer sent, when one arrived before the handshake stopped
    /// ([`SSL_get1_peer_certificate(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_certificate/)):
    /// after a failed verification, the certificate that was refused.
    #[doc(alias = "SSL_get1_peer_certificate")]
    pub fn peer_certificate(&self) -> Option<&openssl::x509::X509Ref> {
        self.inner.peer_certificate.as_deref()
    }

    /// What became of Encrypted Client Hello, when the connection had it configured (a
    /// client with [`ClientConfigBuilder::ech_config_list`](crate::client::ClientConfigBuilder::ech_config_list)
    /// or GREASE, a server with [`ServerConfigBuilder::ech_keys`](crate::server::ServerConfigBuilder::ech_keys)
    /// that received an ECH extension): for a rejected ECH, the status, the names and the
    /// server's retry configurations
    /// ([`SSL_ech_get1_status(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)).
    /// `None` without ECH, and on an OpenSSL without it.
    #[doc(alias = "SSL_ech_get1_status")]
    pub fn ech(&self) -> Option<&crate::ech::EchInfo> {
        self.inner.ech.as_ref()
    }

    /// True when the handshake failed because the peer's certificate was rejected.
    pub fn verify_failed(&self) -> bool {
        self.inner.kind == ErrorKind::CertificateVerification
    }

    /// The operating-system error for `SSL_ERROR_SYSCALL` (and for a failed wait).
    pub fn io_error(&self) -> Option<&io::Error> {
        self.inner.io.as_ref()
    }

    /// The errno of [`io_error`](Self::io_error), if it carries one.
    pub fn errno(&self) -> Option<i32> {
        self.inner.io.as_ref().and_then(io::Error::raw_os_error)
    }

    /// The first bytes the peer sent (up to a small limit): what a plaintext server said.
    pub fn peer_bytes(&self) -> &[u8] {
        &self.inner.peer_bytes
    }

    /// How many bytes the peer had sent in all when the handshake ended.
    pub fn bytes_received(&self) -> u64 {
        self.inner.bytes_received
    }

    /// What a person can do about it, when tlshake recognises the situation.
    pub fn hint(&self) -> Option<&Hint> {
        self.inner.hint.as_ref()
    }

    /// For a timeout: what the handshake was waiting for when the deadline passed.
    pub fn waiting_for(&self) -> Option<Want> {
        self.inner.waiting_for
    }

    /// For a timeout: how long the handshake had run.
    pub fn elapsed(&self) -> Option<Duration> {
        self.inner.elapsed
    }

    /// For a DTLS handshake: how many times the retransmission timer expired and the last
    /// flight was sent again before it ended (`None` for TLS). Counted by the timer
    /// callback ([`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)).
    pub fn retransmissions(&self) -> Option<u32> {
        self.inner.retransmissions
    }

    /// True for [`ErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True for [`ErrorKind::Shutdown`] (return value 0).
    pub fn is_shutdown(&self) -> bool {
        self.inner.kind == ErrorKind::Shutdown
    }

    /// True when the handshake ended in a controlled way: the return value was 0, or the peer
    /// sent close_notify (`SSL_ERROR_ZERO_RETURN`, which is how OpenSSL 3 reports a
    /// close_notify during the handshake, with a return value of -1). The command line
    /// reports both as `shutdown`.
    pub fn is_controlled_shutdown(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Shutdown | ErrorKind::ZeroReturn)
    }

    /// True when the peer closed the connection mid-handshake ([`ErrorKind::UnexpectedEof`] or
    /// [`ErrorKind::ZeroReturn`]).
    pub fn is_peer_closed(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::UnexpectedEof | ErrorKind::ZeroReturn
        )
    }

    /// Writes this level's summary. With `whole`, every queue reason and the I/O error too
    /// (the alternate form); without it, what [`source`](StdError::source) returns is left
    /// out, so that a chain printer shows each fact once.
    fn summary(&self, f: &mut fmt::Formatter<'_>, whole: bool) -> fmt::Result {
        let i = &self.inner;
        // `source()` is the I/O error when there is one, else the first queue entry.
        let skip_first = !whole && i.io.is_none();
        // A DTLS handshake counts its retransmissions; a TLS one has none to count.
        let proto = if i.retransmissions.is_some() {
            "DTLS"
        } else {
            "TLS"
        };
        match i.kind {
            ErrorKind::Timeout => {
                let waited = i
                    .waiting_for
                    .map(|w| format!(" waiting for the socket to become {}able", w))
                    .unwrap_or_default();
                match i.elapsed {
                    Some(d) => write!(
                        f,
                        "{proto} {} handshake timed out after {:.3} s{waited}",
                        i.role,
                        d.as_secs_f64()
                    ),
                    None => write!(f, "{proto} {} handshake timed out{waited}", i.role),
                }
            }
            ErrorKind::Wait => write!(
                f,
                "waiting for the socket failed during the {proto} {} handshake",
                i.role
            ),
            ErrorKind::Setup => write!(f, "could not set up the {proto} {} connection", i.role),
            ErrorKind::Callback => write!(
                f,
                "the {proto} {} handshake waits for an application callback ({}), not for the socket",
                i.role,
                i.ssl_error.name()
            ),
            _ => {
                write!(
                    f,
                    "{proto} {} handshake {} ({} returned {}, {})",
                    i.role,
                    if i.kind == ErrorKind::Shutdown {
                        "shut down"
                    } else {
                        "failed"
                    },
                    i.function.name(),
                    i.ret,
                    i.ssl_error.name()
                )?;
                let mut sep = ": ";
                for e in i.queue.iter().skip(usize::from(skip_first)) {
                    write!(f, "{sep}{}", e.reason_or_text())?;
                    sep = "; ";
                }
                if let Some(v) = i.verify.as_ref().filter(|v| !v.is_ok()) {
                    write!(f, "{sep}{v}")?;
                    sep = "; ";
                }
                if let Some(io) = &i.io {
                    if whole {
                        write!(f, "{sep}{io}")?;
                    }
                } else if i.kind == ErrorKind::UnexpectedEof && i.queue.is_empty() {
                    write!(f, "{sep}unexpected EOF from the peer")?;
                }
                Ok(())
            }
        }
    }
}

/// One line, this level only: what failed, the queue reasons and verify result that
/// [`source`](StdError::source) does not return, and the [`Hint`]. The cause (the I/O error,
/// else the first entry of the error queue) is left to `source()`, so a chain printer such as
/// anyhow's shows every fact once.
///
/// The alternate form `{:#}` tells the whole story in one string: every queue reason, the
/// I/O error, and the hint on a second line.
///
/// ```
/// # fn show(e: &tlshake::HandshakeError) {
/// eprintln!("{e}"); // one line
/// eprintln!("{e:#}"); // the whole story
/// # }
/// ```
impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = f.alternate();
        self.summary(f, whole)?;
        if let Some(hint) = &self.inner.hint {
            if whole {
                write!(f, "\n  hint: {hint}")?;
            } else {
                write!(f, "; hint: {hint}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("HandshakeError")
            .field("kind", &i.kind)
            .field("role", &i.role)
            .field("function", &i.function)
            .field("ret", &i.ret)
            .field("ssl_error", &i.ssl_error)
            .field("queue", &i.queue)
            .field("verify", &i.verify)
            .field("io", &i.io)
            .field("peer_bytes", &String::from_utf8_lossy(&i.peer_bytes))
            .field("bytes_received", &i.bytes_received)
            .field("hint", &i.hint)
            .field("waiting_for", &i.waiting_for)
            .field("elapsed", &i.elapsed)
            .field("retransmissions", &i.retransmissions)
            .field(
                "peer_certificate",
                &i.peer_certificate
                    .as_ref()
                    .map(|c| format!("{:?}", c.subject_name())),
            )
            .field("ech", &i.ech)
            .finish()
    }
}

impl StdError for HandshakeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        if let Some(io) = &self.inner.io {
            return Some(io);
        }
        self.inner
            .queue
            .first()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
