//! [`AsyncTlsListener`]: accepting TLS connections on tokio, with a [`ServerConfig`]: one
//! future per connection ([`accept`](AsyncTlsListener::accept)), or the accept loop of the
//! epoll [`TlsListener`](crate::server::TlsListener) with its policy
//! ([`next_event`](AsyncTlsListener::next_event)).

use std::fmt;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::tokio::net::{TcpListener, TcpStream};
use ::tokio::time::Sleep;
use openssl::ssl::SslContext;

use crate::engine::{next_wait, AcceptAction, HandshakeSet, Interest, Step, Token};
use crate::handshake::Handshake;
use crate::multi::MultiError;
use crate::outcome::Want;
use crate::server::accept::{self, plain_peer, Settings};
use crate::server::{
    ListenerStats, RejectReason, ServerConfig, ServerConfigError, ServerError, ServerEvent,
};
use crate::wait;

use super::handshake::{AsyncHandshake, Connecting};
use super::io::TokioTcp;
use super::stream::AsyncTlsStream;

/// A listening socket whose connections are TLS server handshakes on tokio
/// ([`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)), each bounded by the
/// configuration's handshake timeout from its `accept(2)`.
///
/// Two ways to serve:
///
/// * [`accept`](Self::accept) gives each connection's handshake as a future, to spawn so that
///   a slow client delays no other; [`accept_tls`](Self::accept_tls) accepts and awaits one.
///   The caller decides how many futures to run.
/// * [`next_event`](Self::next_event) is the accept loop of the epoll
///   [`TlsListener`](crate::server::TlsListener), with its policy and the same [`HandshakeSet`]
///   underneath: it accepts, runs every pending handshake itself, and gives one
///   [`ServerEvent`] per connection, the epoll listener's type with an [`AsyncTlsStream`]
///   (and the same [`ListenerStats`]). At most
///   [`ServerConfigBuilder::max_pending`](crate::server::ServerConfigBuilder::max_pending) handshakes are pending; when a connection arrives with the
///   set full, the pending one that has received nothing for longest is evicted
///   ([`RejectReason::Evicted`]), or, when every pending one has received bytes, the new one
///   is closed ([`RejectReason::TooManyPending`]). Each handshake ends at its
///   [`ServerConfigBuilder::handshake_timeout`](crate::server::ServerConfigBuilder::handshake_timeout) from `accept(2)`
///   ([`ServerEvent::TimedOut`]). When `accept(2)` fails for want of descriptors, an
///   idle pending connection is evicted to free one, or the listener rests for
///   [`ACCEPT_BACKOFF`](crate::engine::ACCEPT_BACKOFF); it never stops serving.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tlshake::server::ServerConfig;
/// use tlshake::tokio::AsyncTlsListener;
///
/// let config = ServerConfig::builder()
///     .port(4433)
///     .certificate_files("server.pem", "server.key")
///     .build()?;
/// let listener = AsyncTlsListener::bind(&config)?;
/// loop {
///     let (handshake, peer) = listener.accept().await?;
///     tokio::spawn(async move {
///         match handshake.await {
///             Ok(tls) => println!("{peer}: {}", tls.get_ref().protocol()),
///             Err(e) => eprintln!("{peer}: {e}"),
///         }
///     });
/// }
/// # }
/// ```
///
/// The accept loop, in one task:
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tlshake::server::{ServerConfig, ServerEvent};
/// use tlshake::tokio::AsyncTlsListener;
///
/// let config = ServerConfig::builder().port(4433)
///     .certificate_files("server.pem", "server.key")
///     .max_pending(256)
///     .build()?;
/// let mut listener = AsyncTlsListener::bind(&config)?;
/// loop {
///     match listener.next_event().await? {
///         ServerEvent::Established(tls) => {
///             tokio::spawn(async move { println!("{}: {}", tls.peer, tls.session.protocol) });
///         }
///         other => eprintln!("{other}"),
///     }
/// }
/// # }
/// ```
pub struct AsyncTlsListener {
    tcp: TcpListener,
    context: SslContext,
    settings: Settings,
    local_addr: SocketAddr,
    /// The handshakes of [`next_event`](Self::next_event), in the engine's set.
    set: HandshakeSet<TokioTcp, SocketAddr>,
    /// The tokens in the set, to poll their sockets.
    tokens: Vec<Token>,
    /// When `accept(2)` may be tried again after a failure nothing could cure.
    backoff_until: Option<Instant>,
    /// Armed at the earliest handshake deadline or the end of the backoff.
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
    stats: ListenerStats,
}

