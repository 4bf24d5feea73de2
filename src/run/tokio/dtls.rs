//! DTLS on tokio: [`TokioUdp`], the handshake future [`DtlsConnecting`] (readability or the
//! retransmission timer, whichever comes first, under the deadline), and the established
//! [`AsyncDtlsStream`].

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::tokio::net::UdpSocket;
use ::tokio::time::Sleep;

use crate::deadline::Deadline;
use crate::engine::timer::{Fired, RetransmitClock};
use crate::engine::{next_wait, Interest};
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Want};
use crate::stream::TlsStream;
use crate::wait;

use super::io::Blocked;

/// A connected [`tokio::net::UdpSocket`] as a DTLS transport: one read is one
/// [`try_recv`](UdpSocket::try_recv) (one datagram; an empty one is skipped), one write one
/// [`try_send`](UdpSocket::try_send); `WouldBlock` clears tokio's readiness. Make the
/// handshake with [`dtls::handshake`](crate::dtls::handshake) and run it with
/// [`dtls_handshake`].
#[derive(Debug)]
pub struct TokioUdp {
    inner: UdpSocket,
    blocked: Option<Blocked>,
}

impl TokioUdp {
    /// Wraps a socket connected with [`UdpSocket::connect`].
    pub fn new(socket: UdpSocket) -> TokioUdp {
        TokioUdp {
            inner: socket,
            blocked: None,
        }
    }

    /// The tokio socket.
    pub fn get_ref(&self) -> &UdpSocket {
        &self.inner
    }

    /// The direction that last returned `WouldBlock`, if any.
    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked
    }

    fn poll_ready(&self, cx: &mut Context<'_>, on: wait::Interest) -> Poll<io::Result<()>> {
        match on {
            wait::Interest::Readable => self.inner.poll_recv_ready(cx),
            wait::Interest::Writable => self.inner.poll_send_ready(cx),
        }
    }
}

impl Read for TokioUdp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.try_recv(buf) {
                Ok(0) if !buf.is_empty() => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.blocked = Some(Blocked::Read);
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}

impl Write for TokioUdp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.try_send(buf);
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.blocked = Some(Blocked::Write);
        }
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for TokioUdp {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

/// Runs a DTLS handshake (made with [`dtls::handshake`](crate::dtls::handshake) over a
/// [`TokioUdp`]) on tokio's reactor until `deadline`: each `Want::Read` waits for the socket
/// to become readable or for the retransmission timer, whichever comes first; a due timer
/// sends the last flight again ([`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/))
/// and the wait goes on. The errors are the blocking runner's: a passed deadline is
/// [`is_timeout`](HandshakeError::is_timeout), with
/// [`retransmissions`](HandshakeError::retransmissions).
///
/// ```no_run
/// # async fn demo(ssl: openssl::ssl::Ssl) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, Instant};
/// use tlshake::dtls::{self, DtlsOptions};
/// use tlshake::tokio::{dtls_handshake, TokioUdp};
///
/// let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
/// socket.connect("127.0.0.1:4433").await?;
/// let hs = dtls::handshake(ssl, TokioUdp::new(socket), tlshake::Role::Client, &DtlsOptions::new())?;
/// let mut stream = dtls_handshake(hs, Instant::now() + Duration::from_secs(5)).await?;
/// stream.send(b"hello").await?;
/// # Ok(()) }
/// ```
pub fn dtls_handshake(hs: Handshake<TokioUdp>, deadline: Instant) -> DtlsConnecting {
    DtlsConnecting {
        hs: Some(hs),
        deadline: Deadline::at(deadline),
        deadline_sleep: None,
        timer: None,
        clock: RetransmitClock::default(),
        want: None,
    }
}

/// The future of [`dtls_handshake`]. Dropping it closes the socket and frees the `SSL` and
/// both timers.
#[derive(Debug)]
pub struct DtlsConnecting {
    hs: Option<Handshake<TokioUdp>>,
    deadline: Deadline,
    deadline_sleep: Option<Pin<Box<Sleep>>>,
    timer: Option<Pin<Box<Sleep>>>,
    clock: RetransmitClock,
    /// What the last step wanted; `None` before the first.
    want: Option<Want>,
}

/// What a wait on the socket and the timers gave.
enum Waited {
    /// Step the handshake.
    Step,
    /// It ended.
    End(HandshakeError),
    /// Nothing yet: the task is woken by the socket or a timer.
    Pending,
}

impl DtlsConnecting {
    fn wait(&mut self, cx: &mut Context<'_>, want: Want) -> Waited {
        let Some(hs) = self.hs.as_mut() else {
            return Waited::Pending;
        };
        let on = match next_wait(hs, want) {
            None => return Waited::Step,
            Some(Interest::Caller(want)) => {
                return Waited::End(hs.callback_error(want, Instant::now()))
            }
            Some(Interest::Socket(on)) => on,
        };
        loop {
            match hs.transport().get_ref().poll_ready(cx, on) {
                Poll::Ready(Ok(())) => return Waited::Step,
                Poll::Ready(Err(e)) => return Waited::End(hs.wait_error(want, e)),
                Poll::Pending => {}
            }
            // The deadline first: a handshake never runs past it to retransmit.
            if let Some(sleep) = self.deadline_sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_ready() {
                    return Waited::End(hs.timeout_error(want, Instant::now()));
                }
            }
            let Some(due) = self.clock.due() else {
                return Waited::Pending;
            };
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(due.into())));
            if timer.deadline() != due.into() {
                timer.as_mut().reset(due.into());
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Waited::Pending;
            }
            match self.clock.fire(hs, Instant::now()) {
                // Sent again, timer re-armed: poll the socket and the new time.
                Fired::Waiting => {}
                Fired::Step => return Waited::Step,
            }
        }
    }
}

