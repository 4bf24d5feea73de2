//! [`MultiDriver`]: the event loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use openssl::error::ErrorStack;
use openssl::ssl::Ssl;

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Want};

use super::error::{AddError, MultiError};
use super::event::{Completed, MultiEvent};
use super::token::Token;

/// How many readiness events one `epoll_wait` returns at most.
const EVENT_BATCH: usize = 1024;
/// How many connections one readable listener accepts before the loop moves on.
const ACCEPT_BATCH: usize = 256;
/// How long a listener rests after `accept` failed for want of descriptors (or memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

type MakeHandshake<S> = Box<dyn FnMut(TcpStream) -> Result<Handshake<S>, MultiError> + Send>;

/// Many TLS handshakes in flight in one thread, each with its own deadline.
///
/// Give it handshakes over **nonblocking** sockets with [`add`](Self::add) (clients, or
/// servers on accepted sockets), or let it accept connections itself with
/// [`add_listener`](Self::add_listener); then call [`run_once`](Self::run_once),
/// [`poll_events`](Self::poll_events) or [`next_completed`](Self::next_completed) and collect
/// a [`MultiEvent`] for every handshake that ended.
///
/// How it works, and what it costs:
/// * every socket is registered with one epoll instance
///   ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)) for `EPOLLIN`
///   or `EPOLLOUT`, whichever its last [`Want`] asked for; the registration is changed only
///   when the want changes;
/// * one [`epoll_wait(2)`](https://man7.org/linux/man-pages/man2/epoll_wait.2.html) returns
///   the ready sockets, and only those handshakes are stepped: a connection that waits for
///   its peer costs nothing per wake-up;
/// * deadlines sit in a min-heap, so finding the next one and expiring the due ones never
///   scans the idle connections; a timed-out handshake is reported no earlier than its
///   deadline (the wait is rounded up to the next millisecond);
/// * a finished handshake is removed from epoll; a failed or timed-out one is dropped, which
///   closes its socket. Dropping the driver closes the epoll descriptor and every socket it
///   still holds.
///
/// The driver does not touch `TCP_NODELAY` (the socket [`Handshake::drive`] loop applies a
/// [`NodelayPolicy`](crate::NodelayPolicy)); set it on the socket before adding it if wanted.
///
/// ```no_run
/// use std::time::{Duration, Instant};
/// use openssl::ssl::{SslConnector, SslMethod};
/// use tlshake::multi::{connect_nonblocking, Completed, MultiDriver};
/// use tlshake::Handshake;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = SslConnector::builder(SslMethod::tls_client())?.build();
/// let mut driver = MultiDriver::new()?;
/// let deadline = Instant::now() + Duration::from_secs(5);
/// for _ in 0..100 {
///     let tcp = connect_nonblocking("127.0.0.1:4433".parse()?)?;
///     let ssl = connector.configure()?.into_ssl("localhost")?;
///     driver.add(Handshake::client(ssl, tcp)?, deadline)?;
/// }
/// while let Some(event) = driver.next_completed(deadline + Duration::from_secs(1))? {
///     match event.result {
///         Completed::Done(tls) => println!("{}: {}", event.token, tls.protocol()),
///         other => println!("{}: {}", event.token, other.name()),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct MultiDriver<S> {
    epoll: Epoll,
    slots: Vec<Slot<S>>,
    free: Vec<u32>,
    deadlines: BinaryHeap<Reverse<(Instant, Token)>>,
    events: Vec<EpollEvent>,
    completed: VecDeque<MultiEvent<S>>,
    in_flight: usize,
    listeners: usize,
    accepted: Vec<Handshake<S>>,
}

struct Slot<S> {
    generation: u32,
    state: SlotState<S>,
}

enum SlotState<S> {
    Free,
    Handshake(Pending<S>),
    Listener(Box<ListenerSlot<S>>),
}

struct Pending<S> {
    handshake: Handshake<S>,
    deadline: Instant,
    added: Instant,
    want: Want,
    interest: EpollFlags,
}

struct ListenerSlot<S> {
    listener: TcpListener,
    make: MakeHandshake<S>,
    timeout: Duration,
    paused_until: Option<Instant>,
}

fn interest_for(want: Want) -> EpollFlags {
    match want {
        Want::Write => EpollFlags::EPOLLOUT,
        // Every other condition is retried when the peer sends something, as in
        // `Handshake::drive`.
        _ => EpollFlags::EPOLLIN,
    }
}

