//! The accept policy of a set that takes connections from a listener: how many handshakes
//! may be pending, and what a failed `accept(2)` means.

use std::io;
use std::time::{Duration, Instant};

/// How long a listener rests after `accept(2)` failed with nothing to evict.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Limits of a [`HandshakeSet`](super::HandshakeSet) fed by a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptPolicy {
    /// Handshakes pending at most (`None`: no limit). When a new connection arrives and the
    /// set is full, the pending connection that has made the least progress (fewest bytes
    /// received; the oldest of those) is evicted if it has received nothing, else the new
    /// connection is refused.
    pub max_pending: Option<usize>,
    /// How long to stop accepting after an `accept(2)` error that eviction cannot cure.
    pub backoff: Duration,
}

impl Default for AcceptPolicy {
    fn default() -> AcceptPolicy {
        AcceptPolicy {
            max_pending: None,
            backoff: ACCEPT_BACKOFF,
        }
    }
}

/// What a runner does after `accept(2)` failed
/// ([`accept(2)`](https://man7.org/linux/man-pages/man2/accept.2.html), errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptAction {
    /// The queue is empty (`EAGAIN`): wait for the listener to be readable again.
    Drained,
    /// This one connection is gone (`ECONNABORTED`, `EINTR`, ...): accept the next.
    Next,
    /// Out of descriptors (`EMFILE`, `ENFILE`), and an idle pending connection was evicted to
    /// free one: accept again now. The evicted entry is among the set's ended entries.
    Retry,
    /// Stop accepting until this instant, then watch the listener again.
    Backoff(Instant),
}

/// True for `EMFILE`, `ENFILE`, `ENOBUFS` and `ENOMEM`: a shortage of resources, which
/// evicting an idle connection may cure.
pub(crate) fn is_shortage(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// True for the errors that concern one connection only.
pub(crate) fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(error.raw_os_error(), Some(libc::EPROTO | libc::EPERM))
}
