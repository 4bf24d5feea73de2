//! Tunnels through an HTTP proxy: the `CONNECT` method (RFC 9110 section 9.3.6), as
//! `openssl s_client -proxy` does, before STARTTLS or the TLS handshake.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::Instant;

use super::{tcp_connect, ConnectError, TcpConnection};
use crate::starttls::reply::escape_bytes;
use crate::url::TransportUrl;

/// The most bytes the proxy's response header may take.
const MAX_HEADER: usize = 16 * 1024;

/// Why the proxy did not open the tunnel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered with a status other than 2xx, e.g. `403 Forbidden` or `407 Proxy
    /// Authentication Required`.
    Refused {
        /// The status code.
        status: u16,
        /// The status line, escaped.
        status_line: String,
    },
    /// The proxy's answer is not an HTTP response, or its header passed 16 KiB.
    NotHttp {
        /// What it sent, escaped, cut to 200 bytes.
        received: String,
    },
    /// The proxy closed the connection before the end of its response header.
    Closed,
    /// The deadline passed before the proxy answered.
    Timeout,
    /// Writing the request or reading the answer failed.
    Io {
        /// The socket's error.
        #[source]
        source: io::Error,
    },
}
impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Refused { status_line, .. } => {
                write!(f, "the proxy refused the tunnel: \"{status_line}\"")?
            }
            ProxyError::NotHttp { received, .. } => write!(
                f,
                "the proxy's answer is not an HTTP response: \"{received}\""
            )?,
            ProxyError::Closed => write!(
                f,
                "the proxy closed the connection before answering CONNECT"
            )?,
            ProxyError::Timeout => write!(f, "the proxy did not answer CONNECT in time")?,
            ProxyError::Io { .. } => write!(f, "I/O error talking to the proxy")?,
        }
        crate::error::write_causes(self, f)
    }
}

/// Connects to the HTTP proxy `proxy` (`host:port`) and asks it to `CONNECT` to
/// `target` (`host:port`), all by `deadline`. On success the socket is a tunnel to the
/// target, positioned right after the proxy's response header (read byte by byte, so the
/// target's first bytes, such as an SMTP greeting, are not taken). Its `peer` is the proxy's
/// address and its `connect_time` includes the `CONNECT` exchange.
pub(super) fn http_connect(
    proxy: &str,
    target: &str,
    deadline: Instant,
) -> Result<TcpConnection, ConnectError> {
    let url: TransportUrl =
        format!("tcp://{proxy}")
            .parse()
            .map_err(|source| ConnectError::ProxyAddress {
                proxy: proxy.to_string(),
                source,
            })?;
    let start = Instant::now();
    let mut tcp = tcp_connect(&url, deadline)?;
    let wrap = |source| ConnectError::Proxy {
        proxy: proxy.to_string(),
        source,
    };
    request(&mut tcp.stream, target, deadline).map_err(wrap)?;
    tcp.connect_time = start.elapsed();
    Ok(tcp)
}

fn request(
    stream: &mut std::net::TcpStream,
    target: &str,
    deadline: Instant,
) -> Result<(), ProxyError> {
    let io = |source: io::Error| match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ProxyError::Timeout,
        _ => ProxyError::Io { source },
    };
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(ProxyError::Timeout)
        } else {
            Ok(left)
        }
    };
    stream.set_write_timeout(Some(left()?)).map_err(io)?;
    let text = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(text.as_bytes()).map_err(io)?;
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while !header.ends_with(b"\r\n\r\n") && !header.ends_with(b"\n\n") {
        if header.len() >= MAX_HEADER || (header.len() >= 5 && !header.starts_with(b"HTTP/")) {
            return Err(not_http(&header));
        }
        stream.set_read_timeout(Some(left()?)).map_err(io)?;
        match stream.read(&mut byte) {
            Ok(0) => return Err(ProxyError::Closed),
            Ok(_) => header.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    stream.set_read_timeout(None).map_err(io)?;
    stream.set_write_timeout(None).map_err(io)?;
    let line_end = header
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(header.len());
    let line = header.get(..line_end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let status = std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| not_http(&header))?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(ProxyError::Refused {
            status,
            status_line: escape_bytes(line),
        })
    }
}

fn not_http(received: &[u8]) -> ProxyError {
    ProxyError::NotHttp {
        received: escape_bytes(received.get(..200).unwrap_or(received)),
    }
}
