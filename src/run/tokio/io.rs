//! [`TokioTcp`]: the sync adaptor OpenSSL's BIO calls into.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::task::{Context, Poll};

use ::tokio::net::TcpStream;

/// Which direction of the socket the last read or write found not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// A read returned `WouldBlock`: wait until the socket is readable.
    Read,
    /// A write returned `WouldBlock`: wait until the socket is writable.
    Write,
}

/// A sync [`Read`] + [`Write`] over a [`tokio::net::TcpStream`]:
/// [`try_read`](TcpStream::try_read) / [`try_write`](TcpStream::try_write), which return
/// `WouldBlock` and clear tokio's readiness when the socket is not ready. It remembers which
/// of them blocked last ([`blocked`](Self::blocked)), so that a TLS read that needs a write
/// (OpenSSL's `SSL_ERROR_WANT_WRITE` from
/// [`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)) waits for writable.
#[derive(Debug)]
pub struct TokioTcp {
    // Shared only so that `AsyncTlsStream::into_parts` can take the socket back after the
    // `SSL`'s BIO, which owns one handle, was freed.
    inner: Arc<TcpStream>,
    blocked: Option<Blocked>,
}

impl TokioTcp {
    /// Wraps `stream`.
    pub fn new(stream: TcpStream) -> TokioTcp {
        TokioTcp {
            inner: Arc::new(stream),
            blocked: None,
        }
    }

    /// The tokio stream.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }

    /// The direction that last returned `WouldBlock`, if any since
    /// [`clear_blocked`](Self::clear_blocked).
    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked
    }

    /// Forgets the last blocked direction (before a new operation).
    pub fn clear_blocked(&mut self) {
        self.blocked = None;
    }

    /// Polls tokio's readiness of the socket for `on`: what a handshake waits for before its
    /// next step, on every tokio loop.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        on: crate::wait::Interest,
    ) -> Poll<io::Result<()>> {
        match on {
            crate::wait::Interest::Readable => self.inner.poll_read_ready(cx),
            crate::wait::Interest::Writable => self.inner.poll_write_ready(cx),
        }
    }

    /// A second handle on the stream, for taking it back out of a freed BIO.
    pub(crate) fn share(&self) -> Arc<TcpStream> {
        Arc::clone(&self.inner)
    }
}

impl Read for TokioTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.inner.try_read(buf);
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.blocked = Some(Blocked::Read);
        }
        r
    }
}

impl Write for TokioTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.try_write(buf);
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.blocked = Some(Blocked::Write);
        }
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for TokioTcp {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
