//! [`ClientConfig`]: the TLS options of a client, built once into one `SslContext`
//! ([`SSL_CTX_new(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_new/)) that every connection
//! reuses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslRef, SslSession,
    SslSessionCacheMode, SslVerifyMode,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509StoreContext, X509StoreContextRef, X509VerifyResult, X509};

use crate::certstore::{CertStoreError, CertifiedKey};
use crate::error_queue::ErrorQueue;
use crate::fingerprint::Fingerprint;
use crate::nodelay::NodelayPolicy;
use crate::policy::{self, PolicyError};
use crate::server::ProtocolSet;
use crate::verify_cache::{self, VerifyCache};
use crate::version::ProtocolVersion;

// X509 verify codes from <openssl/x509_vfy.h>.
const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;

/// A client configuration could not be built. Every variant is detected before any network
/// I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The key log file ([`ClientOptions::key_log`]) could not be opened.
    #[error("key log refused: check the path and its directory's permissions")]
    KeyLog {
        /// Which file, and why.
        #[source]
        source: crate::keylog::KeyLogError,
    },
    /// The CA file does not exist or cannot be read.
    #[error("CA file {path}: cannot be read: give a PEM file of trusted CA certificates")]
    CaFileUnreadable {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no certificate OpenSSL can parse.
    #[error("CA file {path}: no PEM certificate could be loaded")]
    CaFileInvalid {
        /// The path given.
        path: PathBuf,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The CA file is not a regular file (a FIFO, a device, a directory, ...): reading it
    /// could block forever, so it is refused before any read.
    #[error("CA file {path} is a {kind}, not a regular file: give a PEM file of trusted CA certificates")]
    CaFileNotRegular {
        /// The path given.
        path: PathBuf,
        /// What it is instead: `"FIFO"`, `"directory"`, `"character device"`, ...
        kind: &'static str,
    },
    /// The CA directory is not a directory.
    #[error("CA directory {path} is not a readable directory: give a directory of hashed CA certificates (c_rehash)")]
    CaDirInvalid {
        /// The path given.
        path: PathBuf,
    },
    /// The client certificate or its key could not be loaded or do not match.
    #[error("the client certificate could not be used")]
    Certificate(#[from] CertStoreError),
    /// A key was given without a certificate, or the reverse.
    #[error("a client certificate needs both a certificate file and a key file")]
    CertificateWithoutKey,
    /// OpenSSL refused the TLS 1.2 cipher list.
    #[error("cipher list {list:?} selects no usable cipher: see `openssl ciphers -v {list:?}`")]
    Ciphers {
        /// The list given.
        list: String,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// OpenSSL refused the TLS 1.3 ciphersuites.
    #[error("TLS 1.3 ciphersuites {list:?} are not valid: e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256")]
    Ciphersuites {
        /// The list given.
        list: String,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// OpenSSL refused the key-exchange group list.
    #[error("key-exchange groups {list:?} are not valid: e.g. X25519:P-256, see `openssl list -kem-algorithms` and `-key-exchange-algorithms`")]
    Groups {
        /// The list given.
        list: String,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// A version, ALPN or security-level setting is refused (the same checks as the
    /// server's).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// OpenSSL failed to build the context.
    #[error("OpenSSL could not build the TLS context")]
    Tls(#[source] ErrorQueue),
}

impl From<ErrorStack> for ConfigError {
    fn from(stack: ErrorStack) -> ConfigError {
        ConfigError::Tls(stack.into())
    }
}

/// Everything a [`ClientConfig`] was built from. Each field is one `SSL_CTX` or `SSL` setting;
/// the README maps PHP's SSL context options onto them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Verify the peer's certificate chain (`SSL_VERIFY_PEER`,
    /// [`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)). Default: on.
    pub verify_peer: bool,
    /// Verify the peer's host name or IP address
    /// ([`X509_VERIFY_PARAM_set1_host(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/),
    /// `X509_VERIFY_PARAM_set1_ip`). Default: on.
    pub verify_peer_name: bool,
    /// The name to send as SNI (`SSL_set_tlsext_host_name`) and to check, instead of the URL's
    /// host.
    pub peer_name: Option<String>,
    /// Accept a self-signed peer certificate (the verify callback,
    /// [`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/), forgives
    /// the self-signed verify errors 18 and 19). Default: off.
    pub allow_self_signed: bool,
    /// PEM file of trusted CAs (`SSL_CTX_load_verify_locations`). Without it and `ca_dir`,
    /// the system's default trust store is used.
    pub ca_file: Option<PathBuf>,
    /// Directory of hashed CA certificates (the `CApath` of `SSL_CTX_load_verify_locations`).
    pub ca_dir: Option<PathBuf>,
    /// Trusted CA certificates given as PEM text (in memory, no file).
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate (PEM, chain after the leaf; `SSL_CTX_use_certificate` and
    /// `SSL_CTX_add_extra_chain_cert`).
    pub cert_file: Option<PathBuf>,
    /// Its private key (`SSL_CTX_use_PrivateKey`).
    pub key_file: Option<PathBuf>,
    /// The key's passphrase.
    pub passphrase: Option<String>,
    /// Maximum chain depth (`SSL_CTX_set_verify_depth`).
    pub verify_depth: Option<u32>,
    /// TLS 1.2 cipher list (`SSL_CTX_set_cipher_list`). Default: [`TLS12_CIPHERS`](crate::version::TLS12_CIPHERS),
    /// ECDHE with AES-GCM or ChaCha20-Poly1305 only. A list given here is used as it is.
    pub ciphers: Option<String>,
    /// Also offer the TLS 1.2 CBC suites (and finite-field DHE): the default list becomes
    /// [`TLS12_CIPHERS_WITH_CBC`](crate::version::TLS12_CIPHERS_WITH_CBC). For servers that
    /// have nothing newer. Default: off; implied by
    /// [`allow_legacy_versions`](Self::allow_legacy_versions), since TLS 1.0 and 1.1 have no
    /// AEAD suite. Ignored when [`ciphers`](Self::ciphers) is given.
    pub allow_cbc_ciphers: bool,
    /// TLS 1.3 ciphersuites.
    pub ciphersuites: Option<String>,
    /// Key-exchange groups, most preferred first (`SSL_CTX_set1_groups_list`), e.g.
    /// `X25519:P-256`. Default: OpenSSL's, which on OpenSSL 3.5+ leads with the post-quantum
    /// hybrid `X25519MLKEM768`; naming only classic groups is faster but gives that up.
    pub groups: Option<String>,
    /// Keep the peer's certificate chain in the session facts of a
    /// [`TlsConnection`](super::TlsConnection) (`SSL_get_peer_cert_chain`). Default: on.
    /// The peer's own certificate is always there.
    pub capture_peer_chain: bool,
    /// Send SNI for host names (`SSL_set_tlsext_host_name`). Default: on. IP literals never send SNI.
    pub sni: bool,
    /// Pin the peer certificate's digest (`X509_digest`). A pin is a trust
    /// decision: with no `ca_file`, `ca_dir` or `ca_pem`, exactly the certificate with this
    /// digest is accepted (its chain and names are not checked, and the verify result is
    /// `X509_V_OK`); with a CA given, the chain must verify and the pin must match. A
    /// mismatch fails with verify code 50 and [`Hint::FingerprintMismatch`](crate::Hint::FingerprintMismatch),
    /// which quotes both digests.
    pub peer_fingerprint: Option<Fingerprint>,
    /// OpenSSL security level (`SSL_CTX_set_security_level`).
    pub security_level: Option<u32>,
    /// The protocol versions offered. Default: TLS 1.2 | TLS 1.3.
    pub protocols: ProtocolSet,
    /// Allow TLS 1.0 / 1.1 (and security level 0). Default: off.
    pub allow_legacy_versions: bool,
    /// ALPN protocols offered, in order of preference.
    pub alpn: Vec<String>,
    /// Keep sessions and offer them again on the next connection to the same peer name.
    /// Close connections with [`TlsStream::shutdown`](crate::TlsStream::shutdown): OpenSSL
    /// marks the session of a connection dropped without close_notify as not resumable.
    pub resume_sessions: bool,
    /// Ask the server for session tickets. Default (`None`): only when
    /// [`resume_sessions`](Self::resume_sessions) is on, since a ticket nobody offers again
    /// is wasted work on both ends.
    ///
    /// A client that asks for none sets `SSL_OP_NO_TICKET`, which in TLS 1.3 leaves out the
    /// `psk_key_exchange_modes` extension; OpenSSL servers (and RFC 8446, 4.2.9) then send no
    /// NewSessionTicket. That saves the server a ticket encryption and the client its
    /// processing and the session copy it keeps (BENCHMARKS.md). `Some(true)` asks for them
    /// anyway (to save sessions by hand with `SSL_get1_session`), `Some(false)` never.
    pub session_tickets: Option<bool>,
    /// Record every TLS message of every connection in this sink ([`trace`](crate::trace)).
    /// Default: none.
    pub trace: Option<crate::trace::TraceSink>,
    /// Ask the server to staple its certificate's OCSP status (the `status_request`
    /// extension, RFC 6066 section 8); read it with [`ocsp::stapled`](super::ocsp::stapled).
    /// Default: off.
    pub status_request: bool,
    /// Write every connection's TLS secrets to this file, in the NSS key log format
    /// Wireshark reads ([`keylog`](crate::keylog); the file holds secrets that decrypt the
    /// traffic: debugging only). Default: none.
    pub key_log: Option<PathBuf>,
    /// Deadline for the TCP connect. Default: 10 s.
    pub connect_timeout: Duration,
    /// Deadline for the TLS handshake (and STARTTLS dialogue). Default: 10 s.
    pub handshake_timeout: Duration,
    /// When `TCP_NODELAY` is set. Default: [`NodelayPolicy::Always`].
    pub nodelay: NodelayPolicy,
    /// Remember certificate chains that verified and skip `X509_verify_cert` when the same
    /// chain is presented again for the same expected name. Default: on.
    ///
    /// An entry is keyed by SHA-256 over the DER of every certificate the peer sent, in
    /// order, and the verification parameters of the connection (expected host names, IP,
    /// flags, depth, security level); it lives until the earliest notAfter of the verified
    /// chain or [`verify_cache_ttl`](Self::verify_cache_ttl), whichever comes first. At most
    /// 1024 chains are kept per configuration, the oldest evicted first. Failed verifications
    /// are never remembered. Only the chain check is skipped: the peer's proof that it holds
    /// the certificate's key (the TLS 1.3 CertificateVerify or TLS 1.2 ServerKeyExchange
    /// signature) is checked on every handshake. Installed with
    /// [`SSL_CTX_set_cert_verify_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_verify_callback/).
    ///
    /// A verification is not cached when the connection's `Ssl` was given another verify
    /// store or verify callback than the configuration's, enables certificate transparency,
    /// or sets CRL, OCSP or fixed-time checks; with OpenSSL older than 3.0 (whose expected
    /// names cannot be read back) nothing is cached. A CA removed from `ca_dir` while the
    /// process runs keeps trusting its cached chains until their entries expire.
    ///
    /// A hit looks like a miss to the caller: the chain verified the first time is handed
    /// back to OpenSSL with `X509_STORE_CTX_set0_verified_chain`, so `SslRef::verified_chain`
    /// ([`SSL_get0_verified_chain(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_cert_chain/)),
    /// the peer's own chain, `SSL_get_verify_result` (`X509_V_OK`) and the error queue are
    /// the same. The one difference: `SSL_get0_peername` (which of the expected names
    /// matched) is unset on a hit, since OpenSSL offers no way to set it.
    pub verify_cache: bool,
    /// How long a verified chain is remembered at most. Default: 1 hour.
    pub verify_cache_ttl: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            verify_peer: true,
            verify_peer_name: true,
            peer_name: None,
            allow_self_signed: false,
            ca_file: None,
            ca_dir: None,
            ca_pem: None,
            cert_file: None,
            key_file: None,
            passphrase: None,
            verify_depth: None,
            ciphers: None,
            allow_cbc_ciphers: false,
            ciphersuites: None,
            groups: None,
            capture_peer_chain: true,
            sni: true,
            peer_fingerprint: None,
            security_level: None,
            protocols: ProtocolSet::default(),
            allow_legacy_versions: false,
            alpn: Vec::new(),
            resume_sessions: false,
            key_log: None,
            status_request: false,
            trace: None,
            session_tickets: None,
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            nodelay: NodelayPolicy::Always,
            verify_cache: true,
            verify_cache_ttl: verify_cache::DEFAULT_TTL,
        }
    }
}

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
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ClientConfig`].
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ClientConfigBuilder {
    options: ClientOptions,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: bool) => {
        $(#[$doc])*
        pub fn $name(mut self, on: bool) -> Self {
            self.options.$name = on;
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: path) => {
        $(#[$doc])*
        pub fn $name(mut self, path: impl Into<PathBuf>) -> Self {
            self.options.$name = Some(path.into());
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: string) => {
        $(#[$doc])*
        pub fn $name(mut self, text: impl Into<String>) -> Self {
            self.options.$name = Some(text.into());
            self
        }
    };
}

impl ClientConfigBuilder {
    setter!(
        /// Verify the peer's certificate chain (default on; `SSL_VERIFY_PEER`,
        /// [`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)).
        verify_peer: bool
    );
    setter!(
        /// Verify the peer's host name or IP address (default on;
        /// [`X509_VERIFY_PARAM_set1_host(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/)).
        verify_peer_name: bool
    );
    setter!(
        /// Accept a self-signed peer certificate (forgiven in the verify callback).
        allow_self_signed: bool
    );
    setter!(
        /// Keep the peer's chain in the session facts (default on).
        capture_peer_chain: bool
    );
    setter!(
        /// Send SNI for host names (default on).
        sni: bool
    );
    setter!(
        /// Allow TLS 1.0 and 1.1 (sets security level 0 on OpenSSL 3).
        allow_legacy_versions: bool
    );
    setter!(
        /// Also offer the TLS 1.2 CBC suites, for servers that have no AEAD suite (default
        /// off; [`ClientOptions::allow_cbc_ciphers`];
        /// [`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
        allow_cbc_ciphers: bool
    );
    setter!(
        /// Offer saved sessions again ([`SSL_set_session(3)`](https://docs.openssl.org/3.0/man3/SSL_set_session/)).
        ///
        /// **Read the stream after the handshake, or nothing is resumed.** A TLS 1.3 server
        /// sends its session tickets (NewSessionTicket) after the handshake completes, and
        /// OpenSSL only sees them when the client reads application data
        /// ([`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)). A client that
        /// handshakes and closes without reading saves no session, and its next connection
        /// does a full handshake. TLS 1.2 sessions are saved at the end of the handshake.
        /// Sessions are saved as they arrive; [`ClientConfig::save_session`] stores one by
        /// hand.
        resume_sessions: bool
    );
    /// Record every TLS message of the connections in `sink`: direction, size, time and the
    /// decoded facts ([`trace`](crate::trace);
    /// [`SSL_set_msg_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_msg_callback/)).
    pub fn trace(mut self, sink: crate::trace::TraceSink) -> Self {
        self.options.trace = Some(sink);
        self
    }
    /// Ask for session tickets even without [`resume_sessions`](Self::resume_sessions), or
    /// never (off sets `SSL_OP_NO_TICKET`). Default: only when resuming
    /// ([`ClientOptions::session_tickets`]; [`SSL_CTX_set_options(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/)).
    pub fn session_tickets(mut self, on: bool) -> Self {
        self.options.session_tickets = Some(on);
        self
    }
    setter!(
        /// Ask for the server's stapled OCSP status
        /// ([`SSL_set_tlsext_status_type(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_status_cb/));
        /// read it with [`ocsp::stapled`](super::ocsp::stapled). It is reported, not
        /// enforced: a handshake does not fail for a missing or revoked status.
        status_request: bool
    );
    setter!(
        /// Write the TLS secrets of every connection to this file, appending, in the NSS
        /// key log format Wireshark reads (`tshark -o tls.keylog_file:FILE`), as `SSLKEYLOGFILE`
        /// does for curl and Firefox ([`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/);
        /// [`keylog`](crate::keylog)). **The file holds secrets**: whoever reads it can decrypt
        /// the connections; use it only to debug.
        key_log: path
    );
    setter!(
        /// Trusted CAs, PEM file ([`SSL_CTX_load_verify_locations(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_load_verify_locations/)).
        ca_file: path
    );
    setter!(
        /// Trusted CAs, hashed directory.
        ca_dir: path
    );
    /// The client certificate from a PEM certificate file (leaf first, then its chain) and a
    /// PEM key file (may be the same file), as
    /// [`ServerConfig::certificate_files`](crate::server::ServerConfig::certificate_files)
    /// takes the server's
    /// ([`SSL_CTX_use_certificate(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_use_certificate/)).
    pub fn certificate_files(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.options.cert_file = Some(cert.into());
        self.options.key_file = Some(key.into());
        self
    }
    setter!(
        /// The key's passphrase.
        passphrase: string
    );
    setter!(
        /// SNI ([`SSL_set_tlsext_host_name(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_servername_callback/))
        /// and verified name instead of the URL host.
        peer_name: string
    );
    setter!(
        /// TLS 1.2 cipher list ([`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
        ciphers: string
    );
    setter!(
        /// TLS 1.3 ciphersuites (`SSL_CTX_set_ciphersuites`).
        ciphersuites: string
    );
    setter!(
        /// Key-exchange groups, most preferred first
        /// ([`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)).
        /// Default: OpenSSL's own list, which keeps the post-quantum hybrid on OpenSSL 3.5+.
        groups: string
    );

    /// Trusted CAs as PEM text.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.options.ca_pem = Some(pem.into());
        self
    }

    /// Maximum certificate chain depth ([`SSL_CTX_set_verify_depth(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)).
    pub fn verify_depth(mut self, depth: u32) -> Self {
        self.options.verify_depth = Some(depth);
        self
    }

    /// Pins the peer certificate's digest; see
    /// [`ClientOptions::peer_fingerprint`] for how it combines with a CA. Checked in the
    /// verify callback ([`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/))
    /// with [`X509_digest(3)`](https://docs.openssl.org/3.0/man3/X509_digest/).
    pub fn peer_fingerprint(mut self, fingerprint: Fingerprint) -> Self {
        self.options.peer_fingerprint = Some(fingerprint);
        self
    }

    /// OpenSSL security level, 0 to 5
    /// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/));
    /// a level above 5 is refused with
    /// [`PolicyError::SecurityLevel`](crate::policy::PolicyError::SecurityLevel).
    pub fn security_level(mut self, level: u32) -> Self {
        self.options.security_level = Some(level);
        self
    }

    /// The protocol versions offered (default TLS 1.2 | TLS 1.3), as
    /// [`ServerConfig::protocols`](crate::server::ServerConfig::protocols) takes the
    /// server's; see [`ProtocolSet`] (and [`ProtocolSet::range`] for a lowest and highest
    /// version). The lowest and highest versions of the set go to
    /// [`SSL_CTX_set_min_proto_version(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_min_proto_version/),
    /// a version missing between them is switched off with its `SSL_OP_NO_*` option.
    pub fn protocols(mut self, set: ProtocolSet) -> Self {
        self.options.protocols = set;
        self
    }

    /// ALPN protocols to offer, most preferred first.
    pub fn alpn<I, T>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.options.alpn = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Deadline of the TCP connect.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// Deadline of the TLS handshake (and of a STARTTLS dialogue).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.options.handshake_timeout = timeout;
        self
    }

    /// The `TCP_NODELAY` policy.
    pub fn nodelay(mut self, policy: NodelayPolicy) -> Self {
        self.options.nodelay = policy;
        self
    }

    /// Remembers verified certificate chains (default on); see
    /// [`ClientOptions::verify_cache`] for what is cached and what is always checked.
    pub fn verify_cache(mut self, on: bool) -> Self {
        self.options.verify_cache = on;
        self
    }

    /// The longest time a verified chain is remembered (default 1 hour; it also ends at the
    /// chain's earliest notAfter). `Duration::ZERO` makes every lookup a miss.
    pub fn verify_cache_ttl(mut self, ttl: Duration) -> Self {
        self.options.verify_cache_ttl = ttl;
        self
    }

    /// Replaces all options at once.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Validates the options and builds the `SslContext` once.
    pub fn build(self) -> Result<ClientConfig, ConfigError> {
        let options = self.options;
        let sessions = SessionCache::default();
        let (ctx, verify_cache) = build_context(&options, &sessions)?;
        Ok(ClientConfig {
            ctx,
            options: Arc::new(options),
            sessions,
            imported: SessionCache::default(),
            verify_cache,
        })
    }
}

