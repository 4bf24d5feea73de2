//! [`AsyncTlsListener`]: accepting TLS connections on tokio, with a [`ServerConfig`]: one
//! future per connection ([`accept`](AsyncTlsListener::accept)), or the accept loop of the
//! epoll [`TlsListener`] with its policy ([`next_event`](AsyncTlsListener::next_event)).

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ::tokio::net::{TcpListener, TcpStream};
use ::tokio::time::Sleep;
use openssl::ssl::{Ssl, SslContext};

use crate::deadline::Deadline;
use crate::engine::{AcceptAction, AcceptPolicy, Ended, HandshakeSet, Outcome, Step, Token};
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::multi::MultiError;
use crate::nodelay::NodelayPolicy;
use crate::outcome::Want;
use crate::server::pending::plain_peer;
use crate::server::{
    ListenerStats, RejectReason, ServerConfig, ServerConfigError, ServerError, TlsListener,
};
use crate::session::SessionInfo;
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
/// * [`next_event`](Self::next_event) is the accept loop of the epoll [`TlsListener`], with
///   its policy and the same [`HandshakeSet`] underneath: it accepts, runs every pending
///   handshake itself, and gives one [`AsyncServerEvent`] per connection. At most
///   [`ServerConfig::max_pending`] handshakes are pending; when a connection arrives with the
///   set full, the pending one that has received nothing for longest is evicted
///   ([`RejectReason::Evicted`]), or, when every pending one has received bytes, the new one
///   is closed ([`RejectReason::TooManyPending`]). Each handshake ends at its
///   [`ServerConfig::handshake_timeout`] from `accept(2)`
///   ([`AsyncServerEvent::TimedOut`]). When `accept(2)` fails for want of descriptors, an
///   idle pending connection is evicted to free one, or the listener rests for
///   [`ACCEPT_BACKOFF`](crate::engine::ACCEPT_BACKOFF); it never stops serving.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tlshake::server::ServerConfig;
/// use tlshake::tokio::AsyncTlsListener;
///
/// let config = ServerConfig::builder().port(4433).certificate_files("server.pem", "server.key");
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
/// use tlshake::server::ServerConfig;
/// use tlshake::tokio::{AsyncServerEvent, AsyncTlsListener};
///
/// let config = ServerConfig::builder().port(4433)
///     .certificate_files("server.pem", "server.key")
///     .max_pending(256);
/// let mut listener = AsyncTlsListener::bind(&config)?;
/// loop {
///     match listener.next_event().await? {
///         AsyncServerEvent::Established(tls) => {
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
    handshake_timeout: Duration,
    nodelay: NodelayPolicy,
    local_addr: SocketAddr,
    max_pending: usize,
    /// The handshakes of [`next_event`](Self::next_event), in the engine's set.
    set: HandshakeSet<TokioTcp, SocketAddr>,
    /// The tokens in the set, to poll their sockets.
    tokens: Vec<Token>,
    /// When `accept(2)` may be tried again after a failure nothing could cure.
    backoff_until: Option<Instant>,
    /// Armed at the earliest handshake deadline or the end of the backoff.
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
    /// Handshakes ended on a callback want, to report.
    callback_failures: VecDeque<(SocketAddr, HandshakeError)>,
    stats: ListenerStats,
}

