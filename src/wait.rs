//! Waiting for a socket to become readable or writable, with a deadline.
//!
//! `select(2)` is used while the descriptor fits in an `fd_set` (below `FD_SETSIZE`, 1024 on
//! Linux) and `poll(2)` beyond, so a process with thousands of descriptors open works. A
//! signal (`EINTR`) restarts the wait with the time that is left, and the deadline is never
//! extended.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::deadline::Deadline;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::select::{FdSet, FD_SETSIZE};
use nix::sys::time::{TimeVal, TimeValLike};

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Data (or end-of-file, or an error) can be read.
    Readable,
    /// Data can be written (or an error is pending).
    Writable,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The descriptor is ready (or in error: the next call on it reports the error).
    Ready,
    /// The deadline passed first.
    TimedOut,
}

/// Waits until `fd` is ready for `interest`, or until `deadline` (`None`: no deadline).
///
/// Uses [`select(2)`](https://man7.org/linux/man-pages/man2/select.2.html) when the descriptor
/// is below `FD_SETSIZE` and [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html)
/// otherwise; retries on `EINTR` with the remaining time; returns
/// [`Readiness::TimedOut`] without waiting when the deadline has already passed.
pub fn wait_for<F: AsFd>(
    fd: &F,
    interest: Interest,
    deadline: Option<Instant>,
) -> io::Result<Readiness> {
    let fd = fd.as_fd();
    let deadline = Deadline::from(deadline);
    loop {
        let remaining = deadline.remaining();
        if remaining.is_some_and(|r| r.is_zero()) {
            return Ok(Readiness::TimedOut);
        }
        let result = if uses_select(fd) {
            select_once(fd, interest, remaining)
        } else {
            poll_once(fd, interest, remaining)
        };
        match result {
            Ok(true) => return Ok(Readiness::Ready),
            Ok(false) => {
                if deadline.has_passed() {
                    return Ok(Readiness::TimedOut);
                }
                // Woken early (timer granularity): go round with the time left.
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Waits until at least one of `fds` is ready for the interest paired with it, or until
/// `deadline` (`None`: no deadline).
///
/// For one thread that drives several nonblocking connections, such as both ends of a
/// loopback pair in a test: step every end, then wait here for the descriptors whose ends
/// want more, instead of trying again at once. Uses
/// [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html) (any descriptor number);
/// retries on `EINTR` with the remaining time; an empty `fds` waits for the deadline alone.
pub fn wait_for_any(
    fds: &[(BorrowedFd<'_>, Interest)],
    deadline: Option<Instant>,
) -> io::Result<Readiness> {
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|&(fd, interest)| PollFd::new(fd, poll_flags(interest)))
        .collect();
    let deadline = Deadline::from(deadline);
    loop {
        let remaining = deadline.remaining();
        if remaining.is_some_and(|r| r.is_zero()) {
            return Ok(Readiness::TimedOut);
        }
        match nix::poll::poll(&mut polled, poll_timeout(remaining)) {
            Ok(n) if n > 0 => return Ok(Readiness::Ready),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// True when `fd` fits in an `fd_set`, so `select(2)` can be used.
#[doc(hidden)]
pub fn uses_select(fd: BorrowedFd<'_>) -> bool {
    usize::try_from(fd.as_raw_fd()).is_ok_and(|n| n < FD_SETSIZE)
}

fn select_once(
    fd: BorrowedFd<'_>,
    interest: Interest,
    remaining: Option<Duration>,
) -> nix::Result<bool> {
    let mut set = FdSet::new();
    set.insert(fd);
    let mut tv = remaining.map(|r| {
        // Round up so that a wait never ends just before the deadline and spins.
        TimeVal::microseconds(
            i64::try_from(r.as_micros())
                .unwrap_or(i64::MAX)
                .saturating_add(1),
        )
    });
    let n = match interest {
        Interest::Readable => {
            nix::sys::select::select(None, Some(&mut set), None, None, tv.as_mut())?
        }
        Interest::Writable => {
            nix::sys::select::select(None, None, Some(&mut set), None, tv.as_mut())?
        }
    };
    Ok(n > 0)
}

fn poll_once(
    fd: BorrowedFd<'_>,
    interest: Interest,
    remaining: Option<Duration>,
) -> nix::Result<bool> {
    let mut fds = [PollFd::new(fd, poll_flags(interest))];
    let n = nix::poll::poll(&mut fds, poll_timeout(remaining))?;
    Ok(n > 0)
}

fn poll_flags(interest: Interest) -> PollFlags {
    match interest {
        Interest::Readable => PollFlags::POLLIN,
        Interest::Writable => PollFlags::POLLOUT,
    }
}

/// A wait's timeout for the time left, in whole milliseconds rounded up (a wait never ends
/// just before the deadline and spins), capped at `max`; `none` when there is no deadline.
/// The one rounding of every runner: [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html)
/// here, [`epoll_wait(2)`](https://man7.org/linux/man-pages/man2/epoll_wait.2.html) in the
/// epoll runner and in loops built on [`TlsListener::poll_timeout`](crate::server::TlsListener::poll_timeout).
pub fn millis_rounded_up<T: TryFrom<u128>>(remaining: Option<Duration>, none: T, max: T) -> T {
    match remaining {
        None => none,
        Some(r) => T::try_from(r.as_micros().div_ceil(1000)).unwrap_or(max),
    }
}

fn poll_timeout(remaining: Option<Duration>) -> PollTimeout {
    millis_rounded_up(remaining, PollTimeout::NONE, PollTimeout::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn any_of_two_wakes_for_the_one_that_is_readable() {
        let (a, _a_peer) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        let fds = [
            (a.as_fd(), Interest::Readable),
            (b.as_fd(), Interest::Readable),
        ];
        let soon = Instant::now() + Duration::from_millis(30);
        assert_eq!(wait_for_any(&fds, Some(soon)).unwrap(), Readiness::TimedOut);
        assert!(Instant::now() >= soon);
        b_peer.write_all(b"x").unwrap();
        let later = Instant::now() + Duration::from_secs(5);
        assert_eq!(wait_for_any(&fds, Some(later)).unwrap(), Readiness::Ready);
        assert!(Instant::now() < later);
    }

    #[test]
    fn timeouts_round_up_to_the_next_millisecond() {
        let ms = |r| millis_rounded_up::<i64>(r, -1, i64::MAX);
        assert_eq!(ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(ms(Some(Duration::from_micros(1))), 1);
        assert_eq!(ms(Some(Duration::ZERO)), 0);
        assert_eq!(ms(None), -1);
        let max = millis_rounded_up::<u8>(Some(Duration::from_secs(9)), 0, u8::MAX);
        assert_eq!(max, u8::MAX);
    }

    #[test]
    fn nothing_to_wait_for_ends_at_the_deadline() {
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(wait_for_any(&[], Some(soon)).unwrap(), Readiness::TimedOut);
        assert!(Instant::now() >= soon);
    }
}