/// The per-connection slot holding the session-cache key (the expected peer name).
fn session_key_index() -> Result<Index<Ssl, String>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, String>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<String>()?;
    Ok(*INDEX.get_or_init(|| index))
}

fn build_context(
    o: &ClientOptions,
    sessions: &SessionCache,
) -> Result<(SslContext, Option<Arc<VerifyCache>>), ConfigError> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    policy::check_set(o.protocols.versions(), o.allow_legacy_versions)?;
    policy::check_security_level(o.security_level)?;
    let alpn = policy::alpn_wire(&o.alpn)?;
    if o.allow_legacy_versions {
        // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) above security level 0.
        b.set_security_level(0);
    }
    b.set_min_proto_version(o.protocols.lowest().and_then(ProtocolVersion::to_openssl))?;
    b.set_max_proto_version(o.protocols.highest().and_then(ProtocolVersion::to_openssl))?;
    b.set_options(o.protocols.hole_options());
    if let Some(level) = o.security_level {
        b.set_security_level(level);
    }

    load_trust(&mut b, o)?;
    if let Some(depth) = o.verify_depth {
        b.set_verify_depth(depth);
    }
    set_verification(&mut b, o);
    crate::sys::note_certificate_requests::<CertificateRequest>(&mut b);

    match (&o.cert_file, &o.key_file) {
        (Some(cert), Some(key)) => {
            let ck = CertifiedKey::from_pem_files(
                cert,
                key,
                o.passphrase.as_deref().map(str::as_bytes),
            )?;
            b.set_certificate(ck.cert())?;
            for extra in ck.chain() {
                b.add_extra_chain_cert(extra.clone())?;
            }
            b.set_private_key(ck.key())?;
        }
        (None, None) => {}
        _ => return Err(ConfigError::CertificateWithoutKey),
    }

    // Without a list of the caller's, TLS 1.2 offers forward-secret AEAD suites only, and
    // CBC with the named opt-out.
    // TLS 1.0 and 1.1 have no AEAD suite: their opt-out implies this one.
    let list = o
        .ciphers
        .as_deref()
        .unwrap_or(if o.allow_cbc_ciphers || o.allow_legacy_versions {
            crate::version::TLS12_CIPHERS_WITH_CBC
        } else {
            crate::version::TLS12_CIPHERS
        });
    b.set_cipher_list(list)
        .map_err(|source| ConfigError::Ciphers {
            list: list.to_string(),
            source: source.into(),
        })?;
    if let Some(list) = &o.ciphersuites {
        b.set_ciphersuites(list)
            .map_err(|source| ConfigError::Ciphersuites {
                list: list.clone(),
                source: source.into(),
            })?;
    }
    if let Some(list) = &o.groups {
        b.set_groups_list(list)
            .map_err(|source| ConfigError::Groups {
                list: list.clone(),
                source: source.into(),
            })?;
    }
    if !alpn.is_empty() {
        b.set_alpn_protos(&alpn)?;
    }
    let mut opts = SslOptions::NO_RENEGOTIATION;
    if !o.session_tickets.unwrap_or(o.resume_sessions) {
        opts |= SslOptions::NO_TICKET;
    }
    b.set_options(opts);
    // Idle connections give their record buffers back (~34 kB less per connection pair,
    // measured in benches/heap.rs); `SslConnector` sets the same mode.
    b.set_mode(SslMode::RELEASE_BUFFERS);
    if let Some(path) = &o.key_log {
        crate::keylog::KeyLog::open(path)
            .map_err(|source| ConfigError::KeyLog { source })?
            .install(&mut b);
    }
    if o.resume_sessions {
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
        // Sessions (TLS 1.3 tickets arrive after the handshake) are kept per peer name.
        let cache = Arc::clone(sessions);
        let index = session_key_index()?;
        b.set_new_session_callback(move |ssl, session| {
            if let (Some(key), Ok(mut map)) = (ssl.ex_data(index), cache.lock()) {
                map.insert(key.clone(), session);
            }
        });
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }
    // After load_trust: the cache records the store connections verify against.
    let cache = if o.verify_cache {
        Some(crate::sys::install_verify_cache(
            &mut b,
            o.verify_cache_ttl,
        )?)
    } else {
        None
    };
    Ok((b.build(), cache))
}

