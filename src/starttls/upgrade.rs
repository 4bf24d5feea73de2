//! [`upgrade`]: the whole STARTTLS upgrade of a connected plain socket, dialogue and handshake.

use std::net::TcpStream;
use std::time::Instant;

use crate::client::{self, ClientConfig, ConnectError};
use crate::stream::TlsStream;

use super::{negotiate_with_deadline, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

/// Runs `protocol`'s dialogue on the connected plain socket `stream` up to the server's
/// go-ahead, then the TLS handshake with `config` for `host` (SNI and the certificate check),
/// both within `deadline` — what `openssl s_client -starttls PROTO` does.
///
/// A server that refuses (SMTP 454, no STARTTLS in the EHLO reply, ...) gives
/// [`ConnectError::Starttls`] carrying the server's own reply; bytes the server sent beyond its
/// go-ahead are refused ([`StarttlsError::InjectedBytes`](super::StarttlsError::InjectedBytes)),
/// never handed to TLS.
pub fn upgrade(
    mut stream: TcpStream,
    protocol: StarttlsProtocol,
    host: &str,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(TlsStream<TcpStream>, StarttlsTranscript), ConnectError> {
    let peer = stream.peer_addr().map_err(|source| ConnectError::Io {
        during: "reading the peer address",
        source,
    })?;
    let options = StarttlsOptions::default().with_xmpp_host(host);
    let transcript =
        negotiate_with_deadline(&mut stream, protocol, &options, deadline).map_err(|source| {
            ConnectError::Starttls {
                peer,
                connect_time: None,
                source,
            }
        })?;
    let ssl = config.new_ssl(host, None)?;
    let sni = ssl
        .servername(openssl::ssl::NameType::HOST_NAME)
        .map(str::to_string);
    let tls = client::upgrade(stream, config, host, ssl, deadline).map_err(|source| {
        ConnectError::Handshake {
            peer,
            connect_time: std::time::Duration::ZERO,
            starttls_time: None,
            sni,
            source,
        }
    })?;
    Ok((tls, transcript))
}
