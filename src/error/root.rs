//! [`Error`]: one error a caller can hold. Every public error of the crate converts into it
//! (`From`, so `?` works across the crate's functions), keeps its own message and its whole
//! cause chain, and says what kind of failure it was.

use std::error::Error as StdError;
use std::fmt;

use crate::certstore::CertStoreError;
use crate::client::ProxyError;
use crate::client::{ConfigError, ConnectError};
use crate::dtls::DtlsError;
use crate::ech::{EchConfigError, EchError, EchKeyError};
use crate::error::hint::Hint;
use crate::error::queue::ErrorQueue;
use crate::error::{ErrorKind, HandshakeError};
use crate::fingerprint::FingerprintError;
use crate::handshake::nodelay::UnknownNodelayPolicy;
use crate::handshake::stream::StreamError;
use crate::keylog::KeyLogError;
use crate::limits::LimitError;
use crate::multi::MultiError;
use crate::policy::PolicyError;
use crate::server::{RejectReason, ServerConfigError, ServerError};
use crate::session_file::SessionFileError;
use crate::starttls::reply::ReplyError;
use crate::starttls::{StarttlsError, UnknownStarttlsProtocol};
use crate::url::UrlError;
use crate::version::UnknownVersion;

/// Any error of this crate, for a caller that wants one type: every public error converts
/// into it with `?`. `Display` is the original error's (one line; `{:#}` adds every cause
/// and the hint), `source()` its causes, and [`kind`](Self::kind) and the `is_*` predicates
/// say what kind of failure it was, whatever step reported it. [`downcast_ref`](Self::downcast_ref)
/// gives the specific error back.
///
/// ```
/// use tlshake::client::{self, ClientConfig};
///
/// fn fetch(url: &str) -> Result<String, tlshake::Error> {
///     let config = ClientConfig::builder().build()?;
///     let url = url.parse()?;
///     let tls = client::connect(&url, &config)?;
///     Ok(tls.session().protocol.to_string())
/// }
///
/// // A port out of range: refused before any I/O, by the URL parser.
/// let e = fetch("tls://example.com:99999").unwrap_err();
/// assert!(e.is_config());
/// assert!(e.downcast_ref::<tlshake::url::UrlError>().is_some());
/// ```
pub struct Error {
    kind: ErrorKind,
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

impl Error {
    fn new<E: StdError + Send + Sync + 'static>(kind: ErrorKind, error: E) -> Error {
        Error {
            kind,
            inner: Box::new(error),
        }
    }

    /// What went wrong, in broad strokes: the same [`ErrorKind`] a [`HandshakeError`] has,
    /// with the kinds of the steps around the handshake (configuration, resolution,
    /// connection, STARTTLS, the listener, the stream).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// A deadline passed: resolution, connect, STARTTLS, handshake, or a listener's accept.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// The peer's certificate failed verification (see [`handshake`](Self::handshake) and
    /// [`HandshakeError::verify`] for the X509 code).
    pub fn is_verify(&self) -> bool {
        self.kind == ErrorKind::CertificateVerification
    }

    /// Refused before any handshake: the peer refused the TCP connection or STARTTLS, or a
    /// listener closed the connection without one.
    pub fn is_refused(&self) -> bool {
        self.kind == ErrorKind::Refused
    }

    /// A setting or an input was refused before any I/O: a configuration, a URL, a
    /// certificate or key file, a version, an ECH configuration.
    pub fn is_config(&self) -> bool {
        self.kind == ErrorKind::Config
    }

    /// The peer ended the connection: a controlled shutdown, a close_notify, or an
    /// unexpected end of file.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Shutdown | ErrorKind::ZeroReturn | ErrorKind::UnexpectedEof
        )
    }

    /// The [`HandshakeError`] in the chain, when a TLS handshake failed: everything OpenSSL
    /// said (return value, `SSL_get_error`, the queue, the verify result, errno).
    pub fn handshake(&self) -> Option<&HandshakeError> {
        let mut next: Option<&(dyn StdError + 'static)> = Some(&*self.inner);
        while let Some(e) = next {
            if let Some(h) = e.downcast_ref::<HandshakeError>() {
                return Some(h);
            }
            next = e.source();
        }
        None
    }

    /// What a person can do about it, when the handshake's failure was recognised.
    pub fn hint(&self) -> Option<&Hint> {
        self.handshake().and_then(HandshakeError::hint)
    }

    /// The original error, when it is an `E`.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.inner.downcast_ref::<E>()
    }

    /// The original error.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// The original error, owned.
    pub fn into_inner(self) -> Box<dyn StdError + Send + Sync + 'static> {
        self.inner
    }
}

/// The original error's `Display`: one line, and under `{:#}` every cause and the hint.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("error", &self.inner)
            .finish()
    }
}

/// The original error's causes: `Error` adds no level of its own to the chain.
impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source()
    }
}

/// What kind of failure an error of the crate is.
trait Classify {
    fn error_kind(&self) -> ErrorKind;
}

macro_rules! into_error {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(error: $error) -> Error {
                Error::new(error.error_kind(), error)
            }
        }
    )*};
}

