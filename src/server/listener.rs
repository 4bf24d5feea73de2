//! [`TlsListener`]: a bound TLS server socket whose accept returns established connections,
//! directly on the epoll runner and its [`HandshakeSet`](crate::engine::HandshakeSet), the
//! same ones [`MultiDriver`](crate::MultiDriver) uses.
//!
//! Each accepted connection becomes a server [`Handshake`](crate::Handshake) on a
//! nonblocking socket, watched for the ClientHello and stepped only when its socket is
//! ready; deadlines sit in the set's heap. When `max_pending` handshakes are in progress, a
//! new connection evicts the pending one that has received nothing for longest; when every
//! pending one has made progress, the new one is closed. When `accept(2)` runs out of
//! descriptors, an idle pending connection is evicted to free one, or the listener rests for
//! 100 ms: the server never stops for it.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use openssl::ssl::SslContext;

use crate::engine::Token;
use crate::multi::MultiError;
use crate::run::epoll::{Event, MakeHandshake, Reactor};
use crate::server::accept::{self, plain_peer, Settings};
use crate::server::config::ServerConfig;
use crate::server::error::{ServerConfigError, ServerError};
use crate::server::event::{Accepted, ListenerStats, RejectReason, ServerEvent};

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
///     .certificate_files("server.pem", "server.key")
///     .build()?;
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
    reactor: Reactor<TcpStream, SocketAddr>,
    /// The listening socket's token in the reactor.
    listener: Token,
    context: SslContext,
    settings: Settings,
    local_addr: SocketAddr,
    stats: ListenerStats,
    handler: Option<EventHandler>,
    /// Hand established streams over as the runner had them, nonblocking.
    nonblocking_streams: bool,
}

impl TlsListener {
    /// Binds and listens with a configuration built already (its `SslContext` is shared:
    /// clone the configuration to bind it on several addresses).
    ///
    /// The bind errors: [`ServerConfigError::AddressInUse`],
    /// [`ServerConfigError::AddressNotAvailable`], [`ServerConfigError::PermissionDenied`],
    /// [`ServerConfigError::Bind`].
    pub fn bind(config: &ServerConfig) -> Result<TlsListener, ServerConfigError> {
        let (socket, local_addr, settings) = accept::listen(config)?;
        TlsListener::on_socket(socket, local_addr, config.context().clone(), settings)
    }

    /// The listener over a bound, listening socket (made nonblocking here): a reactor of its
    /// own that accepts on it and makes each connection's handshake.
    fn on_socket(
        socket: TcpListener,
        local_addr: SocketAddr,
        context: SslContext,
        settings: Settings,
    ) -> Result<TlsListener, ServerConfigError> {
        let mut reactor = Reactor::new(settings.policy()).map_err(setup_error)?;
        let make: MakeHandshake<TcpStream, SocketAddr> = {
            let context = context.clone();
            Box::new(move |tcp, peer| {
                let ssl = accept::connection_ssl(&context)?;
                let handshake = accept::server_handshake(ssl, tcp, settings.nodelay)?;
                Ok((handshake, plain_peer(peer)))
            })
        };
        let listener = reactor
            .add_listener(socket, make, settings.handshake_timeout)
            .map_err(setup_error)?;
        Ok(TlsListener {
            reactor,
            listener,
            context,
            settings,
            local_addr,
            stats: ListenerStats::default(),
            handler: None,
            nonblocking_streams: false,
        })
    }

    /// Another listener on the same listening socket: a duplicate of its descriptor
    /// ([`dup(2)`](https://man7.org/linux/man-pages/man2/dup.2.html)) with the same context and
    /// per-connection settings, and no event handler. Each copy can run its own event loop
    /// in its own thread; a connection is accepted by whichever loop calls `accept(2)` first.
    /// Unlike [`ServerConfigBuilder::reuse_port`](super::ServerConfigBuilder::reuse_port), no other process can bind the port beside it.
    pub fn try_clone(&self) -> Result<TlsListener, ServerConfigError> {
        let socket = self
            .socket()
            .try_clone()
            .map_err(accept::socket_error("dup"))?;
        TlsListener::on_socket(socket, self.local_addr, self.context.clone(), self.settings)
    }

    /// The address and port bound: with port 0, the port the system picked
    /// ([`getsockname(2)`](https://man7.org/linux/man-pages/man2/getsockname.2.html)).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's default `SslContext`, shared by every connection.
    pub fn context(&self) -> &SslContext {
        &self.context
    }

    /// The listening socket.
    pub fn socket(&self) -> &TcpListener {
        match self.reactor.listener(self.listener) {
            Some(l) => l,
            None => unreachable!("the listener is never removed"),
        }
    }

    /// Counters since the listener was bound, and the handshakes in progress now.
    pub fn stats(&self) -> ListenerStats {
        ListenerStats {
            accepted: self.reactor.accepted(),
            pending: self.reactor.set().len(),
            ..self.stats
        }
    }

