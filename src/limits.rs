//! The open-file limit, and the errors of running into it.
//!
//! Every socket in flight is one file descriptor, so a process that holds thousands of
//! handshakes at once meets `RLIMIT_NOFILE` long before anything else: with the usual soft
//! limit of 1024, the 1021st `socket(2)` or `accept(2)` fails with `EMFILE`. The soft limit can
//! be raised by the process itself up to the hard limit, which only a privileged process can
//! raise ([`getrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html)).
//!
//! ```
//! let (old_soft, new_soft) = tlshake::raise_nofile_limit()?;
//! assert!(new_soft >= old_soft);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// A system call failed because a limit on open files or watched descriptors was reached.
/// `Display` names the limit and how to raise it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// `EMFILE`: this process has as many descriptors open as `RLIMIT_NOFILE` allows.
    TooManyOpenFiles {
        /// What failed (`"socket"`, `"accept"`, `"epoll_create1"`, ...).
        operation: &'static str,
        /// The soft limit when the call failed.
        soft: u64,
        /// The hard limit when the call failed.
        hard: u64,
        /// The operating-system error (`EMFILE`).
        #[source]
        source: io::Error,
    },
    /// `ENFILE`: the whole system has as many files open as `fs.file-max` allows.
    SystemFileTableFull {
        /// What failed.
        operation: &'static str,
        /// The operating-system error (`ENFILE`).
        #[source]
        source: io::Error,
    },
    /// `ENOSPC` from `epoll_ctl`: this user watches as many descriptors as
    /// `fs.epoll.max_user_watches` allows.
    TooManyWatches {
        /// What failed.
        operation: &'static str,
        /// The operating-system error (`ENOSPC`).
        #[source]
        source: io::Error,
    },
}
impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::TooManyOpenFiles { operation, soft, hard, .. } => write!(f, "{operation} failed: this process reached its open-file limit (RLIMIT_NOFILE soft limit \
         {soft}, hard limit {hard}); raise the soft limit with \
         tlshake::limits::raise_nofile_limit() or `ulimit -n`, or hold fewer connections")?,
            LimitError::SystemFileTableFull { operation, .. } => write!(f, "{operation} failed: the system-wide open-file table is full (sysctl fs.file-max); \
         close files in other processes or raise fs.file-max")?,
            LimitError::TooManyWatches { operation, .. } => write!(f, "{operation} failed: the per-user epoll watch limit was reached (sysctl \
         fs.epoll.max_user_watches); raise it or hold fewer connections")?,
        }
        crate::error::write_causes(self, f)
    }
}

impl LimitError {
    /// Names the limit behind `error` when it is one (`EMFILE`, `ENFILE`, or `ENOSPC` from
    /// `epoll_ctl`), reading the current `RLIMIT_NOFILE` for the message; gives the error back
    /// unchanged otherwise.
    pub fn classify(operation: &'static str, error: io::Error) -> Result<LimitError, io::Error> {
        match error.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EMFILE) => {
                let (soft, hard) = nofile_limit().unwrap_or((0, 0));
                Ok(LimitError::TooManyOpenFiles {
                    operation,
                    soft,
                    hard,
                    source: error,
                })
            }
            Some(Errno::ENFILE) => Ok(LimitError::SystemFileTableFull {
                operation,
                source: error,
            }),
            Some(Errno::ENOSPC) if operation.starts_with("epoll") => {
                Ok(LimitError::TooManyWatches {
                    operation,
                    source: error,
                })
            }
            _ => Err(error),
        }
    }

    /// The operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            LimitError::TooManyOpenFiles { operation, .. }
            | LimitError::SystemFileTableFull { operation, .. }
            | LimitError::TooManyWatches { operation, .. } => operation,
        }
    }
}

/// The `RLIMIT_NOFILE` soft and hard limits of this process
/// ([`getrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html)).
/// `u64::MAX` stands for `RLIM_INFINITY`.
pub fn nofile_limit() -> io::Result<(u64, u64)> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    Ok((soft, hard))
}

/// Raises this process's `RLIMIT_NOFILE` soft limit to its hard limit
/// ([`setrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html)) and returns
/// `(old_soft, new_soft)`.
///
/// An unprivileged process may raise its soft limit up to the hard limit and no further; the
/// hard limit is left as it is. When the soft limit already equals the hard limit nothing is
/// changed. Call it once at start-up, before opening thousands of sockets; descriptors are
/// process-wide, so it affects every thread.
pub fn raise_nofile_limit() -> io::Result<(u64, u64)> {
    let (soft, hard) = nofile_limit()?;
    if soft >= hard {
        return Ok((soft, soft));
    }
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).map_err(io::Error::from)?;
    let (new_soft, _) = nofile_limit()?;
    Ok((soft, new_soft))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_names_the_limit_and_the_fix() {
        let e = LimitError::classify("accept", io::Error::from_raw_os_error(libc::EMFILE))
            .expect("EMFILE is a limit");
        let (soft, hard) = nofile_limit().expect("getrlimit");
        match &e {
            LimitError::TooManyOpenFiles {
                operation,
                soft: s,
                hard: h,
                ..
            } => {
                assert_eq!(*operation, "accept");
                assert_eq!((*s, *h), (soft, hard));
            }
            other => panic!("wrong variant: {other:?}"),
        }
        let text = e.to_string();
        assert!(text.contains("RLIMIT_NOFILE"), "{text}");
        assert!(text.contains("raise_nofile_limit"), "{text}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn enfile_and_enospc_are_named() {
        let e = LimitError::classify("socket", io::Error::from_raw_os_error(libc::ENFILE))
            .expect("ENFILE is a limit");
        assert!(matches!(e, LimitError::SystemFileTableFull { .. }));
        assert!(e.to_string().contains("fs.file-max"));
        let e = LimitError::classify("epoll_ctl", io::Error::from_raw_os_error(libc::ENOSPC))
            .expect("ENOSPC from epoll_ctl is a limit");
        assert!(e.to_string().contains("max_user_watches"));
        assert_eq!(e.operation(), "epoll_ctl");
    }

    #[test]
    fn other_errors_are_given_back() {
        let back = LimitError::classify("socket", io::Error::from_raw_os_error(libc::EACCES))
            .expect_err("EACCES is not a limit");
        assert_eq!(back.raw_os_error(), Some(libc::EACCES));
        let back = LimitError::classify("write", io::Error::from_raw_os_error(libc::ENOSPC))
            .expect_err("ENOSPC outside epoll is a full disk");
        assert_eq!(back.raw_os_error(), Some(libc::ENOSPC));
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let (_, hard) = nofile_limit().expect("getrlimit");
        let (old, new) = raise_nofile_limit().expect("setrlimit");
        assert!(new >= old);
        assert_eq!(new, hard);
        assert_eq!(nofile_limit().expect("getrlimit").0, hard);
    }
}
