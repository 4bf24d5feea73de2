//! # tlshake
//!
//! OpenSSL's TLS handshake, typed, deadline-bounded and safe to use from systems code.
//!
//! ## Where to start
//!
//! * A client: [`client::connect`] by transport URL (`tls://host:443`, `tcp://` with
//!   STARTTLS, ...) with a [`ClientConfig`](client::ClientConfig) built once, or
//!   [`client::upgrade`] for a socket you connected; each under one deadline, each failure a
//!   typed [`ConnectError`](client::ConnectError).
//! * A server: [`TlsListener`](server::TlsListener), whose `accept` returns connections whose
//!   handshake is done, many handshakes in progress at once, each failure a
//!   [`ServerEvent`](server::ServerEvent).
//! * Async: the tokio runner, `tlshake::tokio` (feature `tokio`), with the same handshakes,
//!   errors and events.
//! * DTLS over UDP: [`dtls::connect`] a `dtls://` URL with the same `ClientConfig`, or serve
//!   many peers on one socket with [`DtlsListener`](dtls::DtlsListener); the
//!   retransmission timer is a time every runner waits for, beside the deadline.
//!
//! ## The layer below
//!
//! One call of [`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/),
//! [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/) or
//! [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/) returns 1, 0 or
//! a negative value, and [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/)
//! says why. [`Handshake::step`] turns that into one [`HandshakeOutcome`] and, when the
//! handshake did not complete, a [`HandshakeError`] that keeps everything OpenSSL said (return
//! value, error code, the whole error queue, the X509 verify result, errno) and adds a
//! [`Hint`] a person can act on. [`Handshake::drive`] runs the WANT_READ / WANT_WRITE loop on a
//! nonblocking socket with a deadline; [`MultiDriver`] runs many on one thread, the
//! sans-IO [`engine`] holds them for any event loop, and [`MemoryHandshake`] runs one over
//! memory buffers. Every error converts into [`Error`].
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

// Private modules: what a user needs of them is exported below, once.
mod deadline;
mod error;
mod groups;
mod handshake;
mod keylog;
mod limits;
mod membio;
mod multi;
mod policy;
mod regular_file;
mod run;
mod sys;
mod verify_cache;
mod version;
mod wait;

// The crate's own paths to the files that moved under `handshake/` and `error/`.
pub(crate) use error::{advice, diagnose, hint, queue as error_queue, record};
pub(crate) use handshake::{code, nodelay, outcome, session, stream, transport};

// Core: one handshake, the session it leaves, what was negotiated.
pub use handshake::{Handshake, HandshakeStats};
pub use nodelay::{NodelayPolicy, UnknownNodelayPolicy};
pub use outcome::{HandshakeOutcome, Role, SslErrorCode, Want};
pub use server::protocols::ProtocolSet;
pub use session::{Fact, PeerKey, PeerSignature, SessionInfo};
pub use stream::{StreamOperation, TlsStream};
pub use transport::Transport;
pub use version::{ProtocolVersion, UnknownVersion, TLS12_CIPHERS, TLS12_CIPHERS_WITH_CBC};

// Memory buffers: a handshake with no socket and no clock.
pub use membio::{MemoryHandshake, MemoryPipe, MemorySession};

// Many in flight: handshakes on one thread's epoll, and the descriptor limit they need.
pub use limits::{nofile_limit, raise_nofile_limit, LimitError};
pub use multi::{connect_nonblocking, listen_tcp, AddError, Completed, MultiDriver, MultiEvent};

// Errors: one root every error converts into, and the errors of the core.
pub use error::hint::{Advice, DisplayWith, Hint};
pub use error::queue::ErrorQueue;
pub use error::{Error, ErrorKind, HandshakeError, HandshakeFunction, OpensslError, VerifyResult};
pub use keylog::KeyLogError;
pub use multi::MultiError;
pub use policy::PolicyError;
pub use stream::StreamError;

// Client: connect by URL, upgrade a socket, the configuration built once.
pub mod client;
// Server: the listener, its configuration and its events.
pub mod server;
// DTLS: the same handshake over UDP (client, listener with stateless cookies, SRTP keys).
pub mod dtls;
// Engine: the sans-IO set of handshakes, their deadlines and the accept policy.
pub mod engine;
// Async: the tokio runner.
#[cfg(feature = "tokio")]
pub use run::tokio;
// STARTTLS: the plaintext dialogues before the handshake.
pub mod starttls;
// Certificates: stores chosen by name or fingerprint, fingerprints, and sessions kept in files.
pub mod certstore;
pub mod fingerprint;
pub mod session_file;
// Transport URLs: `tls://[::1]:443`, `tcp://host:25`, `tlsv1.2://...`.
pub mod url;
// Encrypted Client Hello (OpenSSL 4.0).
pub mod ech;
// The handshake's messages as they pass, and the OpenSSL in use.
pub mod library;
pub mod trace;
// Tests: real `openssl s_server` / `s_client` peers, and the test certificates.
#[cfg(any(test, feature = "test-certs"))]
pub mod bundled;
#[cfg(feature = "harness")]
pub mod harness;

/// Plumbing that this crate's own binary, tests, benchmarks and fuzz targets reach, and
/// that is no part of the API: it may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::deadline::Deadline;
    pub use crate::handshake::nodelay::{nodelay, set_nodelay};
    pub use crate::policy::check_groups;
    pub use crate::session::name_to_string;
    /// Waiting for one or more descriptors, with `select(2)` or `poll(2)`.
    pub mod wait {
        pub use crate::wait::{
            millis_rounded_up, uses_select, wait_for, wait_for_any, Interest, Readiness,
        };
    }
}

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
