//! The handshakes in progress of one listener, driven in one thread with `epoll`.
//!
//! Each accepted connection becomes a [`Handshake`] on a nonblocking socket, registered with
//! `epoll` for the readiness its last step asked for (`EPOLLIN` for `Want::Read`, `EPOLLOUT`
//! for `Want::Write`). A map from token to handshake finds the ready ones without a scan, and
//! an ordered set of `(deadline, token)` gives the next deadline (the `epoll_wait` timeout)
//! and the handshakes to close when it passes. The listening socket is in the same epoll set,
//! so new connections and handshake steps interleave: a client that says nothing, or one byte
//! a second, costs one registration and never delays the others.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use openssl::ssl::{Ssl, SslContext};

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::nodelay::NodelayPolicy;
use crate::outcome::{HandshakeOutcome, Want};
use crate::server::error::ServerError;
use crate::server::event::{Accepted, ListenerStats, RejectReason, ServerEvent};

/// The epoll token of the listening socket; handshakes get 1, 2, ...
const LISTENER_TOKEN: u64 = 0;
/// Events taken from one `epoll_wait`.
const EVENT_BATCH: usize = 256;
/// Connections taken from the listening socket per readiness event; the rest wait for the
/// next round (level-triggered), so handshakes in progress get their turn.
const ACCEPT_BATCH: usize = 256;
/// Steps of one handshake per readiness event when the transport still holds bytes.
const STEPS_PER_EVENT: usize = 16;

/// The per-connection settings of the engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EngineSettings {
    pub(crate) handshake_timeout: Duration,
    pub(crate) nodelay: NodelayPolicy,
    pub(crate) max_pending: usize,
}

#[derive(Debug)]
struct Pending {
    handshake: Handshake<TcpStream>,
    peer: SocketAddr,
    started: Instant,
    deadline: Instant,
    waiting_for: Want,
    registered: Option<EpollFlags>,
}

/// The listening socket, the epoll set and the handshakes in progress.
#[derive(Debug)]
pub(crate) struct Engine {
    listener: TcpListener,
    epoll: Epoll,
    context: SslContext,
    settings: EngineSettings,
    pending: HashMap<u64, Pending>,
    deadlines: BTreeSet<(Instant, u64)>,
    ready: VecDeque<ServerEvent>,
    next_token: u64,
    stats: ListenerStats,
}

