//! [`ClientConfig`](crate::client::ClientConfig): the TLS options of a client, built once into one `SslContext`
//! ([`SSL_CTX_new(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_new/)) that every connection
//! reuses.
//!
//! | file | concern |
//! |---|---|
//! | `builder.rs` | [`ClientConfigBuilder`]: one setter per setting, `build` |
//! | `options.rs` | [`ClientOptions`]: the settings, read back |
//! | `context.rs` | the `SslContext` built from them |
//! | `trust.rs` | the trusted CAs |
//! | `verification.rs` | the verify callback: verification off, self-signed, pins |
//! | `requests.rs` | whether the server asked for a client certificate |
//! | `ssl.rs` | one connection's `Ssl`: `new_ssl`, `handshake`, and DTLS's `new_dtls_ssl` |
//! | `sessions.rs` | resumption: saved and imported sessions |
//! | `error.rs` | [`ConfigError`] |

mod builder;
mod context;
mod error;
mod options;
mod requests;
mod sessions;
mod ssl;
mod trust;
mod verification;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use openssl::ssl::{SslContext, SslSession};

use crate::verify_cache::VerifyCache;

pub use builder::ClientConfigBuilder;
pub use error::ConfigError;
pub use options::ClientOptions;
pub(crate) use requests::certificate_was_requested;
pub(crate) use verification::pin_mismatch;

type SessionCache = Arc<Mutex<HashMap<String, SslSession>>>;

/// A client TLS configuration, validated and built into one `SslContext` that every
/// connection made with it reuses. Cheap to clone.
///
/// ```
/// use tlshake::client::ClientConfig;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::builder()
///     .ca_pem(tlshake::bundled::CA_PEM.as_bytes())
///     .alpn(["h2", "http/1.1"])
///     .build()?;
/// assert!(config.options().verify_peer);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    ctx: SslContext,
    options: Arc<ClientOptions>,
    sessions: SessionCache,
    /// Sessions given by [`ClientConfig::import_session`] (decoded from a file, made by
    /// another context), offered when `sessions` has none for the name.
    imported: SessionCache,
    verify_cache: Option<Arc<VerifyCache>>,
    /// The DTLS context of the same options, built on first use
    /// ([`dtls_context`](ClientConfig::dtls_context)).
    dtls_ctx: Arc<OnceLock<SslContext>>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Starts a builder with the secure defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder::default()
    }

    /// The options this configuration was built from.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// `(hits, misses)` of the verification cache so far (see
    /// [`ClientOptions::verify_cache`](crate::client::ClientOptions::verify_cache)); `(0, 0)` when it is off. A miss is every
    /// verification that ran `X509_verify_cert`.
    pub fn verify_cache_stats(&self) -> (u64, u64) {
        self.verify_cache.as_ref().map_or((0, 0), |c| c.stats())
    }

    /// The shared `SslContext`.
    pub fn context(&self) -> &SslContext {
        &self.ctx
    }
}
