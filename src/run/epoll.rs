//! The epoll runner: one epoll instance, one [`HandshakeSet`], and the listeners that feed it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use crate::engine::slab::Slab;
use crate::engine::{AcceptAction, AcceptPolicy, Ended, HandshakeSet, Outcome, Step, Token};
use crate::handshake::Handshake;
use crate::multi::MultiError;
use crate::outcome::Want;
use crate::wait::{self, Interest};

/// Readiness events taken from one `epoll_wait`.
const EVENT_BATCH: usize = 1024;
/// Connections taken from one readable listener before the loop moves on. Accepting is cheap
/// (no TLS work happens until the ClientHello is there), and a full accept queue makes the
/// kernel drop connections that clients then retry only a second later.
const ACCEPT_BATCH: usize = 4096;

/// Makes the handshake (and the caller's value) for an accepted, nonblocking connection.
pub(crate) type MakeHandshake<S, T> =
    Box<dyn FnMut(TcpStream, SocketAddr) -> Result<(Handshake<S>, T), MultiError> + Send>;

struct Listener<S, T> {
    listener: TcpListener,
    make: MakeHandshake<S, T>,
    timeout: Duration,
    paused_until: Option<Instant>,
}

/// What the runner reports.
pub(crate) enum Event<S, T> {
    /// A handshake left the set.
    Ended(Ended<S, T>),
    /// A handshake returned a callback-driven want; it stays in the set, unwatched, until
    /// [`Reactor::resume`].
    Callback { token: Token, want: Want },
    /// The runner could not keep watching a handshake (`epoll_ctl` failed); it was closed.
    Dropped {
        token: Token,
        user: T,
        error: MultiError,
    },
    /// A listener accepted a connection while the set was full of connections that had all
    /// made progress: it was closed.
    Refused { listener: Token, peer: SocketAddr },
    /// The handshake of an accepted connection could not be made; it was closed.
    Setup {
        listener: Token,
        peer: SocketAddr,
        error: MultiError,
    },
    /// `accept(2)` failed; the listener rests for the policy's backoff.
    AcceptFailed { listener: Token, error: MultiError },
}

/// One epoll instance over one [`HandshakeSet`] and its listeners.
pub(crate) struct Reactor<S, T> {
    epoll: Epoll,
    set: HandshakeSet<S, T>,
    listeners: Slab<Listener<S, T>>,
    paused: BinaryHeap<Reverse<(Instant, Token)>>,
    events: Vec<EpollEvent>,
    out: VecDeque<Event<S, T>>,
    accepted: u64,
}

/// How a listening socket is watched: readable, and `EPOLLEXCLUSIVE` so that of several
/// event loops that watch one socket ([`TlsListener::try_clone`](crate::server::TlsListener::try_clone))
/// a new connection wakes one, not all
/// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)). A listener is
/// only ever added and deleted, never modified, as `EPOLLEXCLUSIVE` requires.
const LISTENER_FLAGS: EpollFlags = EpollFlags::EPOLLIN.union(EpollFlags::EPOLLEXCLUSIVE);

fn flags(interest: Interest) -> EpollFlags {
    match interest {
        Interest::Readable => EpollFlags::EPOLLIN,
        Interest::Writable => EpollFlags::EPOLLOUT,
    }
}

