//! [`MultiEvent`] and [`Completed`]: how one handshake in a driver ended.

use std::time::Duration;

use crate::error::HandshakeError;
use crate::outcome::Want;
use crate::stream::TlsStream;

use super::error::MultiError;
use super::token::Token;

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
    /// The handshake was shut down in a controlled way (return value 0,
    /// [`HandshakeOutcome::Shutdown`](crate::HandshakeOutcome::Shutdown)).
    Shutdown(HandshakeError),
    /// The deadline passed first. Reported no earlier than the deadline.
    TimedOut {
        /// What the handshake was waiting for.
        waited_for: Want,
        /// Time from [`add`](super::MultiDriver::add) to the moment the timeout was noticed.
        elapsed: Duration,
        /// How many bytes the peer had sent (0: it never answered).
        bytes_received: u64,
    },
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
        matches!(self, Completed::TimedOut { .. })
    }

    /// The handshake error, for [`Failed`](Self::Failed) and [`Shutdown`](Self::Shutdown).
    pub fn error(&self) -> Option<&HandshakeError> {
        match self {
            Completed::Failed(e) | Completed::Shutdown(e) => Some(e),
            _ => None,
        }
    }

    /// A short lower-case name: `"done"`, `"failed"`, `"shutdown"`, `"timed_out"`,
    /// `"driver_error"`.
    pub fn name(&self) -> &'static str {
        match self {
            Completed::Done(_) => "done",
            Completed::Failed(_) => "failed",
            Completed::Shutdown(_) => "shutdown",
            Completed::TimedOut { .. } => "timed_out",
            Completed::DriverError(_) => "driver_error",
        }
    }
}
