//! [`AsyncTlsListener`]: accepting TLS connections on tokio, with a [`ServerConfig`].

use std::net::SocketAddr;
use std::time::Duration;

use ::tokio::net::TcpListener;
use openssl::ssl::{Ssl, SslContext};

use crate::deadline::Deadline;
use crate::multi::MultiError;
use crate::nodelay::NodelayPolicy;
use crate::server::{RejectReason, ServerConfig, ServerConfigError, ServerError, TlsListener};

use super::handshake::{AsyncHandshake, Connecting};
use super::stream::AsyncTlsStream;

/// A listening socket whose connections are TLS server handshakes on tokio
/// ([`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)), each bounded by the
/// configuration's handshake timeout from its `accept(2)`.
///
/// [`accept`](Self::accept) gives each connection's handshake as a future, to spawn so that
/// a slow client delays no other; [`accept_tls`](Self::accept_tls) accepts and awaits one.
/// The bound on handshakes in flight ([`ServerConfig::max_pending`]) and the eviction of the
/// idlest are the epoll [`TlsListener`]'s: here the caller decides how many futures to run.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tlshake::server::ServerConfig;
/// use tlshake::tokio::AsyncTlsListener;
///
/// let config = ServerConfig::new(4433).certificate_files("server.pem", "server.key");
/// let listener = AsyncTlsListener::bind(&config)?;
/// loop {
///     let (handshake, peer) = listener.accept().await?;
///     tokio::spawn(async move {
///         match handshake.await {
///             Ok(tls) => println!("{peer}: {}", tls.get_ref().protocol()),
///             Err(e) => eprintln!("{peer}: {e}"),
///         }
///     });
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncTlsListener {
    tcp: TcpListener,
    context: SslContext,
    handshake_timeout: Duration,
    nodelay: NodelayPolicy,
    local_addr: SocketAddr,
}

impl AsyncTlsListener {
    /// Binds as [`TlsListener::bind`] does (the same checks, context and socket options, and
    /// the same errors) and registers the socket with the current tokio runtime: call it
    /// from within one.
    pub fn bind(config: &ServerConfig) -> Result<AsyncTlsListener, ServerConfigError> {
        let listener = TlsListener::bind(config)?;
        let socket = |step| move |source| ServerConfigError::Socket { step, source };
        let std_listener = listener.socket().try_clone().map_err(socket("dup"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(socket("fcntl O_NONBLOCK"))?;
        let tcp = TcpListener::from_std(std_listener).map_err(socket("registering with tokio"))?;
        Ok(AsyncTlsListener {
            tcp,
            context: listener.context().clone(),
            handshake_timeout: config.handshake_timeout,
            nodelay: config.nodelay,
            local_addr: listener.local_addr(),
        })
    }

    /// The address and port bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The context every connection's `Ssl` comes from.
    pub fn context(&self) -> &SslContext {
        &self.context
    }

    /// Accepts one connection ([`accept(2)`](https://man7.org/linux/man-pages/man2/accept.2.html))
    /// and gives its handshake, not yet started, with its deadline running from now. A
    /// connection whose `SSL` object cannot be made is [`ServerError::Rejected`].
    pub async fn accept(&self) -> Result<(Connecting, SocketAddr), ServerError> {
        let (tcp, peer) = self
            .tcp
            .accept()
            .await
            .map_err(|source| ServerError::Accept { source })?;
        // As on the epoll listener: a connection whose `SSL` cannot be made is rejected.
        let tls = |source: openssl::error::ErrorStack| ServerError::Rejected {
            peer,
            reason: RejectReason::Setup(MultiError::Ssl(source.into())),
        };
        let mut ssl = Ssl::new(&self.context).map_err(tls)?;
        crate::handshake::add_rejected_leaf_slot(&mut ssl).map_err(tls)?;
        let deadline = Deadline::after(self.handshake_timeout);
        let mut hs = AsyncHandshake::server(ssl, tcp, deadline)
            .map_err(|source| ServerError::Handshake { peer, source })?;
        hs.get_mut().set_nodelay_policy(self.nodelay);
        Ok((hs.into_future(), peer))
    }

    /// Accepts one connection and completes its handshake; a failed or timed-out handshake
    /// is [`ServerError::Handshake`] with the typed error.
    pub async fn accept_tls(&self) -> Result<(AsyncTlsStream, SocketAddr), ServerError> {
        let (handshake, peer) = self.accept().await?;
        let tls = handshake
            .await
            .map_err(|source| ServerError::Handshake { peer, source })?;
        Ok((tls, peer))
    }
}
