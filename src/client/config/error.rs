//! [`ConfigError`]: why a client configuration could not be built.

use std::fmt;
use std::path::PathBuf;

use openssl::error::ErrorStack;

use crate::certstore::CertStoreError;
use crate::error_queue::ErrorQueue;
use crate::policy::PolicyError;

/// A client configuration could not be built. Every variant is detected before any network
/// I/O.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The key log file ([`ClientOptions::key_log`](crate::client::ClientOptions::key_log)) could not be opened.
    KeyLog {
        /// Which file, and why.
        source: crate::keylog::KeyLogError,
    },
    /// The CA file does not exist or cannot be read.
    CaFileUnreadable {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file holds no certificate OpenSSL can parse.
    CaFileInvalid {
        /// The path given.
        path: PathBuf,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// The CA file is not a regular file (a FIFO, a device, a directory, ...): reading it
    /// could block forever, so it is refused before any read.
    CaFileNotRegular {
        /// The path given.
        path: PathBuf,
        /// What it is instead: `"FIFO"`, `"directory"`, `"character device"`, ...
        kind: &'static str,
    },
    /// The CA directory is not a directory.
    CaDirInvalid {
        /// The path given.
        path: PathBuf,
    },
    /// The client certificate or its key could not be loaded or do not match.
    Certificate(CertStoreError),
    /// OpenSSL refused the TLS 1.2 cipher list.
    Ciphers {
        /// The list given.
        list: String,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// OpenSSL refused the TLS 1.3 ciphersuites.
    Ciphersuites {
        /// The list given.
        list: String,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// A version, ALPN, security-level or group setting is refused (the same checks as the
    /// server's).
    Policy(PolicyError),
    /// An Encrypted Client Hello setting ([`ClientOptions::ech`](crate::client::ClientOptions::ech))
    /// is refused, or the linked OpenSSL has no ECH.
    Ech(crate::ech::EchError),
    /// OpenSSL failed to build the context.
    Tls(ErrorQueue),
}
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::KeyLog { .. } => write!(f, "key log refused: check the path and its directory's permissions")?,
            ConfigError::CaFileUnreadable { path, .. } => { let path = path.display(); write!(f, "CA file {path}: cannot be read: give a PEM file of trusted CA certificates")? }
            ConfigError::CaFileInvalid { path, .. } => { let path = path.display(); write!(f, "CA file {path}: no PEM certificate could be loaded")? }
            ConfigError::CaFileNotRegular { path, kind, .. } => { let path = path.display(); write!(f, "CA file {path} is a {kind}, not a regular file: give a PEM file of trusted CA certificates")? }
            ConfigError::CaDirInvalid { path, .. } => { let path = path.display(); write!(f, "CA directory {path} is not a readable directory: give a directory of hashed CA certificates (c_rehash)")? }
            ConfigError::Certificate(_) => write!(f, "the client certificate could not be used")?,
            ConfigError::Ciphers { list, .. } => write!(f, "cipher list {list:?} selects no usable cipher: see `openssl ciphers -v {list:?}`")?,
            ConfigError::Ciphersuites { list, .. } => write!(f, "TLS 1.3 ciphersuites {list:?} are not valid: e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256")?,
            ConfigError::Policy(inner) => return fmt::Display::fmt(inner, f),
            ConfigError::Ech(_) => write!(f, "Encrypted Client Hello cannot be set up")?,
            ConfigError::Tls(_) => write!(f, "OpenSSL could not build the TLS context")?,
        }
        crate::error::write_causes(self, f)
    }
}
/// The cause of each variant; a variant that only carries another error is that error,
/// so its causes are its own.
impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::KeyLog { source, .. } => Some(source),
            ConfigError::CaFileUnreadable { source, .. } => Some(source),
            ConfigError::CaFileInvalid { source, .. } => Some(source),
            ConfigError::CaFileNotRegular { .. } => None,
            ConfigError::CaDirInvalid { .. } => None,
            ConfigError::Certificate(inner) => Some(inner),
            ConfigError::Ciphers { source, .. } => Some(source),
            ConfigError::Ciphersuites { source, .. } => Some(source),
            ConfigError::Policy(inner) => inner.source(),
            ConfigError::Ech(inner) => Some(inner),
            ConfigError::Tls(inner) => Some(inner),
        }
    }
}

impl From<CertStoreError> for ConfigError {
    fn from(error: CertStoreError) -> ConfigError {
        ConfigError::Certificate(error)
    }
}

impl From<PolicyError> for ConfigError {
    fn from(error: PolicyError) -> ConfigError {
        ConfigError::Policy(error)
    }
}

impl From<ErrorStack> for ConfigError {
    fn from(stack: ErrorStack) -> ConfigError {
        ConfigError::Tls(stack.into())
    }
}