fn load_trust(b: &mut SslContextBuilder, o: &ClientOptions) -> Result<(), ConfigError> {
    if o.ca_file.is_none() && o.ca_dir.is_none() && o.ca_pem.is_none() {
        b.set_default_verify_paths()?;
        return Ok(());
    }
    // Each source is read and parsed once; both stores get the same certificates (adding
    // one only takes a reference).
    let mut trusted = Vec::new();
    if let Some(path) = &o.ca_file {
        let pem = read_ca_file(path)?;
        trusted.extend(
            parse_pem_certs(&pem).map_err(|source| ConfigError::CaFileInvalid {
                path: path.clone(),
                source: source.into(),
            })?,
        );
    }
    if let Some(pem) = &o.ca_pem {
        trusted.extend(parse_pem_certs(pem)?);
    }
    let mut store = X509StoreBuilder::new()?;
    for cert in &trusted {
        store.add_cert(cert.clone())?;
    }
    if let Some(dir) = &o.ca_dir {
        if !dir.is_dir() {
            return Err(ConfigError::CaDirInvalid { path: dir.clone() });
        }
        store
            .add_lookup(openssl::x509::store::X509Lookup::hash_dir())?
            .add_dir(&path_str(dir), openssl::ssl::SslFiletype::PEM)?;
    }
    b.set_verify_cert_store(store.build())?;
    // The verify store is separate from the chain-building store; also set the main one.
    let mut main = X509StoreBuilder::new()?;
    for cert in trusted {
        main.add_cert(cert)?;
    }
    b.set_cert_store(main.build());
    Ok(())
}

