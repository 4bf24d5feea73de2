//! Encrypted Client Hello (RFC 9849) on OpenSSL 4.0: the client encrypts its real
//! ClientHello, the server name included, under a configuration the server published, and
//! sends an outer ClientHello that names only the configuration's public name.
//!
//! | side | setting | OpenSSL |
//! |---|---|---|
//! | client | [`ClientConfigBuilder::ech_config_list`](crate::client::ClientConfigBuilder::ech_config_list) | `SSL_CTX_set1_echstore` |
//! | client | [`ClientConfigBuilder::ech_outer_sni`](crate::client::ClientConfigBuilder::ech_outer_sni) | `SSL_ech_set1_outer_server_name` |
//! | client | [`ClientConfigBuilder::ech_outer_alpn`](crate::client::ClientConfigBuilder::ech_outer_alpn) | `SSL_CTX_ech_set1_outer_alpn_protos` |
//! | client | [`ClientConfigBuilder::ech_grease`](crate::client::ClientConfigBuilder::ech_grease) | `SSL_OP_ECH_GREASE` |
//! | server | [`ServerConfigBuilder::ech_keys`](crate::server::ServerConfigBuilder::ech_keys) with [`EchKeys`] | `OSSL_ECHSTORE_read_pem` |
//! | both | [`SessionInfo::ech`](crate::SessionInfo::ech), [`HandshakeError::ech`](crate::HandshakeError::ech): [`EchInfo`] | `SSL_ech_get1_status`, `SSL_ech_get1_retry_config` |
//!
//! The functions are described on
//! [`SSL_set1_echstore(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/).
//!
//! A client given a configuration never sends its server name in clear: when the server
//! cannot decrypt the inner ClientHello, the handshake fails with
//! [`Hint::EchRejected`](crate::Hint::EchRejected), which carries the retry configurations
//! the server sent (when it proved it is the public name) for the caller to try again with.
//!
//! On an OpenSSL without ECH (3.x, or 4.0 configured with `no-ech`) the settings exist, but
//! a configuration that uses them is refused when it is built, with
//! [`EchError::Unsupported`]; [`is_supported`] says which build this is. The configuration
//! list parser ([`EchConfigList`]) works everywhere.

mod client;
mod config;
mod config_error;
mod encoding;
mod server;
mod status;

use std::fmt;
use std::path::PathBuf;

use crate::error_queue::ErrorQueue;

pub use client::EchOptions;
pub(crate) use client::{configure_context, configure_ssl};
pub use config::{EchConfig, EchConfigList, HpkeKem, HpkeSymmetricSuite, ECH_VERSION};
pub use config_error::EchConfigError;
pub(crate) use server::load_keys;
pub use server::{EchKeyError, EchKeys};
pub use status::{EchInfo, EchStatus};

/// Whether the linked OpenSSL implements ECH (4.0 or newer, not configured with
/// `no-ech`). Where it does not, a configuration with ECH settings is refused with
/// [`EchError::Unsupported`].
pub const fn is_supported() -> bool {
    cfg!(all(ossl400, not(ossl_no_ech)))
}

/// Why the linked OpenSSL has no ECH, in words (`None` where it has).
fn unsupported_reason() -> Option<String> {
    if is_supported() {
        return None;
    }
    let linked = openssl::version::version();
    Some(if cfg!(ossl400) {
        format!("{linked} was configured without it (no-ech)")
    } else {
        format!("this program is linked with {linked}")
    })
}

/// An ECH setting could not be used. Every variant is detected before any network I/O,
/// when the configuration is built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EchError {
    /// The linked OpenSSL has no ECH.
    Unsupported {
        /// Which OpenSSL is linked, and why it has no ECH.
        reason: String,
    },
    /// The configuration list given to the client is malformed or unusable.
    ConfigList(#[source] EchConfigError),
    /// ECH is asked for where TLS 1.3 is not allowed.
    NeedsTls13,
    /// An outer name or ALPN without a configuration list to use it with.
    OuterWithoutConfig {
        /// The setting given (`ClientConfigBuilder::ech_outer_sni`, `..._alpn`).
        setting: &'static str,
    },
    /// An outer ALPN protocol is empty or longer than 255 bytes.
    OuterAlpn {
        /// The protocol.
        protocol: String,
    },
    /// A server key file could not be read or used.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: EchKeyError,
    },
    /// A server key directory could not be listed.
    KeyDir {
        /// The directory.
        path: PathBuf,
        /// The error from the file system.
        #[source]
        source: std::io::Error,
    },
    /// A server key directory holds no file.
    EmptyKeyDir {
        /// The directory.
        path: PathBuf,
    },
    /// OpenSSL refused a setting.
    Tls {
        /// What was being set up.
        step: &'static str,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
}
impl fmt::Display for EchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EchError::Unsupported { reason, .. } => write!(f, "Encrypted Client Hello needs OpenSSL 4.0 or newer with ECH: {reason}")?,
            EchError::ConfigList(_) => write!(f, "the ECHConfigList given to ClientConfigBuilder::ech_config_list is refused: give the one the server publishes (its DNS HTTPS record's ech= value, or what `openssl ech` wrote), as base64, PEM or wire bytes")?,
            EchError::NeedsTls13 => write!(f, "ECH needs TLS 1.3, which the protocol versions exclude: allow TLS 1.3 (protocols), or connect with a tls:// or tlsv1.3:// URL")?,
            EchError::OuterWithoutConfig { setting, .. } => write!(f, "{setting} only applies with an ECH configuration: give one with ClientConfigBuilder::ech_config_list")?,
            EchError::OuterAlpn { protocol, .. } => write!(f, "outer ALPN protocol {protocol:?} (ClientConfigBuilder::ech_outer_alpn) is not 1 to 255 bytes")?,
            EchError::KeyFile { path, .. } => write!(f, "ECH key file {}: cannot be used: give a PEM file with a private key and its ECHCONFIG, as `openssl ech` writes it (ServerConfigBuilder::ech_keys)", path.display())?,
            EchError::KeyDir { path, .. } => write!(f, "ECH key directory {}: cannot be read (ServerConfigBuilder::ech_keys)", path.display())?,
            EchError::EmptyKeyDir { path, .. } => write!(f, "ECH key directory {} holds no key file: put the PEM files `openssl ech` writes in it (ServerConfigBuilder::ech_keys)", path.display())?,
            EchError::Tls { step, .. } => write!(f, "OpenSSL refused the ECH setting while {step}")?,
        }
        crate::error::write_causes(self, f)
    }
}

impl EchError {
    /// The settings this error's message names, as API items (the command line says them as
    /// its flags).
    pub fn advised(&self) -> Vec<crate::hint::Advice> {
        use crate::hint::Advice;
        match self {
            EchError::ConfigList(_) | EchError::OuterWithoutConfig { .. } => {
                vec![Advice::EchConfigList]
            }
            EchError::KeyFile { .. } | EchError::KeyDir { .. } | EchError::EmptyKeyDir { .. } => {
                vec![Advice::ServerEchKeys]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(all(ossl400, not(ossl_no_ech)))]
fn tls(step: &'static str) -> impl Fn(openssl::error::ErrorStack) -> EchError {
    move |source| EchError::Tls {
        step,
        source: source.into(),
    }
}
