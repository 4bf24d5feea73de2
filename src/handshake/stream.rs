//! [`TlsStream`]: an established TLS connection.

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use openssl::ssl::{ErrorCode, ShutdownResult, SslRef, SslStream};

use crate::diagnose::{self, Evidence};
use crate::error::{ErrorKind, OpensslError};
use crate::error_queue::ErrorQueue;
use crate::handshake::HandshakeStats;
use crate::hint::Hint;
use crate::nodelay;
use crate::outcome::Role;
use crate::session::SessionInfo;
use crate::sys;
use crate::transport::Transport;
use crate::version::ProtocolVersion;

/// Which call on an established stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamOperation {
    /// [`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/).
    Read,
    /// [`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/).
    Write,
}

impl StreamOperation {
    /// The C name of the function.
    pub fn name(self) -> &'static str {
        match self {
            StreamOperation::Read => "SSL_read",
            StreamOperation::Write => "SSL_write",
        }
    }
}

/// A read or write on an established [`TlsStream`] failed with a TLS error
/// (`SSL_ERROR_SSL` from [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/)):
/// typically an alert from the peer.
///
/// In TLS 1.3 the client's handshake completes before the server has judged the client's
/// certificate, so the server's verdict (alert `certificate_required`, 116, or
/// `unknown_ca`, ...) arrives as the error of the first read. The `Read` and `Write` impls
/// of [`TlsStream`] return it inside an [`io::Error`] (kind
/// [`ConnectionAborted`](io::ErrorKind::ConnectionAborted)); get it back with
/// [`StreamError::from_io`]:
///
/// ```no_run
/// # fn demo(mut tls: tlshake::TlsStream<std::net::TcpStream>) {
/// use std::io::Read;
/// use tlshake::StreamError;
/// let mut buf = [0u8; 1024];
/// if let Err(e) = tls.read(&mut buf) {
///     match StreamError::from_io(&e).and_then(StreamError::hint) {
///         Some(hint) => eprintln!("{e}: {hint}"),
///         None => eprintln!("{e}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// OpenSSL reported a TLS error; the peer's alert, if it sent one, is in the queue.
    Tls {
        /// The call that failed.
        operation: StreamOperation,
        /// Every entry of the OpenSSL error queue, oldest first.
        queue: ErrorQueue,
        /// What to do about it, when tlshake recognises the situation (for the TLS 1.3
        /// certificate_required alert: [`Hint::ClientCertificateRequired`]).
        hint: Option<Hint>,
    },
    /// OpenSSL refused the call because an earlier call on this connection failed: it said
    /// `SSL_ERROR_SSL` and queued nothing. OpenSSL 4.0 keeps a connection's fatal error and
    /// fails every later read, write and shutdown this way; the earlier call's error said
    /// why (a write to a reset connection: `ECONNRESET`). Earlier versions try the call
    /// again and return its own error (`EPIPE`).
    AlreadyFailed {
        /// The call that was refused.
        operation: StreamOperation,
    },
}

/// The queue of an error that has none.
static NO_ENTRIES: ErrorQueue = ErrorQueue::EMPTY;

impl StreamError {
    /// The `StreamError` inside an [`io::Error`] that a read or write of [`TlsStream`]
    /// returned, if it is one.
    pub fn from_io(error: &io::Error) -> Option<&StreamError> {
        error.get_ref()?.downcast_ref::<StreamError>()
    }

    /// The call that failed.
    pub fn operation(&self) -> StreamOperation {
        match self {
            StreamError::Tls { operation, .. } | StreamError::AlreadyFailed { operation } => {
                *operation
            }
        }
    }

    /// The OpenSSL error queue, oldest first ([`ErrorQueue`]); empty for
    /// [`AlreadyFailed`](StreamError::AlreadyFailed).
    pub fn queue(&self) -> &ErrorQueue {
        match self {
            StreamError::Tls { queue, .. } => queue,
            StreamError::AlreadyFailed { .. } => &NO_ENTRIES,
        }
    }

    /// The reasons of the queue entries (`"tlsv13 alert certificate required"`), oldest
    /// first.
    pub fn reasons(&self) -> Vec<&str> {
        self.queue()
            .iter()
            .map(OpensslError::reason_or_text)
            .collect()
    }

