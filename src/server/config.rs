//! [`ServerConfig`]: everything a [`TlsListener`](super::TlsListener) needs, as a builder.

use std::path::PathBuf;
use std::time::Duration;

use openssl::ssl::SslContext;

use crate::certstore::CertifiedKey;
use crate::nodelay::NodelayPolicy;
use crate::server::error::ServerConfigError;
use crate::server::protocols::ProtocolSet;

/// Where the server certificate and its private key come from.
///
/// Everything is loaded and checked once, when the listener is built: the key must belong to
/// the certificate, and the certificate must be within its validity dates unless
/// [`ServerConfig::allow_invalid_dates`] says otherwise.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CertificateSource {
    /// A PEM certificate file (leaf first, then its chain) and a PEM private key file
    /// (like `openssl s_server -cert -key`); see
    /// [`CertifiedKey::from_pem_files`](crate::certstore::CertifiedKey::from_pem_files).
    PemFiles {
        /// The certificate file.
        cert: PathBuf,
        /// The key file (may be the same file).
        key: PathBuf,
        /// The passphrase of an encrypted key.
        passphrase: Option<String>,
    },
    /// A PKCS#12 archive (`.p12` / `.pfx`) and its password.
    Pkcs12 {
        /// The archive.
        path: PathBuf,
        /// Its password.
        password: String,
    },
    /// The certificate of a store directory that matches a host name; see [`CertStore::find_by_name`](crate::certstore::CertStore::find_by_name).
    StoreByName {
        /// The directory loaded with [`CertStore::load_dir`](crate::certstore::CertStore::load_dir).
        dir: PathBuf,
        /// Passwords for PKCS#12 archives and encrypted keys in it.
        passwords: Vec<String>,
        /// The host name.
        name: String,
    },
    /// The certificate of a store directory with a fingerprint: a SHA-1 thumbprint (40 hex
    /// digits) or a SHA-256 fingerprint (64), spaces and colons allowed; see
    /// [`CertStore::find_by_hash_text`](crate::certstore::CertStore::find_by_hash_text).
    StoreByHash {
        /// The directory.
        dir: PathBuf,
        /// Passwords for PKCS#12 archives and encrypted keys in it.
        passwords: Vec<String>,
        /// The fingerprint as text.
        hash: String,
    },
    /// A certificate and key already loaded.
    Loaded(Box<CertifiedKey>),
}

impl CertificateSource {
    /// [`PemFiles`](Self::PemFiles) with an unencrypted key.
    pub fn pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> CertificateSource {
        CertificateSource::PemFiles {
            cert: cert.into(),
            key: key.into(),
            passphrase: None,
        }
    }

    /// [`Pkcs12`](Self::Pkcs12).
    pub fn pkcs12(path: impl Into<PathBuf>, password: impl Into<String>) -> CertificateSource {
        CertificateSource::Pkcs12 {
            path: path.into(),
            password: password.into(),
        }
    }

    /// [`StoreByName`](Self::StoreByName) with no passwords.
    pub fn store_by_name(dir: impl Into<PathBuf>, name: impl Into<String>) -> CertificateSource {
        CertificateSource::StoreByName {
            dir: dir.into(),
            passwords: Vec::new(),
            name: name.into(),
        }
    }

    /// [`StoreByHash`](Self::StoreByHash) with no passwords.
    pub fn store_by_hash(dir: impl Into<PathBuf>, hash: impl Into<String>) -> CertificateSource {
        CertificateSource::StoreByHash {
            dir: dir.into(),
            passwords: Vec::new(),
            hash: hash.into(),
        }
    }

    /// The same source with `passwords` for the store's PKCS#12 archives and encrypted keys
    /// (no effect on the other kinds).
    pub fn with_store_passwords<I, P>(mut self, list: I) -> CertificateSource
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        if let CertificateSource::StoreByName { passwords, .. }
        | CertificateSource::StoreByHash { passwords, .. } = &mut self
        {
            *passwords = list.into_iter().map(Into::into).collect();
        }
        self
    }
}

impl From<CertifiedKey> for CertificateSource {
    fn from(key: CertifiedKey) -> CertificateSource {
        CertificateSource::Loaded(Box::new(key))
    }
}