impl fmt::Debug for AsyncTlsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncTlsListener")
            .field("local_addr", &self.local_addr)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_pending", &self.max_pending)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl AsyncTlsListener {
    /// Binds as [`TlsListener::bind`] does (the same checks, context and socket options, and
    /// the same errors) and registers the socket with the current tokio runtime: call it
    /// from within one.
    pub fn bind(config: &ServerConfig) -> Result<AsyncTlsListener, ServerConfigError> {
        let listener = TlsListener::bind(config)?;
        let socket = |step| move |source| ServerConfigError::Socket { step, source };
        let std_listener = listener.socket().try_clone().map_err(socket("dup"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(socket("fcntl O_NONBLOCK"))?;
        let tcp = TcpListener::from_std(std_listener).map_err(socket("registering with tokio"))?;
        let policy = AcceptPolicy {
            max_pending: Some(config.max_pending),
            ..AcceptPolicy::default()
        };
        Ok(AsyncTlsListener {
            tcp,
            context: listener.context().clone(),
            handshake_timeout: config.handshake_timeout,
            nodelay: config.nodelay,
            local_addr: listener.local_addr(),
            max_pending: config.max_pending,
            set: HandshakeSet::new(policy),
            tokens: Vec::new(),
            backoff_until: None,
            timer: None,
            callback_failures: VecDeque::new(),
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
        let tls = |source: openssl::error::ErrorStack| ServerError::Rejected {
            peer,
            reason: RejectReason::Setup(MultiError::Ssl(source.into())),
        };
        let mut ssl = Ssl::new(&self.context).map_err(tls)?;
        crate::handshake::add_rejected_leaf_slot(&mut ssl).map_err(tls)?;
        let deadline = Deadline::after(self.handshake_timeout);
        let mut hs = AsyncHandshake::server(ssl, tcp, deadline)
            .map_err(|source| ServerError::Handshake { peer, source })?;
        hs.get_mut().set_nodelay_policy(self.nodelay);
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

/// A connection whose TLS handshake completed in [`AsyncTlsListener::next_event`].
#[derive(Debug)]
#[non_exhaustive]
pub struct AsyncAccepted {
    /// The established connection (`AsyncRead` + `AsyncWrite`). The client's first data may
    /// already be buffered, as for [`Accepted`](crate::server::Accepted).
    pub stream: AsyncTlsStream,
    /// The client's address (an IPv4 client of a dual-stack listener shows as IPv4).
    pub peer: SocketAddr,
    /// What was negotiated.
    pub session: SessionInfo,
    /// From `accept(2)` to the end of the handshake.
    pub handshake_time: Duration,
}

/// What happened to one incoming connection of [`AsyncTlsListener::next_event`]: the
/// [`ServerEvent`](crate::ServerEvent)s of the epoll listener, with an async stream.
// The large variant is the common one, as for `ServerEvent`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum AsyncServerEvent {
    /// The handshake completed.
    Established(AsyncAccepted),
    /// The handshake failed, or asked for a callback the loop cannot wait for
    /// ([`ErrorKind::Callback`](crate::ErrorKind::Callback)), as
    /// [`ServerEvent::Failed`](crate::ServerEvent::Failed).
    Failed {
        /// The client.
        peer: SocketAddr,
        /// Everything OpenSSL said.
        error: HandshakeError,
    },
    /// The client ended the handshake in a controlled way
    /// ([`HandshakeError::is_controlled_shutdown`]), as
    /// [`ServerEvent::Shutdown`](crate::ServerEvent::Shutdown).
    Shutdown {
        /// The client.
        peer: SocketAddr,
        /// What OpenSSL said.
        error: HandshakeError,
    },
    /// The handshake did not complete by its deadline (`handshake_timeout` from
    /// `accept(2)`); the connection was closed.
    TimedOut {
        /// The client.
        peer: SocketAddr,
        /// A [`Timeout`](crate::ErrorKind::Timeout) error.
        error: HandshakeError,
    },
    /// The connection was closed without a handshake.
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// Why.
        reason: RejectReason,
    },
}

impl AsyncServerEvent {
    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        match self {
            AsyncServerEvent::Established(a) => a.peer,
            AsyncServerEvent::Failed { peer, .. }
            | AsyncServerEvent::Shutdown { peer, .. }
            | AsyncServerEvent::TimedOut { peer, .. }
            | AsyncServerEvent::Rejected { peer, .. } => *peer,
        }
    }

    /// A short lower-case name, as [`ServerEvent::name`](crate::ServerEvent::name):
    /// `established`, `failed`, `shutdown`, `timed_out`, `rejected`.
    pub fn name(&self) -> &'static str {
        match self {
            AsyncServerEvent::Established(_) => "established",
            AsyncServerEvent::Failed { .. } => "failed",
            AsyncServerEvent::Shutdown { .. } => "shutdown",
            AsyncServerEvent::TimedOut { .. } => "timed_out",
            AsyncServerEvent::Rejected { .. } => "rejected",
        }
    }
}

impl fmt::Display for AsyncServerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsyncServerEvent::Established(a) => write!(
                f,
                "{}: established {} {}",
                a.peer, a.session.protocol, a.session.cipher
            ),
            AsyncServerEvent::Failed { peer, error }
            | AsyncServerEvent::Shutdown { peer, error }
            | AsyncServerEvent::TimedOut { peer, error } => write!(f, "{peer}: {error}"),
            AsyncServerEvent::Rejected { peer, reason } => write!(f, "{peer}: rejected: {reason}"),
        }
    }
}

