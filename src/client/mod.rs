//! The client's front door: connect by transport URL (`tls://host:port`), resolve, connect,
//! optionally STARTTLS, and handshake with one [`ClientConfig`] under deadlines.
//!
//! | URL | what [`open`] gives |
//! |---|---|
//! | `tls://host:port`, `ssl://host:port` | TLS, best version the configuration allows (TLS 1.2+ by default) |
//! | `tlsv1.2://`, `tlsv1.3://` | TLS pinned to exactly that version |
//! | `tlsv1.0://`, `tlsv1.1://` | TLS 1.0 / 1.1, only with [`ClientConfigBuilder::allow_legacy_versions`] |
//! | `sslv2://`, `sslv3://` | refused: removed from OpenSSL, insecure |
//! | `tcp://host:port`, `host:port` | a plain TCP connection (the start of STARTTLS) |
//! | `udp://host:port` | a connected UDP socket; TLS options are refused |
//! | `dtls://host:port`, `dtlsv1.2://` | DTLS 1.2 over a connected UDP socket: [`dtls::connect`](crate::dtls::connect) |
//!
//! A DNS name is sent as SNI and checked as a host name; an IP literal sends no SNI and is
//! checked against the certificate's IP addresses. Names resolve to every address (IPv6 and
//! IPv4); each is tried in turn within the connect deadline.

mod attempts;
mod config;
mod connect;
#[cfg(feature = "tokio")]
mod connect_async;
mod connect_options;
mod connection;
mod error;
pub mod ocsp;
mod proxy;
mod resolve;
mod secure;
mod ticket;
mod upgrade;

pub(crate) use config::{certificate_was_requested, pin_mismatch};
pub use config::{ClientConfig, ClientConfigBuilder, ClientOptions, ConfigError};
pub use connect::{connect, connect_with, open};
#[cfg(feature = "tokio")]
pub use connect_async::{connect_async, connect_async_with, upgrade_async};
pub use connect_options::ConnectOptions;
pub use connection::{Connection, TcpConnection, Timings, TlsConnection};
pub use error::ConnectError;
pub use proxy::ProxyError;
pub use resolve::tcp_connect;
pub(crate) use resolve::{resolve, ssl_host};
pub(crate) use secure::sni_of;
pub use secure::{starttls_then_handshake, Secure, Secured};
pub use ticket::wait_for_session;
pub use upgrade::upgrade;
