//! What a connection by URL gives: [`TlsConnection`](crate::client::TlsConnection), [`TcpConnection`](crate::client::TcpConnection), [`Connection`](crate::client::Connection) and
//! the [`Timings`](crate::client::Timings) of its steps.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use openssl::ssl::SslRef;

use crate::session::SessionInfo;
use crate::starttls::StarttlsTranscript;
use crate::stream::TlsStream;

/// How long each step took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Timings {
    /// TCP connect (the address that answered; zero for [`upgrade`](crate::client::upgrade), whose socket came
    /// connected).
    pub connect: Duration,
    /// The STARTTLS dialogue, when one ran.
    pub starttls: Option<Duration>,
    /// The TLS handshake.
    pub handshake: Duration,
}

/// An established TLS connection and how it was made, with the runner's stream type `S`:
/// a blocking [`TlsStream`] (`Read` + `Write`) from [`connect`](crate::client::connect), [`connect_with`](crate::client::connect_with) and
/// [`upgrade`](crate::client::upgrade); an `AsyncTlsStream` (`AsyncRead` + `AsyncWrite`) from their tokio forms,
/// `connect_async`, `connect_async_with` and `upgrade_async` (feature `tokio`).
#[derive(Debug)]
pub struct TlsConnection<S = TlsStream<TcpStream>> {
    /// The TLS stream.
    pub stream: S,
    /// The address connected.
    pub peer: SocketAddr,
    /// The addresses tried before it, in order (the last is `peer`).
    pub tried: Vec<SocketAddr>,
    /// The SNI name sent, if any.
    pub sni: Option<String>,
    /// How long each step took.
    pub timings: Timings,
    /// The STARTTLS dialogue, when one ran.
    pub starttls: Option<StarttlsTranscript>,
    /// [`ClientOptions::capture_peer_chain`](super::ClientOptions::capture_peer_chain).
    pub(super) capture_peer_chain: bool,
}

impl<S> TlsConnection<S> {
    /// A connection over a datagram socket, which has no connect step: `peer` is the one
    /// address tried.
    pub(crate) fn datagram(
        stream: S,
        peer: SocketAddr,
        sni: Option<String>,
        handshake: Duration,
        config: &super::ClientConfig,
    ) -> TlsConnection<S> {
        TlsConnection {
            stream,
            peer,
            tried: vec![peer],
            sni,
            timings: Timings {
                connect: Duration::ZERO,
                starttls: None,
                handshake,
            },
            starttls: None,
            capture_peer_chain: config.options().capture_peer_chain,
        }
    }
}

impl<S: AsRef<SslRef>> TlsConnection<S> {
    /// The facts of the session. The peer's chain
    /// ([`SessionInfo::peer_chain`]) is left empty when the configuration turned
    /// [`capture_peer_chain`](super::ClientOptions::capture_peer_chain) off.
    pub fn session(&self) -> SessionInfo {
        SessionInfo::read(self.stream.as_ref(), self.capture_peer_chain)
    }
}

/// A plain TCP connection.
#[derive(Debug)]
pub struct TcpConnection {
    /// The socket (blocking).
    pub stream: TcpStream,
    /// The address connected.
    pub peer: SocketAddr,
    /// The addresses tried, in order.
    pub tried: Vec<SocketAddr>,
    /// How long the connect took.
    pub connect_time: Duration,
}

/// What [`open`](crate::client::open) made of a URL.
#[derive(Debug)]
pub enum Connection {
    /// `ssl://`, `tls://`, `tlsv1.x://`.
    Tls(TlsConnection),
    /// `dtls://`, `dtlsv1.2://`: DTLS over a connected UDP socket, with the default
    /// [`DtlsOptions`](crate::dtls::DtlsOptions) (a
    /// [`DtlsConnection`](crate::dtls::DtlsConnection)).
    Dtls(TlsConnection<TlsStream<crate::dtls::UdpTransport>>),
    /// `tcp://` or no scheme.
    Tcp(TcpConnection),
    /// `udp://`: a connected UDP socket.
    Udp {
        /// The socket.
        socket: UdpSocket,
        /// The address it is connected to.
        peer: SocketAddr,
    },
}
