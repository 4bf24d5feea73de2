//! DTLS: the same [`Handshake`](crate::Handshake), the same [`HandshakeOutcome`](crate::HandshakeOutcome)
//! and the same typed errors as TLS, over datagrams, with the retransmission timer as a time
//! the runner can see.
//!
//! `SSL_connect` and `SSL_accept` drive DTLS as they drive TLS (1 / 0 / < 0,
//! `SSL_get_error`, `SSL_ERROR_WANT_READ`), with one more thing to wait for: the
//! retransmission timer ([`DTLSv1_get_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_get_timeout/),
//! [`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/)).
//! Each runner waits for the socket to become readable or for the timer, whichever comes
//! first, under the handshake's one deadline; the sans-IO
//! [`HandshakeSet`](crate::engine::HandshakeSet) reports the timer through the same
//! [`poll_timeout`](crate::engine::HandshakeSet::poll_timeout) /
//! [`handle_timeout`](crate::engine::HandshakeSet::handle_timeout) as the deadlines. The
//! intervals are a setting ([`RetransmitPolicy`], installed with
//! [`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)), and a
//! handshake that times out says how many times its last flight was sent again
//! ([`HandshakeError::retransmissions`](crate::HandshakeError::retransmissions)).
//!
//! * Client: [`connect`] a `dtls://host:port` URL with a
//!   [`ClientConfig`](crate::client::ClientConfig) (verification, ALPN, client certificate)
//!   and [`DtlsOptions`] (MTU, timer, SRTP profiles), over a connected UDP socket
//!   ([`UdpTransport`]); or [`handshake`] an `Ssl` of your own over any datagram transport.
//! * Server: [`DtlsListener`]: one UDP socket, many peers told apart by address, the
//!   stateless cookie exchange of [`DTLSv1_listen(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_listen/)
//!   with a secret that rotates, and the TCP listener's accept policy (`max_pending`,
//!   eviction, handshake timeout).
//! * After the handshake: [`SrtpKeys`] (RFC 5764 keying material for the negotiated SRTP
//!   profile) and the `Ssl`'s own `export_keying_material`.
//!
//! An echo server: the listener on one thread, each association on a thread of its own.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use tlshake::dtls::{DtlsListener, DtlsOptions};
//! use tlshake::server::{ServerConfig, ServerEvent};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ServerConfig::builder()
//!     .address("127.0.0.1")
//!     .port(4433)
//!     .certificate_files("cert.pem", "key.pem")
//!     .build()?;
//! let mut listener = DtlsListener::bind(&config, DtlsOptions::new())?;
//! while let Some(event) = listener.next_event(None)? {
//!     if let ServerEvent::Established(mut accepted) = event {
//!         std::thread::spawn(move || {
//!             let mut buf = [0u8; 1500];
//!             while let Ok(n @ 1..) = accepted.stream.read(&mut buf) {
//!                 let _ = accepted.stream.write_all(&buf[..n]);
//!             }
//!         });
//!     } else {
//!         eprintln!("{event}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A transport must keep datagram boundaries: one `read` returns one datagram (or
//! `WouldBlock`), one `write` sends one datagram. OpenSSL's DTLS reads a whole record layer
//! packet per read; a byte stream would merge or split records.

mod channel;
mod connect;
mod cookie;
mod error;
mod inspect;
mod listener;
mod options;
mod socket;
mod srtp;
mod stats;

pub use channel::PeerChannel;
pub use connect::{connect, connect_with, DtlsConnection, DtlsStream};
pub use error::DtlsError;
pub use listener::{DtlsListener, DtlsServerEvent};
pub use options::{handshake, DtlsOptions, RetransmitPolicy, MIN_MTU};
pub use socket::UdpTransport;
pub use srtp::SrtpKeys;
pub use stats::DtlsListenerStats;
