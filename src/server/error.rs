//! [`ServerConfigError`]: why a listener could not be configured or bound;
//! [`ServerError`]: why a bound listener could not go on accepting, or why the connection
//! [`accept_one`](super::TlsListener::accept_one) waited for did not come.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::certstore::CertStoreError;
use crate::error::HandshakeError;
use crate::error_queue::ErrorQueue;
use crate::policy::PolicyError;
use crate::server::event::RejectReason;

/// A listener could not be configured or bound: returned by
/// [`ServerConfig::build_context`](super::ServerConfig::build_context),
/// [`TlsListener::bind`](super::TlsListener::bind) and
/// [`TlsListener::try_clone`](super::TlsListener::try_clone), before any client is served.
///
/// Every cause has its own variant; the message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The key log file ([`ServerConfig::key_log`](super::ServerConfig::key_log)) could not
    /// be opened.
    #[error("key log refused: check the path and its directory's permissions")]
    KeyLog {
        /// Which file, and why.
        #[source]
        source: crate::keylog::KeyLogError,
    },
    /// The host name of the bind address could not be resolved.
    #[error("cannot resolve the bind address {host:?}: give an IP address of this machine, or a name it resolves")]
    Resolve {
        /// The name given.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// The host name resolved to no address at all.
    #[error(
        "the bind address {host:?} resolved to no address: give an IP address of this machine"
    )]
    NoAddress {
        /// The name given.
        host: String,
    },
    /// Another socket is bound to the address and port (`EADDRINUSE`).
    #[error("address {addr} is already in use: stop the other server, pick another port (0 = any free port), or keep reuse_address on to rebind over connections in TIME_WAIT")]
    AddressInUse {
        /// The address and port.
        addr: SocketAddr,
    },
    /// The address does not belong to this machine (`EADDRNOTAVAIL`).
    #[error("address {} is not an address of this machine: bind to one of its own addresses, or to all interfaces", .addr.ip())]
    AddressNotAvailable {
        /// The address and port.
        addr: SocketAddr,
    },
    /// Binding needs privileges this process lacks (`EACCES`: a port below 1024 as non-root).
    #[error("permission denied binding {addr}: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more")]
    PermissionDenied {
        /// The address and port.
        addr: SocketAddr,
    },
    /// `bind(2)` failed for another reason.
    #[error("cannot bind {addr}")]
    Bind {
        /// The address and port.
        addr: SocketAddr,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// Creating or setting up the socket failed.
    #[error("cannot set up the listening socket ({step} failed)")]
    Socket {
        /// The call that failed (`socket`, `setsockopt(SO_REUSEADDR)`, ...).
        step: &'static str,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// `listen(2)` failed.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address and port.
        addr: SocketAddr,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// A version, ALPN or security-level setting is refused (the same checks as the
    /// client's).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The CA file for client authentication could not be read.
    #[error("cannot read the client CA file {}: give a readable PEM file of the CAs that issue client certificates", .path.display())]
    ClientCaUnreadable {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// The CA file for client authentication is not valid PEM, or holds no certificate.
    #[error("the client CA file {} holds no usable PEM certificate: give a PEM file of the CAs that issue client certificates", .path.display())]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors, when it rejected the content.
        #[source]
        source: Option<ErrorQueue>,
    },
    /// A server name for an SNI certificate is empty or not a host name.
    #[error("server name {name:?} is not a host name: give a DNS name such as \"www.example.com\" or \"*.example.com\"")]
    InvalidServerName {
        /// The name given.
        name: String,
    },
    /// Two SNI certificates were given for the same server name.
    #[error("server name {name:?} was given two certificates: give each name once")]
    DuplicateServerName {
        /// The name given twice.
        name: String,
    },
    /// The server certificate could not be loaded or selected, its key does not match, or it
    /// is outside its validity dates (the message says which, and what to do).
    #[error("the server certificate could not be used")]
    Certificate(#[source] Box<CertStoreError>),
    /// The certificate for one SNI server name could not be loaded or selected.
    #[error("the certificate for server name {name:?} could not be used")]
    SniCertificate {
        /// The server name it was configured for.
        name: String,
        /// Why it failed.
        #[source]
        source: Box<CertStoreError>,
    },
    /// No certificate was configured.
    #[error("no server certificate: configure one with certificate_files, certificate_pkcs12, store_certificate_by_name or store_certificate_by_hash")]
    NoCertificate,
    /// A limit or duration is zero where it must not be.
    #[error("{setting} must be greater than zero")]
    ZeroSetting {
        /// The setting (`max_pending`, `handshake_timeout`).
        setting: &'static str,
    },
    /// OpenSSL refused a setting while the `SSL_CTX` was built.
    #[error("OpenSSL refused the TLS configuration while {step}")]
    Tls {
        /// What was being set up.
        step: &'static str,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
}

/// A bound listener could not go on (waiting or `accept(2)` failed), or the connection
/// [`accept_one`](super::TlsListener::accept_one) waited for did not come or did not
/// complete its handshake. Configuration and bind errors are [`ServerConfigError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Waiting for the sockets (`epoll`) failed.
    #[error("waiting for connections failed ({step})")]
    Poll {
        /// The call that failed (`epoll_create1`, `epoll_ctl`, `epoll_wait`).
        step: &'static str,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// `accept(2)` failed with an error that is not about one connection (`EMFILE`, ...).
    #[error("accepting a connection failed: if the process is out of descriptors, raise the limit (ulimit -n) or lower max_pending")]
    Accept {
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): no connection completed or
    /// failed before the deadline.
    #[error("no client connected and completed a handshake within {:.3} s", .waited.as_secs_f64())]
    AcceptTimedOut {
        /// How long the call waited.
        waited: Duration,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): the connection's handshake
    /// failed, was shut down or timed out.
    #[error("the TLS handshake with {peer} did not complete")]
    Handshake {
        /// The client.
        peer: SocketAddr,
        /// The handshake's error.
        #[source]
        source: HandshakeError,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): the connection was closed
    /// without a handshake; on tokio, the connection's `SSL` object could not be made.
    #[error("the connection from {peer} was rejected")]
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// Why.
        #[source]
        reason: RejectReason,
    },
}

impl From<CertStoreError> for ServerConfigError {
    fn from(error: CertStoreError) -> ServerConfigError {
        ServerConfigError::Certificate(Box::new(error))
    }
}
