//! [`DtlsListener`]: one UDP socket, many DTLS peers told apart by address, the stateless
//! cookie exchange first, and the TCP listener's accept policy.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext};

use crate::engine::{AcceptPolicy, HandshakeSet, Token};
use crate::handshake::Handshake;
use crate::outcome::{Role, Want};
use crate::server::accept::without_stream;
use crate::server::{
    Accepted, RejectReason, ServerConfig, ServerConfigError, ServerError, ServerEvent,
};
use crate::session::SessionInfo;
use crate::stream::TlsStream;
use crate::sys;
use crate::wait::{self, Readiness};

use super::channel::{Inbox, PeerChannel};
use super::cookie::{self, CookieJar, CookieSecret};
use super::inspect::{self, MAX_DATAGRAM};
use super::options::{handshake, DtlsOptions};
use super::socket::{bind_udp, canonical};
use super::stats::DtlsListenerStats;

/// Datagrams read from the socket per wake-up before timers are looked at again.
const RECV_BATCH: usize = 512;
/// How often the cookie secret rotates by default.
const COOKIE_ROTATION: Duration = Duration::from_secs(60);
/// The content type of a handshake record.
const HANDSHAKE: u8 = 22;

/// The event of one DTLS peer: the TCP listener's [`ServerEvent`], with the established
/// association's stream.
pub type DtlsServerEvent = ServerEvent<TlsStream<PeerChannel>>;

/// Where a peer's datagrams go.
#[derive(Debug)]
enum Route {
    /// To its handshake in the set.
    Handshaking(Token),
    /// To its established stream, while that lives.
    Established(Weak<Inbox>),
}

impl Route {
    /// False once an association's stream was dropped.
    fn alive(&self) -> bool {
        match self {
            Route::Handshaking(_) => true,
            Route::Established(inbox) => inbox.strong_count() > 0,
        }
    }
}

/// A DTLS server on one UDP socket
/// ([`DTLSv1_listen(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_listen/),
/// [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)).
///
/// * **Stateless until the cookie.** A datagram from an address the listener does not know
///   goes to one listening `SSL` (the same for every stranger), which answers a ClientHello
///   without a valid cookie with a HelloVerifyRequest and forgets it: a spoofed ClientHello
///   costs one datagram back and no state. The cookie is an HMAC of the client's address
///   under a secret that rotates (every 60 s by default; the previous secret still
///   verifies). Only a ClientHello with a valid cookie gets a handshake of its own.
/// * **One socket, many peers.** Datagrams are told apart by source address: each peer's
///   handshake reads its own queue ([`PeerChannel`]) and writes with `sendto(2)` on the one
///   socket.
/// * **Junk is dropped and counted** ([`DtlsListenerStats`]): datagrams that are not DTLS,
///   truncated records, oversized datagrams, records of an epoch no peer can be in. None
///   makes state; inside a handshake, OpenSSL drops invalid records (RFC 6347), so they
///   never end a valid one. A new ClientHello from the address of an association goes
///   through the cookie exchange, and replaces the old state only once its cookie verified.
/// * **The TCP listener's accept policy**, on the same
///   [`HandshakeSet`](crate::engine::HandshakeSet): at most `max_pending` handshakes, the
///   idlest evicted (one that has sent nothing since its cookie) when another arrives, each
///   ended at `handshake_timeout`; the retransmission timers run in the same set.
///
/// An established association's stream ([`ServerEvent::Established`]) is blocking, and its
/// datagrams keep coming through the listener: keep calling [`next_event`](Self::next_event)
/// on one thread while other threads use the streams (the [module docs](super) show how).
#[derive(Debug)]
pub struct DtlsListener {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    ctx: SslContext,
    options: DtlsOptions,
    secret: Arc<CookieSecret>,
    set: HandshakeSet<PeerChannel, SocketAddr>,
    routes: HashMap<SocketAddr, Route>,
    listening: Option<Handshake<PeerChannel>>,
    timeout: Duration,
    max_pending: usize,
    stats: DtlsListenerStats,
    buf: Vec<u8>,
    events: VecDeque<DtlsServerEvent>,
}

