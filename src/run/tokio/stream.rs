//! [`AsyncTlsStream`]: an established connection as `AsyncRead` + `AsyncWrite`.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;
use openssl::ssl::Ssl;

use crate::stream::TlsStream;

use super::io::{Blocked, TokioTcp};

/// An established TLS connection over a tokio TCP stream:
/// [`AsyncRead`] ([`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)) and
/// [`AsyncWrite`] ([`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/),
/// [`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/)).
///
/// The want's direction is kept: a read that OpenSSL can only finish after writing (a key
/// update or renegotiation answer, `SSL_ERROR_WANT_WRITE`) waits for the socket to be
/// writable, and a write that must read first waits for readable. Errors are those of
/// [`TlsStream`]'s `Read` / `Write`: a TLS error holds a
/// [`StreamError`](crate::StreamError) with its hint.
#[derive(Debug)]
pub struct AsyncTlsStream {
    inner: TlsStream<TokioTcp>,
    close_notify_sent: bool,
}

impl AsyncTlsStream {
    pub(crate) fn new(inner: TlsStream<TokioTcp>) -> AsyncTlsStream {
        AsyncTlsStream {
            inner,
            close_notify_sent: false,
        }
    }

    /// The TLS stream (session facts, counters, `Ssl`).
    pub fn get_ref(&self) -> &TlsStream<TokioTcp> {
        &self.inner
    }

    /// The TLS stream, mutably; a sync read or write on it returns `WouldBlock` when the
    /// socket is not ready.
    pub fn get_mut(&mut self) -> &mut TlsStream<TokioTcp> {
        &mut self.inner
    }

    /// The tokio stream under the TLS connection.
    pub fn tcp(&self) -> &TcpStream {
        self.inner.get_ref().get_ref()
    }

    /// The `Ssl` (with its session, peer certificate and ex data, but no BIO any more) and
    /// the tokio stream, taken apart. Bytes OpenSSL had read but not yet returned are lost
    /// with the BIO. `None` when OpenSSL could not take a reference on the `SSL`
    /// ([`SSL_up_ref`](https://docs.openssl.org/3.0/man3/SSL_new/)); the connection is
    /// closed then.
    pub fn into_parts(self) -> Option<(Ssl, TcpStream)> {
        let shared: Arc<TcpStream> = self.inner.get_ref().share();
        let ssl = crate::sys::detach_ssl(self.inner.into_ssl_stream());
        // The BIO, which held the other handle, is gone: this one is the last.
        let tcp = Arc::try_unwrap(shared).ok()?;
        Some((ssl?, tcp))
    }

    /// Runs `op` until it does not block, waiting for the direction that blocked it.
    fn poll_io<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut TlsStream<TokioTcp>) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            self.inner.get_mut().clear_blocked();
            match op(&mut self.inner) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let tcp = self.inner.get_ref().get_ref();
                    match self.inner.get_ref().blocked() {
                        Some(Blocked::Write) => ready!(tcp.poll_write_ready(cx))?,
                        _ => ready!(tcp.poll_read_ready(cx))?,
                    }
                }
                other => return Poll::Ready(other),
            }
        }
    }
}

/// The OpenSSL connection object of the TLS stream under it
/// ([`TlsStream::ssl`](crate::TlsStream::ssl)).
impl AsRef<openssl::ssl::SslRef> for AsyncTlsStream {
    fn as_ref(&self) -> &openssl::ssl::SslRef {
        self.inner.ssl()
    }
}

impl AsyncRead for AsyncTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = ready!(this.poll_io(cx, |s| s.read(buf.initialize_unfilled())))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for AsyncTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io(cx, |s| s.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_io(cx, |s| s.flush())
    }

    /// Sends close_notify once ([`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/)),
    /// only when the handshake is complete
    /// ([`SSL_is_init_finished(3)`](https://docs.openssl.org/3.0/man3/SSL_in_init/)): a
    /// connection still in its handshake gets no `SSL_shutdown` and so no "shutdown while
    /// in init" error. Then shuts down the socket's write side
    /// ([`shutdown(2)`](https://man7.org/linux/man-pages/man2/shutdown.2.html)); a socket
    /// the peer closed already is not an error.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_notify_sent {
            if this.inner.ssl().is_init_finished() {
                match ready!(this.poll_io(cx, |s| s.shutdown())) {
                    Ok(_) => {}
                    Err(e) if peer_gone(&e) => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            this.close_notify_sent = true;
        }
        let fd = this.tcp().as_raw_fd();
        match nix::sys::socket::shutdown(fd, nix::sys::socket::Shutdown::Write) {
            Ok(()) | Err(nix::errno::Errno::ENOTCONN) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }
}

fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected
    )
}