/// The epoll timeout for `remaining`, rounded up to whole milliseconds so that the wait never
/// ends just before a deadline.
fn timeout_for(remaining: Option<Duration>) -> EpollTimeout {
    match remaining {
        None => EpollTimeout::NONE,
        Some(r) => {
            EpollTimeout::try_from(r.as_micros().div_ceil(1000)).unwrap_or(EpollTimeout::MAX)
        }
    }
}

impl<S: Read + Write + AsFd> MultiDriver<S> {
    /// An empty driver with its own epoll instance
    /// ([`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html),
    /// close-on-exec).
    pub fn new() -> Result<MultiDriver<S>, MultiError> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| MultiError::errno("epoll_create1", e))?;
        Ok(MultiDriver {
            epoll,
            slots: Vec::new(),
            free: Vec::new(),
            deadlines: BinaryHeap::new(),
            events: vec![EpollEvent::empty(); EVENT_BATCH],
            completed: VecDeque::new(),
            in_flight: 0,
            listeners: 0,
            accepted: Vec::new(),
        })
    }

    /// Adds a handshake over a nonblocking socket, to be finished by `deadline`; works while
    /// others are in flight.
    ///
    /// The handshake is stepped once at once (a client sends its ClientHello), then watched.
    /// If that first step already ends it, the completion is queued and reported by the next
    /// [`poll_events`](Self::poll_events) / [`next_completed`](Self::next_completed) /
    /// [`pop_completed`](Self::pop_completed). When the socket cannot be registered, the
    /// handshake is handed back in the [`AddError`].
    pub fn add(
        &mut self,
        mut handshake: Handshake<S>,
        deadline: Instant,
    ) -> Result<Token, AddError<S>> {
        let added = Instant::now();
        let token = self.reserve();
        match split(handshake.step()) {
            Ok(want) => {
                let interest = interest_for(want);
                let fd = handshake.transport().get_ref().as_fd();
                if let Err(e) = self
                    .epoll
                    .add(fd, EpollEvent::new(interest, token.as_u64()))
                {
                    self.release(token);
                    return Err(AddError {
                        handshake: Box::new(handshake),
                        error: MultiError::errno("epoll_ctl", e),
                    });
                }
                self.fill(
                    token,
                    SlotState::Handshake(Pending {
                        handshake,
                        deadline,
                        added,
                        want,
                        interest,
                    }),
                );
                self.in_flight += 1;
                self.deadlines.push(Reverse((deadline, token)));
            }
            Err(end) => {
                self.release(token);
                let result = finish(end, handshake, added);
                self.completed.push_back(MultiEvent { token, result });
            }
        }
        Ok(token)
    }

    /// Stops watching an in-flight handshake and hands it back (its socket still open).
    /// `None` when the token names no handshake in flight.
    pub fn remove(&mut self, token: Token) -> Option<Handshake<S>> {
        let state = self.take_slot(token, |s| matches!(s, SlotState::Handshake(_)))?;
        match state {
            SlotState::Handshake(p) => {
                self.in_flight -= 1;
                let _ = self.epoll.delete(p.handshake.transport().get_ref());
                Some(p.handshake)
            }
            _ => None,
        }
    }

    /// How many handshakes are in flight (added, not yet completed).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// How many completions are queued and not yet collected.
    pub fn queued(&self) -> usize {
        self.completed.len()
    }

    /// The deadline of an in-flight handshake.
    pub fn deadline(&self, token: Token) -> Option<Instant> {
        match &self.live(token)?.state {
            SlotState::Handshake(p) => Some(p.deadline),
            _ => None,
        }
    }

    /// Waits once for ready sockets, for at most `max_wait` (`None`: until something is ready
    /// or the next deadline), steps the handshakes whose sockets are ready, accepts on ready
    /// listeners, and expires the handshakes whose deadline has passed. Returns how many
    /// completions this call queued; collect them with [`pop_completed`](Self::pop_completed)
    /// or [`drain_completed`](Self::drain_completed).
    ///
    /// With nothing to watch and no `max_wait`, it returns `Ok(0)` at once instead of waiting
    /// forever. A signal (`EINTR`) ends the wait early with no error.
    pub fn run_once(&mut self, max_wait: Option<Duration>) -> Result<usize, MultiError> {
        let before = self.completed.len();
        let now = Instant::now();
        let until_deadline = self
            .next_deadline()
            .map(|d| d.saturating_duration_since(now));
        let wait = match (max_wait, until_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if wait.is_none() && self.in_flight == 0 && self.listeners == 0 {
            return Ok(0);
        }
        let ready = match self.epoll.wait(&mut self.events, timeout_for(wait)) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(MultiError::errno("epoll_wait", e)),
        };
        for i in 0..ready {
            let token = match self.events.get(i) {
                Some(event) => Token::from_raw(event.data()),
                None => break,
            };
            self.on_ready(token);
        }
        self.expire(Instant::now());
        Ok(self.completed.len() - before)
    }

    /// Moves the queued completions into `events`, first waiting once (as
    /// [`run_once`](Self::run_once) with `timeout`) if none are queued. Returns how many were
    /// moved.
    pub fn poll_events(
        &mut self,
        events: &mut Vec<MultiEvent<S>>,
        timeout: Option<Duration>,
    ) -> Result<usize, MultiError> {
        if self.completed.is_empty() {
            self.run_once(timeout)?;
        }
        let n = self.completed.len();
        events.extend(self.completed.drain(..));
        Ok(n)
    }

    /// The next completion, waiting for it until `deadline`. `None` when the deadline passed
    /// first, or when nothing is in flight, queued or listening.
    pub fn next_completed(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<MultiEvent<S>>, MultiError> {
        loop {
            if let Some(event) = self.completed.pop_front() {
                return Ok(Some(event));
            }
            if self.in_flight == 0 && self.listeners == 0 {
                return Ok(None);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.run_once(Some(deadline - now))?;
        }
    }

    /// The oldest queued completion, without waiting.
    pub fn pop_completed(&mut self) -> Option<MultiEvent<S>> {
        self.completed.pop_front()
    }

    /// Every queued completion, oldest first, without waiting.
    pub fn drain_completed(&mut self) -> impl Iterator<Item = MultiEvent<S>> + '_ {
        self.completed.drain(..)
    }

    fn on_ready(&mut self, token: Token) {
        let Some(slot) = slot_mut(&mut self.slots, token) else {
            return;
        };
        let pending = match &mut slot.state {
            SlotState::Handshake(p) => p,
            SlotState::Listener(_) => return self.accept_ready(token),
            SlotState::Free => return,
        };
        match split(pending.handshake.step()) {
            Ok(want) => {
                pending.want = want;
                let interest = interest_for(want);
                if interest == pending.interest {
                    return;
                }
                pending.interest = interest;
                let mut event = EpollEvent::new(interest, token.as_u64());
                let fd = pending.handshake.transport().get_ref().as_fd();
                if let Err(e) = self.epoll.modify(fd, &mut event) {
                    self.complete(token, |_| {
                        Completed::DriverError(MultiError::errno("epoll_ctl", e))
                    });
                }
            }
            Err(end) => self.complete(token, |p| finish(end, p.handshake, p.added)),
        }
    }

    /// Takes the handshake out of its slot, deregisters it and queues its completion.
    fn complete(&mut self, token: Token, result: impl FnOnce(Pending<S>) -> Completed<S>) {
        let Some(SlotState::Handshake(pending)) =
            self.take_slot(token, |s| matches!(s, SlotState::Handshake(_)))
        else {
            return;
        };
        self.in_flight -= 1;
        // A finished stream lives on outside the driver: it must leave the interest list.
        // (Closing the socket would remove it too, unless the descriptor was duplicated.)
        let _ = self.epoll.delete(pending.handshake.transport().get_ref());
        let result = result(pending);
        self.completed.push_back(MultiEvent { token, result });
    }

    /// Expires every handshake whose deadline is `now` or earlier, and wakes paused listeners.
    fn expire(&mut self, now: Instant) {
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            match slot_mut(&mut self.slots, token).map(|s| &mut s.state) {
                Some(SlotState::Handshake(p)) if p.deadline == when => {
                    self.complete(token, |p| Completed::TimedOut {
                        waited_for: p.want,
                        elapsed: now.saturating_duration_since(p.added),
                        bytes_received: p.handshake.transport().bytes_received(),
                    });
                }
                Some(SlotState::Listener(l)) if l.paused_until == Some(when) => {
                    l.paused_until = None;
                    let event = EpollEvent::new(EpollFlags::EPOLLIN, token.as_u64());
                    if let Err(e) = self.epoll.add(l.listener.as_fd(), event) {
                        self.pause_listener(token, now, false);
                        self.completed.push_back(MultiEvent {
                            token,
                            result: Completed::DriverError(MultiError::errno("epoll_ctl", e)),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// The earliest deadline that is still live, dropping stale heap entries on the way.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            let live = match self.live(token).map(|s| &s.state) {
                Some(SlotState::Handshake(p)) => p.deadline == when,
                Some(SlotState::Listener(l)) => l.paused_until == Some(when),
                _ => false,
            };
            if live {
                return Some(when);
            }
            self.deadlines.pop();
        }
        None
    }

    fn accept_ready(&mut self, token: Token) {
        let mut accepted = std::mem::take(&mut self.accepted);
        let mut failure = None;
        let timeout = {
            let Some(Slot {
                state: SlotState::Listener(l),
                ..
            }) = self.live_mut(token)
            else {
                return;
            };
            for _ in 0..ACCEPT_BATCH {
                match l.listener.accept() {
                    Ok((tcp, _peer)) => {
                        if let Err(e) = tcp.set_nonblocking(true) {
                            failure = Some((MultiError::os("ioctl(FIONBIO)", e), false));
                            continue;
                        }
                        match (l.make)(tcp) {
                            Ok(handshake) => accepted.push(handshake),
                            Err(e) => failure = Some((e, false)),
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // The client gave up before we accepted: nothing to report.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                    Err(e) => {
                        // EMFILE and friends: the connection stays queued; rest and retry.
                        failure = Some((MultiError::os("accept", e), true));
                        break;
                    }
                }
            }
            l.timeout
        };
        let now = Instant::now();
        for handshake in accepted.drain(..) {
            if let Err(e) = self.add(handshake, now + timeout) {
                failure = Some((e.error, false));
            }
        }
        self.accepted = accepted;
        if let Some((error, pause)) = failure {
            if pause {
                self.pause_listener(token, now, true);
            }
            self.completed.push_back(MultiEvent {
                token,
                result: Completed::DriverError(error),
            });
        }
    }

    fn pause_listener(&mut self, token: Token, now: Instant, registered: bool) {
        if let Some(Slot {
            state: SlotState::Listener(l),
            ..
        }) = slot_mut(&mut self.slots, token)
        {
            if registered {
                let _ = self.epoll.delete(l.listener.as_fd());
            }
            let until = now + ACCEPT_BACKOFF;
            l.paused_until = Some(until);
            self.deadlines.push(Reverse((until, token)));
        }
    }

    fn insert_listener(
        &mut self,
        listener: TcpListener,
        make: MakeHandshake<S>,
        timeout: Duration,
    ) -> Result<Token, MultiError> {
        listener
            .set_nonblocking(true)
            .map_err(|e| MultiError::os("ioctl(FIONBIO)", e))?;
        let token = self.reserve();
        let event = EpollEvent::new(EpollFlags::EPOLLIN, token.as_u64());
        if let Err(e) = self.epoll.add(listener.as_fd(), event) {
            self.release(token);
            return Err(MultiError::errno("epoll_ctl", e));
        }
        self.fill(
            token,
            SlotState::Listener(Box::new(ListenerSlot {
                listener,
                make,
                timeout,
                paused_until: None,
            })),
        );
        self.listeners += 1;
        Ok(token)
    }

    /// Stops accepting on a listener and hands it back.
    pub fn remove_listener(&mut self, token: Token) -> Option<TcpListener> {
        match self.take_slot(token, |s| matches!(s, SlotState::Listener(_)))? {
            SlotState::Listener(l) => {
                self.listeners -= 1;
                if l.paused_until.is_none() {
                    let _ = self.epoll.delete(l.listener.as_fd());
                }
                Some(l.listener)
            }
            _ => None,
        }
    }
}

impl<S> MultiDriver<S> {
    /// A slot for a new entry: a free one (its generation already bumped) or a new one.
    fn reserve(&mut self) -> Token {
        if let Some(index) = self.free.pop() {
            if let Some(slot) = self.slots.get(index as usize) {
                return Token::new(index, slot.generation);
            }
        }
        let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Slot {
            generation: 0,
            state: SlotState::Free,
        });
        Token::new(index, 0)
    }

    fn fill(&mut self, token: Token, state: SlotState<S>) {
        if let Some(slot) = self.slots.get_mut(token.index()) {
            slot.state = state;
        }
    }

    /// Frees the slot of `token` and bumps its generation, so the token goes stale.
    fn release(&mut self, token: Token) {
        if let Some(slot) = self.slots.get_mut(token.index()) {
            slot.state = SlotState::Free;
            slot.generation = slot.generation.wrapping_add(1);
            if let Ok(index) = u32::try_from(token.index()) {
                self.free.push(index);
            }
        }
        self.compact_deadlines();
    }

    /// Empties the slot of a live `token` if `which` accepts its state, and frees it.
    fn take_slot(
        &mut self,
        token: Token,
        which: impl Fn(&SlotState<S>) -> bool,
    ) -> Option<SlotState<S>> {
        let slot = self.live_mut(token)?;
        if !which(&slot.state) {
            return None;
        }
        let state = std::mem::replace(&mut slot.state, SlotState::Free);
        self.release(token);
        Some(state)
    }

    fn live(&self, token: Token) -> Option<&Slot<S>> {
        self.slots
            .get(token.index())
            .filter(|s| s.generation == token.generation() && !matches!(s.state, SlotState::Free))
    }

    fn live_mut(&mut self, token: Token) -> Option<&mut Slot<S>> {
        slot_mut(&mut self.slots, token)
    }

    /// Drops the heap entries of finished handshakes once they outnumber the live ones, so
    /// that a long-running driver's heap stays proportional to what is in flight.
    fn compact_deadlines(&mut self) {
        let live = self.in_flight + self.listeners;
        if self.deadlines.len() <= 2 * live + 1024 {
            return;
        }
        let slots = &self.slots;
        self.deadlines.retain(|Reverse((when, token))| {
            slots
                .get(token.index())
                .filter(|s| s.generation == token.generation())
                .is_some_and(|s| match &s.state {
                    SlotState::Handshake(p) => p.deadline == *when,
                    SlotState::Listener(l) => l.paused_until == Some(*when),
                    SlotState::Free => false,
                })
        });
    }
}

impl MultiDriver<TcpStream> {
    /// Accepts connections on `listener` inside the event loop and adds a server handshake
    /// for each, with the `Ssl` that `make_ssl` returns (build it from one shared
    /// `SslContext`) and a deadline of `handshake_timeout` after the accept.
    ///
    /// The listener is set nonblocking and watched for `EPOLLIN`; each wake-up accepts up to
    /// 256 connections ([`accept4(2)`](https://man7.org/linux/man-pages/man2/accept.2.html)).
    /// When `accept` fails for want of descriptors (`EMFILE`, `ENFILE`), the listener rests
    /// for 100 ms and a [`Completed::DriverError`] with a
    /// [`LimitError`](crate::limits::LimitError) is reported under the listener's token; so
    /// are failures of `make_ssl`. Bind the listener with [`listen_tcp`](super::listen_tcp) for
    /// an accept queue deeper than the standard library's 128.
    pub fn add_listener<F>(
        &mut self,
        listener: TcpListener,
        make_ssl: F,
        handshake_timeout: Duration,
    ) -> Result<Token, MultiError>
    where
        F: FnMut() -> Result<Ssl, ErrorStack> + Send + 'static,
    {
        let mut make_ssl = make_ssl;
        let make: MakeHandshake<TcpStream> = Box::new(move |tcp| {
            let ssl = make_ssl().map_err(MultiError::Ssl)?;
            Handshake::server(ssl, tcp).map_err(MultiError::Setup)
        });
        self.insert_listener(listener, make, handshake_timeout)
    }
}

/// The live slot of `token`, borrowing only the slot table (so epoll can be used meanwhile).
fn slot_mut<S>(slots: &mut [Slot<S>], token: Token) -> Option<&mut Slot<S>> {
    slots
        .get_mut(token.index())
        .filter(|s| s.generation == token.generation() && !matches!(s.state, SlotState::Free))
}

/// How a step ended a handshake.
enum End {
    Done,
    Failed(HandshakeError),
    Shutdown(HandshakeError),
}

/// Splits an outcome into "keep waiting for this" and "it ended like this".
fn split(outcome: HandshakeOutcome) -> Result<Want, End> {
    match outcome {
        HandshakeOutcome::Want(want) => Ok(want),
        HandshakeOutcome::Done => Err(End::Done),
        HandshakeOutcome::Failed(e) => Err(End::Failed(e)),
        HandshakeOutcome::Shutdown(e) => Err(End::Shutdown(e)),
    }
}

/// Turns the end of a handshake into a completion.
fn finish<S: Read + Write>(end: End, handshake: Handshake<S>, added: Instant) -> Completed<S> {
    match end {
        End::Done => Completed::Done(handshake.into_stream()),
        End::Failed(mut e) => {
            e.inner_mut().elapsed = Some(added.elapsed());
            Completed::Failed(e)
        }
        End::Shutdown(mut e) => {
            e.inner_mut().elapsed = Some(added.elapsed());
            Completed::Shutdown(e)
        }
    }
}

impl<S> fmt::Debug for MultiDriver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDriver")
            .field("epoll", &self.epoll)
            .field("in_flight", &self.in_flight)
            .field("listeners", &self.listeners)
            .field("queued", &self.completed.len())
            .field("deadlines", &self.deadlines.len())
            .finish()
    }
}
