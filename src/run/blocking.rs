//! The blocking runner: one handshake on one descriptor, waited on with `select(2)` below
//! `FD_SETSIZE` and `poll(2)` above ([`wait_for`](crate::wait::wait_for)).

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::Instant;

use crate::deadline::Deadline;
use crate::engine::{interest, Interest};
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::HandshakeOutcome;
use crate::stream::TlsStream;
use crate::wait::{self, Readiness};

/// Steps `handshake` until it ends, waiting on its socket for each want, until `deadline`
/// (`None`: no deadline). A callback-driven want cannot be waited for on the socket: it
/// ends the loop with an [`ErrorKind::Callback`](crate::ErrorKind::Callback) error.
pub(crate) fn drive<S: Read + Write + AsFd>(
    mut handshake: Handshake<S>,
    deadline: Deadline,
) -> Result<TlsStream<S>, HandshakeError> {
    let started = Instant::now();
    handshake.begin_nodelay();
    loop {
        match handshake.step() {
            HandshakeOutcome::Done => break,
            HandshakeOutcome::Want(want) => match interest(want) {
                Interest::Socket(on) => {
                    if on == wait::Interest::Readable && handshake.transport().buffered() > 0 {
                        continue;
                    }
                    let fd = handshake.transport().get_ref();
                    match wait::wait_for(fd, on, deadline.instant()) {
                        Ok(Readiness::Ready) => {}
                        Ok(Readiness::TimedOut) => {
                            return Err(handshake.timeout_error(want, started.elapsed()))
                        }
                        Err(e) => return Err(handshake.wait_error(want, e)),
                    }
                }
                Interest::Caller(want) => {
                    return Err(handshake.callback_error(want, started.elapsed()))
                }
            },
            HandshakeOutcome::Shutdown(mut e) | HandshakeOutcome::Failed(mut e) => {
                e.inner_mut().elapsed = Some(started.elapsed());
                return Err(e);
            }
        }
    }
    let elapsed = started.elapsed();
    Ok(handshake.established(Some(elapsed)))
}
