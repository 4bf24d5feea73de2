//! Name resolution and the TCP connect, each within its deadline: [`tcp_connect`](crate::client::tcp_connect).

use std::io;
use std::net::{SocketAddr, SocketAddrV6, TcpStream, ToSocketAddrs};
use std::time::Instant;

use crate::deadline::Deadline;
use crate::url::{Host, TransportUrl};

use super::attempts::Attempts;
use super::connection::TcpConnection;
use super::error::ConnectError;

pub(crate) fn resolve(
    url: &TransportUrl,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let port = url.port();
    match url.host() {
        Host::Ipv4(a) => Ok(vec![SocketAddr::from((*a, port))]),
        Host::Ipv6 { addr, zone } => {
            let scope = match zone {
                Some(z) => z
                    .parse::<u32>()
                    .ok()
                    .or_else(|| nix::net::if_::if_nametoindex(z.as_str()).ok())
                    .ok_or_else(|| ConnectError::Resolve {
                        host: url.host().to_string(),
                        source: io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("no network interface named {z:?}"),
                        ),
                    })?,
                None => 0,
            };
            Ok(vec![SocketAddr::V6(SocketAddrV6::new(
                *addr, port, 0, scope,
            ))])
        }
        Host::Name(name) => resolve_name(name, port, deadline),
    }
}

/// Resolves a host name with the system resolver
/// ([`getaddrinfo(3)`](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html)), giving up
/// at `deadline`.
///
/// `getaddrinfo` blocks for as long as the resolver configuration says (with the glibc
/// defaults, 5 s per attempt and server, twice) and cannot be cancelled, so it runs on a
/// thread of its own and the caller waits for its answer only until the deadline. When the
/// deadline passes first, the thread is left to finish on its own and its answer is dropped.
///
/// Why a thread rather than the alternatives: `getaddrinfo_a(3)` is glibc-only, needs raw FFI
/// and notifies by signal or by a thread of its own anyway; a resolver crate would speak DNS
/// itself and so ignore what the system resolver honours (`/etc/hosts`, `nsswitch.conf`,
/// mDNS, ...), and names would resolve differently from `openssl s_client`, which uses
/// `getaddrinfo`. The thread keeps exactly the system's answers and costs one short-lived
/// thread per connection by name.
fn resolve_name(name: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ConnectError> {
    let start = Instant::now();
    let timeout = |start: Instant| ConnectError::ResolveTimeout {
        host: name.to_string(),
        elapsed: start.elapsed(),
    };
    if start >= deadline {
        return Err(timeout(start));
    }
    // The resolver may not know the absolute form `localhost.`; it names the same host.
    let query = name.trim_end_matches('.').to_string();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("tlshake-resolve".into())
        .spawn(move || {
            let answer = (query.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            // The receiver is gone when the deadline passed: nobody wants the answer.
            let _ = tx.send(answer);
        });
    if let Err(source) = spawned {
        return Err(ConnectError::Io {
            during: "starting the name resolution thread",
            source,
        });
    }
    let left = Deadline::at(deadline).remaining().unwrap_or_default();
    match rx.recv_timeout(left) {
        Ok(answer) => answer.map_err(|source| ConnectError::Resolve {
            host: name.to_string(),
            source,
        }),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(timeout(start)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ConnectError::Resolve {
            host: name.to_string(),
            source: io::Error::other("the name resolution thread ended without an answer"),
        }),
    }
}

/// Resolves the URL's host and connects to each address in turn until one answers, within
/// `deadline` (name resolution included). The socket is left blocking.
///
/// A peer that accepts the connection and resets it at once makes
/// [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html) fail with
/// `ECONNRESET` when the reset arrives before the connect is seen to complete, and makes the
/// first read or write fail when it arrives after. Both are the same event, a connection
/// accepted and then reset, so the first case is reported as
/// [`ConnectError::ResetAfterAccept`] (no other address is tried: one answered), and callers
/// classify it with the failed handshake of the second case.
pub fn tcp_connect(url: &TransportUrl, deadline: Instant) -> Result<TcpConnection, ConnectError> {
    let start = Instant::now();
    let addrs = resolve(url, deadline)?;
    let mut attempts = Attempts::new(url, addrs, start, deadline);
    loop {
        let (addr, left) = attempts.next()?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                let (tried, connect_time) = attempts.connected();
                return Ok(TcpConnection {
                    stream,
                    peer: addr,
                    tried,
                    connect_time,
                });
            }
            Err(e) => attempts.failed(addr, e)?,
        }
    }
}

/// The name an `Ssl` for `host` sends as SNI and checks: an IP literal as it is written
/// without brackets, a DNS name without its trailing dot.
pub(crate) fn ssl_host(host: &Host) -> String {
    match host {
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6 { addr, .. } => addr.to_string(),
        Host::Name(n) => n.trim_end_matches('.').to_string(),
    }
}