/// Reads a CA file, refusing anything but a regular file (after symbolic links) before
/// reading a byte: a FIFO or a character device would block the read for as long as no one
/// writes to it, outside any deadline.
///
/// The file is opened with `O_NONBLOCK` (which makes [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html)
/// of a FIFO return at once) and checked with
/// [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html) on the open descriptor, so
/// the check and the read concern the same file.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let unreadable = |source| ConfigError::CaFileUnreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let t = meta.file_type();
    if !t.is_file() {
        let kind = if t.is_fifo() {
            "FIFO"
        } else if t.is_dir() {
            "directory"
        } else if t.is_char_device() {
            "character device"
        } else if t.is_block_device() {
            "block device"
        } else if t.is_socket() {
            "socket"
        } else {
            "special file"
        };
        return Err(ConfigError::CaFileNotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    let mut pem = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut pem).map_err(unreadable)?;
    Ok(pem)
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn parse_pem_certs(pem: &[u8]) -> Result<Vec<X509>, ErrorStack> {
    let certs = X509::stack_from_pem(pem)?;
    if certs.is_empty() {
        // stack_from_pem returns an empty list for a file with no PEM block.
        X509::from_pem(pem)?;
    }
    Ok(certs)
}

/// How the peer's certificate is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Verification off: the result is computed and reported, but never stops the handshake.
    Off,
    /// The chain must lead to a trusted CA (and the pin, if any, must match too).
    Chain,
    /// A pin and no CA: exactly the pinned certificate is trusted, by its digest.
    PinOnly,
}

