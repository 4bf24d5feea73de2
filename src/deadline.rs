//! [`Deadline`]: the one way time is bounded, read by name resolution, connect, STARTTLS,
//! the handshake and the exchange after it.

use std::io;
use std::time::{Duration, Instant};

/// An instant by which something must be done, or none at all.
///
/// Every bounded step of a connection reads the same value: the resolver thread waits for
/// its answer until it ([`remaining`](Self::remaining)), `connect(2)` and each STARTTLS read
/// or write get the time left as their socket timeout ([`time_left`](Self::time_left)), and
/// the handshake's `select(2)` / `poll(2)` / `epoll_wait(2)` wait for at most the time left,
/// rounded up to the next millisecond. Nothing is extended: a step that starts late gets
/// less time.
///
/// ```
/// use std::time::{Duration, Instant};
/// use tlshake::internals::Deadline;
///
/// let now = Instant::now();
/// let d = Deadline::at(now + Duration::from_secs(5));
/// assert_eq!(d.remaining_at(now), Some(Duration::from_secs(5)));
/// assert_eq!(d.remaining_at(now + Duration::from_secs(9)), Some(Duration::ZERO));
/// assert_eq!(Deadline::NEVER.remaining_at(now), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: wait as long as it takes.
    pub const NEVER: Deadline = Deadline(None);

    /// The deadline `instant`.
    pub fn at(instant: Instant) -> Deadline {
        Deadline(Some(instant))
    }

    /// `timeout` from now (reads the clock).
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(Some(Instant::now() + timeout))
    }

    /// The instant, if there is one.
    pub fn instant(self) -> Option<Instant> {
        self.0
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }

    /// The time left at `now` (zero once passed); `None` without a deadline.
    pub fn remaining_at(self, now: Instant) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(now))
    }

    /// The time left now (reads the clock).
    pub fn remaining(self) -> Option<Duration> {
        self.remaining_at(Instant::now())
    }

    /// True once the deadline is `now` or earlier.
    pub fn has_passed_at(self, now: Instant) -> bool {
        self.0.is_some_and(|d| now >= d)
    }

    /// True once the deadline has passed (reads the clock).
    pub fn has_passed(self) -> bool {
        self.has_passed_at(Instant::now())
    }

    /// The time left as a socket timeout
    /// ([`setsockopt(2)`](https://man7.org/linux/man-pages/man7/socket.7.html) `SO_RCVTIMEO`
    /// / `SO_SNDTIMEO`, through `TcpStream::set_read_timeout`): never zero, which those
    /// refuse; an error of kind `TimedOut` naming `what` once the deadline has passed;
    /// `None` without a deadline.
    pub fn time_left(self, what: &str) -> io::Result<Option<Duration>> {
        match self.remaining() {
            None => Ok(None),
            Some(left) if left.is_zero() => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{what} deadline passed"),
            )),
            Some(left) => Ok(Some(left)),
        }
    }
}

impl From<Instant> for Deadline {
    fn from(instant: Instant) -> Deadline {
        Deadline::at(instant)
    }
}

impl From<Option<Instant>> for Deadline {
    fn from(instant: Option<Instant>) -> Deadline {
        Deadline(instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_is_a_timeout_never_a_zero_socket_timeout() {
        let past = Deadline::at(Instant::now());
        let e = past.time_left("STARTTLS").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(e.to_string(), "STARTTLS deadline passed");
        assert_eq!(Deadline::NEVER.time_left("x").unwrap(), None);
        let later = Deadline::after(Duration::from_secs(60));
        assert!(later
            .time_left("x")
            .unwrap()
            .is_some_and(|l| l > Duration::ZERO));
        assert_eq!(past.min(Deadline::NEVER), past);
        assert_eq!(later.min(past), past);
    }
}
