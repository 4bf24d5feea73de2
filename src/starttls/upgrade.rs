//! [`upgrade`]: the whole STARTTLS upgrade of a connected plain socket, dialogue and handshake.

use std::net::TcpStream;
use std::time::Instant;

use crate::client::{self, ClientConfig, ConnectError};
use crate::stream::TlsStream;

use crate::deadline::Deadline;

use super::{StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

/// Runs `protocol`'s dialogue on the connected plain socket `stream` up to the server's
/// go-ahead, then the TLS handshake with `config` for `host` (SNI and the certificate check),
/// both within `deadline` — what `openssl s_client -starttls PROTO` does.
///
/// A server that refuses (SMTP 454, no STARTTLS in the EHLO reply, ...) gives
/// [`ConnectError::Starttls`] carrying the server's own reply; bytes the server sent beyond its
/// go-ahead are refused ([`StarttlsError::InjectedBytes`](super::StarttlsError::InjectedBytes)),
/// never handed to TLS.
pub fn upgrade(
    stream: TcpStream,
    protocol: StarttlsProtocol,
    host: &str,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(TlsStream<TcpStream>, StarttlsTranscript), ConnectError> {
    upgrade_with(
        stream,
        protocol,
        &StarttlsOptions::default(),
        host,
        config,
        deadline,
    )
}

/// [`upgrade`] with the dialogue's [`StarttlsOptions`] (the EHLO name, ...).
pub fn upgrade_with(
    stream: TcpStream,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
    host: &str,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(TlsStream<TcpStream>, StarttlsTranscript), ConnectError> {
    let peer = stream.peer_addr().map_err(|source| ConnectError::Io {
        during: "reading the peer address",
        source,
    })?;
    let ssl = config.new_ssl(host)?;
    let plan = client::Secure {
        peer,
        connect_time: None,
        starttls: Some(protocol),
        starttls_options: options,
        host,
        deadline: Deadline::at(deadline),
    };
    let secured = client::starttls_then_handshake(stream, ssl, config, &plan)?;
    match secured.starttls {
        Some(transcript) => Ok((secured.stream, transcript)),
        None => Err(ConnectError::Io {
            during: "running the STARTTLS dialogue",
            source: std::io::Error::other("no dialogue ran"),
        }),
    }
}