fn set_verification(b: &mut SslContextBuilder, o: &ClientOptions) {
    let allow_self_signed = o.allow_self_signed;
    let pin = o.peer_fingerprint.clone();
    let ca_given = o.ca_file.is_some() || o.ca_dir.is_some() || o.ca_pem.is_some();
    let trust = match (o.verify_peer, &pin) {
        (false, _) => Trust::Off,
        (true, Some(_)) if !ca_given => Trust::PinOnly,
        (true, _) => Trust::Chain,
    };
    if trust == Trust::Off && pin.is_none() {
        // SSL_VERIFY_NONE: OpenSSL still verifies and keeps the result
        // (SSL_get_verify_result), it only goes on whatever it is.
        b.set_verify(SslVerifyMode::NONE);
        return;
    }
    if trust == Trust::Chain && !allow_self_signed && pin.is_none() {
        b.set_verify(SslVerifyMode::PEER);
        return;
    }
    b.set_verify_callback(SslVerifyMode::PEER, move |preverified, ctx| {
        verify_step(preverified, ctx, trust, allow_self_signed, pin.as_ref())
    });
}

fn verify_step(
    preverified: bool,
    ctx: &mut X509StoreContextRef,
    trust: Trust,
    allow_self_signed: bool,
    pin: Option<&Fingerprint>,
) -> bool {
    if let (Some(pin), 0) = (pin, ctx.error_depth()) {
        let received = ctx
            .current_cert()
            .and_then(|cert| Fingerprint::of(cert, pin.kind()).ok());
        if received.as_ref() != Some(pin) {
            if let Some(received) = received {
                record_pin_mismatch(ctx, pin, received);
            }
            ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
            return false;
        }
        if trust == Trust::PinOnly {
            // The pinned certificate itself is the trust anchor: whatever the chain and the
            // names say, this is the certificate that was asked for.
            ctx.set_error(X509VerifyResult::OK);
            return true;
        }
    }
    match trust {
        // The real result stays (SSL_get_verify_result reports it); only the decision differs.
        Trust::Off => true,
        // Chain errors above the leaf are decided by the pin check at depth 0, which
        // X509_verify_cert reaches last (internal_verify walks down to the leaf).
        Trust::PinOnly => true,
        Trust::Chain => {
            let mut ok = preverified;
            if !ok && allow_self_signed {
                let code = ctx.error().as_raw();
                ok = code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                    || code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
            }
            if ok && !preverified {
                ctx.set_error(X509VerifyResult::OK);
            }
            ok
        }
    }
}

