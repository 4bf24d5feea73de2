//! What a [`HandshakeSet`](super::HandshakeSet) hands back: how a handshake ended
//! ([`Outcome`], [`Ended`]) and what one step asks of the runner ([`Step`]).

use std::fmt;
use std::time::Duration;

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::Want;
use crate::stream::TlsStream;
use crate::wait;

use super::token::Token;

/// How a handshake of a [`HandshakeSet`](super::HandshakeSet) ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<S> {
    /// Completed: the stream, wrapped up as by [`Handshake::drive`](crate::Handshake::drive) (the
    /// [`NodelayPolicy`](crate::NodelayPolicy)'s after-handshake part, and
    /// `stats().duration` from insertion to the step that completed it).
    Done(TlsStream<S>),
    /// [`HandshakeOutcome::Failed`](crate::HandshakeOutcome::Failed); or, from [`HandshakeSet::fail_callback`](super::HandshakeSet::fail_callback), a
    /// callback-driven want the runner cannot wait for
    /// ([`ErrorKind::Callback`](crate::ErrorKind::Callback)).
    Failed(HandshakeError),
    /// [`HandshakeOutcome::Shutdown`](crate::HandshakeOutcome::Shutdown): shut down in a controlled way (return value 0, or the
    /// peer's close_notify in place of a handshake message), the one meaning of a shutdown.
    Shutdown(HandshakeError),
    /// Its deadline passed ([`ErrorKind::Timeout`](crate::ErrorKind::Timeout)).
    TimedOut(HandshakeError),
    /// Removed to make room for a new connection (the set was full and this one had
    /// received nothing), or to free a descriptor when `accept(2)` ran out of them.
    Evicted,
}

/// One handshake that left the set, with the value the caller gave it.
pub struct Ended<S, T> {
    /// Its token (now stale).
    pub token: Token,
    /// The caller's value given to [`HandshakeSet::insert`](super::HandshakeSet::insert).
    pub user: T,
    /// How it ended.
    pub outcome: Outcome<S>,
    /// From insertion to the `now` at which it ended (the error of an entry that did not
    /// complete carries the same time: [`HandshakeError::elapsed`](crate::HandshakeError::elapsed)).
    pub elapsed: Duration,
    /// Whether a runner was watching its socket when it ended.
    pub watched: Option<wait::Interest>,
    pub(super) rest: Option<Handshake<S>>,
}

impl<S, T> Ended<S, T> {
    /// The handshake of an entry that did not complete, still holding its transport (so a
    /// runner can deregister the descriptor before it is closed). `None` for `Done`, or once
    /// taken. Dropping the `Ended` closes it.
    pub fn take_handshake(&mut self) -> Option<Handshake<S>> {
        self.rest.take()
    }
}

impl<S, T: fmt::Debug> fmt::Debug for Ended<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ended")
            .field("token", &self.token)
            .field("user", &self.user)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// What one [`HandshakeSet::step`](super::HandshakeSet::step) asks of the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Watch the socket for `interest`; `previous` is what was watched before (`None`: not
    /// registered yet), so the runner changes its registration only when they differ.
    Watch {
        /// What to wait for now.
        interest: wait::Interest,
        /// What was watched before.
        previous: Option<wait::Interest>,
    },
    /// A callback-driven want ([`Interest::Caller`](super::Interest::Caller)): stop watching the socket (`previous`
    /// says whether it was watched) and hand `want` to the caller, who calls
    /// [`HandshakeSet::step`](super::HandshakeSet::step) again when the callback can make progress (the deadline still
    /// runs), or ends it with [`HandshakeSet::fail_callback`](super::HandshakeSet::fail_callback).
    Callback {
        /// The want returned by the handshake function.
        want: Want,
        /// What was watched before.
        previous: Option<wait::Interest>,
    },
    /// The handshake ended; collect it with [`HandshakeSet::poll_ended`](super::HandshakeSet::poll_ended).
    Ended,
    /// The token names no handshake in the set.
    Stale,
}