impl Future for DtlsConnecting {
    type Output = Result<AsyncDtlsStream, HandshakeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.deadline_sleep.is_none() {
            if let Some(hs) = this.hs.as_mut() {
                if this.want.is_none() {
                    hs.begin(Instant::now());
                }
            }
            if let Some(at) = this.deadline.instant() {
                this.deadline_sleep = Some(Box::pin(::tokio::time::sleep_until(at.into())));
            }
        }
        loop {
            if let Some(want) = this.want {
                match this.wait(cx, want) {
                    Waited::Step => {}
                    Waited::End(e) => {
                        this.hs = None;
                        return Poll::Ready(Err(e));
                    }
                    Waited::Pending => return Poll::Pending,
                }
            }
            let Some(hs) = this.hs.as_mut() else {
                panic!("DtlsConnecting polled after completion");
            };
            match hs.step_timed(Instant::now) {
                HandshakeOutcome::Done => {
                    let Some(hs) = this.hs.take() else {
                        panic!("DtlsConnecting polled after completion");
                    };
                    return Poll::Ready(Ok(AsyncDtlsStream {
                        inner: hs.established(Instant::now()),
                    }));
                }
                HandshakeOutcome::Want(want) => {
                    this.want = Some(want);
                    this.clock.rearm(hs, Instant::now());
                }
                HandshakeOutcome::Shutdown(e) | HandshakeOutcome::Failed(e) => {
                    this.hs = None;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }
}

/// An established DTLS association on tokio: one [`send`](Self::send) is one record (one
/// datagram), one [`recv`](Self::recv) the data of one record
/// ([`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/),
/// [`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)).
#[derive(Debug)]
pub struct AsyncDtlsStream {
    inner: TlsStream<TokioUdp>,
}

impl AsyncDtlsStream {
    /// The DTLS stream (session facts, counters, `Ssl`).
    pub fn get_ref(&self) -> &TlsStream<TokioUdp> {
        &self.inner
    }

    /// Sends `data` as one record.
    pub async fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_io(cx, |s| s.write(data))).await
    }

    /// Receives the data of one record into `buf` (0: the peer sent close_notify).
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_io(cx, |s| s.read(buf))).await
    }

    /// Sends close_notify ([`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/)).
    pub fn shutdown(&mut self) -> io::Result<bool> {
        self.inner.shutdown()
    }

    /// One try of `op`; on `WouldBlock`, waits for the direction that blocked.
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut TlsStream<TokioUdp>) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            self.inner.get_mut().blocked = None;
            match op(&mut self.inner) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let on = match self.inner.get_ref().blocked() {
                        Some(Blocked::Write) => wait::Interest::Writable,
                        _ => wait::Interest::Readable,
                    };
                    match self.inner.get_ref().poll_ready(cx, on) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                other => return Poll::Ready(other),
            }
        }
    }
}
