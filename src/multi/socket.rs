//! Nonblocking TCP sockets for many connections at once: a connect that does not wait, and a
//! listener with a deep accept queue. Running out of descriptors gives a
//! [`LimitError`](crate::LimitError) that names the limit.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrStorage};

use super::error::MultiError;
use crate::server::bind::{bind_one, SocketOptions};
use crate::server::ServerConfigError;

fn family(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// Opens a nonblocking TCP socket and starts connecting it to `addr`, without waiting for the
/// connection to be established
/// ([`socket(2)`](https://man7.org/linux/man-pages/man2/socket.2.html) with `SOCK_NONBLOCK`,
/// then [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html), where
/// `EINPROGRESS` is the normal answer).
///
/// Hand the stream to a client [`Handshake`](crate::Handshake) and add it to a
/// [`MultiDriver`](super::MultiDriver): the first step waits until the socket is writable,
/// which is when the connection is up, and a refused connection ends the handshake with the
/// operating-system error. `EMFILE` / `ENFILE` give [`MultiError::Limit`].
pub fn connect_nonblocking(addr: SocketAddr) -> Result<TcpStream, MultiError> {
    let fd = nonblocking_socket(&addr)?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        // EINTR on a nonblocking connect: the connection goes on in the background.
        Ok(()) | Err(Errno::EINPROGRESS) | Err(Errno::EINTR) => Ok(TcpStream::from(fd)),
        Err(e) => Err(MultiError::errno("connect", e)),
    }
}

/// A nonblocking, close-on-exec TCP socket of `addr`'s family.
fn nonblocking_socket(addr: &SocketAddr) -> Result<OwnedFd, MultiError> {
    socket::socket(
        family(addr),
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| MultiError::errno("socket", e))
}

/// Binds a nonblocking TCP listener on `addr` with `SO_REUSEADDR` and an accept queue of
/// `backlog` connections ([`listen(2)`](https://man7.org/linux/man-pages/man2/listen.2.html);
/// the kernel caps it at `net.core.somaxconn`).
///
/// `std::net::TcpListener::bind` asks for a queue of 128, which overflows when thousands of
/// clients connect at once: the kernel then drops their SYNs and they retry a second later.
/// The socket is made as [`TlsListener::bind`](crate::server::TlsListener::bind) makes its own, so a
/// port in use, an address not on this machine or a privileged port give the same
/// [`ServerConfigError`](crate::server::ServerConfigError) (in [`MultiError::Listen`]); running out of
/// descriptors gives [`MultiError::Limit`].
pub fn listen_tcp(addr: SocketAddr, backlog: i32) -> Result<TcpListener, MultiError> {
    let options = SocketOptions {
        reuse_address: true,
        reuse_port: false,
        backlog,
    };
    let listener = bind_one(addr, options).map_err(|e| match e {
        ServerConfigError::Socket { step, source } => MultiError::os(step, source),
        other => MultiError::Listen(other),
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| MultiError::os("fcntl(O_NONBLOCK)", e))?;
    Ok(listener)
}