impl DtlsListener {
    /// Binds a UDP socket to the configuration's address and port (all interfaces
    /// dual-stack by default; `SO_REUSEADDR` as configured) and builds the listener's DTLS
    /// context once: the configuration's certificate (and SNI certificates), client
    /// authentication, ciphers, groups and ALPN, `DTLS_server_method` with DTLS 1.2, and
    /// this listener's cookie callbacks
    /// ([`SSL_CTX_set_cookie_generate_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cookie_generate_cb/)).
    /// The configuration's `handshake_timeout` and `max_pending` are the accept policy;
    /// `options` are applied to every peer's `Ssl`.
    pub fn bind(
        config: &ServerConfig,
        options: DtlsOptions,
    ) -> Result<DtlsListener, ServerConfigError> {
        options.check()?;
        let ctx = crate::server::build_dtls_context(config, &cookie::install)?;
        let settings = &config.settings;
        let host = crate::server::bind::BindHost::parse(settings.address.as_deref().unwrap_or(""));
        let candidates = crate::server::bind::candidates(&host, settings.port)?;
        let socket = bind_udp(&candidates, settings.reuse_address)?;
        let local = socket
            .local_addr()
            .map_err(|source| ServerConfigError::Socket {
                step: "getsockname",
                source,
            })?;
        socket
            .set_nonblocking(true)
            .map_err(|source| ServerConfigError::Socket {
                step: "ioctl(FIONBIO)",
                source,
            })?;
        let secret = CookieSecret::new(Instant::now(), COOKIE_ROTATION).map_err(|e| {
            ServerConfigError::Tls {
                step: "drawing the cookie secret",
                source: e.into(),
            }
        })?;
        let max_pending = settings.max_pending;
        Ok(DtlsListener {
            socket: Arc::new(socket),
            local,
            ctx,
            options,
            secret: Arc::new(secret),
            set: HandshakeSet::new(AcceptPolicy {
                max_pending: Some(max_pending),
                ..AcceptPolicy::default()
            }),
            routes: HashMap::new(),
            listening: None,
            timeout: settings.handshake_timeout,
            max_pending,
            stats: DtlsListenerStats::default(),
            buf: vec![0; MAX_DATAGRAM + 1],
            events: VecDeque::new(),
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The DTLS context.
    pub fn context(&self) -> &SslContext {
        &self.ctx
    }

    /// The UDP socket.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// The counters so far.
    pub fn stats(&self) -> DtlsListenerStats {
        let mut stats = self.stats;
        stats.listener.pending = self.set.len();
        stats.peers = self.routes.values().filter(|r| r.alive()).count();
        stats.cookie_rotations = self.secret.rotations();
        stats
    }

    /// Rotates the cookie secret every `period` (default 60 s); a cookie made under the
    /// secret before the current one still verifies.
    pub fn set_cookie_rotation(&mut self, period: Duration) {
        if let Ok(secret) = CookieSecret::new(Instant::now(), period) {
            self.secret = Arc::new(secret);
            self.listening = None;
        }
    }

    /// Rotates the cookie secret now.
    pub fn rotate_cookie_secret(&mut self) {
        let _ = self.secret.rotate(Instant::now());
    }

    /// The next event: waits for datagrams, the retransmission timers, the handshake
    /// deadlines and the cookie rotation, until something ends a handshake, or until
    /// `deadline` (`Ok(None)`). Datagrams of established associations are queued for their
    /// streams on the way.
    pub fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<DtlsServerEvent>, ServerError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            self.prune();
            let _ = self.secret.rotate_if_due(now);
            let wake = [
                self.set.poll_timeout(),
                Some(self.secret.next_rotation()),
                deadline,
            ]
            .into_iter()
            .flatten()
            .min();
            match wait::wait_for(&*self.socket, wait::Interest::Readable, wake) {
                Ok(Readiness::Ready) => self.receive(),
                Ok(Readiness::TimedOut) => {}
                Err(source) => {
                    return Err(ServerError::Poll {
                        step: "poll",
                        source,
                    })
                }
            }
            let now = Instant::now();
            self.set.handle_timeout(now);
            while self.set.poll_watch().is_some() {}
            self.collect();
        }
    }

    /// Reads the datagrams waiting on the socket (a batch at most) and hands each to
    /// [`handle_datagram`](Self::handle_datagram).
    fn receive(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..RECV_BATCH {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let datagram = buf.get(..n).unwrap_or_default();
                    self.handle_datagram(datagram, from, Instant::now());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // WouldBlock: drained. Anything else (an ICMP error queued for an earlier
                // sendto) concerns no datagram waiting: try again at the next wake-up.
                Err(_) => break,
            }
        }
        self.buf = buf;
    }