impl AsyncTlsListener {
    /// The next event of the accept loop (see the [type docs](Self)): accepts under the
    /// policy, steps every pending handshake whose socket is ready, ends those whose
    /// deadline passed. Cancel-safe: dropping the future loses nothing, the pending
    /// handshakes stay in the listener for the next call. An error is the listener's own
    /// (its socket); every connection's fate is an event.
    pub async fn next_event(&mut self) -> Result<AsyncServerEvent, ServerError> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// [`next_event`](Self::next_event) as a poll function: `Pending` when nothing happened
    /// (the task is woken when the listener, a pending socket or the earliest deadline is
    /// due). Each call polls the socket of every pending handshake, so its cost grows with
    /// [`ServerConfig::max_pending`].
    pub fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<AsyncServerEvent, ServerError>> {
        loop {
            if let Some((peer, error)) = self.callback_failures.pop_front() {
                return Poll::Ready(Ok(AsyncServerEvent::Failed { peer, error }));
            }
            if let Some(ended) = self.set.poll_ended() {
                return Poll::Ready(Ok(self.event(ended)));
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
                        if let Some(event) = self.admit(tcp, plain_peer(peer), now) {
                            return Poll::Ready(Ok(event));
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
    /// it is refused; else it joins the set, waiting for its ClientHello.
    fn admit(
        &mut self,
        tcp: TcpStream,
        peer: SocketAddr,
        now: Instant,
    ) -> Option<AsyncServerEvent> {
        self.stats.accepted += 1;
        if !self.set.admit(now) {
            return Some(self.rejected(
                peer,
                RejectReason::TooManyPending {
                    limit: self.max_pending,
                },
            ));
        }
        let handshake = match self.server_handshake(tcp) {
            Ok(handshake) => handshake,
            Err(error) => return Some(self.rejected(peer, RejectReason::Setup(error))),
        };
        let deadline = now + self.handshake_timeout;
        let token = self.set.insert(handshake, peer, now, deadline, Want::Read);
        self.set.set_watching(token, Some(wait::Interest::Readable));
        self.tokens.push(token);
        None
    }

    fn server_handshake(&self, tcp: TcpStream) -> Result<Handshake<TokioTcp>, MultiError> {
        let ssl_error = |e: openssl::error::ErrorStack| MultiError::Ssl(e.into());
        let mut ssl = Ssl::new(&self.context).map_err(ssl_error)?;
        crate::handshake::add_rejected_leaf_slot(&mut ssl).map_err(ssl_error)?;
        crate::sys::set_async_write_modes(&mut ssl);
        let mut handshake =
            Handshake::server(ssl, TokioTcp::new(tcp)).map_err(MultiError::Setup)?;
        handshake.set_nodelay_policy(self.nodelay);
        handshake.begin_nodelay();
        Ok(handshake)
    }

    /// Steps every pending handshake whose socket is ready for what it waits for; true when
    /// one was stepped.
    fn step_ready(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut stepped = false;
        let mut i = 0;
        while let Some(&token) = self.tokens.get(i) {
            let Some(handshake) = self.set.handshake(token) else {
                self.tokens.swap_remove(i);
                continue;
            };
            i += 1;
            let tcp = handshake.transport().get_ref().get_ref();
            let ready = match self.set.watching(token) {
                None => continue,
                Some(wait::Interest::Readable) if handshake.transport().buffered() > 0 => true,
                Some(wait::Interest::Readable) => tcp.poll_read_ready(cx).is_ready(),
                Some(wait::Interest::Writable) => tcp.poll_write_ready(cx).is_ready(),
            };
            if !ready {
                continue;
            }
            stepped = true;
            // A readiness error shows again in the handshake's own read or write.
            if let Step::Callback { want, .. } = self.set.step(token, now) {
                // This loop has no callback to wait for: the handshake ends here, as
                // `AsyncHandshake`'s future ends it.
                let started = self
                    .set
                    .deadline(token)
                    .and_then(|d| d.checked_sub(self.handshake_timeout))
                    .unwrap_or(now);
                if let Some((handshake, peer)) = self.set.remove(token) {
                    let error =
                        handshake.callback_error(want, now.saturating_duration_since(started));
                    self.stats.failed += 1;
                    self.callback_failures.push_back((peer, error));
                }
            }
        }
        stepped
    }

    fn rejected(&mut self, peer: SocketAddr, reason: RejectReason) -> AsyncServerEvent {
        self.stats.rejected += 1;
        AsyncServerEvent::Rejected { peer, reason }
    }

    /// The event of a handshake that left the set.
    fn event(&mut self, ended: Ended<TokioTcp, SocketAddr>) -> AsyncServerEvent {
        let peer = ended.user;
        match ended.outcome {
            Outcome::Done(stream) => {
                self.stats.established += 1;
                let session = stream.session();
                AsyncServerEvent::Established(AsyncAccepted {
                    stream: AsyncTlsStream::new(stream),
                    peer,
                    session,
                    handshake_time: ended.elapsed,
                })
            }
            Outcome::Failed(error) => {
                self.stats.failed += 1;
                AsyncServerEvent::Failed { peer, error }
            }
            Outcome::Shutdown(error) => {
                self.stats.shutdown += 1;
                AsyncServerEvent::Shutdown { peer, error }
            }
            Outcome::TimedOut(error) => {
                self.stats.timed_out += 1;
                AsyncServerEvent::TimedOut { peer, error }
            }
            _ => self.rejected(
                peer,
                RejectReason::Evicted {
                    limit: self.max_pending,
                },
            ),
        }
    }
}
