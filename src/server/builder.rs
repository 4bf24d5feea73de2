//! [`ServerConfigBuilder`]: the settings of a TLS server, one setter each, checked and built
//! by [`build`](ServerConfigBuilder::build) into a [`ServerConfig`](super::ServerConfig).

use std::path::PathBuf;
use std::time::Duration;

use crate::nodelay::NodelayPolicy;
use crate::server::error::ServerConfigError;
use crate::server::protocols::ProtocolSet;

use super::source::{CertificateSource, ClientAuth};

/// Builds a [`ServerConfig`](super::ServerConfig): one setter per setting, each taking and returning the builder,
/// and [`build`](Self::build), which checks everything that can be checked before a client
/// connects and builds the `SslContext`s.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ServerConfigBuilder {
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
    pub(crate) groups: Option<String>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) session_tickets: bool,
    pub(crate) handshake_timeout: Duration,
    pub(crate) nodelay: NodelayPolicy,
    pub(crate) max_pending: usize,
    pub(crate) key_log: Option<std::path::PathBuf>,
    pub(crate) ech_keys: crate::ech::EchKeys,
}

impl Default for ServerConfigBuilder {
    fn default() -> ServerConfigBuilder {
        ServerConfigBuilder::new()
    }
}

impl ServerConfigBuilder {
    /// A builder with the defaults (what [`ServerConfig::builder`] gives).
    fn new() -> ServerConfigBuilder {
        ServerConfigBuilder {
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
            groups: None,
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            session_tickets: true,
            handshake_timeout: Duration::from_secs(10),
            nodelay: NodelayPolicy::Always,
            max_pending: 1024,
            key_log: None,
            ech_keys: crate::ech::EchKeys::new(),
        }
    }

    /// The local address to bind: an IPv4 or IPv6 address (`127.0.0.1`, `::1`, `[::1]`), a
    /// host name (resolved; the first address is used, and it must be one of this machine's),
    /// or `*` / empty for all interfaces.
    pub fn address(mut self, address: impl Into<String>) -> ServerConfigBuilder {
        self.address = Some(address.into());
        self
    }

    /// The port (default 0: a free port the system picks).
    pub fn port(mut self, port: u16) -> ServerConfigBuilder {
        self.port = port;
        self
    }

    /// `SO_REUSEADDR` on the listening socket (default on): a listener can be bound again
    /// right after the previous one closed, while its connections are in TIME_WAIT. Off, such a
    /// bind fails with [`ServerConfigError::AddressInUse`]
    /// ([`setsockopt(2)`](https://man7.org/linux/man-pages/man7/socket.7.html)).
    pub fn reuse_address(mut self, on: bool) -> ServerConfigBuilder {
        self.reuse_address = on;
        self
    }

    /// The `listen(2)` backlog (default 1024, capped at the system's `SOMAXCONN`).
    pub fn backlog(mut self, backlog: u32) -> ServerConfigBuilder {
        self.backlog = backlog;
        self
    }

    /// The server certificate (also the default for clients that send no SNI or an unknown
    /// name).
    pub fn certificate(mut self, source: impl Into<CertificateSource>) -> ServerConfigBuilder {
        self.certificate = Some(source.into());
        self
    }

