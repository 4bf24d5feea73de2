//! The handshakes in progress of one listener: an adapter over the epoll runner and its
//! [`HandshakeSet`](crate::engine::HandshakeSet), the same ones
//! [`MultiDriver`](crate::MultiDriver) uses.
//!
//! Each accepted connection becomes a server [`Handshake`] on a nonblocking socket, watched
//! for the ClientHello and stepped only when its socket is ready; deadlines sit in the set's
//! heap. When `max_pending` handshakes are in progress, a new connection evicts the pending
//! one that has received nothing for longest; when every pending one has made progress, the
//! new one is closed. When `accept(2)` runs out of descriptors, an idle pending connection is
//! evicted to free one, or the listener rests for 100 ms: the server never stops for it.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext};

use crate::engine::{AcceptPolicy, Ended, Outcome, Token, ACCEPT_BACKOFF};
use crate::handshake::Handshake;
use crate::multi::MultiError;
use crate::nodelay::NodelayPolicy;
use crate::run::epoll::{Event, MakeHandshake, Reactor};
use crate::server::error::{ServerConfigError, ServerError};
use crate::server::event::{Accepted, ListenerStats, RejectReason, ServerEvent};

/// The per-connection settings of the engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EngineSettings {
    pub(crate) handshake_timeout: Duration,
    pub(crate) nodelay: NodelayPolicy,
    pub(crate) max_pending: usize,
}

/// The listening socket and the runner that drives its handshakes.
pub(crate) struct Engine {
    reactor: Reactor<TcpStream, SocketAddr>,
    listener: Token,
    context: SslContext,
    settings: EngineSettings,
    stats: ListenerStats,
}

impl Engine {
    /// Takes a bound, listening socket (made nonblocking here) and the server context.
    pub(crate) fn new(
        listener: TcpListener,
        context: SslContext,
        settings: EngineSettings,
    ) -> Result<Engine, ServerConfigError> {
        let policy = AcceptPolicy {
            max_pending: Some(settings.max_pending),
            backoff: ACCEPT_BACKOFF,
        };
        let mut reactor = Reactor::new(policy).map_err(setup_error)?;
        let make: MakeHandshake<TcpStream, SocketAddr> = {
            let context = context.clone();
            let nodelay = settings.nodelay;
            Box::new(move |tcp, peer| {
                let mut ssl = Ssl::new(&context).map_err(|e| MultiError::Ssl(e.into()))?;
                crate::handshake::add_rejected_leaf_slot(&mut ssl)
                    .map_err(|e| MultiError::Ssl(e.into()))?;
                let mut handshake = Handshake::server(ssl, tcp).map_err(MultiError::Setup)?;
                handshake.set_nodelay_policy(nodelay);
                Ok((handshake, plain_peer(peer)))
            })
        };
        let listener = reactor
            .add_listener(listener, make, settings.handshake_timeout)
            .map_err(setup_error)?;
        Ok(Engine {
            reactor,
            listener,
            context,
            settings,
            stats: ListenerStats::default(),
        })
    }

    /// A second engine over the same listening socket (a duplicate descriptor), with the
    /// same context and settings: another thread's event loop accepts from the same queue.
    pub(crate) fn share(&self) -> Result<Engine, ServerConfigError> {
        let listener = self
            .listener()
            .try_clone()
            .map_err(|source| ServerConfigError::Socket {
                step: "dup",
                source,
            })?;
        Engine::new(listener, self.context.clone(), self.settings)
    }

    pub(crate) fn listener(&self) -> &TcpListener {
        match self.reactor.listener(self.listener) {
            Some(l) => l,
            None => unreachable!("the listener is never removed"),
        }
    }

    pub(crate) fn context(&self) -> &SslContext {
        &self.context
    }

    pub(crate) fn stats(&self) -> ListenerStats {
        ListenerStats {
            accepted: self.reactor.accepted(),
            pending: self.reactor.set().len(),
            ..self.stats
        }
    }

