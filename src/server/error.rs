//! [`ServerConfigError`]: why a listener could not be configured or bound;
//! [`ServerError`]: why a bound listener could not go on accepting, or why the connection
//! [`accept_one`](super::TlsListener::accept_one) waited for did not come.

use std::fmt;
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
/// [`ServerConfigBuilder::build`](super::ServerConfigBuilder::build),
/// [`TlsListener::bind`](super::TlsListener::bind) and
/// [`TlsListener::try_clone`](super::TlsListener::try_clone), before any client is served.
///
/// Every cause has its own variant; the message says what was wrong and what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The key log file ([`ServerConfigBuilder::key_log`](super::ServerConfigBuilder::key_log)) could not
    /// be opened.
    KeyLog {
        /// Which file, and why.
        source: crate::keylog::KeyLogError,
    },
    /// The host name of the bind address could not be resolved.
    Resolve {
        /// The name given.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The host name resolved to no address at all.
    NoAddress {
        /// The name given.
        host: String,
    },
    /// Another socket is bound to the address and port (`EADDRINUSE`).
    AddressInUse {
        /// The address and port.
        addr: SocketAddr,
    },
    /// The address does not belong to this machine (`EADDRNOTAVAIL`).
    AddressNotAvailable {
        /// The address and port.
        addr: SocketAddr,
    },
    /// Binding needs privileges this process lacks (`EACCES`: a port below 1024 as non-root).
    PermissionDenied {
        /// The address and port.
        addr: SocketAddr,
    },
    /// `bind(2)` failed for another reason.
    Bind {
        /// The address and port.
        addr: SocketAddr,
        /// The operating-system error.
        source: io::Error,
    },
    /// Creating or setting up the socket failed.
    Socket {
        /// The call that failed (`socket`, `setsockopt(SO_REUSEADDR)`, ...).
        step: &'static str,
        /// The operating-system error.
        source: io::Error,
    },
    /// `listen(2)` failed.
    Listen {
        /// The address and port.
        addr: SocketAddr,
        /// The operating-system error.
        source: io::Error,
    },
    /// A version, ALPN, security-level or group setting is refused (the same checks as the
    /// client's).
    Policy(PolicyError),
    /// The DTLS options are refused ([`DtlsListener::bind`](crate::dtls::DtlsListener::bind)).
    Dtls(crate::dtls::DtlsError),
    /// The CA file for client authentication could not be read.
    ClientCaUnreadable {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The CA file for client authentication is not valid PEM, or holds no certificate.
    ClientCa {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors, when it rejected the content.
        source: Option<ErrorQueue>,
    },
    /// A server name for an SNI certificate is empty or not a host name.
    InvalidServerName {
        /// The name given.
        name: String,
    },
    /// Two SNI certificates were given for the same server name.
    DuplicateServerName {
        /// The name given twice.
        name: String,
    },
    /// The server certificate could not be loaded or selected, its key does not match, or it
    /// is outside its validity dates (the message says which, and what to do).
    Certificate(Box<CertStoreError>),
    /// The certificate for one SNI server name could not be loaded or selected.
    SniCertificate {
        /// The server name it was configured for.
        name: String,
        /// Why it failed.
        source: Box<CertStoreError>,
    },
    /// No certificate was configured.
    NoCertificate,
    /// The ECH keys ([`ServerConfigBuilder::ech_keys`](super::ServerConfigBuilder::ech_keys)) cannot be
    /// used, or the linked OpenSSL has no ECH.
    Ech(crate::ech::EchError),
    /// A limit or duration is zero where it must not be.
    ZeroSetting {
        /// The setting (`max_pending`, `handshake_timeout`).
        setting: &'static str,
    },
    /// OpenSSL refused a setting while the `SSL_CTX` was built.
    Tls {
        /// What was being set up.
        step: &'static str,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
}
impl fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerConfigError::KeyLog { .. } => write!(f, "key log refused: check the path and its directory's permissions")?,
            ServerConfigError::Resolve { host, .. } => write!(f, "cannot resolve the bind address {host:?}: give an IP address of this machine, or a name it resolves")?,
            ServerConfigError::NoAddress { host, .. } => write!(f, "the bind address {host:?} resolved to no address: give an IP address of this machine")?,
            ServerConfigError::AddressInUse { addr, .. } => write!(f, "address {addr} is already in use: stop the other server, pick another port (0 = any free port), or keep reuse_address on to rebind over connections in TIME_WAIT")?,
            ServerConfigError::AddressNotAvailable { addr, .. } => write!(f, "address {} is not an address of this machine: bind to one of its own addresses, or to all interfaces", addr.ip())?,
            ServerConfigError::PermissionDenied { addr, .. } => write!(f, "permission denied binding {addr}: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more")?,
            ServerConfigError::Bind { addr, .. } => write!(f, "cannot bind {addr}")?,
            ServerConfigError::Socket { step, .. } => write!(f, "cannot set up the listening socket ({step} failed)")?,
            ServerConfigError::Listen { addr, .. } => write!(f, "cannot listen on {addr}")?,
            ServerConfigError::Policy(inner) => return fmt::Display::fmt(inner, f),
            ServerConfigError::Dtls(inner) => return fmt::Display::fmt(inner, f),
            ServerConfigError::ClientCaUnreadable { path, .. } => write!(f, "cannot read the client CA file {}: give a readable PEM file of the CAs that issue client certificates", path.display())?,
            ServerConfigError::ClientCa { path, .. } => write!(f, "the client CA file {} holds no usable PEM certificate: give a PEM file of the CAs that issue client certificates", path.display())?,
            ServerConfigError::InvalidServerName { name, .. } => write!(f, "server name {name:?} is not a host name: give a DNS name such as \"www.example.com\" or \"*.example.com\"")?,
            ServerConfigError::DuplicateServerName { name, .. } => write!(f, "server name {name:?} was given two certificates: give each name once")?,
            ServerConfigError::Certificate(_) => write!(f, "the server certificate could not be used")?,
            ServerConfigError::SniCertificate { name, .. } => write!(f, "the certificate for server name {name:?} could not be used")?,
            ServerConfigError::NoCertificate => write!(f, "no server certificate: configure one with certificate_files, certificate_pkcs12, store_certificate_by_name or store_certificate_by_hash")?,
            ServerConfigError::Ech(_) => write!(f, "Encrypted Client Hello cannot be set up")?,
            ServerConfigError::ZeroSetting { setting, .. } => write!(f, "{setting} must be greater than zero")?,
            ServerConfigError::Tls { step, .. } => write!(f, "OpenSSL refused the TLS configuration while {step}")?,
        }
        crate::error::write_causes(self, f)
    }
}
/// The cause of each variant; a variant that only carries another error is that error,
/// so its causes are its own.
impl std::error::Error for ServerConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServerConfigError::KeyLog { source, .. } => Some(source),
            ServerConfigError::Resolve { source, .. } => Some(source),
            ServerConfigError::NoAddress { .. } => None,
            ServerConfigError::AddressInUse { .. } => None,
            ServerConfigError::AddressNotAvailable { .. } => None,
            ServerConfigError::PermissionDenied { .. } => None,
            ServerConfigError::Bind { source, .. } => Some(source),
            ServerConfigError::Socket { source, .. } => Some(source),
            ServerConfigError::Listen { source, .. } => Some(source),
            ServerConfigError::Policy(inner) => inner.source(),
            ServerConfigError::Dtls(inner) => inner.source(),
            ServerConfigError::ClientCaUnreadable { source, .. } => Some(source),
            ServerConfigError::ClientCa { source, .. } => source
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            ServerConfigError::InvalidServerName { .. } => None,
            ServerConfigError::DuplicateServerName { .. } => None,
            ServerConfigError::Certificate(inner) => Some(&**inner),
            ServerConfigError::SniCertificate { source, .. } => Some(&**source),
            ServerConfigError::NoCertificate => None,
            ServerConfigError::Ech(inner) => Some(inner),
            ServerConfigError::ZeroSetting { .. } => None,
            ServerConfigError::Tls { source, .. } => Some(source),
        }
    }
}

