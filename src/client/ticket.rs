//! Waiting for the session a connection can be resumed with.

use std::io;
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use openssl::ssl::{ErrorCode, SslSession, SslVersion};

use crate::stream::TlsStream;
use crate::wait::{wait_for, Interest, Readiness};

/// Waits until the connection has a session it can be resumed with, and returns it; `None`
/// when none came by `deadline`, or none will.
///
/// Under TLS 1.2 the session is known when the handshake ends (resumable if the server gave
/// a session ID or ticket), so this returns at once. Under TLS 1.3 the server sends its
/// tickets (NewSessionTicket) after the handshake, and OpenSSL reads them only when the
/// application reads: this waits for the socket to become readable and lets OpenSSL process
/// what arrived ([`SSL_peek(3)`](https://docs.openssl.org/3.0/man3/SSL_read/), so application
/// data the server sent stays unread), until
/// [`SSL_SESSION_is_resumable(3)`](https://docs.openssl.org/3.0/man3/SSL_SESSION_is_resumable/)
/// holds, application data is waiting (a server sends its tickets before its data), the
/// server closes, or `deadline` passes. With
/// [`resume_sessions`](crate::client::ClientConfigBuilder::resume_sessions) on, the config
/// has saved the ticket by then, so the next connection to the same name offers it.
///
/// The socket's blocking mode is left as it was.
pub fn wait_for_session(
    stream: &mut TlsStream<TcpStream>,
    deadline: Instant,
) -> io::Result<Option<SslSession>> {
    loop {
        if let Some(session) = resumable(stream) {
            return Ok(Some(session));
        }
        if stream.ssl().version2() != Some(SslVersion::TLS1_3) {
            return Ok(None);
        }
        if wait_for(stream.get_ref(), Interest::Readable, Some(deadline))? == Readiness::TimedOut {
            return Ok(None);
        }
        let peeked = peek_nonblocking(stream)?;
        match peeked {
            Ok(_) => return Ok(resumable(stream)),
            Err(e) if e.code() == ErrorCode::WANT_READ => {}
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => return Ok(resumable(stream)),
            Err(e) => {
                return Err(e
                    .into_io_error()
                    .unwrap_or_else(|e| io::Error::other(e.to_string())))
            }
        }
    }
}

/// One `SSL_peek` with the socket nonblocking, its mode put back afterwards.
fn peek_nonblocking(
    stream: &mut TlsStream<TcpStream>,
) -> io::Result<Result<usize, openssl::ssl::Error>> {
    let flags = fcntl(stream.get_ref().as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let was_nonblocking = OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK);
    stream.get_ref().set_nonblocking(true)?;
    let mut byte = [0u8; 1];
    let result = stream.peek(&mut byte);
    stream.get_ref().set_nonblocking(was_nonblocking)?;
    Ok(result)
}

fn resumable(stream: &TlsStream<TcpStream>) -> Option<SslSession> {
    let session = stream.ssl().session()?;
    crate::sys::session_is_resumable(session).then(|| session.to_owned())
}
