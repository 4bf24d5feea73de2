//! [`upgrade`](crate::client::upgrade): securing a plain socket the caller connected.

use std::io;
use std::net::{SocketAddr, TcpStream};

use openssl::ssl::Ssl;

use super::config::ClientConfig;
use super::connect_options::ConnectOptions;
use super::connection::TlsConnection;
use super::error::ConnectError;
use super::secure::{starttls_then_handshake, Secure};

/// Secures the connected plain socket `stream` for `host` (SNI and the certificate check,
/// [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl)): the STARTTLS dialogue first when `options.starttls` names one
/// (what `openssl s_client -starttls PROTO` does), then the TLS handshake, as
/// [`connect_with`](crate::client::connect_with) does after its TCP connect, with the same options and errors. The
/// dialogue and the handshake share one deadline: `options.deadline`, or the configuration's
/// handshake timeout from now. `options.proxy` cannot apply to a socket connected already
/// and is refused.
///
/// A server that refuses STARTTLS (SMTP 454, no STARTTLS in the EHLO reply, ...) gives
/// [`ConnectError::Starttls`] carrying the server's own reply; bytes the server sent beyond
/// its go-ahead are refused
/// ([`StarttlsError::InjectedBytes`](crate::starttls::StarttlsError::InjectedBytes)), never
/// handed to TLS. `client::upgrade_async` (feature `tokio`) is the tokio form, with the same
/// arguments.
///
/// ```no_run
/// use std::net::TcpStream;
/// use tlshake::client::{self, ClientConfig, ConnectOptions};
/// use tlshake::starttls::StarttlsProtocol;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::builder().build()?;
/// let tcp = TcpStream::connect("mail.example.com:25")?;
/// let options = ConnectOptions::new().starttls(StarttlsProtocol::Smtp);
/// let tls = client::upgrade(tcp, "mail.example.com", &config, &options)?;
/// println!("{}", tls.stream.protocol());
/// # Ok(()) }
/// ```
pub fn upgrade(
    stream: TcpStream,
    host: &str,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection, ConnectError> {
    let (peer, ssl) = upgrade_start(stream.peer_addr(), host, config, options)?;
    let plan = Secure::after_connect(peer, None, host, config, options);
    let secured = starttls_then_handshake(stream, ssl, config, &plan)?;
    Ok(secured.into_connection(&plan, vec![peer], config))
}

/// What [`upgrade`](crate::client::upgrade) and its tokio form check and make before any I/O: a proxy is refused
/// (it cannot apply to a socket connected already), then the peer's address is read and
/// the `Ssl` for `host` made.
pub(super) fn upgrade_start(
    peer: io::Result<SocketAddr>,
    host: &str,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<(SocketAddr, Ssl), ConnectError> {
    if options.proxy.is_some() {
        return Err(ConnectError::Io {
            during: "upgrading a connected socket",
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "a proxy cannot apply to a socket that is connected already",
            ),
        });
    }
    let peer = peer.map_err(|source| ConnectError::Io {
        during: "reading the peer address",
        source,
    })?;
    Ok((peer, config.sealed_ssl(host, None)?))
}