    /// One datagram from `from`, received at `now`: junk is dropped and counted; a peer
    /// with a handshake or an association gets it queued; a stranger's ClientHello goes to
    /// the cookie exchange. Events it causes are queued for [`next_event`](Self::next_event).
    pub fn handle_datagram(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        self.stats.datagrams += 1;
        let first = match inspect::inspect(datagram) {
            Ok(first) => first,
            Err(junk) => return self.stats.count(junk),
        };
        // No renegotiation: a peer's records are of epoch 0 (its hellos) or 1, never more.
        if first.epoch > 1 {
            self.stats.unknown_epoch += 1;
            return;
        }
        match self.routes.get(&from) {
            // A new ClientHello from an address with an association or a handshake past its
            // own first hello: another client (a restart, a port reused), or the same one
            // starting over. It goes through the cookie exchange, and the state it would
            // replace is kept until the new peer has proved its address with a cookie
            // (RFC 6347 section 4.2.8).
            Some(Route::Established(_)) if first.client_hello.is_some() => {
                self.listen(datagram, from, first, now)
            }
            Some(Route::Handshaking(_)) if first.client_hello == Some(0) => {
                self.listen(datagram, from, first, now)
            }
            Some(Route::Handshaking(token)) => {
                let token = *token;
                let queued = self
                    .set
                    .handshake(token)
                    .map(|h| h.transport().get_ref().inbox().push(datagram));
                match queued {
                    Some(true) => {
                        let _ = self.set.step(token, now);
                        self.collect();
                    }
                    Some(false) => self.stats.queue_full += 1,
                    None => {
                        self.routes.remove(&from);
                        self.listen(datagram, from, first, now);
                    }
                }
            }
            Some(Route::Established(inbox)) => match inbox.upgrade() {
                Some(inbox) => {
                    if !inbox.push(datagram) {
                        self.stats.queue_full += 1;
                    }
                }
                None => {
                    self.routes.remove(&from);
                    self.listen(datagram, from, first, now);
                }
            },
            None => self.listen(datagram, from, first, now),
        }
    }

    /// The cookie exchange for a datagram from an address with no state.
    fn listen(
        &mut self,
        datagram: &[u8],
        from: SocketAddr,
        first: inspect::FirstRecord,
        now: Instant,
    ) {
        if first.epoch != 0 {
            self.stats.unknown_epoch += 1;
            return;
        }
        if first.content_type != HANDSHAKE {
            self.stats.stray += 1;
            return;
        }
        let mut hs = match self.listening.take() {
            Some(hs) => hs,
            None => match self.new_listening() {
                Some(hs) => hs,
                None => {
                    self.stats.stray += 1;
                    return;
                }
            },
        };
        hs.transport_mut().get_mut().set_peer(from);
        if let Some(jar) = cookie::jar(hs.ssl()) {
            *jar.peer.lock().unwrap_or_else(PoisonError::into_inner) = Some(from);
        }
        hs.transport().get_ref().inbox().push(datagram);
        let sent = hs.transport().bytes_sent();
        sys::clear_error_queue();
        let ret = sys::dtls::listen(hs.stream_mut());
        sys::clear_error_queue();
        match ret {
            1 => self.admit(hs, from, now),
            0 => {
                if hs.transport().bytes_sent() > sent {
                    self.stats.hello_verify_requests += 1;
                } else {
                    self.stats.stray += 1;
                }
                self.listening = Some(hs);
            }
            // A fatal error of the cookie callbacks: a new listening SSL next time.
            _ => self.stats.stray += 1,
        }
    }