    /// The next event without waiting: what is queued, else what one pass over the ready
    /// descriptors and the due deadlines gives.
    pub(crate) fn poll_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        loop {
            while let Some(event) = self.reactor.pop() {
                if let Some(event) = self.server_event(event) {
                    return Ok(Some(event));
                }
            }
            if self
                .reactor
                .run_once(Some(Duration::ZERO))
                .map_err(poll_error)?
                == 0
            {
                return Ok(None);
            }
        }
    }

    /// The instant the listener must be polled at even with nothing ready: a handshake
    /// deadline or the end of the accept backoff.
    pub(crate) fn poll_timeout(&mut self) -> Option<Instant> {
        self.reactor.next_wake()
    }

    pub(crate) fn epoll_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.reactor.epoll().0)
    }

    /// Steps again a handshake reported as [`ServerEvent::Callback`].
    pub(crate) fn resume(&mut self, token: Token) -> bool {
        self.reactor.resume(token)
    }

    /// The next event, waiting at most until `deadline` (`None`: as long as it takes).
    /// `Ok(None)` when the deadline passed with nothing to report.
    pub(crate) fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<ServerEvent>, ServerError> {
        loop {
            while let Some(event) = self.reactor.pop() {
                if let Some(event) = self.server_event(event) {
                    return Ok(Some(event));
                }
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            let wait = deadline.map(|d| d - now);
            self.reactor.run_once(wait).map_err(poll_error)?;
        }
    }

    fn server_event(&mut self, event: Event<TcpStream, SocketAddr>) -> Option<ServerEvent> {
        let reject = |peer, reason| ServerEvent::Rejected { peer, reason };
        let event = match event {
            Event::Ended(Ended {
                user: peer,
                outcome,
                elapsed,
                ..
            }) => match outcome {
                Outcome::Done(stream) => {
                    if let Err(e) = stream.get_ref().set_nonblocking(false) {
                        let error = MultiError::os("ioctl(FIONBIO) to make it blocking again", e);
                        reject(peer, RejectReason::Setup(error))
                    } else {
                        self.stats.established += 1;
                        let session = stream.session();
                        ServerEvent::Established(Accepted {
                            stream,
                            peer,
                            session,
                            handshake_time: elapsed,
                        })
                    }
                }
                Outcome::Failed(error) => {
                    self.stats.failed += 1;
                    ServerEvent::Failed { peer, error }
                }
                Outcome::Shutdown(error) => {
                    self.stats.shutdown += 1;
                    ServerEvent::Shutdown { peer, error }
                }
                Outcome::TimedOut(error) => {
                    self.stats.timed_out += 1;
                    ServerEvent::TimedOut { peer, error }
                }
                _ => reject(
                    peer,
                    RejectReason::Evicted {
                        limit: self.settings.max_pending,
                    },
                ),
            },
            Event::Callback { token, want } => {
                let peer = *self.reactor.set().user(token)?;
                return Some(ServerEvent::Callback { peer, token, want });
            }
            Event::Dropped { user, error, .. } => reject(user, RejectReason::Setup(error)),
            Event::Setup { peer, error, .. } => {
                reject(plain_peer(peer), RejectReason::Setup(error))
            }
            Event::Refused { peer, .. } => reject(
                plain_peer(peer),
                RejectReason::TooManyPending {
                    limit: self.settings.max_pending,
                },
            ),
            // The listener rests and tries again: nothing to report per connection.
            Event::AcceptFailed { .. } => return None,
        };
        if matches!(event, ServerEvent::Rejected { .. }) {
            self.stats.rejected += 1;
        }
        Some(event)
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// An IPv4 client of a dual-stack socket arrives as `::ffff:a.b.c.d`; show it as IPv4.
pub(crate) fn plain_peer(peer: SocketAddr) -> SocketAddr {
    match peer {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => peer,
        },
        v4 => v4,
    }
}

/// The epoll instance for a new listener could not be made or could not watch it.
fn setup_error(error: MultiError) -> ServerConfigError {
    match error {
        MultiError::Io { operation, source } => ServerConfigError::Socket {
            step: operation,
            source,
        },
        other => ServerConfigError::Socket {
            step: "epoll",
            source: io::Error::other(other),
        },
    }
}

fn poll_error(error: MultiError) -> ServerError {
    match error {
        MultiError::Io { operation, source } => ServerError::Poll {
            step: operation,
            source,
        },
        other => ServerError::Poll {
            step: "epoll",
            source: io::Error::other(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_peers_show_as_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert_eq!(plain_peer(mapped), "127.0.0.1:5000".parse().unwrap());
        let v6: SocketAddr = "[::1]:5000".parse().unwrap();
        assert_eq!(plain_peer(v6), v6);
    }
}
