//! [`TlsListener`]: a bound TLS server socket whose accept returns established connections.

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use openssl::ssl::SslContext;

use crate::server::bind::{self, BindHost, SocketOptions};
use crate::server::config::ServerConfig;
use crate::server::error::{ServerConfigError, ServerError};
use crate::server::event::{Accepted, ListenerStats, ServerEvent};
use crate::server::pending::{Engine, EngineSettings};

/// Something told of every [`ServerEvent`] (a log, counters).
pub type EventHandler = Box<dyn FnMut(&ServerEvent) + Send>;

/// A listening TLS socket. Its accept calls return a connection only once its handshake is
/// done; handshakes run nonblocking and concurrently in the calling thread (one `epoll` set
/// for the listening socket and every handshake in progress, each with its own deadline), so
/// a slow or silent client never delays the others, and a failed handshake never stops the
/// listener.
///
/// Three ways to use it:
/// * [`next_event`](Self::next_event): every event (established, failed, shut down, timed
///   out, rejected), with a deadline;
/// * [`accept`](Self::accept): the next established connection; failures go to the
///   [event handler](Self::set_event_handler);
/// * [`accept_one`](Self::accept_one): the outcome of the next connection, by a deadline.
///
/// ```no_run
/// use tlshake::server::{ServerConfig, ServerEvent, TlsListener};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ServerConfig::builder().port(4433)
///     .certificate_files("server.pem", "server.key");
/// let mut listener = TlsListener::bind(&config)?;
/// listener.set_event_handler(Box::new(|event: &ServerEvent| {
///     if let Some(error) = event.error() {
///         eprintln!("{}: {error}", event.peer());
///     }
/// }));
/// loop {
///     let accepted = listener.accept()?;
///     println!("{} {}", accepted.peer, accepted.session.protocol);
/// }
/// # }
/// ```
pub struct TlsListener {
    engine: Engine,
    local_addr: SocketAddr,
    handler: Option<EventHandler>,
}

impl TlsListener {
    /// Builds the TLS contexts ([`ServerConfig::build_context`]), then binds and listens.
    ///
    /// Configuration errors come first, before anything is bound: a
    /// certificate problem, a refused protocol set. Then the bind errors:
    /// [`ServerConfigError::AddressInUse`], [`ServerConfigError::AddressNotAvailable`],
    /// [`ServerConfigError::PermissionDenied`], [`ServerConfigError::Bind`].
    pub fn bind(config: &ServerConfig) -> Result<TlsListener, ServerConfigError> {
        let context = config.build_context()?;
        TlsListener::bind_with_context(config, context)
    }

