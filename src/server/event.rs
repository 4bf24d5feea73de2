//! [`ServerEvent`]: what happened to one incoming connection, the same type for every
//! listener (the epoll [`TlsListener`](super::TlsListener) and, with the `tokio` feature,
//! `tlshake::tokio::AsyncTlsListener`), generic over the established stream; and
//! [`ListenerStats`], the counters every listener keeps of its events.

use std::fmt;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::HandshakeError;
use crate::multi::MultiError;
use crate::session::SessionInfo;
use crate::stream::TlsStream;

/// A connection whose TLS handshake completed, with the listener's stream type `S`.
///
/// From the epoll [`TlsListener`](super::TlsListener), `S` is a [`TlsStream`] in
/// **blocking** mode again (like a stream from `std::net::TcpListener`; nonblocking with
/// [`set_nonblocking_streams`](super::TlsListener::set_nonblocking_streams)); from the tokio
/// listener, an `AsyncTlsStream`. `TCP_NODELAY` is as the listener's
/// [`NodelayPolicy`](crate::NodelayPolicy) left it. The client's first data may already be
/// buffered (it can arrive with its Finished): an event loop reads while
/// [`TlsStream::buffered_len`] is above zero before it waits for the socket to become
/// readable.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted<S = TlsStream<TcpStream>> {
    /// The established connection, for application data.
    pub stream: S,
    /// The client's address (an IPv4 client of a dual-stack listener shows as IPv4).
    pub peer: SocketAddr,
    /// What was negotiated: protocol, cipher, ALPN, SNI, the client certificate and its
    /// verify result, and whether Encrypted Client Hello was accepted with the inner name
    /// ([`SessionInfo::ech`]; the inner name is then also [`SessionInfo::sni`]).
    pub session: SessionInfo,
    /// From `accept(2)` to the end of the handshake.
    pub handshake_time: Duration,
}

/// Why a connection was closed without a handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// `max_pending` handshakes were already in progress.
    TooManyPending {
        /// The configured limit.
        limit: usize,
    },
    /// The set was full (`max_pending`) or out of descriptors, and this connection, which
    /// had received nothing for longest, was closed to make room for a new one.
    Evicted {
        /// The configured `max_pending`.
        limit: usize,
    },
    /// The accepted socket could not be prepared: made blocking again once established,
    /// registered with epoll, or given an `SSL` object (`SSL_new`) and a
    /// server handshake. The source is what failed, as the runner reported it.
    Setup(#[source] MultiError),
}
impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::TooManyPending { limit, .. } => write!(f, "{limit} handshakes were already pending (max_pending); raise the limit or lower the handshake timeout")?,
            RejectReason::Evicted { limit, .. } => write!(f, "evicted after sending nothing while the server was full ({limit} pending at most, or no descriptor left) and another connection arrived")?,
            RejectReason::Setup(_) => write!(f, "the connection could not be set up")?,
        }
        crate::error::write_causes(self, f)
    }
}

/// What happened to one incoming connection, with the listener's stream type `S` (a
/// [`TlsStream`] from the epoll [`TlsListener`](super::TlsListener), blocking unless
/// [`set_nonblocking_streams`](super::TlsListener::set_nonblocking_streams) said otherwise; an
/// `AsyncTlsStream` from the tokio listener). The listener never stops because a handshake
/// failed: every failure is one event, and the next connection is served.
// The large variant is the common one: boxing it would allocate once per connection for
// nothing, while an event is moved only a few times.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent<S = TlsStream<TcpStream>> {
    /// The handshake completed.
    Established(Accepted<S>),
    /// The handshake failed (see the error's `kind()`, `hint()`, `reasons()` and
    /// `verify()`); the connection was closed. The same end as
    /// [`Completed::Failed`](crate::Completed::Failed). The tokio listener's loop, which
    /// has no callback to wait for, also ends a callback-driven want here
    /// ([`ErrorKind::Callback`](crate::ErrorKind::Callback)).
    Failed {
        /// The client.
        peer: SocketAddr,
        /// Everything OpenSSL said.
        error: HandshakeError,
    },
    /// The handshake was shut down in a controlled way
    /// ([`HandshakeOutcome::Shutdown`](crate::HandshakeOutcome::Shutdown)): `SSL_accept`
    /// returned 0, or the client sent close_notify in place of a handshake message
    /// (`SSL_ERROR_ZERO_RETURN`). The connection was closed. The same end as
    /// [`Completed::Shutdown`](crate::Completed::Shutdown).
    Shutdown {
        /// The client.
        peer: SocketAddr,
        /// Everything OpenSSL said.
        error: HandshakeError,
    },
    /// The handshake did not complete by its deadline (`handshake_timeout`); the connection
    /// was closed.
    TimedOut {
        /// The client.
        peer: SocketAddr,
        /// A [`Timeout`](crate::ErrorKind::Timeout) error: what the handshake was waiting for
        /// and how many bytes the client had sent.
        error: HandshakeError,
    },
    /// The connection was closed at once, without a handshake.
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// Why.
        reason: RejectReason,
    },
    /// Not an end: the handshake returned a callback-driven want (a ClientHello callback
    /// that asked to be called again, ...). It stays pending, its socket unwatched and its
    /// deadline running, until [`TlsListener::resume`](crate::server::TlsListener::resume). Only
    /// the epoll listener reports it.
    Callback {
        /// The client.
        peer: SocketAddr,
        /// The handshake's token, for `resume`.
        token: crate::engine::Token,
        /// What it wants.
        want: crate::outcome::Want,
    },
}