    /// The server certificate from a PEM certificate file and a PEM key file
    /// ([`SSL_CTX_use_certificate(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_use_certificate/)).
    pub fn certificate_files(
        self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> ServerConfigBuilder {
        self.certificate(CertificateSource::pem_files(cert, key))
    }

    /// The server certificate from a PKCS#12 archive.
    pub fn certificate_pkcs12(
        self,
        path: impl Into<PathBuf>,
        password: impl Into<String>,
    ) -> ServerConfigBuilder {
        self.certificate(CertificateSource::pkcs12(path, password))
    }

    /// The server certificate of store directory `dir` that matches host `name`
    /// ([`CertStore::find_by_name`](crate::certstore::CertStore::find_by_name)).
    ///
    /// A self-signed certificate is served when chosen, even one marked `CA:TRUE` as
    /// `openssl req -x509` makes them. Files of the directory that cannot be used are
    /// skipped; a choice that fails names the file and the cause in its error's chain. To
    /// list the skipped files, or to tell that the chosen certificate is self-signed, load
    /// the directory with [`CertStore::load_dir`](crate::certstore::CertStore::load_dir),
    /// select, and give the [`CertifiedKey`](crate::certstore::CertifiedKey) to [`certificate`](Self::certificate).
    pub fn store_certificate_by_name(
        self,
        dir: impl Into<PathBuf>,
        name: impl Into<String>,
    ) -> ServerConfigBuilder {
        self.certificate(CertificateSource::store_by_name(dir, name))
    }

    /// The server certificate of store directory `dir` with fingerprint `hash` (SHA-1 or
    /// SHA-256, hex, spaces and colons allowed), chosen as
    /// [`store_certificate_by_name`](Self::store_certificate_by_name) says.
    pub fn store_certificate_by_hash(
        self,
        dir: impl Into<PathBuf>,
        hash: impl Into<String>,
    ) -> ServerConfigBuilder {
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
    ) -> ServerConfigBuilder {
        self.sni.push((server_name.into(), source.into()));
        self
    }

    /// Accept certificates outside their validity dates (default off: an expired or not yet
    /// valid certificate is refused when the listener is built).
    pub fn allow_invalid_dates(mut self, allow: bool) -> ServerConfigBuilder {
        self.allow_invalid_dates = allow;
        self
    }

    /// The protocol versions accepted (default TLS 1.2 | TLS 1.3); see [`ProtocolSet`].
    pub fn protocols(mut self, set: ProtocolSet) -> ServerConfigBuilder {
        self.protocols = set;
        self
    }

    /// Allow TLS 1.0 and 1.1 in the protocol set (default off). Also lowers the OpenSSL
    /// security level to 0
    /// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)),
    /// without which OpenSSL 3 refuses their SHA-1 signatures.
    pub fn allow_legacy_versions(mut self, allow: bool) -> ServerConfigBuilder {
        self.allow_legacy = allow;
        self
    }

    /// Also accept the TLS 1.2 CBC suites (and finite-field DHE), for clients that have no
    /// AEAD suite (default off: TLS 1.2 takes only ECDHE with AES-GCM or ChaCha20-Poly1305,
    /// [`TLS12_CIPHERS`](crate::TLS12_CIPHERS); on:
    /// [`TLS12_CIPHERS_WITH_CBC`](crate::TLS12_CIPHERS_WITH_CBC)). Implied by
    /// [`allow_legacy_versions`](Self::allow_legacy_versions): TLS 1.0 and 1.1 have no AEAD
    /// suite.
    /// ([`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
    pub fn allow_cbc_ciphers(mut self, allow: bool) -> ServerConfigBuilder {
        self.allow_cbc = allow;
        self
    }

    /// The OpenSSL security level (0 to 5; default: OpenSSL's, or 0 with
    /// [`allow_legacy_versions`](Self::allow_legacy_versions); a level given here wins)
    /// ([`SSL_CTX_set_security_level(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)).
    /// A level above 5 is refused with
    /// [`PolicyError::SecurityLevel`](crate::PolicyError::SecurityLevel).
    pub fn security_level(mut self, level: u32) -> ServerConfigBuilder {
        self.security_level = Some(level);
        self
    }

    /// Key-exchange groups the server accepts, most preferred first (`"X25519:P-256"`)
    /// ([`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)),
    /// the same setting as the client's
    /// [`ClientConfigBuilder::groups`](crate::client::ClientConfigBuilder::groups). Default:
    /// OpenSSL's own list, which on OpenSSL 3.5 and newer leads with the post-quantum hybrid
    /// `X25519MLKEM768`. A group the linked OpenSSL does not know is refused with
    /// [`PolicyError::UnknownGroup`](crate::PolicyError::UnknownGroup), which names
    /// the release that brought it.
    pub fn groups(mut self, list: impl Into<String>) -> ServerConfigBuilder {
        self.groups = Some(list.into());
        self
    }

    /// Client authentication (default [`ClientAuth::None`]); the verify result is reported
    /// per connection in [`SessionInfo::verify`](crate::SessionInfo::verify)
    /// ([`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)).
    pub fn client_auth(mut self, auth: ClientAuth) -> ServerConfigBuilder {
        self.client_auth = auth;
        self
    }

    /// ALPN protocols the server speaks, most preferred first (`["h2", "http/1.1"]`). The
    /// server picks the first of its own list that the client offers; a client offering none
    /// of them gets no ALPN
    /// ([`SSL_CTX_set_alpn_select_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_alpn_select_cb/)).
    pub fn alpn<I, P>(mut self, protocols: I) -> ServerConfigBuilder
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
    pub fn session_tickets(mut self, on: bool) -> ServerConfigBuilder {
        self.session_tickets = on;
        self
    }

    /// How long one connection may take from `accept(2)` to the end of its handshake
    /// (default 10 s); then it is closed and reported as
    /// [`ServerEvent::TimedOut`](super::ServerEvent::TimedOut).
    pub fn handshake_timeout(mut self, timeout: Duration) -> ServerConfigBuilder {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets `SO_REUSEPORT` on the listening socket (default off), so that several listeners
    /// (one per thread) bind the same port and the kernel spreads connections among them
    /// ([`socket(7)`](https://man7.org/linux/man-pages/man7/socket.7.html)). Every socket
    /// on the port must set it, and only processes of the same user can share the port.
    pub fn reuse_port(mut self, on: bool) -> ServerConfigBuilder {
        self.reuse_port = on;
        self
    }

    /// When `TCP_NODELAY` is set on accepted sockets (default [`NodelayPolicy::Always`]:
    /// during and after the handshake).
    pub fn nodelay(mut self, policy: NodelayPolicy) -> ServerConfigBuilder {
        self.nodelay = policy;
        self
    }

    /// The most handshakes in progress at once (default 1024). A connection arriving when
    /// the limit is reached evicts the pending connection that has received nothing for
    /// longest, or, when every pending one has made progress, is closed at once; either is
    /// reported as [`ServerEvent::Rejected`](super::ServerEvent::Rejected).
    pub fn max_pending(mut self, limit: usize) -> ServerConfigBuilder {
        self.max_pending = limit;
        self
    }

    /// Write the TLS secrets of every accepted connection to this file, appending, in the NSS
    /// key log format Wireshark reads (`tshark -o tls.keylog_file:FILE`)
    /// ([`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/)). **The file holds secrets**: whoever reads it can decrypt
    /// the connections; use it only to debug. Default: none.
    pub fn key_log(mut self, path: impl Into<std::path::PathBuf>) -> ServerConfigBuilder {
        self.key_log = Some(path.into());
        self
    }

    /// Accept Encrypted Client Hello (RFC 9849) with these keys: a client that encrypted its
    /// ClientHello under the configuration of one of them gets the handshake of its inner
    /// ClientHello, whose server name picks the certificate
    /// ([`sni_certificate`](Self::sni_certificate)) and shows in the event's
    /// [`SessionInfo::sni`](crate::SessionInfo::sni) and
    /// [`SessionInfo::ech`](crate::SessionInfo::ech). The default certificate should be valid
    /// for the configurations' public name: it is what a client whose ECH cannot be decrypted
    /// checks, before it takes the retry configurations. The files are read and checked by
    /// [`build_context`](Self::build); a file that cannot be used, or an OpenSSL
    /// without ECH (before 4.0), is refused there with [`ServerConfigError::Ech`]
    /// ([`OSSL_ECHSTORE_read_pem(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/),
    /// `SSL_CTX_set1_echstore`).
    #[doc(alias = "SSL_CTX_set1_echstore")]
    pub fn ech_keys(mut self, keys: crate::ech::EchKeys) -> ServerConfigBuilder {
        self.ech_keys = keys;
        self
    }

    /// Refuses the per-connection settings no listener can run with: a zero
    /// `handshake_timeout` or `max_pending`.
    pub(crate) fn check_connection_settings(&self) -> Result<(), ServerConfigError> {
        let zero = [
            ("handshake_timeout", self.handshake_timeout.is_zero()),
            ("max_pending", self.max_pending == 0),
        ];
        match zero.into_iter().find(|(_, is_zero)| *is_zero) {
            Some((setting, _)) => Err(ServerConfigError::ZeroSetting { setting }),
            None => Ok(()),
        }
    }
}