    /// Binds with a context built already (by [`ServerConfig::build_context`], or by hand),
    /// so that several listeners (one per address) share it. The TLS settings of `config`
    /// are not used; its address, port, socket and per-connection settings are.
    pub fn bind_with_context(
        config: &ServerConfig,
        context: SslContext,
    ) -> Result<TlsListener, ServerConfigError> {
        let port = config.port;
        if config.handshake_timeout.is_zero() {
            return Err(ServerConfigError::ZeroSetting {
                setting: "handshake_timeout",
            });
        }
        if config.max_pending == 0 {
            return Err(ServerConfigError::ZeroSetting {
                setting: "max_pending",
            });
        }
        let host = config
            .address
            .as_deref()
            .map_or(BindHost::Any, BindHost::parse);
        let candidates = bind::candidates(&host, port)?;
        let options = SocketOptions {
            reuse_address: config.reuse_address,
            reuse_port: config.reuse_port,
            backlog: i32::try_from(config.backlog).unwrap_or(i32::MAX),
        };
        let listener = bind::bind_first(&candidates, options)?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerConfigError::Socket {
                step: "getsockname",
                source,
            })?;
        let settings = EngineSettings {
            handshake_timeout: config.handshake_timeout,
            nodelay: config.nodelay,
            max_pending: config.max_pending,
        };
        Ok(TlsListener {
            engine: Engine::new(listener, context, settings)?,
            local_addr,
            handler: None,
        })
    }

    /// Another listener on the same listening socket: a duplicate of its descriptor
    /// ([`dup(2)`](https://man7.org/linux/man-pages/man2/dup.2.html)) with the same context and
    /// per-connection settings, and no event handler. Each copy can run its own event loop
    /// in its own thread; a connection is accepted by whichever loop calls `accept(2)` first.
    /// Unlike [`ServerConfig::reuse_port`], no other process can bind the port beside it.
    pub fn try_clone(&self) -> Result<TlsListener, ServerConfigError> {
        Ok(TlsListener {
            engine: self.engine.share()?,
            local_addr: self.local_addr,
            handler: None,
        })
    }

    /// The address and port bound: with port 0, the port the system picked
    /// ([`getsockname(2)`](https://man7.org/linux/man-pages/man2/getsockname.2.html)).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's default `SslContext`, shared by every connection.
    pub fn context(&self) -> &SslContext {
        self.engine.context()
    }

    /// The listening socket.
    pub fn socket(&self) -> &std::net::TcpListener {
        self.engine.listener()
    }

    /// Counters since the listener was bound, and the handshakes in progress now.
    pub fn stats(&self) -> ListenerStats {
        self.engine.stats()
    }

    /// Sets the function told of every event, before the event is returned (by
    /// [`next_event`](Self::next_event)) or, for failures, instead of being returned (by
    /// [`accept`](Self::accept)). It runs in the accepting thread: keep it short.
    pub fn set_event_handler(&mut self, handler: EventHandler) {
        self.handler = Some(handler);
    }

    /// The next event: a connection established, a handshake failed, shut down, timed out, or a
    /// connection rejected. Waits until `deadline` (`None`: as long as it takes) and returns
    /// `Ok(None)` when it passed with nothing to report. Handshakes in progress advance
    /// meanwhile; each is closed at its own deadline.
    ///
    /// An `Err` is about the listener (epoll failed, `accept(2)` ran out of descriptors), not
    /// about one connection.
    pub fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<ServerEvent>, ServerError> {
        let event = self.engine.next_event(deadline)?;
        if let (Some(handler), Some(event)) = (self.handler.as_mut(), event.as_ref()) {
            handler(event);
        }
        Ok(event)
    }

    /// The next event without waiting (`Ok(None)`: nothing happened). With
    /// [`poll_timeout`](Self::poll_timeout) and the descriptor of [`AsFd`](std::os::fd::AsFd)
    /// (the listener's epoll instance, readable when a connection or a handshake is ready),
    /// this lets another event loop drive the listener
    /// ([`epoll(7)`](https://man7.org/linux/man-pages/man7/epoll.7.html): an epoll
    /// descriptor can itself be watched).
    pub fn poll_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        let event = self.engine.poll_event()?;
        if let (Some(handler), Some(event)) = (self.handler.as_mut(), event.as_ref()) {
            handler(event);
        }
        Ok(event)
    }

    /// When [`poll_event`](Self::poll_event) must be called even if the descriptor is not
    /// readable: the next handshake deadline, or the end of a rest after `accept(2)` failed.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    /// Steps again a handshake reported as [`ServerEvent::Callback`], once the callback can
    /// make progress. False when the token names no pending handshake.
    pub fn resume(&mut self, token: crate::engine::Token) -> bool {
        self.engine.resume(token)
    }

    /// The next established connection, waiting as long as it takes. Failed, timed-out and
    /// rejected connections are passed to the event handler (and counted in
    /// [`stats`](Self::stats)), and the wait goes on.
    pub fn accept(&mut self) -> Result<Accepted, ServerError> {
        loop {
            if let Some(ServerEvent::Established(accepted)) = self.next_event(None)? {
                return Ok(accepted);
            }
        }
    }

    /// The outcome of the next connection, by `deadline`: its established stream, or the
    /// reason it failed ([`ServerError::Handshake`] with the [`HandshakeError`](crate::HandshakeError),
    /// [`ServerError::Rejected`]), or [`ServerError::AcceptTimedOut`] when no connection
    /// ended by then. A [`ServerEvent::Callback`] is no end: that handshake waits for
    /// [`resume`](Self::resume) (or its deadline) and the wait goes on.
    pub fn accept_one(&mut self, deadline: Instant) -> Result<Accepted, ServerError> {
        let started = Instant::now();
        let mut event = self.next_event(Some(deadline))?;
        while let Some(ServerEvent::Callback { .. }) = event {
            event = self.next_event(Some(deadline))?;
        }
        match event {
            Some(ServerEvent::Established(accepted)) => Ok(accepted),
            Some(ServerEvent::Failed { peer, error })
            | Some(ServerEvent::Shutdown { peer, error })
            | Some(ServerEvent::TimedOut { peer, error }) => Err(ServerError::Handshake {
                peer,
                source: error,
            }),
            Some(ServerEvent::Rejected { peer, reason }) => {
                Err(ServerError::Rejected { peer, reason })
            }
            Some(ServerEvent::Callback { .. }) | None => Err(ServerError::AcceptTimedOut {
                waited: started.elapsed(),
            }),
        }
    }
}

/// The listener's epoll instance: readable when [`TlsListener::poll_event`] has work.
impl std::os::fd::AsFd for TlsListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.engine.epoll_fd()
    }
}

impl fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.local_addr)
            .field("stats", &self.engine.stats())
            .field("event_handler", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}