impl fmt::Debug for AsyncTlsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncTlsListener")
            .field("local_addr", &self.local_addr)
            .field("settings", &self.settings)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl AsyncTlsListener {
    /// Binds as [`TlsListener::bind`](crate::server::TlsListener::bind) does (the same checks,
    /// context, socket options and errors, with no epoll instance of its own) and
    /// registers the socket with the current tokio runtime: call it from within one.
    pub fn bind(config: &ServerConfig) -> Result<AsyncTlsListener, ServerConfigError> {
        let context = config.context().clone();
        let (socket, local_addr, settings) = accept::listen(config)?;
        socket
            .set_nonblocking(true)
            .map_err(accept::socket_error("fcntl O_NONBLOCK"))?;
        let tcp = TcpListener::from_std(socket)
            .map_err(accept::socket_error("registering with tokio"))?;
        Ok(AsyncTlsListener {
            tcp,
            context,
            settings,
            local_addr,
            set: HandshakeSet::new(settings.policy()),
            tokens: Vec::new(),
            backoff_until: None,
            timer: None,
            stats: ListenerStats::default(),
        })
    }

    /// Counters of [`next_event`](Self::next_event)'s loop since the listener was bound
    /// (connections taken by [`accept`](Self::accept) are not counted), and the handshakes
    /// pending now.
    pub fn stats(&self) -> ListenerStats {
        ListenerStats {
            pending: self.set.len(),
            ..self.stats
        }
    }

    /// The address and port bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The context every connection's `Ssl` comes from.
    pub fn context(&self) -> &SslContext {
        &self.context
    }

    /// Accepts one connection ([`accept(2)`](https://man7.org/linux/man-pages/man2/accept.2.html))
    /// and gives its handshake, not yet started, with its deadline running from now. A
    /// connection whose `SSL` object cannot be made is [`ServerError::Rejected`].
    pub async fn accept(&self) -> Result<(Connecting, SocketAddr), ServerError> {
        let (tcp, peer) = self
            .tcp
            .accept()
            .await
            .map_err(|source| ServerError::Accept { source })?;
        // As on the epoll listener: a connection whose `SSL` cannot be made is rejected.
        let ssl = accept::connection_ssl(&self.context).map_err(|error| ServerError::Rejected {
            peer,
            reason: RejectReason::Setup(error),
        })?;
        let deadline = Instant::now() + self.settings.handshake_timeout;
        let mut hs = AsyncHandshake::server(ssl, tcp, Some(deadline))
            .map_err(|source| ServerError::Handshake { peer, source })?;
        hs.get_mut().set_nodelay_policy(self.settings.nodelay);
        Ok((hs.into_future(), peer))
    }

    /// Accepts one connection and completes its handshake; a failed or timed-out handshake
    /// is [`ServerError::Handshake`] with the typed error.
    pub async fn accept_tls(&self) -> Result<(AsyncTlsStream, SocketAddr), ServerError> {
        let (handshake, peer) = self.accept().await?;
        let tls = handshake
            .await
            .map_err(|source| ServerError::Handshake { peer, source })?;
        Ok((tls, peer))
    }
}

