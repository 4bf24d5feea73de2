//! Binding the listening socket: address text to `SocketAddr`, then `socket(2)`,
//! `SO_REUSEADDR`, `bind(2)` and `listen(2)` through `nix`, handed to std as a `TcpListener`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage,
};

use crate::server::error::ServerConfigError;

/// Where a listener binds, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BindHost {
    /// All interfaces: `[::]` dual-stack, or `0.0.0.0` when the machine has no IPv6.
    Any,
    /// One address.
    Ip(IpAddr),
    /// A host name, resolved to one of this machine's addresses.
    Name(String),
}

impl BindHost {
    /// Reads `127.0.0.1`, `::1`, `[::1]`, a host name, or `*` / `` (all interfaces).
    pub(crate) fn parse(text: &str) -> BindHost {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return BindHost::Any;
        }
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        match bare.parse::<IpAddr>() {
            Ok(ip) => BindHost::Ip(ip),
            Err(_) => BindHost::Name(text.to_string()),
        }
    }
}

/// The addresses to try, in order: for [`BindHost::Any`] `[::]` then `0.0.0.0`.
pub(crate) fn candidates(host: &BindHost, port: u16) -> Result<Vec<SocketAddr>, ServerConfigError> {
    match host {
        BindHost::Any => Ok(vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        ]),
        BindHost::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        BindHost::Name(name) => {
            let addrs: Vec<SocketAddr> = (name.as_str(), port)
                .to_socket_addrs()
                .map_err(|source| ServerConfigError::Resolve {
                    host: name.clone(),
                    source,
                })?
                .collect();
            match addrs.first() {
                // The first address the resolver prefers; the others are the same machine.
                Some(first) => Ok(vec![*first]),
                None => Err(ServerConfigError::NoAddress { host: name.clone() }),
            }
        }
    }
}

/// Settings of the listening socket itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketOptions {
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) backlog: i32,
}

/// Binds the first candidate that works. For all interfaces, `[::]` is tried first with
/// `IPV6_V6ONLY` off (one socket for IPv4 and IPv6); when the machine has no IPv6
/// (`EAFNOSUPPORT`, `EADDRNOTAVAIL` on `[::]`), `0.0.0.0` follows.
pub(crate) fn bind_first(
    addrs: &[SocketAddr],
    options: SocketOptions,
) -> Result<TcpListener, ServerConfigError> {
    let mut last = None;
    for (i, addr) in addrs.iter().enumerate() {
        match bind_one(*addr, options) {
            Ok(listener) => return Ok(listener),
            Err(e) => {
                let more = i + 1 < addrs.len();
                let no_ipv6 = matches!(
                    &e,
                    ServerConfigError::Socket { source, .. }
                        if source.raw_os_error() == Some(Errno::EAFNOSUPPORT as i32)
                ) || matches!(&e, ServerConfigError::AddressNotAvailable { .. });
                if more && addr.is_ipv6() && no_ipv6 {
                    last = Some(e);
                    continue;
                }
                return Err(e);
            }
        }
    }
    Err(last.unwrap_or(ServerConfigError::NoAddress {
        host: String::from("(no address)"),
    }))
}

/// `socket(2)`, `setsockopt(2)`, `bind(2)`, `listen(2)`, then std takes the descriptor.
pub(crate) fn bind_one(
    addr: SocketAddr,
    options: SocketOptions,
) -> Result<TcpListener, ServerConfigError> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd =
        socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).map_err(|e| {
            ServerConfigError::Socket {
                step: "socket",
                source: io::Error::from(e),
            }
        })?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &options.reuse_address).map_err(|e| {
        ServerConfigError::Socket {
            step: "setsockopt(SO_REUSEADDR)",
            source: io::Error::from(e),
        }
    })?;
    if options.reuse_port {
        socket::setsockopt(&fd, sockopt::ReusePort, &true).map_err(|e| {
            ServerConfigError::Socket {
                step: "setsockopt(SO_REUSEPORT)",
                source: io::Error::from(e),
            }
        })?;
    }
    if let SocketAddr::V6(v6) = addr {
        if v6.ip().is_unspecified() {
            socket::setsockopt(&fd, sockopt::Ipv6V6Only, &false).map_err(|e| {
                ServerConfigError::Socket {
                    step: "setsockopt(IPV6_V6ONLY)",
                    source: io::Error::from(e),
                }
            })?;
        }
    }
    socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr)).map_err(|e| bind_error(addr, e))?;
    let backlog = Backlog::new(options.backlog).unwrap_or(Backlog::MAXCONN);
    socket::listen(&fd, backlog).map_err(|e| ServerConfigError::Listen {
        addr,
        source: io::Error::from(e),
    })?;
    Ok(TcpListener::from(fd))
}

/// Names the errors of `bind(2)` a person can act on.
pub(crate) fn bind_error(addr: SocketAddr, errno: Errno) -> ServerConfigError {
    match errno {
        Errno::EADDRINUSE => ServerConfigError::AddressInUse { addr },
        Errno::EADDRNOTAVAIL => ServerConfigError::AddressNotAvailable { addr },
        Errno::EACCES | Errno::EPERM => ServerConfigError::PermissionDenied { addr },
        other => ServerConfigError::Bind {
            addr,
            source: io::Error::from(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_text_forms() {
        assert_eq!(BindHost::parse(""), BindHost::Any);
        assert_eq!(BindHost::parse("*"), BindHost::Any);
        assert_eq!(
            BindHost::parse("127.0.0.1"),
            BindHost::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(
            BindHost::parse("[::1]"),
            BindHost::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(
            BindHost::parse("::1"),
            BindHost::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(
            BindHost::parse("localhost"),
            BindHost::Name("localhost".to_string())
        );
    }

    #[test]
    fn bind_errors_are_named() {
        let addr: SocketAddr = "127.0.0.1:443".parse().unwrap();
        assert!(matches!(
            bind_error(addr, Errno::EACCES),
            ServerConfigError::PermissionDenied { addr: a } if a == addr
        ));
        assert!(matches!(
            bind_error(addr, Errno::EADDRINUSE),
            ServerConfigError::AddressInUse { addr: a } if a == addr
        ));
        assert!(matches!(
            bind_error(addr, Errno::EADDRNOTAVAIL),
            ServerConfigError::AddressNotAvailable { addr: a } if a == addr
        ));
        let text = bind_error(addr, Errno::EACCES).to_string();
        assert!(
            text.contains("127.0.0.1:443") && text.contains("1024"),
            "{text}"
        );
        assert!(matches!(
            bind_error(addr, Errno::EINVAL),
            ServerConfigError::Bind { .. }
        ));
    }
}