/// Whether the server of one connection sent a CertificateRequest.
#[derive(Debug, Default)]
struct CertificateRequest(AtomicBool);

fn certificate_request_index() -> Result<Index<Ssl, CertificateRequest>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, CertificateRequest>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<CertificateRequest>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// The cert callback's hook: notes the request in the connection's slot.
impl crate::sys::CertificateRequestHook for CertificateRequest {
    fn certificate_requested(ssl: &SslRef) {
        note_certificate_request(ssl);
    }
}

/// Notes that the server of `ssl` asked for a client certificate (called from the cert
/// callback; a connection not made by [`ClientConfig::new_ssl`] has no slot and is skipped).
fn note_certificate_request(ssl: &SslRef) {
    if let Some(slot) = certificate_request_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
    {
        slot.0.store(true, Ordering::Relaxed);
    }
}

/// Whether the server of `ssl` asked for a client certificate.
pub(crate) fn certificate_was_requested(ssl: &SslRef) -> bool {
    certificate_request_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
        .is_some_and(|slot| slot.0.load(Ordering::Relaxed))
}

/// What the pin check of one connection found, kept in the connection's ex_data so that the
/// handshake error can quote both digests.
#[derive(Debug, Default)]
struct PinSlot {
    mismatch: Mutex<Option<(Fingerprint, Fingerprint)>>,
}

