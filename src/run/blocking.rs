//! The blocking runner: one handshake on one descriptor, waited on with `select(2)` below
//! `FD_SETSIZE` and `poll(2)` above ([`wait_for`](crate::wait::wait_for)); a DTLS handshake
//! waits for readability or its retransmission timer, whichever comes first, under the
//! deadline.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::Instant;

use crate::deadline::Deadline;
use crate::engine::timer::{self, Fired, RetransmitClock, Woke};
use crate::engine::{next_wait, Interest};
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::HandshakeOutcome;
use crate::stream::TlsStream;
use crate::wait::{self, Readiness};

impl<S: Read + Write + AsFd> Handshake<S> {
    /// Drives the handshake on a **nonblocking** socket until it is done, fails, or `deadline`
    /// passes.
    ///
    /// The loop, step by step:
    /// 1. apply the [`NodelayPolicy`](crate::NodelayPolicy);
    /// 2. call the handshake function ([`step`](Self::step));
    /// 3. on `Want::Read`, wait until the socket is readable; on `Want::Write`, until it is
    ///    writable (select below `FD_SETSIZE`, poll above; `EINTR` retried with the time
    ///    left); then go to 2;
    /// 4. at the deadline, return an [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error; the wait never runs past it.
    ///
    /// A DTLS handshake's wait also ends at its retransmission timer
    /// ([`dtls`](crate::dtls)), which sends the last flight again and waits on.
    ///
    /// On a blocking socket the loop also works, but a blocked read cannot be cut at the
    /// deadline: set the socket nonblocking first.
    pub fn drive(self, deadline: Instant) -> Result<TlsStream<S>, HandshakeError> {
        self.run(Some(deadline))
    }

    /// Runs the handshake to the end with no deadline (blocking or nonblocking socket).
    pub fn finish(self) -> Result<TlsStream<S>, HandshakeError> {
        self.run(None)
    }

    fn run(self, deadline: Option<Instant>) -> Result<TlsStream<S>, HandshakeError> {
        crate::run::blocking::drive(self, deadline.into())
    }
}

/// Steps `handshake` until it ends, waiting on its socket for each want, until `deadline`
/// (`None`: no deadline). A callback-driven want cannot be waited for on the socket: it
/// ends the loop with an [`ErrorKind::Callback`](crate::ErrorKind::Callback) error. A DTLS
/// handshake's wait also ends at its retransmission timer, which sends the last flight
/// again and waits on.
pub(crate) fn drive<S: Read + Write + AsFd>(
    mut handshake: Handshake<S>,
    deadline: Deadline,
) -> Result<TlsStream<S>, HandshakeError> {
    handshake.begin(Instant::now());
    let mut clock = RetransmitClock::default();
    loop {
        let want = match handshake.step_timed(Instant::now) {
            HandshakeOutcome::Done => return Ok(handshake.established(Instant::now())),
            HandshakeOutcome::Want(want) => want,
            HandshakeOutcome::Shutdown(e) | HandshakeOutcome::Failed(e) => return Err(e),
        };
        clock.rearm(&handshake, Instant::now());
        match next_wait(&handshake, want) {
            None => {}
            Some(Interest::Socket(on)) => loop {
                let until = timer::wake_at(deadline.instant(), &clock);
                let fd = handshake.transport().get_ref();
                match wait::wait_for(fd, on, until) {
                    Ok(Readiness::Ready) => break,
                    Ok(Readiness::TimedOut) => {
                        let now = Instant::now();
                        match timer::woke(deadline.instant(), &clock, now) {
                            Woke::Deadline => return Err(handshake.timeout_error(want, now)),
                            Woke::Timer => match clock.fire(&mut handshake, now) {
                                Fired::Waiting => {}
                                Fired::Step => break,
                            },
                            Woke::Early => {}
                        }
                    }
                    Err(e) => return Err(handshake.wait_error(want, e)),
                }
            },
            Some(Interest::Caller(want)) => {
                return Err(handshake.callback_error(want, Instant::now()))
            }
        }
    }
}
