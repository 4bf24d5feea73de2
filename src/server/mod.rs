//! TLS servers: [`TlsListener`] binds a port with a [`ServerConfig`] and returns connections
//! whose handshake is done, as `openssl s_server` would accept them.
//!
//! * [`ServerConfig`]: address (IPv4, IPv6, host name, or all interfaces), port (0 = any),
//!   `SO_REUSEADDR`, the certificate (PEM files, PKCS#12, or a [store](crate::certstore) by
//!   name or fingerprint), SNI certificates, the [`ProtocolSet`], [`ClientAuth`], ALPN,
//!   session tickets, the handshake timeout, the `TCP_NODELAY` policy and the cap on
//!   handshakes in progress. The `SslContext`s are built once, at configuration time.
//! * [`TlsListener`]: `accept`, `accept_one(deadline)` and `next_event(deadline)`. Handshakes
//!   run nonblocking in the accepting thread, many at once, each with its own deadline; every
//!   failure is a [`ServerEvent`] and the listener goes on.
//! * [`http_reply`]: a minimal HTTP answer describing the session, like `s_server -www`.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use tlshake::server::{http_reply, ServerConfig, TlsListener};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ServerConfig::builder().port(8443)
//!     .certificate_files("server.pem", "server.key")
//!     .build()?;
//! let mut listener = TlsListener::bind(&config)?;
//! loop {
//!     let mut accepted = listener.accept()?;
//!     let mut request = [0u8; 4096];
//!     let _ = accepted.stream.read(&mut request)?;
//!     accepted.stream.write_all(&http_reply(&accepted.session))?;
//!     let _ = accepted.stream.shutdown();
//! }
//! # }
//! ```

pub(crate) mod accept;
pub(crate) mod bind;
mod builder;
mod config;
mod context;
mod error;
mod event;
mod http;
mod listener;
pub(crate) mod protocols;
mod source;

pub use builder::ServerConfigBuilder;
pub use config::ServerConfig;
pub(crate) use context::build_dtls as build_dtls_context;
pub use error::{ServerConfigError, ServerError};
pub use event::{Accepted, ListenerStats, RejectReason, ServerEvent};
pub use http::http_reply;
pub use listener::{EventHandler, TlsListener};
pub(crate) use protocols::ProtocolSet;
pub use source::{CertificateSource, ClientAuth};
