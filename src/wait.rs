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
    loop {
        let remaining = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(Readiness::TimedOut);
                }
                Some(d - now)
            }
            None => None,
        };
        let result = if uses_select(fd) {
            select_once(fd, interest, remaining)
        } else {
            poll_once(fd, interest, remaining)
        };
        match result {
            Ok(true) => return Ok(Readiness::Ready),
            Ok(false) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Readiness::TimedOut);
                }
                // Woken early (timer granularity): go round with the time left.
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// True when `fd` fits in an `fd_set`, so `select(2)` can be used.
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
    let events = match interest {
        Interest::Readable => PollFlags::POLLIN,
        Interest::Writable => PollFlags::POLLOUT,
    };
    let mut fds = [PollFd::new(fd, events)];
    let timeout = match remaining {
        None => PollTimeout::NONE,
        Some(r) => {
            // Milliseconds, rounded up, capped at what poll accepts.
            let ms = r.as_micros().div_ceil(1000);
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    };
    let n = nix::poll::poll(&mut fds, timeout)?;
    Ok(n > 0)
}