impl<S> ServerEvent<S> {
    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        match self {
            ServerEvent::Established(a) => a.peer,
            ServerEvent::Failed { peer, .. }
            | ServerEvent::Shutdown { peer, .. }
            | ServerEvent::TimedOut { peer, .. }
            | ServerEvent::Rejected { peer, .. }
            | ServerEvent::Callback { peer, .. } => *peer,
        }
    }

    /// The handshake error, for [`Failed`](Self::Failed), [`Shutdown`](Self::Shutdown) and
    /// [`TimedOut`](Self::TimedOut).
    pub fn error(&self) -> Option<&HandshakeError> {
        match self {
            ServerEvent::Failed { error, .. }
            | ServerEvent::Shutdown { error, .. }
            | ServerEvent::TimedOut { error, .. } => Some(error),
            _ => None,
        }
    }

    /// A short lower-case name: `established`, `failed`, `shutdown`, `timed_out`,
    /// `rejected`, `callback` (the names of [`Completed::name`](crate::Completed::name) for
    /// the same ends).
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::Established(_) => "established",
            ServerEvent::Failed { .. } => "failed",
            ServerEvent::Shutdown { .. } => "shutdown",
            ServerEvent::TimedOut { .. } => "timed_out",
            ServerEvent::Rejected { .. } => "rejected",
            ServerEvent::Callback { .. } => "callback",
        }
    }
}

impl<S> fmt::Display for ServerEvent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::Established(a) => {
                write!(
                    f,
                    "{}: established {} {}",
                    a.peer, a.session.protocol, a.session.cipher
                )?;
                if a.session.ech.status != crate::ech::EchStatus::NotAttempted {
                    write!(f, ", ECH {}", a.session.ech)?;
                }
                Ok(())
            }
            ServerEvent::Failed { peer, error } => write!(f, "{peer}: {error}"),
            ServerEvent::Shutdown { peer, error } => write!(f, "{peer}: shut down: {error}"),
            ServerEvent::TimedOut { peer, error } => write!(f, "{peer}: {error}"),
            ServerEvent::Rejected { peer, reason } => {
                // An event is no error: its line tells the causes too.
                write!(f, "{peer}: rejected: {reason}")?;
                let mut cause = std::error::Error::source(reason);
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                Ok(())
            }
            ServerEvent::Callback { peer, want, .. } => {
                write!(f, "{peer}: the handshake waits for a callback ({want})")
            }
        }
    }
}

/// Counters of a listener since it was bound (the same for the epoll and the tokio
/// listener).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenerStats {
    /// Connections accepted from the socket.
    pub accepted: u64,
    /// Handshakes that completed.
    pub established: u64,
    /// Handshakes that failed ([`ServerEvent::Failed`]).
    pub failed: u64,
    /// Handshakes shut down in a controlled way ([`ServerEvent::Shutdown`]).
    pub shutdown: u64,
    /// Handshakes closed at their deadline.
    pub timed_out: u64,
    /// Connections closed without a handshake.
    pub rejected: u64,
    /// Handshakes in progress now.
    pub pending: usize,
}

impl ListenerStats {
    /// Counts `event` (the one place events are counted) and hands it on.
    pub(crate) fn record<S>(&mut self, event: ServerEvent<S>) -> ServerEvent<S> {
        let counter = match &event {
            ServerEvent::Established(_) => &mut self.established,
            ServerEvent::Failed { .. } => &mut self.failed,
            ServerEvent::Shutdown { .. } => &mut self.shutdown,
            ServerEvent::TimedOut { .. } => &mut self.timed_out,
            ServerEvent::Rejected { .. } => &mut self.rejected,
            ServerEvent::Callback { .. } => return event,
        };
        *counter += 1;
        event
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn setup_failure() -> RejectReason {
        RejectReason::Setup(MultiError::Io {
            operation: "epoll_ctl",
            source: std::io::Error::from_raw_os_error(9),
        })
    }

    #[test]
    fn a_setup_failure_keeps_its_typed_cause() {
        let reason = setup_failure();
        let cause = reason.source().and_then(|c| c.downcast_ref::<MultiError>());
        let Some(MultiError::Io { operation, source }) = cause else {
            panic!("expected the runner's error as the source, got {cause:?}");
        };
        assert_eq!(*operation, "epoll_ctl");
        assert_eq!(source.raw_os_error(), Some(9));
        // The message is this level only: the cause is not repeated in it.
        let os = std::io::Error::from_raw_os_error(9).to_string();
        assert!(!reason.to_string().contains("epoll_ctl"), "{reason}");
        assert!(!reason.to_string().contains(&os), "{reason}");
        // The event's log line tells the whole chain, each part once.
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let line = ServerEvent::<TlsStream<TcpStream>>::Rejected {
            peer,
            reason: setup_failure(),
        }
        .to_string();
        assert_eq!(
            line,
            format!("127.0.0.1:5000: rejected: the connection could not be set up: epoll_ctl failed: {os}")
        );
    }

    #[test]
    fn accept_one_rejection_chains_to_the_reason() {
        let error = crate::server::ServerError::Rejected {
            peer: "127.0.0.1:5000".parse().unwrap(),
            reason: setup_failure(),
        };
        let reason = error
            .source()
            .and_then(|c| c.downcast_ref::<RejectReason>());
        assert!(matches!(reason, Some(RejectReason::Setup(_))), "{error:?}");
        assert_eq!(
            error.to_string(),
            "the connection from 127.0.0.1:5000 was rejected"
        );
    }
}