/// Client authentication (`SSL_CTX_set_verify`), with the CAs that issue client certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// No client certificate is requested (the default).
    #[default]
    None,
    /// A client certificate is requested; a client may send none, but one it sends must
    /// verify against `ca_file` (`SSL_VERIFY_PEER`, like `s_server -verify`).
    Optional {
        /// PEM file of the CAs that issue client certificates.
        ca_file: PathBuf,
    },
    /// A client certificate is required and must verify against `ca_file`
    /// (`SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT`, like `s_server -Verify`).
    Required {
        /// PEM file of the CAs that issue client certificates.
        ca_file: PathBuf,
    },
}

/// The configuration of a TLS listener: what `openssl s_server` takes on its command line
/// (address, port, certificate, protocol versions, client verification), built into one
/// `SslContext`.
///
/// Defaults: all interfaces (`[::]` with IPv4 mapped in, `0.0.0.0` on a machine without
/// IPv6), `SO_REUSEADDR` on, TLS 1.2 and 1.3 only, no client certificate, session tickets on,
/// a 10 s handshake timeout per connection, [`NodelayPolicy::Always`], at most 1024
/// handshakes in progress, client-initiated renegotiation refused.
///
/// The `SslContext`s are built once, by [`build_context`](Self::build_context) or
/// [`TlsListener::bind`](super::TlsListener::bind), and shared by every connection.
///
/// ```
/// use std::time::Duration;
/// use tlshake::bundled;
/// use tlshake::server::{ProtocolSet, ServerConfig, TlsListener};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let files = bundled::CertsDir::write()?; // the TEST certificate, in a temporary directory
/// let config = ServerConfig::builder()
///     .address("127.0.0.1")
///     .certificate_files(files.path("server.pem"), files.path("server.key"))
///     .protocols(ProtocolSet::TLS1_3)
///     .handshake_timeout(Duration::from_secs(5));
/// let listener = TlsListener::bind(&config)?;
/// assert_ne!(listener.local_addr().port(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a configuration does nothing until a listener is bound with it"]
pub struct ServerConfig {
    pub(crate) address: Option<String>,
    pub(crate) port: u16,
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) backlog: u32,
    pub(crate) certificate: Option<CertificateSource>,
    pub(crate) sni: Vec<(String, CertificateSource)>,
    pub(crate) allow_invalid_dates: bool,
    pub(crate) protocols: ProtocolSet,
    pub(crate) allow_legacy: bool,
    pub(crate) allow_cbc: bool,
    pub(crate) security_level: Option<u32>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) session_tickets: bool,
    pub(crate) handshake_timeout: Duration,
    pub(crate) nodelay: NodelayPolicy,
    pub(crate) max_pending: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) key_log: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig::builder()
    }
}

impl ServerConfig {
    /// A configuration with the defaults, as [`ClientConfig::builder`](crate::client::ClientConfig::builder)
    /// starts the client's: port 0 (a free port the system picks; see
    /// [`TlsListener::local_addr`](super::TlsListener::local_addr)) until
    /// [`port`](Self::port) says otherwise. A `ServerConfig` is its own builder: every
    /// setter takes and returns it by value, and the certificates and policy are checked by
    /// [`build_context`](Self::build_context) or [`TlsListener::bind`](super::TlsListener::bind).
    pub fn builder() -> ServerConfig {
        ServerConfig {
            address: None,
            port: 0,
            reuse_address: true,
            reuse_port: false,
            backlog: 1024,
            certificate: None,
            sni: Vec::new(),
            allow_invalid_dates: false,
            protocols: ProtocolSet::default(),
            allow_legacy: false,
            allow_cbc: false,
            security_level: None,
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            session_tickets: true,
            handshake_timeout: Duration::from_secs(10),
            nodelay: NodelayPolicy::Always,
            max_pending: 1024,
            idle_timeout: Duration::from_secs(30),
            key_log: None,
        }
    }

    /// The local address to bind: an IPv4 or IPv6 address (`127.0.0.1`, `::1`, `[::1]`), a
    /// host name (resolved; the first address is used, and it must be one of this machine's),
    /// or `*` / empty for all interfaces.
    pub fn address(mut self, address: impl Into<String>) -> ServerConfig {
        self.address = Some(address.into());
        self
    }

    /// The port (default 0: a free port the system picks).
    pub fn port(mut self, port: u16) -> ServerConfig {
        self.port = port;
        self
    }

