//! [`connect_async`] and [`connect_async_with`]: resolve, connect, STARTTLS and handshake on
//! tokio, within the same deadlines as [`connect`](super::connect) and
//! [`connect_with`](super::connect_with), with the same [`ConnectError`].

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use ::tokio::net::TcpStream;
use openssl::ssl::Ssl;

use crate::run::tokio::{negotiate_starttls, AsyncHandshake, AsyncTlsStream};
use crate::url::{Host, TransportUrl};

use super::attempts::Attempts;
use super::config::ClientConfig;
use super::connect::refuse_scheme;
use super::connect_options::ConnectOptions;
use super::connection::TlsConnection;
use super::error::ConnectError;
use super::resolve::{resolve, ssl_host};
use super::secure::{dialogue_options, sni_of, Secure, Secured};
use super::upgrade::upgrade_start;

/// [`connect`](super::connect) on tokio: refuses what `connect` refuses, resolves the host
/// (names through tokio's resolver, which runs
/// [`getaddrinfo(3)`](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html) on its
/// blocking pool), connects to each address in turn, all within the configuration's
/// connect timeout, then runs the handshake
/// ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/)) with its nodelay
/// policy within the handshake timeout. Needs a runtime with I/O and time enabled.
///
/// A `tcp://` URL is [`ConnectError::NotTls`] here, as for `connect`; STARTTLS goes through
/// [`connect_async_with`].
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tlshake::client::{connect_async, ClientConfig};
///
/// let config = ClientConfig::builder().build()?;
/// let tls = connect_async(&"tls://example.com:443".parse()?, &config).await?;
/// println!("{}", tls.stream.get_ref().protocol());
/// # Ok(()) }
/// ```
pub async fn connect_async(
    url: &TransportUrl,
    config: &ClientConfig,
) -> Result<TlsConnection<AsyncTlsStream>, ConnectError> {
    connect_async_with(url, config, &ConnectOptions::default()).await
}

/// [`connect_with`](super::connect_with) on tokio: [`connect_async`], optionally with a
/// STARTTLS dialogue ([`ConnectOptions::starttls`], on a `tcp://` URL or a TLS one) between
/// the TCP connect and the handshake, and with one [`ConnectOptions::deadline`] for
/// everything instead of the configuration's separate connect and handshake timeouts.
///
/// The dialogue is the sans-IO [`Dialogue`](crate::starttls::Dialogue) that the blocking
/// `connect_with` runs, here on tokio's reactor
/// ([`negotiate_starttls`](crate::tokio::negotiate_starttls)): the same commands, the same
/// [`ConnectError::Starttls`] errors, and the dialogue and the handshake share one deadline
/// as they do there. Dropping the future stops whichever step is running and closes the
/// socket.
///
/// [`ConnectOptions::proxy`] is not supported here:
/// [`ConnectError::Io`] with [`io::ErrorKind::Unsupported`], before any I/O.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, Instant};
/// use tlshake::client::{connect_async_with, ClientConfig, ConnectOptions};
/// use tlshake::starttls::StarttlsProtocol;
///
/// let config = ClientConfig::builder().build()?;
/// let options = ConnectOptions::new()
///     .starttls(StarttlsProtocol::Smtp)
///     .deadline(Instant::now() + Duration::from_secs(10));
/// let tls = connect_async_with(&"tcp://mail.example.com:25".parse()?, &config, &options).await?;
/// println!("{:?}", tls.starttls.map(|t| t.go_ahead));
/// # Ok(()) }
/// ```
pub async fn connect_async_with(
    url: &TransportUrl,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection<AsyncTlsStream>, ConnectError> {
    let scheme = refuse_scheme(url, options)?;
    if options.proxy.is_some() {
        return Err(ConnectError::Io {
            during: "connecting through an HTTP proxy",
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "connect_async_with does not tunnel through a proxy",
            ),
        });
    }
    let host = ssl_host(url.host());
    let ssl = config.sealed_ssl(&host, scheme.pinned_version())?;
    let start = Instant::now();
    let connect_deadline = options
        .deadline
        .unwrap_or(start + config.options().connect_timeout);
    let (tcp, peer, tried) = tcp_connect_async(url, connect_deadline).await?;
    let plan = Secure::after_connect(peer, Some(start.elapsed()), &host, config, options);
    let secured = secure_async(tcp, ssl, config, &plan).await?;
    Ok(secured.into_connection(&plan, tried, config))
}

