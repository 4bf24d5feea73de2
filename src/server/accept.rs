//! What both listeners do with a connection, written once: the epoll
//! [`TlsListener`](super::TlsListener) and the tokio `AsyncTlsListener` bind their socket,
//! make each accepted connection's handshake, and turn the engine's [`Ended`] into a
//! [`ServerEvent`] here.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::ops::ControlFlow;
use std::time::Duration;

use openssl::ssl::{Ssl, SslContext};

use crate::engine::{AcceptPolicy, Ended, Outcome, ACCEPT_BACKOFF};
use crate::handshake::Handshake;
use crate::multi::MultiError;
use crate::nodelay::NodelayPolicy;
use crate::stream::TlsStream;

use super::bind::{self, BindHost, SocketOptions};
use super::config::ServerConfig;
use super::error::ServerConfigError;
use super::event::{Accepted, RejectReason, ServerEvent};

/// The per-connection settings of a listener, from its [`ServerConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) handshake_timeout: Duration,
    pub(crate) nodelay: NodelayPolicy,
    pub(crate) max_pending: usize,
}

impl Settings {
    /// The accept policy of the listener's set: `max_pending`, and the standard backoff.
    pub(crate) fn policy(&self) -> AcceptPolicy {
        AcceptPolicy {
            max_pending: Some(self.max_pending),
            backoff: ACCEPT_BACKOFF,
        }
    }

    /// Why a connection was refused at once: the set was full of connections that had all
    /// made progress.
    pub(crate) fn too_many_pending(&self) -> RejectReason {
        RejectReason::TooManyPending {
            limit: self.max_pending,
        }
    }
}

/// Checks the per-connection settings of `config`, then binds and listens on its address
/// (resolved, `[::]` dual-stack before `0.0.0.0` for all interfaces) with its socket
/// options: the listening socket, the address bound, and the settings.
pub(crate) fn listen(
    config: &ServerConfig,
) -> Result<(TcpListener, SocketAddr, Settings), ServerConfigError> {
    let config = &config.settings;
    let host = config
        .address
        .as_deref()
        .map_or(BindHost::Any, BindHost::parse);
    let candidates = bind::candidates(&host, config.port)?;
    let options = SocketOptions {
        reuse_address: config.reuse_address,
        reuse_port: config.reuse_port,
        backlog: i32::try_from(config.backlog).unwrap_or(i32::MAX),
    };
    let socket = bind::bind_first(&candidates, options)?;
    let local_addr = socket.local_addr().map_err(socket_error("getsockname"))?;
    if config.nodelay == NodelayPolicy::Always {
        // Linux copies TCP_NODELAY from the listening socket to each accepted one: the
        // policy then finds it set (one getsockopt) instead of setting it per connection.
        // Best effort: where it is not copied, the policy still sets it.
        let _ = crate::nodelay::set_nodelay(&socket, true);
    }
    let settings = Settings {
        handshake_timeout: config.handshake_timeout,
        nodelay: config.nodelay,
        max_pending: config.max_pending,
    };
    Ok((socket, local_addr, settings))
}

/// The [`ServerConfigError::Socket`] of a failed `step`.
pub(crate) fn socket_error(step: &'static str) -> impl FnOnce(io::Error) -> ServerConfigError {
    move |source| ServerConfigError::Socket { step, source }
}

/// The `Ssl` of one accepted connection
/// ([`SSL_new(3)`](https://docs.openssl.org/3.0/man3/SSL_new/)), with the slot a client
/// certificate that failed verification is kept in, for the hint.
pub(crate) fn connection_ssl(context: &SslContext) -> Result<Ssl, MultiError> {
    let ssl_error = |e: openssl::error::ErrorStack| MultiError::Ssl(e.into());
    let mut ssl = Ssl::new(context).map_err(ssl_error)?;
    crate::handshake::add_rejected_leaf_slot(&mut ssl).map_err(ssl_error)?;
    Ok(ssl)
}

/// The server handshake of one accepted connection, with the listener's nodelay policy.
pub(crate) fn server_handshake<S: io::Read + io::Write>(
    ssl: Ssl,
    transport: S,
    nodelay: NodelayPolicy,
) -> Result<Handshake<S>, MultiError> {
    let mut handshake = Handshake::server(ssl, transport).map_err(MultiError::Setup)?;
    handshake.set_nodelay_policy(nodelay);
    Ok(handshake)
}

/// An IPv4 client of a dual-stack socket arrives as `::ffff:a.b.c.d`; show it as IPv4.
pub(crate) fn plain_peer(peer: SocketAddr) -> SocketAddr {
    match peer {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => peer,
        },
        v4 => v4,
    }
}

/// The event of a handshake that left a listener's set: the one translation from the
/// engine's [`Outcome`] to a [`ServerEvent`]. `established` turns the finished stream into
/// the listener's own stream type; when it fails, the connection is rejected instead.
pub(crate) fn ended_event<T, S>(
    ended: Ended<T, SocketAddr>,
    settings: &Settings,
    established: impl FnOnce(TlsStream<T>) -> Result<S, MultiError>,
) -> ServerEvent<S> {
    let peer = ended.user;
    let stream = match without_stream(ended.outcome, peer, settings.max_pending) {
        ControlFlow::Continue(stream) => stream,
        ControlFlow::Break(event) => return event,
    };
    let session = stream.session();
    match established(stream) {
        Ok(stream) => ServerEvent::Established(Accepted {
            stream,
            peer,
            session,
            handshake_time: ended.elapsed,
        }),
        Err(error) => ServerEvent::Rejected {
            peer,
            reason: RejectReason::Setup(error),
        },
    }
}

/// The stream of a handshake that completed (`Continue`: the listener makes its event), or
/// the event of one that ended without a stream (`Break`: failed, shut down, timed out,
/// evicted from a set of `max_pending`): the part of the translation the TLS and DTLS
/// listeners share.
pub(crate) fn without_stream<T, S>(
    outcome: Outcome<T>,
    peer: SocketAddr,
    max_pending: usize,
) -> ControlFlow<ServerEvent<S>, TlsStream<T>> {
    ControlFlow::Break(match outcome {
        Outcome::Done(stream) => return ControlFlow::Continue(stream),
        Outcome::Failed(error) => ServerEvent::Failed { peer, error },
        Outcome::Shutdown(error) => ServerEvent::Shutdown { peer, error },
        Outcome::TimedOut(error) => ServerEvent::TimedOut { peer, error },
        Outcome::Evicted => ServerEvent::Rejected {
            peer,
            reason: RejectReason::Evicted { limit: max_pending },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_peers_show_as_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert_eq!(plain_peer(mapped), "127.0.0.1:5000".parse().unwrap());
        let v6: SocketAddr = "[::1]:5000".parse().unwrap();
        assert_eq!(plain_peer(v6), v6);
    }
}
