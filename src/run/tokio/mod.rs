//! The tokio runner (feature `tokio`): the same [`Handshake::step`](crate::Handshake::step)
//! and [`HandshakeOutcome`](crate::HandshakeOutcome) as the blocking and epoll runners,
//! waiting on tokio's reactor.
//!
//! * [`TokioTcp`]: a sync `Read` + `Write` over a [`tokio::net::TcpStream`] built on
//!   `try_read` / `try_write`, which remembers which direction last would have blocked;
//! * [`AsyncHandshake`]: one handshake with a deadline, stepped with
//!   [`poll_step`](AsyncHandshake::poll_step) or awaited whole ([`Connecting`]); each
//!   `Want::Read` / `Want::Write` becomes a wait for readiness through the one
//!   [`engine::interest`](crate::engine::interest) function;
//! * [`AsyncTlsStream`]: the established connection, `AsyncRead` + `AsyncWrite`;
//! * DTLS: [`TokioUdp`] (a connected tokio UDP socket), [`dtls_handshake`] (readability or
//!   the retransmission timer, whichever comes first, under the deadline) and
//!   [`AsyncDtlsStream`] (one record per `send` / `recv`);
//! * [`negotiate_starttls`]: the STARTTLS dialogue, the sans-IO
//!   [`Dialogue`](crate::starttls::Dialogue) that the blocking runner also drives;
//! * [`AsyncTlsListener`]: server handshakes on accepted connections, from a
//!   [`ServerConfig`](crate::server::ServerConfig): one future per connection, or the
//!   accept loop of the epoll listener ([`AsyncTlsListener::next_event`], the same
//!   [`HandshakeSet`](crate::engine::HandshakeSet) and accept policy: `max_pending`, eviction
//!   of the idlest, handshake timeouts) giving one
//!   [`ServerEvent`](crate::server::ServerEvent)`<AsyncTlsStream>` per connection.
//!
//! The handshake in three lines (a runtime with I/O and time enabled):
//!
//! ```no_run
//! # async fn demo(ssl: openssl::ssl::Ssl) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::{Duration, Instant};
//!
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:4433").await?;
//! let tls = tlshake::tokio::handshake(ssl, tcp, Instant::now() + Duration::from_secs(5)).await?;
//! println!("{}", tls.get_ref().protocol());
//! # Ok(()) }
//! ```
//!
//! A timeout is the same typed [`HandshakeError`](crate::HandshakeError) as on the other
//! runners: [`is_timeout`](crate::HandshakeError::is_timeout), with a
//! [`Hint::Timeout`](crate::Hint::Timeout) that says what the handshake was waiting for.
//! Dropping a handshake future closes its socket and frees its `SSL`: nothing is left
//! registered with the reactor and no timer stays armed.

mod dtls;
mod handshake;
mod io;
mod listener;
mod starttls;
mod stream;

pub use dtls::{dtls_handshake, AsyncDtlsStream, DtlsConnecting, TokioUdp};
pub use handshake::{handshake, AsyncHandshake, Connecting};
pub use io::{Blocked, TokioTcp};
pub use listener::AsyncTlsListener;
pub use starttls::negotiate_starttls;
pub use stream::AsyncTlsStream;