into_error!(
    HandshakeError,
    ConnectError,
    ConfigError,
    ServerConfigError,
    ServerError,
    StarttlsError,
    StreamError,
    MultiError,
    CertStoreError,
    SessionFileError,
    UrlError,
    PolicyError,
    FingerprintError,
    ProxyError,
    KeyLogError,
    LimitError,
    ErrorQueue,
    RejectReason,
    ReplyError,
    UnknownVersion,
    UnknownNodelayPolicy,
    UnknownStarttlsProtocol,
    EchError,
    EchConfigError,
    EchKeyError,
    DtlsError,
);

#[cfg(feature = "harness")]
into_error!(crate::harness::HarnessError);

/// Errors that are always of one kind.
macro_rules! always {
    ($kind:ident: $($error:ty),* $(,)?) => {$(
        impl Classify for $error {
            fn error_kind(&self) -> ErrorKind {
                ErrorKind::$kind
            }
        }
    )*};
}

always!(Starttls: ReplyError);
always!(Stream: StreamError);
always!(Io: LimitError);
always!(Setup: ErrorQueue);
always!(Refused: RejectReason);

// Settings and inputs refused before any I/O.
always!(
    Config:
    ConfigError,
    CertStoreError,
    SessionFileError,
    UrlError,
    PolicyError,
    FingerprintError,
    KeyLogError,
    UnknownVersion,
    UnknownNodelayPolicy,
    UnknownStarttlsProtocol,
    EchError,
    EchConfigError,
    EchKeyError,
);

impl Classify for HandshakeError {
    fn error_kind(&self) -> ErrorKind {
        self.kind()
    }
}

impl Classify for ConnectError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            ConnectError::Resolve { .. } => ErrorKind::Resolve,
            ConnectError::ResolveTimeout { .. } | ConnectError::ConnectTimeout { .. } => {
                ErrorKind::Timeout
            }
            ConnectError::Connect { attempts, .. }
                if !attempts.is_empty()
                    && attempts
                        .iter()
                        .all(|(_, e)| e.kind() == std::io::ErrorKind::ConnectionRefused) =>
            {
                ErrorKind::Refused
            }
            ConnectError::Connect { .. } | ConnectError::ResetAfterAccept { .. } => {
                ErrorKind::Connect
            }
            ConnectError::Proxy { source, .. } => source.error_kind(),
            ConnectError::Starttls { source, .. } => source.error_kind(),
            ConnectError::Handshake { source, .. } => source.kind(),
            ConnectError::Io { .. } => ErrorKind::Io,
            // The URL, the configuration, a refused scheme, a plain URL, a URL of the other
            // transport (dtls:// to a TCP connect, tls:// to dtls::connect), DTLS options, a
            // bad proxy address.
            _ => ErrorKind::Config,
        }
    }
}

impl Classify for DtlsError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            // OpenSSL failed on a connection, or on its keying material after the handshake.
            DtlsError::Setup(_) | DtlsError::Export(_) => ErrorKind::Setup,
            // An option refused before any I/O, or SRTP keys asked of a session without them.
            _ => ErrorKind::Config,
        }
    }
}

impl Classify for ServerConfigError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            ServerConfigError::AddressInUse { .. }
            | ServerConfigError::AddressNotAvailable { .. }
            | ServerConfigError::PermissionDenied { .. }
            | ServerConfigError::Bind { .. }
            | ServerConfigError::Socket { .. }
            | ServerConfigError::Listen { .. } => ErrorKind::Listener,
            ServerConfigError::Resolve { .. } => ErrorKind::Resolve,
            _ => ErrorKind::Config,
        }
    }
}

impl Classify for ServerError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            ServerError::Handshake { source, .. } => source.kind(),
            ServerError::Rejected { .. } => ErrorKind::Refused,
            ServerError::AcceptTimedOut { .. } => ErrorKind::Timeout,
            _ => ErrorKind::Listener,
        }
    }
}

impl Classify for StarttlsError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            StarttlsError::Timeout { .. } => ErrorKind::Timeout,
            StarttlsError::Refused { .. } | StarttlsError::NotOffered { .. } => ErrorKind::Refused,
            StarttlsError::Io { .. } => ErrorKind::Io,
            StarttlsError::InvalidClientName { .. } | StarttlsError::InvalidXmppHost { .. } => {
                ErrorKind::Config
            }
            _ => ErrorKind::Starttls,
        }
    }
}

impl Classify for ProxyError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            ProxyError::Timeout => ErrorKind::Timeout,
            ProxyError::Refused { .. } => ErrorKind::Refused,
            ProxyError::Io { .. } => ErrorKind::Io,
            _ => ErrorKind::Connect,
        }
    }
}

impl Classify for MultiError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            MultiError::Listen(e) => e.error_kind(),
            MultiError::Setup(e) => e.kind(),
            MultiError::Ssl(_) => ErrorKind::Setup,
            _ => ErrorKind::Io,
        }
    }
}

#[cfg(feature = "harness")]
impl Classify for crate::harness::HarnessError {
    fn error_kind(&self) -> ErrorKind {
        ErrorKind::Io
    }
}
