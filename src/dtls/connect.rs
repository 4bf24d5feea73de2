//! [`connect`]: a `dtls://host:port` URL, resolved, a UDP socket connected to it, and the DTLS
//! handshake, under deadlines.

use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use crate::client::{ClientConfig, ConnectError, TlsConnection};
use crate::outcome::Role;
use crate::stream::TlsStream;
use crate::url::TransportUrl;

use super::options::{handshake, DtlsOptions};
use super::socket::UdpTransport;

/// An established DTLS connection: the [`TlsStream`] over a connected UDP socket. Each
/// `write` sends one record (one datagram, at most the MTU); each `read` returns the data of
/// one record. Blocking after the handshake, with no read timeout (set one on
/// [`get_ref`](TlsStream::get_ref)`().get_ref()`).
pub type DtlsStream = TlsStream<UdpTransport>;

/// What [`connect`] gives: the stream, the address, the SNI name sent and the timings.
pub type DtlsConnection = TlsConnection<DtlsStream>;

/// Connects to a `dtls://host:port` (or `dtlsv1.2://`) URL and completes the DTLS handshake,
/// with the configuration's handshake timeout as the deadline.
///
/// The configuration is the TLS client's ([`ClientConfig`]: trust, verification, client
/// certificate, ALPN), applied to its DTLS context
/// ([`ClientConfig::dtls_context`]); `options` adds the MTU, the retransmission timer and
/// the SRTP profiles. The name resolves to its first address (UDP has no connect to tell a
/// dead address from a live one); a UDP socket is bound to the wildcard address of its
/// family and connected to it. An ICMP "port unreachable" for a datagram ends the handshake
/// with the socket's `ECONNREFUSED`, as OpenSSL's own datagram BIO does; silence ends it at
/// the deadline with a timeout that counts the retransmissions
/// ([`HandshakeError::retransmissions`](crate::HandshakeError::retransmissions)).
///
/// ```no_run
/// use tlshake::client::ClientConfig;
/// use tlshake::dtls::{self, DtlsOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::builder().ca_file("certs/ca.pem").alpn(["webrtc"]).build()?;
/// let options = DtlsOptions::new().srtp_profiles("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
/// let conn = dtls::connect(&"dtls://localhost:4433".parse()?, &config, &options)?;
/// let keys = dtls::SrtpKeys::export(conn.stream.ssl())?;
/// println!("{} {} {:?}", conn.stream.protocol(), conn.stream.cipher(), keys.profile());
/// # Ok(()) }
/// ```
pub fn connect(
    url: &TransportUrl,
    config: &ClientConfig,
    options: &DtlsOptions,
) -> Result<DtlsConnection, ConnectError> {
    connect_with(url, config, options, None)
}

/// [`connect`] with one `deadline` over resolving and the handshake, instead of the
/// configuration's connect and handshake timeouts.
pub fn connect_with(
    url: &TransportUrl,
    config: &ClientConfig,
    options: &DtlsOptions,
    deadline: Option<Instant>,
) -> Result<DtlsConnection, ConnectError> {
    if !url.scheme().is_dtls() {
        return Err(ConnectError::NotDtls {
            url: url.to_string(),
            authority: url.authority(),
        });
    }
    options.check()?;
    let host = crate::client::ssl_host(url.host());
    let ssl = config.new_dtls_ssl(&host)?;
    let resolve_deadline =
        deadline.unwrap_or_else(|| Instant::now() + config.options().connect_timeout);
    let peer = crate::client::resolve(url, resolve_deadline)?
        .into_iter()
        .next()
        .ok_or_else(|| ConnectError::Connect {
            authority: url.authority(),
            attempts: Vec::new(),
        })?;
    let transport = connected_socket(peer)?;
    let sni = crate::client::sni_of(&ssl);
    let hs = handshake(ssl, transport, Role::Client, options)?;
    let deadline = deadline.unwrap_or_else(|| Instant::now() + config.options().handshake_timeout);
    let started = Instant::now();
    let stream = hs
        .drive(deadline)
        .map_err(|source| ConnectError::Handshake {
            peer,
            connect_time: None,
            starttls_time: None,
            sni: sni.clone(),
            source,
        })?;
    let handshake_time = stream.stats().duration.unwrap_or_else(|| started.elapsed());
    stream
        .get_ref()
        .set_blocking(None)
        .map_err(|source| ConnectError::Io {
            during: "making the UDP socket blocking",
            source,
        })?;
    Ok(TlsConnection::datagram(
        stream,
        peer,
        sni,
        handshake_time,
        config,
    ))
}

/// A nonblocking UDP socket on the wildcard address of `peer`'s family, connected to it.
pub(crate) fn connected_socket(peer: SocketAddr) -> Result<UdpTransport, ConnectError> {
    let io = |during| move |source| ConnectError::Io { during, source };
    let local = SocketAddr::new(
        match peer {
            SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
        },
        0,
    );
    let socket = UdpSocket::bind(local).map_err(io("binding a UDP socket"))?;
    socket
        .connect(peer)
        .map_err(io("connecting the UDP socket"))?;
    UdpTransport::new(socket).map_err(io("making the UDP socket nonblocking"))
}
