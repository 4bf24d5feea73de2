//! The rules every runner follows the same way, written once. A runner (blocking, epoll,
//! tokio) only waits: it calls these and does what they say.
//!
//! * **A run has a start.** [`Handshake::begin`] applies the nodelay policy and records the
//!   runner's `now`; every error that ends the handshake (a failure or a shutdown from
//!   [`Handshake::step_timed`], a timeout, a callback the runner cannot wait for) carries the
//!   time from that start, and so does the stream's duration.
//! * **Bytes read ahead are readable.** The transport reads ahead during the handshake, and
//!   bytes it holds do not make the socket readable again: a read want with bytes buffered
//!   is a step now, not a wait ([`next_wait`]).
//! * **Shut down means one thing.** [`HandshakeOutcome::Shutdown`] is a controlled
//!   shutdown (return value 0, or the peer's close_notify), classified once by
//!   [`Handshake::step`]; runners pass it on as their own shutdown and never reclassify.
//! * **A DTLS handshake also waits for its timer.** It waits for readability or its
//!   retransmission timer, whichever comes first, under the one deadline; the deadline wins
//!   when both are due, and what firing the timer does is written once in `timer.rs`.

use std::io::{Read, Write};
use std::time::Instant;

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Want};
use crate::wait;

use super::interest::{interest, Interest};

impl<S: Read + Write> Handshake<S> {
    /// [`step`](Self::step) for a runner that keeps time: an outcome that ends the handshake
    /// (`Shutdown`, `Failed`) carries the time from [`begin`](Self::begin) to `now()`, which
    /// is read only then.
    pub(crate) fn step_timed(&mut self, now: impl FnOnce() -> Instant) -> HandshakeOutcome {
        match self.step() {
            HandshakeOutcome::Shutdown(e) => HandshakeOutcome::Shutdown(self.stamped(e, now())),
            HandshakeOutcome::Failed(e) => HandshakeOutcome::Failed(self.stamped(e, now())),
            other => other,
        }
    }

    fn stamped(&self, mut error: HandshakeError, now: Instant) -> HandshakeError {
        let elapsed = self.elapsed(now);
        let inner = error.inner_mut();
        inner.elapsed = elapsed;
        if let Some(crate::hint::Hint::DatagramTimeout { elapsed: e, .. }) = &mut inner.hint {
            *e = elapsed.unwrap_or_default();
        }
        error
    }
}

/// What a runner does before it steps `handshake` again after it returned
/// `Want(want)`: `None` to step again at once (a read want with bytes the transport read
/// ahead, which will not make the socket readable), else the [`interest`] of the want.
pub(crate) fn next_wait<S: Read + Write>(handshake: &Handshake<S>, want: Want) -> Option<Interest> {
    match interest(want) {
        Interest::Socket(wait::Interest::Readable) if handshake.transport().buffered() > 0 => None,
        other => Some(other),
    }
}