/// The tokio form of [`upgrade`](super::upgrade): the STARTTLS dialogue when
/// `options.starttls` names one, then the TLS handshake for `host`, on the connected plain
/// socket `stream`, with `upgrade`'s argument order, deadline rule (`options.deadline`, or
/// the handshake timeout from now), errors and proxy refusal.
pub async fn upgrade_async(
    stream: TcpStream,
    host: &str,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection<AsyncTlsStream>, ConnectError> {
    let (peer, ssl) = upgrade_start(stream.peer_addr(), host, config, options)?;
    let plan = Secure::after_connect(peer, None, host, config, options);
    let secured = secure_async(stream, ssl, config, &plan).await?;
    Ok(secured.into_connection(&plan, vec![peer], config))
}

/// The tokio form of [`starttls_then_handshake`](super::starttls_then_handshake): the
/// STARTTLS dialogue (when `plan.starttls` names one), then the handshake, by
/// `plan.deadline`; the steps [`connect_async_with`] and [`upgrade_async`] share.
async fn secure_async(
    tcp: TcpStream,
    ssl: Ssl,
    config: &ClientConfig,
    plan: &Secure<'_>,
) -> Result<Secured<AsyncTlsStream>, ConnectError> {
    let mut transcript = None;
    let mut starttls_time = None;
    if let Some(protocol) = plan.starttls {
        let t0 = Instant::now();
        let dialogue = dialogue_options(plan.starttls_options, plan.host);
        let t = negotiate_starttls(&tcp, protocol, &dialogue, plan.deadline)
            .await
            .map_err(plan.starttls_error())?;
        starttls_time = Some(t0.elapsed());
        transcript = Some(t);
    }
    let sni = sni_of(&ssl);
    let to_error = plan.handshake_error(starttls_time, &sni);
    let mut hs = AsyncHandshake::client(ssl, tcp, plan.deadline.instant()).map_err(&to_error)?;
    hs.get_mut().set_nodelay_policy(config.options().nodelay);
    let t0 = Instant::now();
    let stream = hs.await.map_err(to_error)?;
    Ok(Secured {
        stream,
        sni,
        starttls: transcript,
        starttls_time,
        handshake_time: t0.elapsed(),
    })
}

/// Resolves and connects, trying each address in turn, until `deadline`: the address loop
/// of [`tcp_connect`](super::tcp_connect) ([`Attempts`]) with tokio's connect, and its errors.
async fn tcp_connect_async(
    url: &TransportUrl,
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr, Vec<SocketAddr>), ConnectError> {
    let start = Instant::now();
    let addrs = match url.host() {
        Host::Name(name) => resolve_async(name, url.port(), deadline).await?,
        // Literals (and IPv6 zones) resolve without blocking.
        _ => resolve(url, deadline)?,
    };
    let mut attempts = Attempts::new(url, addrs, start, deadline);
    loop {
        let (addr, _left) = attempts.next()?;
        match ::tokio::time::timeout_at(deadline.into(), TcpStream::connect(addr)).await {
            Err(_elapsed) => return Err(attempts.timed_out()),
            Ok(Ok(stream)) => return Ok((stream, addr, attempts.connected().0)),
            Ok(Err(e)) => attempts.failed(addr, e)?,
        }
    }
}

async fn resolve_async(
    name: &str,
    port: u16,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let start = Instant::now();
    // The resolver may not know the absolute form `localhost.`; it names the same host.
    let query = name.trim_end_matches('.');
    let lookup = ::tokio::net::lookup_host((query, port));
    match ::tokio::time::timeout_at(deadline.into(), lookup).await {
        Ok(Ok(addrs)) => Ok(addrs.collect()),
        Ok(Err(source)) => Err(ConnectError::Resolve {
            host: name.to_string(),
            source,
        }),
        Err(_) => Err(ConnectError::ResolveTimeout {
            host: name.to_string(),
            elapsed: start.elapsed(),
        }),
    }
}
