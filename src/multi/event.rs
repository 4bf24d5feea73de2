//! [`MultiEvent`] and [`Completed`]: how one handshake in a driver ended.

use crate::error::HandshakeError;
use crate::stream::TlsStream;

use super::error::MultiError;
use crate::engine::{Outcome, Token};

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
    /// The handshake failed ([`HandshakeOutcome::Failed`](crate::HandshakeOutcome::Failed)).
    Failed(HandshakeError),
    /// The handshake was shut down in a controlled way
    /// ([`HandshakeOutcome::Shutdown`](crate::HandshakeOutcome::Shutdown)): return value 0,
    /// or the peer's close_notify in place of a handshake message (`SSL_ERROR_ZERO_RETURN`).
    /// The same end as [`ServerEvent::Shutdown`](crate::server::ServerEvent::Shutdown).
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
    Callback(crate::Want),
    /// The handshake had received nothing when the driver ran out of descriptors in
    /// `accept(2)`; it was closed to free one.
    Evicted,
    /// The driver could not keep watching this handshake (`epoll_ctl` failed), or, for a
    /// listener's token, could not accept a connection or set up its handshake.
    DriverError(MultiError),
}

impl<S> Completed<S> {
    /// The driver's name for how a handshake left the engine's set: the same ends, one for
    /// one.
    pub(crate) fn of(outcome: Outcome<S>) -> Completed<S> {
        match outcome {
            Outcome::Done(stream) => Completed::Done(stream),
            Outcome::Failed(e) => Completed::Failed(e),
            Outcome::Shutdown(e) => Completed::Shutdown(e),
            Outcome::TimedOut(e) => Completed::TimedOut(e),
            Outcome::Evicted => Completed::Evicted,
        }
    }

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
