//! [`upgrade_starttls`]: the whole STARTTLS upgrade of a connected plain socket, dialogue and
//! handshake.

use std::net::TcpStream;
use std::time::Instant;

use crate::deadline::Deadline;
use crate::starttls::{StarttlsOptions, StarttlsProtocol, StarttlsTranscript};
use crate::stream::TlsStream;

use super::{ClientConfig, ConnectError, Secure};

/// Runs `protocol`'s dialogue on the connected plain socket `stream` up to the server's
/// go-ahead, then the TLS handshake with `config` for `host` (SNI and the certificate check),
/// both within `deadline` — what `openssl s_client -starttls PROTO` does.
///
/// A server that refuses (SMTP 454, no STARTTLS in the EHLO reply, ...) gives
/// [`ConnectError::Starttls`] carrying the server's own reply; bytes the server sent beyond its
/// go-ahead are refused ([`StarttlsError::InjectedBytes`](crate::starttls::StarttlsError::InjectedBytes)),
/// never handed to TLS.
pub fn upgrade_starttls(
    stream: TcpStream,
    protocol: StarttlsProtocol,
    host: &str,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(TlsStream<TcpStream>, StarttlsTranscript), ConnectError> {
    upgrade_starttls_with(
        stream,
        protocol,
        &StarttlsOptions::default(),
        host,
        config,
        deadline,
    )
}

/// [`upgrade_starttls`] with the dialogue's [`StarttlsOptions`] (the EHLO name, ...).
pub fn upgrade_starttls_with(
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
    let plan = Secure {
        peer,
        connect_time: None,
        starttls: Some(protocol),
        starttls_options: options,
        host,
        deadline: Deadline::at(deadline),
    };
    let secured = super::starttls_then_handshake(stream, ssl, config, &plan)?;
    match secured.starttls {
        Some(transcript) => Ok((secured.stream, transcript)),
        None => Err(ConnectError::Io {
            during: "running the STARTTLS dialogue",
            source: std::io::Error::other("no dialogue ran"),
        }),
    }
}
