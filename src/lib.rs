//! # tlshake
//!
//! OpenSSL's TLS handshake, typed, deadline-bounded and safe to use from systems code.
//!
//! One call of [`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/),
//! [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/) or
//! [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/) returns 1, 0 or
//! a negative value, and [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/)
//! says why. tlshake turns that into one [`HandshakeOutcome`] and, when the handshake did not
//! complete, a [`HandshakeError`] that keeps everything OpenSSL said (return value, error code,
//! the whole error queue, the X509 verify result, errno) and adds a [`Hint`] a person can act
//! on. [`Handshake::drive`] runs the WANT_READ / WANT_WRITE loop on a nonblocking socket with a
//! deadline.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod advice;
#[cfg(any(test, feature = "test-certs"))]
pub mod bundled;
pub mod certstore;
pub mod client;
mod code;
pub mod deadline;
mod diagnose;
pub mod engine;
pub mod error;
mod error_queue;
pub mod fingerprint;
pub mod handshake;
#[cfg(feature = "harness")]
pub mod harness;
pub mod hint;
pub mod keylog;
pub mod limits;
pub mod membio;
pub mod multi;
pub mod nodelay;
pub mod outcome;
pub mod policy;
mod record;
mod run;
pub mod server;
pub mod session;
pub mod session_file;
pub mod starttls;
pub mod stream;
mod sys;
pub mod trace;
#[cfg(feature = "tokio")]
pub use run::tokio;
pub mod transport;
pub mod url;
mod verify_cache;
pub mod version;
pub mod wait;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use error::{ErrorKind, HandshakeError, HandshakeFunction, OpensslError, VerifyResult};
pub use error_queue::ErrorQueue;
pub use handshake::{Handshake, HandshakeStats};
pub use hint::{Advice, Hint};
pub use limits::LimitError;
pub use membio::{MemoryHandshake, MemoryPipe, MemorySession};
pub use multi::{Completed, MultiDriver, MultiError, MultiEvent};
pub use nodelay::NodelayPolicy;
pub use outcome::{HandshakeOutcome, Role, SslErrorCode, Want};
pub use server::{
    ProtocolSet, ServerConfig, ServerConfigError, ServerError, ServerEvent, TlsListener,
};
pub use session::SessionInfo;
pub use stream::{StreamError, TlsStream};
pub use version::ProtocolVersion;
