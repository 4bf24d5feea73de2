//! The DTLS retransmission timer, written once for every runner: when it fires, in the
//! runner's time base, and what firing does.
//!
//! OpenSSL keeps the timer by its own clock
//! ([`DTLSv1_get_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_get_timeout/)). The
//! engine maps it into the caller's time: after a step at `now` that (re)started the timer
//! (the timer callback's generation changed), the timer fires at `now` plus the interval the
//! callback gave OpenSSL, exactly; a step that did not restart it leaves that time alone. At
//! that time the runner calls [`RetransmitClock::fire`], which calls
//! [`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/).
//! Should OpenSSL's clock say the timer has not expired yet (the caller's `now` ran ahead of
//! it), nothing is sent and the timer fires again after the time OpenSSL says is left.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::handshake::Handshake;
use crate::sys;

/// Never wait less than this for a timer OpenSSL says has not expired (it counts its last
/// 15 ms as expired, so more than that is always left).
const MIN_RECHECK: Duration = Duration::from_millis(1);

/// When one handshake's retransmission timer fires, in the runner's time base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RetransmitClock {
    due: Option<Instant>,
    generation: Option<u64>,
}

/// What [`RetransmitClock::fire`] left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fired {
    /// The flight was sent again (or OpenSSL's clock said not yet): keep waiting for what
    /// the handshake wanted, until [`RetransmitClock::due`] or the socket.
    Waiting,
    /// `DTLSv1_handle_timeout` failed: step the handshake, whose outcome says why (a fatal
    /// error after too many retransmissions, or a write that would block).
    Step,
}

impl RetransmitClock {
    /// When the timer fires next (`None`: no timer runs, TLS or DTLS alike).
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Re-reads `handshake`'s timer after a step at `now` that left it waiting. Returns the
    /// new due time when it changed (a set puts it on its heap), else `None`.
    pub(crate) fn rearm<S: Read + Write>(
        &mut self,
        handshake: &Handshake<S>,
        now: Instant,
    ) -> Option<Instant> {
        let Some(view) = handshake.dtls_timer() else {
            *self = RetransmitClock::default();
            return None;
        };
        let due = match view.tracked {
            Some((interval, generation)) => {
                if self.due.is_some() && self.generation == Some(generation) {
                    return None;
                }
                self.generation = Some(generation);
                now + interval
            }
            None => now + view.remaining,
        };
        if self.due == Some(due) {
            return None;
        }
        self.due = Some(due);
        self.due
    }

    /// The timer is due at `now`: sends the last flight again
    /// ([`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/))
    /// and re-arms.
    pub(crate) fn fire<S: Read + Write>(
        &mut self,
        handshake: &mut Handshake<S>,
        now: Instant,
    ) -> Fired {
        self.due = None;
        match handshake.handle_dtls_timeout() {
            1.. => {
                self.rearm(handshake, now);
                Fired::Waiting
            }
            0 => {
                // Not expired by OpenSSL's clock: check again when it says.
                if let Some(view) = handshake.dtls_timer() {
                    self.generation = view.tracked.map(|(_, g)| g);
                    self.due = Some(now + view.remaining.max(MIN_RECHECK));
                }
                Fired::Waiting
            }
            _ => Fired::Step,
        }
    }
}

/// What a runner waiting for one handshake woke for, when the wait timed out at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woke {
    /// The handshake's deadline passed: it ends with the typed timeout.
    Deadline,
    /// The retransmission timer is due: [`RetransmitClock::fire`].
    Timer,
    /// Neither (woken early): wait again.
    Early,
}

/// The instant a runner waits until: the deadline or the timer, whichever comes first.
pub(crate) fn wake_at(deadline: Option<Instant>, clock: &RetransmitClock) -> Option<Instant> {
    match (deadline, clock.due()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Why a wait until [`wake_at`] ended at `now`. The deadline wins when both are due: a
/// handshake never runs past it to retransmit.
pub(crate) fn woke(deadline: Option<Instant>, clock: &RetransmitClock, now: Instant) -> Woke {
    if deadline.is_some_and(|d| now >= d) {
        Woke::Deadline
    } else if clock.due().is_some_and(|t| now >= t) {
        Woke::Timer
    } else {
        Woke::Early
    }
}

/// The retransmission timer of a handshake, when OpenSSL runs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimerView {
    /// Time left by OpenSSL's clock (`DTLSv1_get_timeout`).
    remaining: Duration,
    /// With the timer callback of [`DtlsOptions`](crate::dtls::DtlsOptions): the interval of
    /// the running timer and the callback's generation (a new one: the timer was restarted).
    tracked: Option<(Duration, u64)>,
}

impl<S: Read + Write> Handshake<S> {
    /// The retransmission timer OpenSSL runs now, if any (never for TLS).
    fn dtls_timer(&self) -> Option<TimerView> {
        let ssl = self.ssl();
        if !sys::dtls::is_dtls(ssl) {
            return None;
        }
        let remaining = sys::dtls::get_timeout(ssl)?;
        let tracked = sys::dtls::timer_state(ssl).map(|s| (s.interval(), s.generation()));
        Some(TimerView { remaining, tracked })
    }

    /// [`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/):
    /// 1 retransmitted, 0 not expired by OpenSSL's clock, -1 an error.
    /// A failure's errors are kept for the step that reports it.
    fn handle_dtls_timeout(&mut self) -> std::os::raw::c_long {
        sys::clear_error_queue();
        let ret = sys::dtls::handle_timeout(self.stream_mut());
        if ret < 0 {
            let errors = crate::handshake::drain_error_queue();
            self.carry_errors(errors);
        } else {
            sys::clear_error_queue();
        }
        ret
    }
}
