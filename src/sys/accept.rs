//! `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: an accepted connection comes out
//! nonblocking in the same call, where `TcpListener::accept` and `set_nonblocking` take two.

use std::io;
use std::mem;
use std::net::{
    Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpListener, TcpStream,
};
use std::os::fd::{AsRawFd, FromRawFd};

/// Accepts one connection on `listener`, nonblocking and close-on-exec
/// ([`accept4(2)`](https://man7.org/linux/man-pages/man2/accept4.2.html)), with the peer's
/// address. Interrupted calls are retried; `WouldBlock` means the queue is empty.
pub(crate) fn accept_nonblocking(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    // SAFETY: `sockaddr_storage` is plain old data, for which all zero bytes are a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    loop {
        let mut len = socklen_of::<libc::sockaddr_storage>();
        // SAFETY: the descriptor is the listener's and open for the borrow; `storage` is a
        // writable `sockaddr_storage` (large and aligned enough for any address) and `len`
        // holds its size, as accept4 requires.
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::addr_of_mut!(storage).cast::<libc::sockaddr>(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        // SAFETY: accept4 returned a new descriptor that nothing else owns; the stream owns
        // it from here on and closes it once.
        let stream = unsafe { TcpStream::from_raw_fd(fd) };
        return Ok((stream, peer_address(&storage)?));
    }
}

fn socklen_of<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// The address accept4 wrote, read by its family.
fn peer_address(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`; `sockaddr_storage`
            // is at least as large and as aligned as any socket address.
            let sin = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
            Ok(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for a `sockaddr_in6`.
            let sin6 = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("accept4 returned an address of family {family}, neither IPv4 nor IPv6"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;

    #[test]
    fn accepted_sockets_are_nonblocking_with_the_peer_address() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let listener = TcpListener::bind(bind).expect("bind loopback");
            listener
                .set_nonblocking(true)
                .expect("nonblocking listener");
            assert_eq!(
                accept_nonblocking(&listener).map_err(|e| e.kind()).err(),
                Some(ErrorKind::WouldBlock)
            );
            let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
            listener.set_nonblocking(false).expect("blocking listener");
            let (server, peer) = accept_nonblocking(&listener).expect("accept4");
            assert_eq!(peer, client.local_addr().expect("client addr"));
            let mut buf = [0u8; 1];
            assert_eq!(
                std::io::Read::read(&mut &server, &mut buf)
                    .map_err(|e| e.kind())
                    .err(),
                Some(ErrorKind::WouldBlock),
                "the accepted socket is nonblocking"
            );
        }
    }
}