impl From<crate::dtls::DtlsError> for ServerConfigError {
    fn from(error: crate::dtls::DtlsError) -> ServerConfigError {
        ServerConfigError::Dtls(error)
    }
}

impl From<PolicyError> for ServerConfigError {
    fn from(error: PolicyError) -> ServerConfigError {
        ServerConfigError::Policy(error)
    }
}

/// A bound listener could not go on (waiting or `accept(2)` failed), or the connection
/// [`accept_one`](super::TlsListener::accept_one) waited for did not come or did not
/// complete its handshake. Configuration and bind errors are [`ServerConfigError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Waiting for the sockets (`epoll`) failed.
    Poll {
        /// The call that failed (`epoll_create1`, `epoll_ctl`, `epoll_wait`).
        step: &'static str,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// `accept(2)` failed with an error that is not about one connection (`EMFILE`, ...).
    Accept {
        /// The operating-system error.
        #[source]
        source: io::Error,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): no connection completed or
    /// failed before the deadline.
    AcceptTimedOut {
        /// How long the call waited.
        waited: Duration,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): the connection's handshake
    /// failed, was shut down or timed out.
    Handshake {
        /// The client.
        peer: SocketAddr,
        /// The handshake's error.
        #[source]
        source: HandshakeError,
    },
    /// [`accept_one`](crate::server::TlsListener::accept_one): the connection was closed
    /// without a handshake; on tokio, the connection's `SSL` object could not be made.
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// Why.
        #[source]
        reason: RejectReason,
    },
}
impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Poll { step, .. } => write!(f, "waiting for connections failed ({step})")?,
            ServerError::Accept { .. } => write!(f, "accepting a connection failed: if the process is out of descriptors, raise the limit (ulimit -n) or lower max_pending")?,
            ServerError::AcceptTimedOut { waited, .. } => write!(f, "no client connected and completed a handshake within {:.3} s", waited.as_secs_f64())?,
            ServerError::Handshake { peer, .. } => write!(f, "the TLS handshake with {peer} did not complete")?,
            ServerError::Rejected { peer, .. } => write!(f, "the connection from {peer} was rejected")?,
        }
        crate::error::write_causes(self, f)
    }
}

impl From<CertStoreError> for ServerConfigError {
    fn from(error: CertStoreError) -> ServerConfigError {
        ServerConfigError::Certificate(Box::new(error))
    }
}