impl Engine {
    /// Takes a bound, listening socket (made nonblocking here) and the server context.
    pub(crate) fn new(
        listener: TcpListener,
        context: SslContext,
        settings: EngineSettings,
    ) -> Result<Engine, ServerError> {
        listener
            .set_nonblocking(true)
            .map_err(|source| ServerError::Socket {
                step: "fcntl(O_NONBLOCK)",
                source,
            })?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| poll_error("epoll_create1", e))?;
        epoll
            .add(
                listener.as_fd(),
                EpollEvent::new(EpollFlags::EPOLLIN, LISTENER_TOKEN),
            )
            .map_err(|e| poll_error("epoll_ctl", e))?;
        Ok(Engine {
            listener,
            epoll,
            context,
            settings,
            pending: HashMap::new(),
            deadlines: BTreeSet::new(),
            ready: VecDeque::new(),
            next_token: LISTENER_TOKEN + 1,
            stats: ListenerStats::default(),
        })
    }

    pub(crate) fn listener(&self) -> &TcpListener {
        &self.listener
    }

    pub(crate) fn context(&self) -> &SslContext {
        &self.context
    }

    pub(crate) fn stats(&self) -> ListenerStats {
        ListenerStats {
            pending: self.pending.len(),
            ..self.stats
        }
    }

    /// The next event, waiting at most until `deadline` (`None`: as long as it takes).
    /// `Ok(None)` when the deadline passed with nothing to report.
    pub(crate) fn next_event(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<ServerEvent>, ServerError> {
        let mut events = [EpollEvent::empty(); EVENT_BATCH];
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Some(event));
            }
            let now = Instant::now();
            self.expire(now);
            if !self.ready.is_empty() {
                continue;
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            let next_expiry = self.deadlines.first().map(|(d, _)| *d);
            let wake = match (deadline, next_expiry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let n = match self.epoll.wait(&mut events, epoll_timeout(wake, now)) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(poll_error("epoll_wait", e)),
            };
            for event in events.iter().take(n) {
                match event.data() {
                    LISTENER_TOKEN => self.accept_ready()?,
                    token => self.advance(token),
                }
            }
        }
    }

    /// Accepts what the listening socket has, up to a batch.
    fn accept_ready(&mut self) -> Result<(), ServerError> {
        for _ in 0..ACCEPT_BATCH {
            match self.listener.accept() {
                Ok((stream, peer)) => self.admit(stream, plain_peer(peer)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                // The client gave up before we accepted it, or a signal came: next one.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(ServerError::Accept { source: e }),
            }
        }
        Ok(())
    }

    /// Starts the handshake of a new connection, or closes it at once when the cap is reached.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.stats.accepted += 1;
        if self.pending.len() >= self.settings.max_pending {
            drop(stream);
            self.reject(
                peer,
                RejectReason::TooManyPending {
                    limit: self.settings.max_pending,
                },
            );
            return;
        }
        let handshake = match self.prepare(stream) {
            Ok(h) => h,
            Err(detail) => {
                self.reject(peer, RejectReason::Setup { detail });
                return;
            }
        };
        let started = Instant::now();
        let deadline = started + self.settings.handshake_timeout;
        let token = self.next_token;
        self.next_token += 1;
        self.pending.insert(
            token,
            Pending {
                handshake,
                peer,
                started,
                deadline,
                waiting_for: Want::Read,
                registered: None,
            },
        );
        self.deadlines.insert((deadline, token));
        // The ClientHello may already be there: step once now.
        self.advance(token);
    }

    fn prepare(&self, stream: TcpStream) -> Result<Handshake<TcpStream>, String> {
        stream
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make the socket nonblocking: {e}"))?;
        // TCP_NODELAY is a latency optimisation: a socket that refuses it still works.
        let _ = self.settings.nodelay.before_handshake(&stream);
        let mut ssl = Ssl::new(&self.context).map_err(|e| format!("SSL_new failed: {e}"))?;
        crate::handshake::add_rejected_leaf_slot(&mut ssl)
            .map_err(|e| format!("SSL_set_ex_data failed: {e}"))?;
        let mut handshake = Handshake::server(ssl, stream).map_err(|e| e.to_string())?;
        handshake.set_nodelay_policy(self.settings.nodelay);
        Ok(handshake)
    }

    fn reject(&mut self, peer: SocketAddr, reason: RejectReason) {
        self.stats.rejected += 1;
        self.ready.push_back(ServerEvent::Rejected { peer, reason });
    }

    /// Steps one handshake after its socket became ready (or right after accept).
    fn advance(&mut self, token: u64) {
        let Some(pending) = self.pending.get_mut(&token) else {
            return;
        };
        for _ in 0..STEPS_PER_EVENT {
            match pending.handshake.step() {
                HandshakeOutcome::Done => {
                    self.established(token);
                    return;
                }
                HandshakeOutcome::Want(want) => {
                    pending.waiting_for = want;
                    // Bytes read ahead do not make the socket readable: use them first.
                    if want == Want::Read && pending.handshake.transport().buffered() > 0 {
                        continue;
                    }
                    let interest = match want {
                        Want::Write => EpollFlags::EPOLLOUT,
                        _ => EpollFlags::EPOLLIN,
                    };
                    if let Err(e) = register(&self.epoll, pending, token, interest) {
                        let detail = format!("epoll_ctl failed: {e}");
                        let peer = pending.peer;
                        self.remove(token);
                        self.reject(peer, RejectReason::Setup { detail });
                    }
                    return;
                }
                HandshakeOutcome::Shutdown(error) | HandshakeOutcome::Failed(error) => {
                    let peer = pending.peer;
                    self.remove(token);
                    self.stats.failed += 1;
                    self.ready
                        .push_back(ServerEvent::HandshakeFailed { peer, error });
                    return;
                }
            }
        }
        // Still bytes buffered after many steps: come back on the next readiness event.
    }

    fn established(&mut self, token: u64) {
        let Some(pending) = self.remove(token) else {
            return;
        };
        let Pending {
            handshake,
            peer,
            started,
            ..
        } = pending;
        let socket = handshake.transport().get_ref();
        let _ = self.settings.nodelay.after_handshake(socket);
        let blocking = socket.set_nonblocking(false);
        let stream = handshake.into_stream();
        if let Err(e) = blocking {
            self.reject(
                peer,
                RejectReason::Setup {
                    detail: format!("cannot make the socket blocking again: {e}"),
                },
            );
            return;
        }
        let session = stream.session();
        self.stats.established += 1;
        self.ready.push_back(ServerEvent::Established(Accepted {
            stream,
            peer,
            session,
            handshake_time: started.elapsed(),
        }));
    }

    /// Closes every handshake whose deadline is `now` or earlier.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            if let Some(pending) = self.remove(token) {
                let error = timeout_error(&pending, now);
                self.stats.timed_out += 1;
                self.ready.push_back(ServerEvent::TimedOut {
                    peer: pending.peer,
                    error,
                });
            }
        }
    }

    /// Takes a handshake out of the map, the deadline set and the epoll set.
    fn remove(&mut self, token: u64) -> Option<Pending> {
        let pending = self.pending.remove(&token)?;
        self.deadlines.remove(&(pending.deadline, token));
        if pending.registered.is_some() {
            // Closing the socket would deregister it too; this keeps the set exact when the
            // stream lives on (established connections).
            let _ = self
                .epoll
                .delete(pending.handshake.transport().get_ref().as_fd());
        }
        Some(pending)
    }
}

