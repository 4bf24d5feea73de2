//! Connecting by transport URL: [`open`](crate::client::open), [`connect`](crate::client::connect), [`connect_with`](crate::client::connect_with), and the refusals
//! that cost no I/O.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use crate::url::{Scheme, TransportUrl};

use super::config::ClientConfig;
use super::connect_options::ConnectOptions;
use super::connection::{Connection, TlsConnection};
use super::error::ConnectError;
use super::resolve::{resolve, ssl_host, tcp_connect};
use super::secure::{starttls_then_handshake, Secure};

/// Opens whatever the URL names: TLS, DTLS (with the default
/// [`DtlsOptions`](crate::dtls::DtlsOptions)), plain TCP or UDP.
pub fn open(url: &TransportUrl, config: &ClientConfig) -> Result<Connection, ConnectError> {
    match url.scheme() {
        Scheme::Tcp => {
            let deadline = Instant::now() + config.options().connect_timeout;
            tcp_connect(url, deadline).map(Connection::Tcp)
        }
        Scheme::Udp => {
            let deadline = Instant::now() + config.options().connect_timeout;
            let addr = resolve(url, deadline)?.into_iter().next().ok_or_else(|| {
                ConnectError::Connect {
                    authority: url.authority(),
                    attempts: Vec::new(),
                }
            })?;
            let local: SocketAddr = if addr.is_ipv6() {
                "[::]:0".parse().map_err(|_| unreachable_addr())?
            } else {
                "0.0.0.0:0".parse().map_err(|_| unreachable_addr())?
            };
            let io = |during| move |source| ConnectError::Io { during, source };
            let socket = UdpSocket::bind(local).map_err(io("binding a UDP socket"))?;
            socket
                .connect(addr)
                .map_err(io("connecting the UDP socket"))?;
            Ok(Connection::Udp { socket, peer: addr })
        }
        Scheme::Dtls | Scheme::DtlsV1_2 => {
            crate::dtls::connect(url, config, &crate::dtls::DtlsOptions::new())
                .map(Connection::Dtls)
        }
        _ => connect(url, config).map(Connection::Tls),
    }
}

fn unreachable_addr() -> ConnectError {
    ConnectError::Io {
        during: "parsing a wildcard address",
        source: io::Error::other("invalid wildcard address"),
    }
}

/// Connects to a TLS URL and completes the handshake.
pub fn connect(url: &TransportUrl, config: &ClientConfig) -> Result<TlsConnection, ConnectError> {
    connect_with(url, config, &ConnectOptions::default())
}

/// Connects, optionally runs a STARTTLS dialogue, and completes the handshake.
///
/// Refusals come first and cost no I/O: `sslv2://`/`sslv3://`, `udp://`, `dtls://` (which
/// [`dtls::connect`](crate::dtls::connect) takes), a `tlsv1.0://` or
/// `tlsv1.1://` without the legacy opt-out. A `tcp://` URL needs `options.starttls`.
pub fn connect_with(
    url: &TransportUrl,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection, ConnectError> {
    let scheme = refuse_scheme(url, options)?;
    let host = ssl_host(url.host());
    let ssl = config.sealed_ssl(&host, scheme.pinned_version())?;

    let connect_deadline = options
        .deadline
        .unwrap_or(Instant::now() + config.options().connect_timeout);
    let tcp = match &options.proxy {
        Some(proxy) => super::proxy::http_connect(proxy, &url.authority(), connect_deadline)?,
        None => tcp_connect(url, connect_deadline)?,
    };
    let plan = Secure::after_connect(tcp.peer, Some(tcp.connect_time), &host, config, options);
    let secured = starttls_then_handshake(tcp.stream, ssl, config, &plan)?;
    Ok(secured.into_connection(&plan, tcp.tried, config))
}

/// The URL's scheme, or the refusal that costs no I/O: `sslv2://`/`sslv3://` and legacy
/// versions without the opt-out, `udp://`, and `tcp://` without `options.starttls`. The
/// blocking and the async connect both begin with it.
pub(super) fn refuse_scheme(
    url: &TransportUrl,
    options: &ConnectOptions,
) -> Result<Scheme, ConnectError> {
    let scheme = url.scheme();
    if let Some(reason) = scheme.refusal_reason() {
        return Err(ConnectError::SchemeRefused {
            scheme: scheme.as_str(),
            reason,
        });
    }
    match scheme {
        Scheme::Udp => Err(ConnectError::TlsOverUdp),
        Scheme::Dtls | Scheme::DtlsV1_2 => Err(ConnectError::DtlsUrl {
            url: url.to_string(),
        }),
        Scheme::Tcp if options.starttls.is_none() => Err(ConnectError::NotTls {
            url: url.to_string(),
            authority: url.authority(),
        }),
        _ => Ok(scheme),
    }
}
