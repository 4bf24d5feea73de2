//! [`AsyncHandshake`]: one handshake stepped on tokio's reactor, with a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use ::tokio::net::TcpStream;
use ::tokio::time::Sleep;
use openssl::ssl::Ssl;

use crate::deadline::Deadline;
use crate::engine::{interest, next_wait, Interest};
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Role, Want};

use super::io::TokioTcp;
use super::stream::AsyncTlsStream;

/// A client handshake with `ssl` over `tcp`, ended by `deadline`
/// ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/) stepped on tokio's
/// reactor). Errors are the typed [`HandshakeError`]; a passed deadline is
/// [`is_timeout`](HandshakeError::is_timeout).
///
/// ```no_run
/// # async fn demo(ssl: openssl::ssl::Ssl) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, Instant};
///
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:4433").await?;
/// let deadline = Instant::now() + Duration::from_secs(5);
/// match tlshake::tokio::handshake(ssl, tcp, deadline).await {
///     Ok(tls) => println!("{}", tls.get_ref().protocol()),
///     Err(e) if e.is_timeout() => eprintln!("{e}: {:?}", e.hint()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(()) }
/// ```
pub fn handshake(ssl: Ssl, tcp: TcpStream, deadline: Instant) -> Connecting {
    match AsyncHandshake::client(ssl, tcp, Some(deadline)) {
        Ok(hs) => hs.into_future(),
        Err(e) => Connecting(State::Failed(Some(e))),
    }
}

/// One handshake over a [`TokioTcp`], waited on with tokio's reactor and timer.
///
/// [`poll_step`](Self::poll_step) calls the handshake function at most once per call, after
/// the socket is ready for what the last step wanted; [`into_future`](Self::into_future)
/// gives the future that steps until the end. A handshake dropped at any point closes its
/// socket (deregistering it from the reactor) and frees its `SSL` and its timer.
#[derive(Debug)]
pub struct AsyncHandshake {
    hs: Handshake<TokioTcp>,
    deadline: Deadline,
    timer: Option<Pin<Box<Sleep>>>,
    begun: bool,
    pending: Option<Want>,
}

impl AsyncHandshake {
    /// Wraps `hs`, to end at `deadline` (`None`: no deadline). No I/O happens and no clock is
    /// read until the first poll.
    ///
    /// [`client`](Self::client) and [`server`](Self::server) also give the `Ssl` the write
    /// modes an async writer needs (`SSL_MODE_ENABLE_PARTIAL_WRITE`,
    /// `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`,
    /// [`SSL_set_mode(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_mode/)); a handshake
    /// given here keeps the modes of its `Ssl`, and without the second, a write retried from
    /// a moved buffer fails with "bad write retry".
    pub fn new(hs: Handshake<TokioTcp>, deadline: Option<Instant>) -> AsyncHandshake {
        AsyncHandshake {
            hs,
            deadline: Deadline::from(deadline),
            timer: None,
            begun: false,
            pending: None,
        }
    }

    /// A client handshake ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/)).
    pub fn client(
        ssl: Ssl,
        tcp: TcpStream,
        deadline: Option<Instant>,
    ) -> Result<Self, HandshakeError> {
        AsyncHandshake::with_role(ssl, tcp, Role::Client, deadline)
    }

    /// A server handshake ([`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)).
    pub fn server(
        ssl: Ssl,
        tcp: TcpStream,
        deadline: Option<Instant>,
    ) -> Result<Self, HandshakeError> {
        AsyncHandshake::with_role(ssl, tcp, Role::Server, deadline)
    }

    fn with_role(
        mut ssl: Ssl,
        tcp: TcpStream,
        role: Role,
        deadline: Option<Instant>,
    ) -> Result<AsyncHandshake, HandshakeError> {
        crate::sys::set_async_write_modes(&mut ssl);
        let hs = Handshake::new(ssl, TokioTcp::new(tcp), role)?;
        Ok(AsyncHandshake::new(hs, deadline))
    }

    /// The handshake (counters, `Ssl`, transport record).
    pub fn get_ref(&self) -> &Handshake<TokioTcp> {
        &self.hs
    }

    /// The handshake, mutably (set the nodelay policy before the first
    /// poll).
    pub fn get_mut(&mut self) -> &mut Handshake<TokioTcp> {
        &mut self.hs
    }