fn pin_slot_index() -> Result<Index<Ssl, PinSlot>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, PinSlot>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<PinSlot>()?;
    Ok(*INDEX.get_or_init(|| index))
}

fn record_pin_mismatch(ctx: &X509StoreContextRef, expected: &Fingerprint, received: Fingerprint) {
    let (Ok(ssl_idx), Ok(pin_idx)) = (X509StoreContext::ssl_idx(), pin_slot_index()) else {
        return;
    };
    let slot = ctx.ex_data(ssl_idx).and_then(|ssl| ssl.ex_data(pin_idx));
    if let Some(mut mismatch) = slot.and_then(|s| s.mismatch.lock().ok()) {
        *mismatch = Some((expected.clone(), received));
    }
}

/// The pinned and the received fingerprint, when the pin of a [`ClientConfig`] connection
/// did not match the peer's certificate.
pub(crate) fn pin_mismatch(ssl: &SslRef) -> Option<(Fingerprint, Fingerprint)> {
    let slot = ssl.ex_data(pin_slot_index().ok()?)?;
    slot.mismatch.lock().ok()?.clone()
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
    /// [`ClientOptions::verify_cache`]); `(0, 0)` when it is off. A miss is every
    /// verification that ran `X509_verify_cert`.
    pub fn verify_cache_stats(&self) -> (u64, u64) {
        self.verify_cache.as_ref().map_or((0, 0), |c| c.stats())
    }

    /// The shared `SslContext`.
    pub fn context(&self) -> &SslContext {
        &self.ctx
    }

    /// A new connection object for `host` ([`SSL_new(3)`](https://docs.openssl.org/3.0/man3/SSL_new/)):
    /// SNI for a DNS name (unless disabled), the name or IP checked against the certificate
    /// (unless disabled), a pinned version range when given, and a saved session offered when
    /// resumption is on. `host` is the URL host; [`ClientOptions::peer_name`] overrides it.
    ///
    /// ```
    /// use tlshake::client::ClientConfig;
    ///
    /// let config = ClientConfig::builder().build()?;
    /// let ssl = config.new_ssl("example.com")?;
    /// assert_eq!(ssl.servername(openssl::ssl::NameType::HOST_NAME), Some("example.com"));
    /// # Ok::<(), tlshake::client::ConfigError>(())
    /// ```
    #[doc(alias = "SSL_new")]
    pub fn new_ssl(&self, host: &str) -> Result<Ssl, ConfigError> {
        self.new_ssl_pinned(host, None)
    }

    /// [`new_ssl`](Self::new_ssl) with the protocol version pinned to exactly `pinned`
    /// (as a `tls1.2://` URL does), when given
    /// ([`SSL_set_min_proto_version(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_min_proto_version/)).
    #[doc(alias = "SSL_new")]
    pub fn new_ssl_pinned(
        &self,
        host: &str,
        pinned: Option<ProtocolVersion>,
    ) -> Result<Ssl, ConfigError> {
        let o = &self.options;
        let name = o.peer_name.as_deref().unwrap_or(host);
        let mut ssl = Ssl::new(&self.ctx)?;
        ssl.set_ex_data(certificate_request_index()?, CertificateRequest::default());
        if o.peer_fingerprint.is_some() {
            ssl.set_ex_data(pin_slot_index()?, PinSlot::default());
        }
        let ip: Option<IpAddr> = name.trim_matches(['[', ']']).parse().ok();
        if o.sni && ip.is_none() {
            ssl.set_hostname(name)?;
        }
        // With only a pin, the pinned certificate is the identity: no name is checked.
        let pin_only = o.peer_fingerprint.is_some()
            && o.ca_file.is_none()
            && o.ca_dir.is_none()
            && o.ca_pem.is_none();
        if o.verify_peer && o.verify_peer_name && !pin_only {
            match ip {
                Some(ip) => ssl.param_mut().set_ip(ip)?,
                None => ssl.param_mut().set_host(name)?,
            }
        }
        if o.status_request {
            ssl.set_status_type(openssl::ssl::StatusType::OCSP)?;
        }
        if let Some(sink) = &o.trace {
            crate::sys::install_trace(&mut ssl, crate::trace::Recorder::new(sink.clone()))?;
        }
        if let Some(version) = pinned {
            policy::check_versions([version], o.allow_legacy_versions)?;
            let v = version.to_openssl();
            ssl.set_min_proto_version(v)?;
            ssl.set_max_proto_version(v)?;
        }
        if o.resume_sessions {
            let key = session_key(name);
            ssl.set_ex_data(session_key_index()?, key.clone());
            let saved = self.sessions.lock().ok().and_then(|m| m.get(&key).cloned());
            if let Some(session) = saved {
                crate::sys::set_session_from_same_context(&mut ssl, &session)?;
            } else if let Some(session) =
                self.imported.lock().ok().and_then(|m| m.get(&key).cloned())
            {
                crate::sys::set_decoded_session(&mut ssl, &session)?;
            }
        }
        Ok(ssl)
    }

    /// The name used for SNI and the certificate check when connecting to `host`.
    pub fn expected_name<'a>(&'a self, host: &'a str) -> &'a str {
        self.options.peer_name.as_deref().unwrap_or(host)
    }

    /// Saves the session of an established connection so that the next connection to the
    /// same name offers it. With resumption on, sessions are saved automatically as they
    /// arrive; this stores the current one explicitly ([`SSL_get1_session(3)`](https://docs.openssl.org/3.0/man3/SSL_get_session/)).
    /// With TLS 1.3 the session arrives after the handshake, with the first data read.
    pub fn save_session(&self, host: &str, ssl: &openssl::ssl::SslRef) {
        if !self.options.resume_sessions {
            return;
        }
        if let Some(session) = ssl.session() {
            if crate::sys::session_is_resumable(session) {
                if let Ok(mut map) = self.sessions.lock() {
                    map.insert(session_key(self.expected_name(host)), session.to_owned());
                }
            }
        }
    }
}