    /// What a person can do about it, when tlshake recognises the situation.
    pub fn hint(&self) -> Option<&Hint> {
        match self {
            StreamError::Tls { hint, .. } => hint.as_ref(),
            StreamError::AlreadyFailed { .. } => None,
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Tls { operation, .. } => write!(
                f,
                "TLS error in {} after the handshake (SSL_ERROR_SSL)",
                operation.name()
            ),
            StreamError::AlreadyFailed { operation } => write!(
                f,
                "{} refused: an earlier call on this connection failed (SSL_ERROR_SSL, nothing queued)",
                operation.name()
            ),
        }
    }
}

impl StdError for StreamError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.queue().first().map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<StreamError> for io::Error {
    fn from(error: StreamError) -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionAborted, error)
    }
}

/// The `io::Error` of a failed `SSL_read` / `SSL_write`: a [`StreamError`] for a TLS error,
/// the transport's own error otherwise.
///
/// `transport_error` is what the transport recorded during the call. For
/// `SSL_ERROR_SYSCALL` it is the error: OpenSSL 3.2 and later also queue an `ERR_LIB_SYS`
/// entry when a write fails, and the `openssl` crate then hands over that queue instead of
/// the transport's error.
fn io_error_of(
    ssl: &SslRef,
    operation: StreamOperation,
    error: openssl::ssl::Error,
    transport_error: Option<io::Error>,
) -> io::Error {
    if error.code() == ErrorCode::SYSCALL {
        if let Some(e) = transport_error {
            return e;
        }
    }
    if error.code() != ErrorCode::SSL {
        return error
            .into_io_error()
            .unwrap_or_else(|e| io::Error::other(e.to_string()));
    }
    let queue = error.ssl_error().map(ErrorQueue::from).unwrap_or_default();
    if queue.is_empty() {
        return StreamError::AlreadyFailed { operation }.into();
    }
    let role = if ssl.is_server() {
        Role::Server
    } else {
        Role::Client
    };
    let hint = diagnose::diagnose(Evidence {
        role: Some(role),
        kind: Some(ErrorKind::Protocol),
        queue: &queue,
        ..Evidence::default()
    });
    StreamError::Tls {
        operation,
        queue,
        hint,
    }
    .into()
}

/// An established TLS connection over `S`: `Read` + `Write` for application data
/// ([`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/) /
/// [`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/)), plus the session facts and
/// the handshake's counters.
#[derive(Debug)]
pub struct TlsStream<S> {
    stream: SslStream<Transport<S>>,
    stats: HandshakeStats,
    nodelay_before: Option<bool>,
}

impl<S> TlsStream<S> {
    pub(crate) fn new(
        stream: SslStream<Transport<S>>,
        stats: HandshakeStats,
        nodelay_before: Option<bool>,
    ) -> TlsStream<S> {
        TlsStream {
            stream,
            stats,
            nodelay_before,
        }
    }

    /// The OpenSSL connection object.
    pub fn ssl(&self) -> &SslRef {
        self.stream.ssl()
    }

    /// The OpenSSL connection object, mutably (ex_data, renegotiation settings, a new
    /// `SSL_CTX`, ...).
    pub fn ssl_mut(&mut self) -> &mut SslRef {
        sys::ssl_mut(&mut self.stream)
    }

