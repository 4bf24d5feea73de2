//! What one call of the handshake function returned, in one enum.

use std::fmt;

pub use crate::code::{Role, SslErrorCode, Want};
use crate::error::HandshakeError;

/// The result of one call of the handshake function
/// ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/),
/// [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/) or
/// [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/)).
///
/// The raw return value is never lost: it is `1` for [`Done`](Self::Done), kept by the
/// [`Handshake`](crate::Handshake) for [`Want`](Self::Want) (see
/// [`Handshake::last_return`](crate::Handshake::last_return)), and carried in the error for
/// [`Shutdown`](Self::Shutdown) and [`Failed`](Self::Failed).
///
/// ```
/// use tlshake::{HandshakeOutcome, Want};
///
/// fn next_move(outcome: &HandshakeOutcome) -> &'static str {
///     match outcome {
///         HandshakeOutcome::Done => "established",
///         HandshakeOutcome::Want(Want::Read) => "wait until readable, then step again",
///         HandshakeOutcome::Want(Want::Write) => "wait until writable, then step again",
///         HandshakeOutcome::Want(_) => "call again later",
///         HandshakeOutcome::Shutdown(_) => "the peer shut the handshake down",
///         HandshakeOutcome::Failed(e) if e.verify_failed() => "certificate rejected",
///         HandshakeOutcome::Failed(_) => "fatal error",
///     }
/// }
/// assert_eq!(next_move(&HandshakeOutcome::Done), "established");
/// ```
#[derive(Debug)]
#[must_use = "the outcome says what to do next: wait for read or write, or stop"]
pub enum HandshakeOutcome {
    /// The return value was 1: the handshake completed and the connection is established.
    Done,
    /// The return value was < 0 with an `SSL_ERROR_WANT_*` code: nothing is wrong, the call
    /// must be repeated once the condition is met.
    Want(Want),
    /// The handshake did not complete but was shut down in a controlled way: the return
    /// value was 0, as the TLS specification allows, or -1 with `SSL_ERROR_ZERO_RETURN`, the
    /// peer's close_notify in place of a handshake message (how OpenSSL 3 reports it;
    /// [`HandshakeError::is_controlled_shutdown`], the error's
    /// [`ret`](HandshakeError::ret) keeps the value). This is the one meaning of "shut
    /// down" everywhere: every runner reports this end, and only this one, as its shutdown
    /// ([`engine::Outcome::Shutdown`](crate::engine::Outcome::Shutdown),
    /// [`Completed::Shutdown`](crate::Completed::Shutdown),
    /// [`ServerEvent::Shutdown`](crate::server::ServerEvent::Shutdown)).
    Shutdown(HandshakeError),
    /// The return value was < 0, not a retry condition and not a shutdown: a fatal error.
    Failed(HandshakeError),
}

impl HandshakeOutcome {
    /// True for [`Done`](Self::Done).
    pub fn is_done(&self) -> bool {
        matches!(self, HandshakeOutcome::Done)
    }

    /// The retry condition, for [`Want`](Self::Want).
    pub fn want(&self) -> Option<Want> {
        match self {
            HandshakeOutcome::Want(w) => Some(*w),
            _ => None,
        }
    }

    /// The error, for [`Shutdown`](Self::Shutdown) and [`Failed`](Self::Failed).
    pub fn error(&self) -> Option<&HandshakeError> {
        match self {
            HandshakeOutcome::Shutdown(e) | HandshakeOutcome::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// A short lower-case name: `"done"`, `"want_read"`, `"want_write"`, `"want"`,
    /// `"shutdown"`, `"failed"`.
    pub fn name(&self) -> &'static str {
        match self {
            HandshakeOutcome::Done => "done",
            HandshakeOutcome::Want(Want::Read) => "want_read",
            HandshakeOutcome::Want(Want::Write) => "want_write",
            HandshakeOutcome::Want(_) => "want",
            HandshakeOutcome::Shutdown(_) => "shutdown",
            HandshakeOutcome::Failed(_) => "failed",
        }
    }
}

impl fmt::Display for HandshakeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeOutcome::Done => f.write_str("handshake done"),
            HandshakeOutcome::Want(w) => write!(f, "handshake wants {w}"),
            HandshakeOutcome::Shutdown(e) => write!(f, "handshake shut down: {e}"),
            HandshakeOutcome::Failed(e) => write!(f, "handshake failed: {e}"),
        }
    }
}
