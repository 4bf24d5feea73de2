//! [`MultiDriver`]: the event loop.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ssl::Ssl;

use crate::engine::{AcceptPolicy, Ended, Token};
use crate::handshake::Handshake;
use crate::run::epoll::{Event, MakeHandshake, Reactor};

use super::error::{AddError, MultiError};
use super::event::{Completed, MultiEvent};

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
///   or `EPOLLOUT`, whichever its last [`Want`](crate::Want) asked for; the registration is changed only
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
/// Each handshake's [`NodelayPolicy`](crate::NodelayPolicy) is applied as by
/// [`Handshake::drive`]: before its first step and once it is done.
///
/// ```no_run
/// use std::time::{Duration, Instant};
/// use openssl::ssl::{SslConnector, SslMethod};
/// use tlshake::{Completed, connect_nonblocking, MultiDriver};
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
    reactor: Reactor<S, ()>,
}

impl<S: Read + Write + AsFd> MultiDriver<S> {
    /// An empty driver with its own epoll instance
    /// ([`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html),
    /// close-on-exec).
    pub fn new() -> Result<MultiDriver<S>, MultiError> {
        Ok(MultiDriver {
            reactor: Reactor::new(AcceptPolicy::default())?,
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
        handshake: Handshake<S>,
        deadline: Instant,
    ) -> Result<Token, AddError<S>> {
        self.reactor
            .insert(handshake, (), deadline, None)
            .map_err(|failed| {
                let (handshake, (), error) = *failed;
                AddError {
                    handshake: Box::new(handshake),
                    error,
                }
            })
    }

    /// Stops watching an in-flight handshake and hands it back (its socket still open).
    /// `None` when the token names no handshake in flight.
    pub fn remove(&mut self, token: Token) -> Option<Handshake<S>> {
        self.reactor.remove(token).map(|(h, ())| h)
    }

    /// Steps again a handshake reported as [`Completed::Callback`], once the callback can
    /// make progress; it is watched again or ends as usual. False when the token names no
    /// handshake in flight.
    pub fn resume(&mut self, token: Token) -> bool {
        self.reactor.resume(token)
    }

    /// How many handshakes are in flight (added, not yet completed).
    pub fn in_flight(&self) -> usize {
        self.reactor.set().len()
    }

    /// How many completions are queued and not yet collected.
    pub fn queued(&self) -> usize {
        self.reactor.queued()
    }

    /// The deadline of an in-flight handshake.
    pub fn deadline(&self, token: Token) -> Option<Instant> {
        self.reactor.set().deadline(token)
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
        self.reactor.run_once(max_wait)
    }

    /// Moves the queued completions into `events`, first waiting once (as
    /// [`run_once`](Self::run_once) with `timeout`) if none are queued. Returns how many were
    /// moved.
    pub fn poll_events(
        &mut self,
        events: &mut Vec<MultiEvent<S>>,
        timeout: Option<Duration>,
    ) -> Result<usize, MultiError> {
        if self.reactor.queued() == 0 {
            self.reactor.run_once(timeout)?;
        }
        let n = self.reactor.queued();
        events.extend(self.reactor.drain().map(event));
        Ok(n)
    }

    /// The next completion, waiting for it until `deadline`. `None` when the deadline passed
    /// first, or when nothing is in flight, queued or listening.
    pub fn next_completed(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<MultiEvent<S>>, MultiError> {
        loop {
            if let Some(e) = self.reactor.pop() {
                return Ok(Some(event(e)));
            }
            if self.reactor.set().is_empty() && self.reactor.listener_count() == 0 {
                return Ok(None);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.reactor.run_once(Some(deadline - now))?;
        }
    }

    /// The oldest queued completion, without waiting.
    pub fn pop_completed(&mut self) -> Option<MultiEvent<S>> {
        self.reactor.pop().map(event)
    }

    /// Every queued completion, oldest first, without waiting.
    pub fn drain_completed(&mut self) -> impl Iterator<Item = MultiEvent<S>> + '_ {
        self.reactor.drain().map(event)
    }

    /// Stops accepting on a listener and hands it back.
    pub fn remove_listener(&mut self, token: Token) -> Option<TcpListener> {
        self.reactor.remove_listener(token)
    }
}

/// A runner's event as the driver reports it.
fn event<S>(event: Event<S, ()>) -> MultiEvent<S> {
    match event {
        Event::Ended(Ended { token, outcome, .. }) => MultiEvent {
            token,
            result: Completed::of(outcome),
        },
        Event::Callback { token, want } => MultiEvent {
            token,
            result: Completed::Callback(want),
        },
        Event::Dropped { token, error, .. } => MultiEvent {
            token,
            result: Completed::DriverError(error),
        },
        Event::Setup {
            listener, error, ..
        }
        | Event::AcceptFailed { listener, error } => MultiEvent {
            token: listener,
            result: Completed::DriverError(error),
        },
        Event::Refused { listener, peer } => MultiEvent {
            token: listener,
            result: Completed::DriverError(MultiError::Io {
                operation: "accept",
                source: std::io::Error::other(format!("{peer}: too many pending handshakes")),
            }),
        },
    }
}

impl MultiDriver<TcpStream> {
    /// Accepts connections on `listener` inside the event loop and adds a server handshake
    /// for each, with the `Ssl` that `make_ssl` returns (build it from one shared
    /// `SslContext`) and a deadline of `handshake_timeout` after the accept.
    ///
    /// The listener is set nonblocking and watched for `EPOLLIN`; each wake-up accepts up to
    /// 4096 connections and registers them without stepping them (the first step comes when
    /// the ClientHello is readable) ([`accept4(2)`](https://man7.org/linux/man-pages/man2/accept.2.html)).
    /// When `accept` fails for want of descriptors (`EMFILE`, `ENFILE`), a pending connection
    /// that has received nothing is evicted ([`Completed::Evicted`]) to free one; with none,
    /// the listener rests for 100 ms and a [`Completed::DriverError`] with a
    /// [`LimitError`](crate::LimitError) is reported under the listener's token; so
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
        let make: MakeHandshake<TcpStream, ()> = Box::new(move |tcp, _peer| {
            let ssl = make_ssl().map_err(|e| MultiError::Ssl(e.into()))?;
            let handshake = Handshake::server(ssl, tcp).map_err(MultiError::Setup)?;
            Ok((handshake, ()))
        });
        self.reactor.add_listener(listener, make, handshake_timeout)
    }
}

impl<S> fmt::Debug for MultiDriver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiDriver")
            .field("epoll", self.reactor.epoll())
            .field("in_flight", &self.reactor.set().len())
            .field("listeners", &self.reactor.listener_count())
            .field("queued", &self.reactor.queued())
            .finish()
    }
}
