//! [`MultiEvent`] and [`Completed`]: how one handshake in a driver ended.

use crate::error::HandshakeError;
use crate::stream::TlsStream;

use super::error::MultiError;
use crate::engine::Token;

/// One handshake of a [`MultiDriver`](super::MultiDriver) ended (or one of its listeners
/// failed to accept).
#[derive(Debug)]
pub struct MultiEvent<S> {
    /// The token [`add`](super::MultiDriver::add) returned (or, for an accepted connection,
    /// the token it was given when accepted; for a listener error, the listener's token).
    pub token: Token,
    /// How it ended.
    pub result: Completed<S>,
}

/// How a handshake in a [`MultiDriver`](super::MultiDriver) ended. Except for `Done`, the
/// socket has been closed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Completed<S> {
    /// The handshake completed; the stream is no longer watched by the driver.
    Done(TlsStream<S>),
    /// The handshake failed ([`HandshakeOutcome::Failed`](crate::HandshakeOutcome::Failed),
    /// other than a controlled shutdown).
    Failed(HandshakeError),
    /// The handshake was shut down in a controlled way
    /// ([`HandshakeError::is_controlled_shutdown`]): return value 0
    /// ([`HandshakeOutcome::Shutdown`](crate::HandshakeOutcome::Shutdown)), or the peer's
    /// close_notify in place of a handshake message (`SSL_ERROR_ZERO_RETURN`). The same end
    /// as [`ServerEvent::Shutdown`](crate::ServerEvent::Shutdown).
    Shutdown(HandshakeError),
    /// The deadline passed first. Reported no earlier than the deadline. The error has
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout): what the handshake was waiting for
    /// ([`HandshakeError::waiting_for`]), the time from [`add`](super::MultiDriver::add) to the
    /// moment the timeout was noticed ([`HandshakeError::elapsed`]), how many bytes the peer
    /// had sent ([`HandshakeError::bytes_received`]), and the timeout hint.
    TimedOut(HandshakeError),
    /// Not an end: the handshake returned a callback-driven want
    /// ([`Interest::Caller`](crate::engine::Interest::Caller)) and stays in flight, its
    /// socket unwatched and its deadline running. Call
    /// [`MultiDriver::resume`](super::MultiDriver::resume) once the callback can make
    /// progress.
    Callback(crate::outcome::Want),
    /// The handshake had received nothing when the driver ran out of descriptors in
    /// `accept(2)`; it was closed to free one.
    Evicted,
    /// The driver could not keep watching this handshake (`epoll_ctl` failed), or, for a
    /// listener's token, could not accept a connection or set up its handshake.
    DriverError(MultiError),
}

impl<S> Completed<S> {
    /// True for [`Done`](Self::Done).
    pub fn is_done(&self) -> bool {
        matches!(self, Completed::Done(_))
    }

    /// True for [`TimedOut`](Self::TimedOut).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Completed::TimedOut(_))
    }

    /// The handshake error, for [`Failed`](Self::Failed), [`Shutdown`](Self::Shutdown) and
    /// [`TimedOut`](Self::TimedOut).
    pub fn error(&self) -> Option<&HandshakeError> {
        match self {
            Completed::Failed(e) | Completed::Shutdown(e) | Completed::TimedOut(e) => Some(e),
            _ => None,
        }
    }

    /// A short lower-case name: `"done"`, `"failed"`, `"shutdown"`, `"timed_out"`,
    /// `"callback"`, `"evicted"`, `"driver_error"`.
    pub fn name(&self) -> &'static str {
        match self {
            Completed::Done(_) => "done",
            Completed::Failed(_) => "failed",
            Completed::Shutdown(_) => "shutdown",
            Completed::TimedOut { .. } => "timed_out",
            Completed::Callback(_) => "callback",
            Completed::Evicted => "evicted",
            Completed::DriverError(_) => "driver_error",
        }
    }
}