fn register(
    epoll: &Epoll,
    pending: &mut Pending,
    token: u64,
    interest: EpollFlags,
) -> nix::Result<()> {
    let fd = pending.handshake.transport().get_ref().as_fd();
    match pending.registered {
        Some(current) if current == interest => return Ok(()),
        Some(_) => epoll.modify(fd, &mut EpollEvent::new(interest, token))?,
        None => epoll.add(fd, EpollEvent::new(interest, token))?,
    }
    pending.registered = Some(interest);
    Ok(())
}

/// An IPv4 client of a dual-stack socket arrives as `::ffff:a.b.c.d`; show it as IPv4.
fn plain_peer(peer: SocketAddr) -> SocketAddr {
    match peer {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => peer,
        },
        v4 => v4,
    }
}

/// Milliseconds until `wake`, rounded up so the wait never ends just before it.
fn epoll_timeout(wake: Option<Instant>, now: Instant) -> EpollTimeout {
    match wake {
        None => EpollTimeout::NONE,
        Some(w) => {
            let ms = w.saturating_duration_since(now).as_micros().div_ceil(1000);
            EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::MAX)
        }
    }
}

fn poll_error(step: &'static str, errno: Errno) -> ServerError {
    ServerError::Poll {
        step,
        source: io::Error::from(errno),
    }
}

/// The error of a handshake closed at its deadline: what it waited for, how long it ran,
/// what the client had sent.
fn timeout_error(pending: &Pending, now: Instant) -> HandshakeError {
    let elapsed = now.saturating_duration_since(pending.started);
    pending
        .handshake
        .timeout_error(pending.waiting_for, elapsed)
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

    #[test]
    fn timeouts_round_up() {
        let now = Instant::now();
        let t = epoll_timeout(Some(now + Duration::from_micros(1500)), now);
        assert_eq!(i32::from(t), 2);
        assert_eq!(i32::from(epoll_timeout(Some(now), now)), 0);
        assert_eq!(epoll_timeout(None, now), EpollTimeout::NONE);
    }
}
