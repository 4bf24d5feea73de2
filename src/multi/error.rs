//! Errors of the [`MultiDriver`](super::MultiDriver) itself (not of one handshake).

use std::fmt;
use std::io::{self, Read, Write};

use crate::error::HandshakeError;
use crate::error_queue::ErrorQueue;
use crate::handshake::Handshake;
use crate::limits::LimitError;
use crate::server::ServerConfigError;

/// The driver could not do its own work: create or wait on its epoll instance, register a
/// socket, accept a connection, or set up a server handshake for one.
#[derive(Debug)]
#[non_exhaustive]
pub enum MultiError {
    /// A limit on open files or epoll watches was reached; the error names it and the fix.
    Limit(LimitError),
    /// Another operating-system error.
    Io {
        /// What failed (`"epoll_wait"`, `"epoll_ctl"`, `"connect"`, `"accept"`, ...).
        operation: &'static str,
        /// The operating-system error.
        source: io::Error,
    },
    /// [`listen_tcp`](super::listen_tcp) could not bind or listen: the address is in use,
    /// not on this machine, or a privileged port (the same errors as
    /// [`TlsListener::bind`](crate::server::TlsListener::bind)).
    Listen(ServerConfigError),
    /// The listener's `Ssl` factory failed for an accepted connection; the connection was
    /// closed. Check the server context (certificate, key).
    Ssl(ErrorQueue),
    /// The server handshake for an accepted connection could not be set up; the connection
    /// was closed.
    Setup(HandshakeError),
}
impl fmt::Display for MultiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiError::Limit(inner) => return fmt::Display::fmt(inner, f),
            MultiError::Io { operation, .. } => write!(f, "{operation} failed")?,
            MultiError::Listen(inner) => return fmt::Display::fmt(inner, f),
            MultiError::Ssl(_) => write!(
                f,
                "could not create the TLS object for an accepted connection"
            )?,
            MultiError::Setup(_) => write!(
                f,
                "could not set up the TLS server handshake for an accepted connection"
            )?,
        }
        crate::error::write_causes(self, f)
    }
}
/// The cause of each variant; a variant that only carries another error is that error,
/// so its causes are its own.
impl std::error::Error for MultiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MultiError::Limit(inner) => inner.source(),
            MultiError::Io { source, .. } => Some(source),
            MultiError::Listen(inner) => inner.source(),
            MultiError::Ssl(inner) => Some(inner),
            MultiError::Setup(inner) => Some(inner),
        }
    }
}

impl From<LimitError> for MultiError {
    fn from(error: LimitError) -> MultiError {
        MultiError::Limit(error)
    }
}

impl MultiError {
    /// Names the limit when `error` is `EMFILE` / `ENFILE` / `ENOSPC` (epoll), else keeps
    /// it as [`MultiError::Io`].
    pub(crate) fn os(operation: &'static str, error: io::Error) -> MultiError {
        match LimitError::classify(operation, error) {
            Ok(limit) => MultiError::Limit(limit),
            Err(source) => MultiError::Io { operation, source },
        }
    }

    /// The same from a `nix` error number.
    pub(crate) fn errno(operation: &'static str, errno: nix::errno::Errno) -> MultiError {
        MultiError::os(operation, io::Error::from(errno))
    }

    /// The limit that was reached, if that is what went wrong.
    pub fn limit(&self) -> Option<&LimitError> {
        match self {
            MultiError::Limit(limit) => Some(limit),
            _ => None,
        }
    }
}

/// [`MultiDriver::add`](super::MultiDriver::add) could not take the handshake; it is handed
/// back unharmed (possibly stepped once) together with the reason.
pub struct AddError<S> {
    /// The handshake, to drive some other way or to drop (boxed: it is large).
    pub handshake: Box<Handshake<S>>,
    /// Why it could not be added.
    pub error: MultiError,
}

impl<S: Read + Write> fmt::Debug for AddError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddError")
            .field("role", &self.handshake.role())
            .field("error", &self.error)
            .finish()
    }
}

impl<S: Read + Write> fmt::Display for AddError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not add the handshake to the driver: {}",
            self.error
        )
    }
}

impl<S: Read + Write> std::error::Error for AddError<S> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