    /// A listening `SSL`: the context's, with the cookie jar and the DTLS options, over a
    /// channel whose address is set per datagram.
    fn new_listening(&self) -> Option<Handshake<PeerChannel>> {
        let mut ssl = Ssl::new(&self.ctx).ok()?;
        cookie::set_jar(
            &mut ssl,
            CookieJar {
                secret: Arc::clone(&self.secret),
                peer: Mutex::new(None),
            },
        )
        .ok()?;
        let channel = PeerChannel::new(Arc::clone(&self.socket), self.local);
        handshake(ssl, channel, Role::Server, &self.options).ok()
    }

    /// A peer that passed the cookie exchange: a handshake of its own, under the accept
    /// policy.
    fn admit(&mut self, mut hs: Handshake<PeerChannel>, from: SocketAddr, now: Instant) {
        self.stats.listener.accepted += 1;
        if !self.set.admit(now) {
            self.collect();
            let event = ServerEvent::Rejected {
                peer: canonical(from),
                reason: RejectReason::TooManyPending {
                    limit: self.max_pending,
                },
            };
            self.events.push_back(self.stats.listener.record(event));
            return;
        }
        self.collect();
        // An association this peer replaces gets no more datagrams: its reads end. (A
        // handshake it replaces ends at its deadline.)
        if let Some(Route::Established(old)) = self.routes.get(&from) {
            if let Some(inbox) = old.upgrade() {
                inbox.close();
            }
        }
        // Its progress counts from the cookie on: one that sends nothing more is the idlest.
        hs.transport_mut().reset_counters();
        let token = self
            .set
            .insert(hs, from, now, now + self.timeout, Want::Write);
        self.routes.insert(from, Route::Handshaking(token));
        let _ = self.set.step(token, now);
        self.collect();
    }

    /// Turns the handshakes that ended into events, and their routes into associations.
    fn collect(&mut self) {
        while let Some(mut ended) = self.set.poll_ended() {
            let from = ended.user;
            let routed =
                matches!(self.routes.get(&from), Some(Route::Handshaking(t)) if *t == ended.token);
            if routed {
                self.routes.remove(&from);
            }
            let peer = canonical(from);
            drop(ended.take_handshake());
            let event = match without_stream(ended.outcome, peer, self.max_pending) {
                ControlFlow::Continue(stream) => {
                    stream.get_ref().set_blocking(None);
                    if routed {
                        let inbox = Arc::downgrade(stream.get_ref().inbox());
                        self.routes.insert(from, Route::Established(inbox));
                    } else {
                        // Replaced by a newer peer on the same address: nothing comes.
                        stream.get_ref().inbox().close();
                    }
                    ServerEvent::Established(Accepted {
                        session: SessionInfo::read(stream.ssl(), true),
                        stream,
                        peer,
                        handshake_time: ended.elapsed,
                    })
                }
                ControlFlow::Break(event) => event,
            };
            self.events.push_back(self.stats.listener.record(event));
        }
        self.prune();
    }

    /// Associations whose stream was dropped hold no route.
    fn prune(&mut self) {
        self.routes.retain(|_, route| route.alive());
    }
}

impl Drop for DtlsListener {
    /// Established streams' reads fail once their listener is gone.
    fn drop(&mut self) {
        for route in self.routes.values() {
            if let Route::Established(inbox) = route {
                if let Some(inbox) = inbox.upgrade() {
                    inbox.close();
                }
            }
        }
    }
}