    /// The deadline (`None`: none).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.instant()
    }

    /// One step, once the socket is ready for the last step's want.
    ///
    /// * While the socket is not ready, `Pending` (the task is woken when it is ready, or
    ///   at the deadline).
    /// * Then one call of the handshake function
    ///   ([`Handshake::step`](crate::Handshake::step)), and its outcome: `Done`, `Want` (call
    ///   again), `Shutdown` or `Failed`. A callback-driven want
    ///   ([`Interest::Caller`]) is returned as it is, not waited for: call again once its
    ///   condition is met.
    /// * At the deadline, `Failed` with an [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)
    ///   error whose hint names the want it was waiting for.
    ///
    /// On `Done`, [`into_stream`](Self::into_stream) gives the stream.
    pub fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<HandshakeOutcome> {
        if !self.begun {
            self.begun = true;
            self.hs.begin(Instant::now());
            if let Some(at) = self.deadline.instant() {
                self.timer = Some(Box::pin(::tokio::time::sleep_until(at.into())));
            }
        }
        if let Some(want) = self.pending {
            if let Some(Interest::Socket(on)) = next_wait(&self.hs, want) {
                let ended = match self.hs.transport().get_ref().poll_ready(cx, on) {
                    Poll::Ready(Ok(())) => None,
                    Poll::Ready(Err(e)) => Some(self.hs.wait_error(want, e)),
                    Poll::Pending => Some(ready!(self.poll_deadline(cx, want))),
                };
                if let Some(e) = ended {
                    return Poll::Ready(HandshakeOutcome::Failed(e));
                }
            }
        }
        let outcome = self.hs.step_timed(Instant::now);
        self.pending = outcome.want();
        Poll::Ready(outcome)
    }

    /// The timeout error once the deadline fired while waiting for `want`; `Pending` before
    /// (and always without a deadline).
    fn poll_deadline(&mut self, cx: &mut Context<'_>, want: Want) -> Poll<HandshakeError> {
        match self.timer.as_mut() {
            Some(timer) => timer
                .as_mut()
                .poll(cx)
                .map(|()| self.hs.timeout_error(want, Instant::now())),
            None => Poll::Pending,
        }
    }

    /// The established stream, after `poll_step` returned `Done` (earlier, the stream's
    /// first read or write continues the handshake). Applies the after-handshake part of
    /// the nodelay policy and records the duration.
    pub fn into_stream(self) -> AsyncTlsStream {
        AsyncTlsStream::new(self.hs.established(Instant::now()))
    }

    /// The future that steps until the handshake ends.
    pub fn into_future(self) -> Connecting {
        Connecting(State::Running(Some(self)))
    }
}

impl std::future::IntoFuture for AsyncHandshake {
    type Output = Result<AsyncTlsStream, HandshakeError>;
    type IntoFuture = Connecting;

    fn into_future(self) -> Connecting {
        AsyncHandshake::into_future(self)
    }
}

/// The future of a whole handshake: steps [`AsyncHandshake::poll_step`] until the end.
/// Resolves to the [`AsyncTlsStream`], or to the typed [`HandshakeError`]; a callback-driven
/// want ends it with an [`ErrorKind::Callback`](crate::ErrorKind::Callback) error, as on
/// the blocking runner. Polling it again after it resolved panics, as futures do.
#[derive(Debug)]
pub struct Connecting(State);

#[derive(Debug)]
enum State {
    Running(Option<AsyncHandshake>),
    Failed(Option<HandshakeError>),
}

impl Future for Connecting {
    type Output = Result<AsyncTlsStream, HandshakeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let slot = match &mut this.0 {
            State::Running(slot) => slot,
            State::Failed(e) => {
                return Poll::Ready(Err(e.take().expect("Connecting polled after completion")))
            }
        };
        let Some(hs) = slot.as_mut() else {
            panic!("Connecting polled after completion");
        };
        loop {
            match ready!(hs.poll_step(cx)) {
                HandshakeOutcome::Done => {
                    let hs = slot.take().expect("present while running");
                    return Poll::Ready(Ok(hs.into_stream()));
                }
                HandshakeOutcome::Want(want) => {
                    if let Interest::Caller(want) = interest(want) {
                        let e = hs.hs.callback_error(want, Instant::now());
                        *slot = None;
                        return Poll::Ready(Err(e));
                    }
                }
                HandshakeOutcome::Shutdown(e) | HandshakeOutcome::Failed(e) => {
                    *slot = None;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }
}
