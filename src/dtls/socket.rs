//! [`UdpTransport`]: a connected UDP socket as a datagram transport for OpenSSL's BIO.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};

use crate::server::ServerConfigError;

/// A connected [`UdpSocket`] as a DTLS transport: one `read` is one
/// [`recv(2)`](https://man7.org/linux/man-pages/man2/recv.2.html) (one datagram; a longer
/// one is cut to the buffer, as OpenSSL's own datagram BIO does), one `write` is one
/// [`send(2)`](https://man7.org/linux/man-pages/man2/send.2.html). Nonblocking from
/// [`new`](Self::new) on, as every runner wants it; [`set_blocking`](Self::set_blocking)
/// turns an established stream back into a blocking one.
///
/// Connected, the socket only receives the peer's datagrams, and an ICMP "port
/// unreachable" from the peer's host comes back as `ECONNREFUSED` on the next read.
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
    peer: SocketAddr,
}

impl UdpTransport {
    /// Wraps a socket already connected with
    /// [`UdpSocket::connect`](std::net::UdpSocket::connect), and makes it nonblocking.
    pub fn new(socket: UdpSocket) -> io::Result<UdpTransport> {
        let peer = socket.peer_addr()?;
        socket.set_nonblocking(true)?;
        Ok(UdpTransport { socket, peer })
    }

    /// The address the socket is connected to.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The socket.
    pub fn get_ref(&self) -> &UdpSocket {
        &self.socket
    }

    /// The socket, by value.
    pub fn into_inner(self) -> UdpSocket {
        self.socket
    }

    /// Blocking reads and writes (with `read_timeout` on reads), or nonblocking ones.
    pub fn set_blocking(&self, read_timeout: Option<Duration>) -> io::Result<()> {
        self.socket.set_nonblocking(false)?;
        self.socket.set_read_timeout(read_timeout)
    }
}

impl Read for UdpTransport {
    /// One datagram. An empty datagram carries no record and is skipped: a read of 0 would
    /// mean end-of-file, which a datagram socket has not.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.socket.recv(buf) {
                Ok(0) if !buf.is_empty() => continue,
                other => return other,
            }
        }
    }
}

impl Write for UdpTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.socket.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for UdpTransport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// Binds the first candidate that works, as the TCP listener does (`[::]` dual-stack, then
/// `0.0.0.0`).
pub(crate) fn bind_udp(
    candidates: &[SocketAddr],
    reuse_address: bool,
) -> Result<UdpSocket, ServerConfigError> {
    let mut last = None;
    for addr in candidates {
        match bind_one(*addr, reuse_address) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(ServerConfigError::NoAddress {
        host: String::from("(no address)"),
    }))
}

fn bind_one(addr: SocketAddr, reuse_address: bool) -> Result<UdpSocket, ServerConfigError> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let step = |step| {
        move |e: nix::errno::Errno| ServerConfigError::Socket {
            step,
            source: io::Error::from(e),
        }
    };
    let fd = socket::socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(step("socket"))?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &reuse_address)
        .map_err(step("setsockopt(SO_REUSEADDR)"))?;
    if let SocketAddr::V6(v6) = addr {
        if v6.ip().is_unspecified() {
            socket::setsockopt(&fd, sockopt::Ipv6V6Only, &false)
                .map_err(step("setsockopt(IPV6_V6ONLY)"))?;
        }
    }
    socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))
        .map_err(|e| crate::server::bind::bind_error(addr, e))?;
    Ok(UdpSocket::from(fd))
}

/// An IPv4 peer of a dual-stack socket as IPv4.
pub(crate) fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