    /// Gives the session back as rust-openssl's [`SslStream`], for crates built on it
    /// (hyper-openssl, postgres-openssl, ...). The transport keeps its bytes read ahead and its
    /// traffic record; [`Transport::get_mut`] reaches the socket. The `TCP_NODELAY` setting
    /// changed for the handshake is left as it is (see
    /// [`restore_nodelay`](Self::restore_nodelay)).
    ///
    /// ```no_run
    /// # fn hand_on(tls: tlshake::TlsStream<std::net::TcpStream>) -> std::io::Result<()> {
    /// use std::io::Write;
    ///
    /// let mut stream: openssl::ssl::SslStream<_> = tls.into_ssl_stream();
    /// stream.get_mut().get_mut().set_nonblocking(false)?;
    /// stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_ssl_stream(self) -> SslStream<Transport<S>> {
        sys::unseal(self.stream.ssl());
        self.stream
    }

    /// The facts of the session: protocol, cipher, ALPN, resumption, peer certificate, ...
    pub fn session(&self) -> SessionInfo {
        SessionInfo::from_ssl(self.stream.ssl())
    }

    /// The protocol as OpenSSL names it (`"TLSv1.3"`).
    #[doc(alias = "SSL_get_version")]
    pub fn protocol(&self) -> &'static str {
        self.stream.ssl().version_str()
    }

    /// OpenSSL's name of the cipher suite.
    #[doc(alias = "SSL_CIPHER_get_name")]
    pub fn cipher(&self) -> &'static str {
        self.stream
            .ssl()
            .current_cipher()
            .map(|c| c.name())
            .unwrap_or("")
    }

    /// True when this client's handshake completed under TLS 1.3 after the server asked for
    /// a certificate (CertificateRequest) and none was sent: the server's verdict comes
    /// after the handshake. A server that requires one answers with the alert
    /// `certificate_required` (116), which the first read returns as a [`StreamError`]
    /// with [`Hint::ClientCertificateRequired`]; a server for which it is optional goes on.
    ///
    /// Known for connections made from a [`ClientConfig`](crate::client::ClientConfig)
    /// (which notes the request with
    /// [`SSL_CTX_set_cert_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_cb/));
    /// `false` for other `Ssl` objects and on the server.
    pub fn certificate_requested_none_sent(&self) -> bool {
        let ssl = self.stream.ssl();
        !ssl.is_server()
            && ProtocolVersion::from_openssl_name(ssl.version_str())
                == Some(ProtocolVersion::Tls1_3)
            && ssl.certificate().is_none()
            && crate::client::certificate_was_requested(ssl)
    }

    /// The handshake's counters (retries, steps, duration).
    pub fn stats(&self) -> HandshakeStats {
        self.stats
    }

    /// The transport and its traffic record.
    pub fn transport(&self) -> &Transport<S> {
        self.stream.get_ref()
    }

    /// Bytes a read can return without the socket becoming readable again: decrypted bytes
    /// OpenSSL holds ([`SSL_pending(3)`](https://docs.openssl.org/3.0/man3/SSL_pending/)) plus
    /// raw bytes the transport read ahead. Data the peer sent together with its last
    /// handshake message (a client's first request right behind its Finished) is read ahead
    /// by the handshake: an event loop must read while this is above zero (or until
    /// `WouldBlock`) before it waits for readiness, or it waits for bytes that already came.
    #[doc(alias = "SSL_pending")]
    pub fn buffered_len(&self) -> usize {
        self.stream.ssl().pending() + self.stream.get_ref().buffered()
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        self.stream.get_ref().get_ref()
    }

    /// The inner stream, mutably; reading or writing it directly corrupts the session.
    pub fn get_mut(&mut self) -> &mut S {
        self.stream.get_mut().get_mut()
    }

    /// The `TCP_NODELAY` setting the socket had before the handshake changed it, if it did.
    pub fn nodelay_before_handshake(&self) -> Option<bool> {
        self.nodelay_before
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// [`SSL_peek(3)`](https://docs.openssl.org/3.0/man3/SSL_read/): processes the records
    /// that can be read (a TLS 1.3 NewSessionTicket, ...) without taking application data.
    pub(crate) fn peek(&mut self, buf: &mut [u8]) -> Result<usize, openssl::ssl::Error> {
        self.stream.ssl_peek(buf)
    }

    /// Sends close_notify ([`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/)).
    /// Returns `true` once the peer's close_notify was received too.
    #[doc(alias = "SSL_shutdown")]
    pub fn shutdown(&mut self) -> io::Result<bool> {
        self.stream.get_mut().take_error();
        match self.stream.shutdown() {
            Ok(ShutdownResult::Sent) => Ok(false),
            Ok(ShutdownResult::Received) => Ok(true),
            Err(e) => match self.stream.get_mut().take_error() {
                // The transport's own error (see `io_error_of`).
                Some(transport) if e.code() == ErrorCode::SYSCALL => Err(transport),
                _ => Err(e
                    .into_io_error()
                    .unwrap_or_else(|e| io::Error::other(e.to_string()))),
            },
        }
    }
}