impl AsyncTlsListener {
    /// The next event of the accept loop (see the [type docs](Self)): accepts under the
    /// policy, steps every pending handshake whose socket is ready, ends those whose
    /// deadline passed. Cancel-safe: dropping the future loses nothing, the pending
    /// handshakes stay in the listener for the next call. An error is the listener's own
    /// (its socket); every connection's fate is an event.
    pub async fn next_event(&mut self) -> Result<ServerEvent<AsyncTlsStream>, ServerError> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// [`next_event`](Self::next_event) as a poll function: `Pending` when nothing happened
    /// (the task is woken when the listener, a pending socket or the earliest deadline is
    /// due). Each call polls the socket of every pending handshake, so its cost grows with
    /// [`ServerConfigBuilder::max_pending`](crate::server::ServerConfigBuilder::max_pending).
    pub fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<ServerEvent<AsyncTlsStream>, ServerError>> {
        loop {
            if let Some(ended) = self.set.poll_ended() {
                let event = accept::ended_event(ended, &self.settings, |stream| {
                    Ok(AsyncTlsStream::new(stream))
                });
                return Poll::Ready(Ok(self.stats.record(event)));
            }
            let now = Instant::now();
            if self.set.handle_timeout(now) > 0 {
                continue;
            }
            if self.backoff_until.is_some_and(|t| now >= t) {
                self.backoff_until = None;
            }
            let mut progressed = false;
            if self.backoff_until.is_none() {
                match self.tcp.poll_accept(cx) {
                    Poll::Ready(Ok((tcp, peer))) => {
                        progressed = true;
                        let peer = plain_peer(peer);
                        if let Some(reason) = self.admit(tcp, peer, now) {
                            let event = ServerEvent::Rejected { peer, reason };
                            return Poll::Ready(Ok(self.stats.record(event)));
                        }
                    }
                    Poll::Ready(Err(e)) => {
                        progressed = true;
                        if let AcceptAction::Backoff(until) = self.set.accept_failed(&e, now) {
                            self.backoff_until = Some(until);
                        }
                    }
                    Poll::Pending => {}
                }
            }
            progressed |= self.step_ready(cx, now);
            if progressed {
                continue;
            }
            let wake = match (self.set.poll_timeout(), self.backoff_until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(at) = wake else {
                self.timer = None;
                return Poll::Pending;
            };
            let timer = match &mut self.timer {
                Some((armed, sleep)) => {
                    if *armed != at {
                        sleep.as_mut().reset(at.into());
                        *armed = at;
                    }
                    sleep
                }
                slot => {
                    &mut slot
                        .insert((at, Box::pin(::tokio::time::sleep_until(at.into()))))
                        .1
                }
            };
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// A new connection: room is made under the policy (an eviction is an ended entry), or
    /// it is refused; else it joins the set, waiting for its ClientHello. `Some`: why it was
    /// closed at once.
    fn admit(&mut self, tcp: TcpStream, peer: SocketAddr, now: Instant) -> Option<RejectReason> {
        self.stats.accepted += 1;
        if !self.set.admit(now) {
            return Some(self.settings.too_many_pending());
        }
        let handshake = match self.server_handshake(tcp) {
            Ok(handshake) => handshake,
            Err(error) => return Some(RejectReason::Setup(error)),
        };
        let deadline = now + self.settings.handshake_timeout;
        let token = self.set.insert(handshake, peer, now, deadline, Want::Read);
        self.set.set_watching(token, Some(wait::Interest::Readable));
        self.tokens.push(token);
        None
    }

    fn server_handshake(&self, tcp: TcpStream) -> Result<Handshake<TokioTcp>, MultiError> {
        let mut ssl = accept::connection_ssl(&self.context)?;
        crate::sys::set_async_write_modes(&mut ssl);
        accept::server_handshake(ssl, TokioTcp::new(tcp), self.settings.nodelay)
    }

    /// Steps every pending handshake whose socket is ready for what it waits for; true when
    /// one was stepped.
    fn step_ready(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut stepped = false;
        let mut i = 0;
        while let Some(&token) = self.tokens.get(i) {
            let (Some(handshake), Some(want)) = (self.set.handshake(token), self.set.want(token))
            else {
                self.tokens.swap_remove(i);
                continue;
            };
            i += 1;
            // A readiness error shows again in the handshake's own read or write.
            let ready = match next_wait(handshake, want) {
                None => true,
                Some(Interest::Socket(on)) => {
                    let tcp = handshake.transport().get_ref();
                    tcp.poll_ready(cx, on).is_ready()
                }
                Some(Interest::Caller(_)) => false,
            };
            if !ready {
                continue;
            }
            stepped = true;
            if let Step::Callback { .. } = self.set.step(token, now) {
                // This loop has no callback to wait for: the handshake ends here, as
                // `AsyncHandshake`'s future ends it.
                self.set.fail_callback(token, now);
            }
        }
        stepped
    }
}