    /// `SO_REUSEADDR` on the listening socket (default on): a listener can be bound again
    /// right after the previous one closed, while its connections are in TIME_WAIT. Off, such a
    /// bind fails with [`ServerConfigError::AddressInUse`]
    /// ([`setsockopt(2)`](https://man7.org/linux/man-pages/man7/socket.7.html)).
    pub fn reuse_address(mut self, on: bool) -> ServerConfig {
        self.reuse_address = on;
        self
    }

    /// The `listen(2)` backlog (default 1024, capped at the system's `SOMAXCONN`).
    pub fn backlog(mut self, backlog: u32) -> ServerConfig {
        self.backlog = backlog;
        self
    }

    /// The server certificate (also the default for clients that send no SNI or an unknown
    /// name).
    pub fn certificate(mut self, source: impl Into<CertificateSource>) -> ServerConfig {
        self.certificate = Some(source.into());
        self
    }

    /// The server certificate from a PEM certificate file and a PEM key file
    /// ([`SSL_CTX_use_certificate(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_use_certificate/)).
    pub fn certificate_files(
        self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> ServerConfig {
        self.certificate(CertificateSource::pem_files(cert, key))
    }

    /// The server certificate from a PKCS#12 archive.
    pub fn certificate_pkcs12(
        self,
        path: impl Into<PathBuf>,
        password: impl Into<String>,
    ) -> ServerConfig {
        self.certificate(CertificateSource::pkcs12(path, password))
    }

    /// The server certificate of store directory `dir` that matches host `name`.
    pub fn store_certificate_by_name(
        self,
        dir: impl Into<PathBuf>,
        name: impl Into<String>,
    ) -> ServerConfig {
        self.certificate(CertificateSource::store_by_name(dir, name))
    }

    /// The server certificate of store directory `dir` with fingerprint `hash` (SHA-1 or
    /// SHA-256, hex, spaces and colons allowed).
    pub fn store_certificate_by_hash(
        self,
        dir: impl Into<PathBuf>,
        hash: impl Into<String>,
    ) -> ServerConfig {
        self.certificate(CertificateSource::store_by_hash(dir, hash))
    }

    /// Another certificate, served to clients that ask for `server_name` with SNI (like
    /// `s_server -cert2 -servername`). A name may start with `*.` to cover one label. Clients
    /// without SNI, or with a name not configured, get the default certificate
    /// ([`SSL_CTX_set_tlsext_servername_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_servername_callback/),
    /// switching with `SSL_set_SSL_CTX` to a context built once for that name).
    pub fn sni_certificate(
        mut self,
        server_name: impl Into<String>,
        source: impl Into<CertificateSource>,
    ) -> ServerConfig {
        self.sni.push((server_name.into(), source.into()));
        self
    }

    /// Accept certificates outside their validity dates (default off: an expired or not yet
    /// valid certificate is refused when the listener is built).
    pub fn allow_invalid_dates(mut self, allow: bool) -> ServerConfig {
        self.allow_invalid_dates = allow;
        self
    }

    /// The protocol versions accepted (default TLS 1.2 | TLS 1.3); see [`ProtocolSet`].
    pub fn protocols(mut self, set: ProtocolSet) -> ServerConfig {
        self.protocols = set;
        self
    }

    /// Allow TLS 1.0 and 1.1 in the protocol set (default off). Also lowers the OpenSSL
    /// security level to 0
    /// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)),
    /// without which OpenSSL 3 refuses their SHA-1 signatures.
    pub fn allow_legacy_versions(mut self, allow: bool) -> ServerConfig {
        self.allow_legacy = allow;
        self
    }

    /// Also accept the TLS 1.2 CBC suites (and finite-field DHE), for clients that have no
    /// AEAD suite (default off: TLS 1.2 takes only ECDHE with AES-GCM or ChaCha20-Poly1305,
    /// [`TLS12_CIPHERS`](crate::version::TLS12_CIPHERS); on:
    /// [`TLS12_CIPHERS_WITH_CBC`](crate::version::TLS12_CIPHERS_WITH_CBC)). Implied by
    /// [`allow_legacy_versions`](Self::allow_legacy_versions): TLS 1.0 and 1.1 have no AEAD
    /// suite.
    /// ([`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
    pub fn allow_cbc_ciphers(mut self, allow: bool) -> ServerConfig {
        self.allow_cbc = allow;
        self
    }

    /// The OpenSSL security level (0 to 5; default: OpenSSL's, or 0 with
    /// [`allow_legacy_versions`](Self::allow_legacy_versions); a level given here wins)
    /// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)).
    /// A level above 5 is refused with
    /// [`PolicyError::SecurityLevel`](crate::policy::PolicyError::SecurityLevel).
    pub fn security_level(mut self, level: u32) -> ServerConfig {
        self.security_level = Some(level);
        self
    }

    /// Client authentication (default [`ClientAuth::None`]); the verify result is reported
    /// per connection in [`SessionInfo::verify`](crate::SessionInfo::verify)
    /// ([`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)).
    pub fn client_auth(mut self, auth: ClientAuth) -> ServerConfig {
        self.client_auth = auth;
        self
    }

    /// ALPN protocols the server speaks, most preferred first (`["h2", "http/1.1"]`). The
    /// server picks the first of its own list that the client offers; a client offering none
    /// of them gets no ALPN
    /// ([`SSL_CTX_set_alpn_select_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_alpn_select_cb/)).
    pub fn alpn<I, P>(mut self, protocols: I) -> ServerConfig
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Session tickets for resumption (default on: one TLS 1.3 ticket per connection rather
    /// than OpenSSL's two, which is enough for a client that resumes one connection at a
    /// time); off sets `SSL_OP_NO_TICKET` and sends no TLS 1.3 tickets (about 4.6% fewer
    /// instructions per handshake pair, for a server whose clients never resume)
    /// ([`SSL_CTX_set_num_tickets(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_num_tickets/)).
    pub fn session_tickets(mut self, on: bool) -> ServerConfig {
        self.session_tickets = on;
        self
    }

    /// How long one connection may take from `accept(2)` to the end of its handshake
    /// (default 10 s); then it is closed and reported as
    /// [`ServerEvent::TimedOut`](super::ServerEvent::TimedOut).
    pub fn handshake_timeout(mut self, timeout: Duration) -> ServerConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// How long an established connection may stay silent before a server loop built on
    /// this configuration closes it (default 30 s; `tlshake serve --idle-timeout`). The
    /// listener itself hands established streams over and keeps no idle clock.
    pub fn idle_timeout(mut self, timeout: Duration) -> ServerConfig {
        self.idle_timeout = timeout;
        self
    }

    /// The idle timeout set by [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout_value(&self) -> Duration {
        self.idle_timeout
    }

    /// Sets `SO_REUSEPORT` on the listening socket (default off), so that several listeners
    /// (one per thread) bind the same port and the kernel spreads connections among them
    /// ([`socket(7)`](https://man7.org/linux/man-pages/man7/socket.7.html)). Every socket
    /// on the port must set it, and only processes of the same user can share the port.
    pub fn reuse_port(mut self, on: bool) -> ServerConfig {
        self.reuse_port = on;
        self
    }

    /// When `TCP_NODELAY` is set on accepted sockets (default [`NodelayPolicy::Always`]:
    /// during and after the handshake).
    pub fn nodelay(mut self, policy: NodelayPolicy) -> ServerConfig {
        self.nodelay = policy;
        self
    }

    /// The most handshakes in progress at once (default 1024). A connection arriving when
    /// the limit is reached evicts the pending connection that has received nothing for
    /// longest, or, when every pending one has made progress, is closed at once; either is
    /// reported as [`ServerEvent::Rejected`](super::ServerEvent::Rejected).
    pub fn max_pending(mut self, limit: usize) -> ServerConfig {
        self.max_pending = limit;
        self
    }

    /// Write the TLS secrets of every accepted connection to this file, appending, in the NSS
    /// key log format Wireshark reads (`tshark -o tls.keylog_file:FILE`)
    /// ([`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/);
    /// [`keylog`](crate::keylog)). **The file holds secrets**: whoever reads it can decrypt
    /// the connections; use it only to debug. Default: none.
    pub fn key_log(mut self, path: impl Into<std::path::PathBuf>) -> ServerConfig {
        self.key_log = Some(path.into());
        self
    }

    /// Loads the certificates and builds the `SslContext` (and one per SNI name), checking
    /// everything that can be checked before a client connects. This is what
    /// [`TlsListener::bind`](super::TlsListener::bind) does first; call it alone to validate
    /// a configuration.
    pub fn build_context(&self) -> Result<SslContext, ServerConfigError> {
        if self.handshake_timeout.is_zero() {
            return Err(ServerConfigError::ZeroSetting {
                setting: "handshake_timeout",
            });
        }
        if self.max_pending == 0 {
            return Err(ServerConfigError::ZeroSetting {
                setting: "max_pending",
            });
        }
        super::context::build(self)
    }
}