    /// Sets the function told of every event, before the event is returned (by
    /// [`next_event`](Self::next_event)) or, for failures, instead of being returned (by
    /// [`accept`](Self::accept)). It runs in the accepting thread: keep it short.
    pub fn set_event_handler(&mut self, handler: EventHandler) {
        self.handler = Some(handler);
    }

    /// Whether established streams are handed over nonblocking, as the handshakes ran
    /// (`false`, the default: each is made blocking again, one
    /// [`ioctl(FIONBIO)`](https://man7.org/linux/man-pages/man2/ioctl_fionbio.2.html) per
    /// connection). An event loop that serves the streams nonblocking sets `true` and saves
    /// that call and its own to undo it. A copy made by [`try_clone`](Self::try_clone)
    /// starts at `false`.
    pub fn set_nonblocking_streams(&mut self, nonblocking: bool) {
        self.nonblocking_streams = nonblocking;
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
        loop {
            if let Some(event) = self.pop_event() {
                return Ok(Some(event));
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            let wait = deadline.map(|d| d - now);
            self.reactor.run_once(wait).map_err(poll_error)?;
        }
    }

    /// The next event without waiting (`Ok(None)`: nothing happened). With
    /// [`poll_timeout`](Self::poll_timeout) and the descriptor of [`AsFd`](std::os::fd::AsFd)
    /// (the listener's epoll instance, readable when a connection or a handshake is ready),
    /// this lets another event loop drive the listener
    /// ([`epoll(7)`](https://man7.org/linux/man-pages/man7/epoll.7.html): an epoll
    /// descriptor can itself be watched).
    pub fn poll_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        loop {
            if let Some(event) = self.pop_event() {
                return Ok(Some(event));
            }
            let queued = self
                .reactor
                .run_once(Some(Duration::ZERO))
                .map_err(poll_error)?;
            if queued == 0 {
                return Ok(None);
            }
        }
    }

    /// When [`poll_event`](Self::poll_event) must be called even if the descriptor is not
    /// readable: the next handshake deadline, or the end of a rest after `accept(2)` failed.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.reactor.next_wake()
    }

    /// Steps again a handshake reported as [`ServerEvent::Callback`], once the callback can
    /// make progress. False when the token names no pending handshake.
    pub fn resume(&mut self, token: Token) -> bool {
        self.reactor.resume(token)
    }

    /// The next queued event that concerns a connection, counted and told to the handler.
    fn pop_event(&mut self) -> Option<ServerEvent> {
        while let Some(event) = self.reactor.pop() {
            if let Some(event) = self.server_event(event) {
                let event = self.stats.record(event);
                if let Some(handler) = self.handler.as_mut() {
                    handler(&event);
                }
                return Some(event);
            }
        }
        None
    }

    /// A runner's event as the listener reports it (`None`: nothing to report).
    fn server_event(&self, event: Event<TcpStream, SocketAddr>) -> Option<ServerEvent> {
        let reject = |peer, reason| ServerEvent::Rejected { peer, reason };
        Some(match event {
            Event::Ended(ended) => {
                let nonblocking = self.nonblocking_streams;
                accept::ended_event(ended, &self.settings, |stream| {
                    if nonblocking {
                        return Ok(stream);
                    }
                    match stream.get_ref().set_nonblocking(false) {
                        Ok(()) => Ok(stream),
                        Err(e) => Err(MultiError::os(
                            "ioctl(FIONBIO) to make it blocking again",
                            e,
                        )),
                    }
                })
            }
            Event::Callback { token, want } => {
                let peer = *self.reactor.set().user(token)?;
                ServerEvent::Callback { peer, token, want }
            }
            Event::Dropped { user, error, .. } => reject(user, RejectReason::Setup(error)),
            Event::Setup { peer, error, .. } => {
                reject(plain_peer(peer), RejectReason::Setup(error))
            }
            Event::Refused { peer, .. } => {
                reject(plain_peer(peer), self.settings.too_many_pending())
            }
            // The listener rests and tries again: nothing to report per connection.
            Event::AcceptFailed { .. } => return None,
        })
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
        std::os::fd::AsFd::as_fd(&self.reactor.epoll().0)
    }
}

impl fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.local_addr)
            .field("stats", &self.stats())
            .field("event_handler", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

/// The parts of a runner error a listener's own errors carry: the call that failed, and the
/// operating-system error.
fn io_parts(error: MultiError) -> (&'static str, io::Error) {
    match error {
        MultiError::Io { operation, source } => (operation, source),
        other => ("epoll", io::Error::other(other)),
    }
}

/// The epoll instance for a new listener could not be made or could not watch it.
fn setup_error(error: MultiError) -> ServerConfigError {
    let (step, source) = io_parts(error);
    ServerConfigError::Socket { step, source }
}

fn poll_error(error: MultiError) -> ServerError {
    let (step, source) = io_parts(error);
    ServerError::Poll { step, source }
}