impl ClientConfig {
    /// The session saved for connections to `host` (its peer name), the one the next
    /// connection offers: to keep it, e.g. in a file with
    /// [`session_file::write_session`](crate::session_file::write_session). `None` unless
    /// [`resume_sessions`](ClientConfigBuilder::resume_sessions) is on and a connection to the
    /// name produced a resumable session. Under TLS 1.3 the session arrives after the
    /// handshake: wait for it with
    /// [`wait_for_session`](crate::client::wait_for_session) first.
    pub fn saved_session(&self, host: &str) -> Option<SslSession> {
        let key = session_key(self.expected_name(host));
        let own = self.sessions.lock().ok().and_then(|m| m.get(&key).cloned());
        own.or_else(|| self.imported.lock().ok().and_then(|m| m.get(&key).cloned()))
    }

    /// Offers `session` on the next connections to `host` (its peer name) until one of them
    /// gets a session of its own, as `openssl s_client -sess_in` does
    /// ([`SSL_set_session(3)`](https://docs.openssl.org/3.0/man3/SSL_set_session/)). The session
    /// may come from another program, e.g. read with
    /// [`session_file::read_session`](crate::session_file::read_session) from a file
    /// `s_client -sess_out` wrote. Needs
    /// [`resume_sessions`](ClientConfigBuilder::resume_sessions); without it the session is
    /// kept but never offered. Whether the server resumed shows in
    /// [`SessionInfo::resumed`](crate::SessionInfo::resumed).
    pub fn import_session(&self, host: &str, session: SslSession) {
        let key = session_key(self.expected_name(host));
        if let Ok(mut map) = self.imported.lock() {
            map.insert(key, session);
        }
    }
}

fn session_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_checked_and_set() {
        let bad = ClientConfig::builder().groups("no-such-group").build();
        assert!(
            matches!(bad, Err(ConfigError::Groups { ref list, .. }) if list == "no-such-group"),
            "{bad:?}"
        );
        let good = ClientConfig::builder().groups("X25519:P-256").build();
        assert_eq!(
            good.map(|c| c.options().groups.clone()).ok().flatten(),
            Some("X25519:P-256".to_string())
        );
    }
}