impl<S: AsFd> TlsStream<S> {
    /// Puts `TCP_NODELAY` back the way it was before the handshake.
    pub fn restore_nodelay(&self) -> io::Result<()> {
        match self.nodelay_before {
            Some(previous) => nodelay::set_nodelay(self.get_ref(), previous),
            None => Ok(()),
        }
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// The error of a write that failed because the server closed the connection, after a
    /// TLS 1.3 handshake in which it asked for a certificate and got none: the server's
    /// verdict (its alert) is then already in the receive buffer, and it is the real cause.
    /// The transport kept `closed` from OpenSSL ([`Transport::hold_close_errors`]), so the
    /// connection can still be read on every OpenSSL version; `SSL_peek` takes no
    /// application data, and a reset or closed socket does not block, so this cannot stall.
    fn verdict_behind(&mut self, closed: io::Error) -> io::Error {
        match self.stream.ssl_peek(&mut [0u8; 1]) {
            Err(e) if e.code() == ErrorCode::SSL => {
                match io_error_of(self.stream.ssl(), StreamOperation::Write, e, None) {
                    verdict
                        if matches!(
                            StreamError::from_io(&verdict),
                            Some(StreamError::Tls { .. })
                        ) =>
                    {
                        verdict
                    }
                    _ => closed,
                }
            }
            _ => closed,
        }
    }
}

/// Reads application data ([`SSL_read_ex(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)).
/// A close_notify (and an EOF without one) reads as 0 bytes; a TLS error from OpenSSL (an
/// alert from the peer) is an [`io::Error`] holding a [`StreamError`].
///
/// After each read, the connection's 16.7 kB record buffer is given back when it holds
/// nothing ([`SSL_free_buffers(3)`](https://docs.openssl.org/3.0/man3/SSL_alloc_buffers/)):
/// `SSL_MODE_RELEASE_BUFFERS` frees it only after a record was read completely, so a
/// connection whose last read found no data (`WouldBlock` on an idle socket) would keep it
/// while it waits. Not done with OpenSSL releases that have CVE-2024-4741.
/// The OpenSSL connection object, as [`ssl`](TlsStream::ssl) gives it: what code generic
/// over the established stream (a [`TlsConnection`](crate::client::TlsConnection) of any
/// runner) reads the session's facts from.
impl<S> AsRef<SslRef> for TlsStream<S> {
    fn as_ref(&self) -> &SslRef {
        self.ssl()
    }
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // As `SslStream`'s `Read`, except that a TLS error keeps its queue and hint, and an
        // I/O error is the transport's own.
        self.stream.get_mut().take_error();
        let result = loop {
            match self.stream.ssl_read(buf) {
                Ok(n) => break Ok(n),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => break Ok(0),
                Err(e) if e.code() == ErrorCode::WANT_READ && e.io_error().is_none() => {}
                Err(e) => {
                    let transport = self.stream.get_mut().take_error();
                    if e.code() == ErrorCode::SYSCALL
                        && transport.is_none()
                        && e.io_error().is_none()
                    {
                        // An EOF without close_notify.
                        break Ok(0);
                    }
                    break Err(io_error_of(
                        self.stream.ssl(),
                        StreamOperation::Read,
                        e,
                        transport,
                    ));
                }
            }
        };
        sys::free_idle_buffers(&mut self.stream);
        result
    }
}

/// Writes application data ([`SSL_write_ex(3)`](https://docs.openssl.org/3.0/man3/SSL_write/));
/// a TLS error from OpenSSL is an [`io::Error`] holding a [`StreamError`]. When the write
/// fails because the server closed the connection after its TLS 1.3 verdict on a missing
/// client certificate ([`TlsStream::certificate_requested_none_sent`]), the error is that
/// verdict, read from the receive buffer, not the broken pipe.
impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let verdict_may_follow = self.certificate_requested_none_sent();
        let transport = self.stream.get_mut();
        transport.take_error();
        transport.hold_close_errors(verdict_may_follow);
        let result = loop {
            match self.stream.ssl_write(buf) {
                Ok(n) => break Ok(n),
                Err(e) if e.code() == ErrorCode::WANT_READ && e.io_error().is_none() => {}
                Err(e) => {
                    let transport = self.stream.get_mut();
                    transport.hold_close_errors(false);
                    if let Some(closed) = transport.take_held() {
                        break Err(self.verdict_behind(closed));
                    }
                    let transport = transport.take_error();
                    break Err(io_error_of(
                        self.stream.ssl(),
                        StreamOperation::Write,
                        e,
                        transport,
                    ));
                }
            }
        };
        self.stream.get_mut().hold_close_errors(false);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