impl<S, T> Reactor<S, T> {
    /// An empty runner with its own epoll instance
    /// ([`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html),
    /// close-on-exec).
    pub(crate) fn new(policy: AcceptPolicy) -> Result<Reactor<S, T>, MultiError> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| MultiError::errno("epoll_create1", e))?;
        Ok(Reactor {
            epoll,
            set: HandshakeSet::new(policy),
            listeners: Slab::new(true),
            paused: BinaryHeap::new(),
            events: vec![EpollEvent::empty(); EVENT_BATCH],
            out: VecDeque::new(),
            accepted: 0,
        })
    }

    pub(crate) fn set(&self) -> &HandshakeSet<S, T> {
        &self.set
    }

    pub(crate) fn epoll(&self) -> &Epoll {
        &self.epoll
    }

    /// Connections accepted from every listener so far.
    pub(crate) fn accepted(&self) -> u64 {
        self.accepted
    }

    pub(crate) fn listener_count(&self) -> usize {
        self.listeners.len()
    }

    pub(crate) fn listener(&self, token: Token) -> Option<&TcpListener> {
        self.listeners.get(token).map(|l| &l.listener)
    }

    pub(crate) fn queued(&self) -> usize {
        self.out.len()
    }

    pub(crate) fn pop(&mut self) -> Option<Event<S, T>> {
        self.out.pop_front()
    }

    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Event<S, T>> + '_ {
        self.out.drain(..)
    }

    /// Adds a nonblocking listener whose connections get a handshake from `make` and a
    /// deadline of `timeout` after the accept.
    pub(crate) fn add_listener(
        &mut self,
        listener: TcpListener,
        make: MakeHandshake<S, T>,
        timeout: Duration,
    ) -> Result<Token, MultiError> {
        listener
            .set_nonblocking(true)
            .map_err(|e| MultiError::os("ioctl(FIONBIO)", e))?;
        let token = self.listeners.insert(Listener {
            listener,
            make,
            timeout,
            paused_until: None,
        });
        let registered = match self.listeners.get(token) {
            Some(l) => self.epoll.add(
                l.listener.as_fd(),
                EpollEvent::new(LISTENER_FLAGS, token.as_u64()),
            ),
            None => Ok(()),
        };
        if let Err(e) = registered {
            self.listeners.remove(token);
            return Err(MultiError::errno("epoll_ctl", e));
        }
        Ok(token)
    }

    /// Stops accepting on a listener and hands it back.
    pub(crate) fn remove_listener(&mut self, token: Token) -> Option<TcpListener> {
        let l = self.listeners.remove(token)?;
        if l.paused_until.is_none() {
            let _ = self.epoll.delete(l.listener.as_fd());
        }
        Some(l.listener)
    }

    /// The earliest instant the runner must wake at: a handshake deadline or the end of a
    /// listener's rest.
    pub(crate) fn next_wake(&mut self) -> Option<Instant> {
        let rest = loop {
            match self.paused.peek().copied() {
                Some(Reverse((when, token)))
                    if self
                        .listeners
                        .get(token)
                        .is_some_and(|l| l.paused_until == Some(when)) =>
                {
                    break Some(when)
                }
                Some(_) => {
                    self.paused.pop();
                }
                None => break None,
            }
        };
        match (self.set.poll_timeout(), rest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl<S: Read + Write + AsFd, T> Reactor<S, T> {
    /// Adds a handshake over a nonblocking socket and steps it once now when `first_want` is
    /// `None` (a client sends its ClientHello); else watches for what `first_want` asks (an
    /// accepted server connection waits for the ClientHello). The handshake is handed back
    /// when its socket cannot be registered.
    pub(crate) fn insert(
        &mut self,
        handshake: Handshake<S>,
        user: T,
        deadline: Instant,
        first_want: Option<Want>,
    ) -> Result<Token, Box<(Handshake<S>, T, MultiError)>> {
        let now = Instant::now();
        let want = first_want.unwrap_or(Want::Write);
        let token = self.set.insert(handshake, user, now, deadline, want);
        let step = match first_want {
            None => self.set.step(token, now),
            Some(want) => match crate::engine::interest(want) {
                crate::engine::Interest::Socket(interest) => Step::Watch {
                    interest,
                    previous: None,
                },
                crate::engine::Interest::Caller(want) => Step::Callback {
                    want,
                    previous: None,
                },
            },
        };
        if let Step::Watch {
            interest,
            previous: None,
        } = step
        {
            let registered = match self.set.handshake(token) {
                Some(h) => self.epoll.add(
                    h.transport().get_ref().as_fd(),
                    EpollEvent::new(flags(interest), token.as_u64()),
                ),
                None => Ok(()),
            };
            if let Err(e) = registered {
                return match self.set.remove(token) {
                    Some((h, user)) => Err(Box::new((h, user, MultiError::errno("epoll_ctl", e)))),
                    None => Ok(token),
                };
            }
            self.set.set_watching(token, Some(interest));
            return Ok(token);
        }
        self.apply(token, step);
        Ok(token)
    }

    /// Takes an in-flight handshake out, its socket still open.
    pub(crate) fn remove(&mut self, token: Token) -> Option<(Handshake<S>, T)> {
        let watched = self.set.watching(token);
        let (handshake, user) = self.set.remove(token)?;
        if watched.is_some() {
            let _ = self.epoll.delete(handshake.transport().get_ref().as_fd());
        }
        Some((handshake, user))
    }

    /// Steps a handshake that was handed back for a callback; false when the token names
    /// no handshake in flight.
    pub(crate) fn resume(&mut self, token: Token) -> bool {
        let step = self.set.step(token, Instant::now());
        if step == Step::Stale {
            return false;
        }
        self.apply(token, step);
        true
    }

    /// Waits once, for at most `max_wait` (`None`: until something is ready or the next
    /// deadline), steps the ready handshakes, accepts on the ready listeners, ends the
    /// handshakes that are due. Returns how many events this call queued.
    pub(crate) fn run_once(&mut self, max_wait: Option<Duration>) -> Result<usize, MultiError> {
        let before = self.out.len();
        let now = Instant::now();
        let until = self.next_wake().map(|d| d.saturating_duration_since(now));
        let wait = match (max_wait, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if wait.is_none() && self.set.is_empty() && self.listeners.len() == 0 {
            return Ok(0);
        }
        let timeout = wait::millis_rounded_up(wait, EpollTimeout::NONE, EpollTimeout::MAX);
        let ready = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(MultiError::errno("epoll_wait", e)),
        };
        let now = Instant::now();
        for i in 0..ready {
            let Some(token) = self.events.get(i).map(|e| Token::from_raw(e.data())) else {
                break;
            };
            if token.is_listener() {
                self.accept_ready(token, now);
            } else {
                let step = self.set.step(token, now);
                self.apply(token, step);
            }
        }
        let now = Instant::now();
        // Deadlines, and DTLS retransmission timers (a retransmission that needed a step
        // hands its step back here).
        self.set.handle_timeout(now);
        while let Some((token, step)) = self.set.poll_watch() {
            self.apply(token, step);
        }
        self.wake_listeners(now);
        self.collect_ended();
        Ok(self.out.len() - before)
    }

    /// Carries out what one step asked for.
    fn apply(&mut self, token: Token, step: Step) {
        match step {
            Step::Watch { interest, previous } if previous != Some(interest) => {
                let Some(h) = self.set.handshake(token) else {
                    return;
                };
                let fd = h.transport().get_ref().as_fd();
                let mut event = EpollEvent::new(flags(interest), token.as_u64());
                let result = match previous {
                    None => self.epoll.add(fd, event),
                    Some(_) => self.epoll.modify(fd, &mut event),
                };
                if let Err(e) = result {
                    if let Some((h, user)) = self.set.remove(token) {
                        let _ = self.epoll.delete(h.transport().get_ref().as_fd());
                        self.out.push_back(Event::Dropped {
                            token,
                            user,
                            error: MultiError::errno("epoll_ctl", e),
                        });
                    }
                }
            }
            Step::Watch { .. } | Step::Stale => {}
            Step::Callback { want, previous } => {
                if previous.is_some() {
                    if let Some(h) = self.set.handshake(token) {
                        let _ = self.epoll.delete(h.transport().get_ref().as_fd());
                    }
                }
                self.out.push_back(Event::Callback { token, want });
            }
            Step::Ended => self.collect_ended(),
        }
    }

    /// Moves the set's ended handshakes out, deregistering their sockets first (a finished
    /// stream lives on outside the runner; a failed one may have a duplicated descriptor).
    fn collect_ended(&mut self) {
        while let Some(mut ended) = self.set.poll_ended() {
            if ended.watched.is_some() {
                let rest = ended.take_handshake();
                match (&ended.outcome, rest) {
                    (Outcome::Done(stream), _) => {
                        let _ = self.epoll.delete(stream.get_ref().as_fd());
                    }
                    (_, Some(h)) => {
                        let _ = self.epoll.delete(h.transport().get_ref().as_fd());
                    }
                    _ => {}
                }
            }
            self.out.push_back(Event::Ended(ended));
        }
    }

    fn accept_ready(&mut self, token: Token, now: Instant) {
        let mut batch = 0;
        while batch < ACCEPT_BATCH {
            let Some(l) = self.listeners.get_mut(token) else {
                return;
            };
            if l.paused_until.is_some() {
                return;
            }
            let timeout = l.timeout;
            // Nonblocking from accept4 itself: no ioctl(FIONBIO) per connection.
            match crate::sys::accept_nonblocking(&l.listener) {
                Ok((tcp, peer)) => {
                    batch += 1;
                    self.accepted += 1;
                    if !self.set.admit(now) {
                        drop(tcp);
                        self.out.push_back(Event::Refused {
                            listener: token,
                            peer,
                        });
                        continue;
                    }
                    self.collect_ended();
                    let made = match self.listeners.get_mut(token) {
                        Some(l) => (l.make)(tcp, peer),
                        None => return,
                    };
                    match made {
                        Ok((handshake, user)) => {
                            if let Err(failed) =
                                self.insert(handshake, user, now + timeout, Some(Want::Read))
                            {
                                self.out.push_back(Event::Setup {
                                    listener: token,
                                    peer,
                                    error: failed.2,
                                });
                            }
                        }
                        Err(error) => self.out.push_back(Event::Setup {
                            listener: token,
                            peer,
                            error,
                        }),
                    }
                }
                Err(e) => match self.set.accept_failed(&e, now) {
                    AcceptAction::Drained => return,
                    AcceptAction::Next => {}
                    AcceptAction::Retry => {
                        self.collect_ended();
                        batch += 1;
                    }
                    AcceptAction::Backoff(until) => {
                        self.pause_listener(token, until);
                        self.out.push_back(Event::AcceptFailed {
                            listener: token,
                            error: MultiError::os("accept", e),
                        });
                        return;
                    }
                },
            }
        }
    }

    fn pause_listener(&mut self, token: Token, until: Instant) {
        if let Some(l) = self.listeners.get_mut(token) {
            if l.paused_until.is_none() {
                let _ = self.epoll.delete(l.listener.as_fd());
            }
            l.paused_until = Some(until);
            self.paused.push(Reverse((until, token)));
        }
    }

    fn wake_listeners(&mut self, now: Instant) {
        while let Some(Reverse((when, token))) = self.paused.peek().copied() {
            if when > now {
                break;
            }
            self.paused.pop();
            let Some(l) = self.listeners.get_mut(token) else {
                continue;
            };
            if l.paused_until != Some(when) {
                continue;
            }
            l.paused_until = None;
            let event = EpollEvent::new(LISTENER_FLAGS, token.as_u64());
            if let Err(e) = self.epoll.add(l.listener.as_fd(), event) {
                let until = now + self.set.policy().backoff;
                // Not registered: the rest ends with another try.
                self.pause_listener(token, until);
                self.out.push_back(Event::AcceptFailed {
                    listener: token,
                    error: MultiError::errno("epoll_ctl", e),
                });
            }
        }
    }
}
