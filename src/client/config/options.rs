//! [`ClientOptions`]: what a client configuration was built from, read back with
//! [`ClientConfig::options`](super::ClientConfig::options).

use std::path::PathBuf;
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::nodelay::NodelayPolicy;
use crate::server::ProtocolSet;
use crate::verify_cache;

/// Everything a [`ClientConfig`](crate::client::ClientConfig) was built from. Each field is one `SSL_CTX` or `SSL` setting;
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
    /// How many intermediate CAs the peer's chain may have (`SSL_CTX_set_verify_depth`;
    /// see [`ClientConfigBuilder::verify_depth`](crate::client::ClientConfigBuilder::verify_depth)).
    pub verify_depth: Option<u32>,
    /// TLS 1.2 cipher list (`SSL_CTX_set_cipher_list`). Default: [`TLS12_CIPHERS`](crate::TLS12_CIPHERS),
    /// ECDHE with AES-GCM or ChaCha20-Poly1305 only. A list given here is used as it is.
    pub ciphers: Option<String>,
    /// Also offer the TLS 1.2 CBC suites (and finite-field DHE): the default list becomes
    /// [`TLS12_CIPHERS_WITH_CBC`](crate::TLS12_CIPHERS_WITH_CBC). For servers that
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
    /// [`TlsConnection`](crate::client::TlsConnection) (`SSL_get_peer_cert_chain`). Default: on.
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
    /// extension, RFC 6066 section 8); read it with [`ocsp::stapled`](crate::client::ocsp::stapled).
    /// Default: off.
    pub status_request: bool,
    /// Write every connection's TLS secrets to this file, in the NSS key log format
    /// Wireshark reads (the NSS key log format; the file holds secrets that decrypt the
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
    /// **The cache never answers where OpenSSL might answer otherwise (it fails closed).**
    /// The verdict depends on verification parameters that OpenSSL cannot read back: the
    /// purpose (no getter before 3.5), the trust setting, certificate policies, DANE TLSA
    /// records, and OpenSSL 4.0's extra IP addresses and e-mail addresses
    /// (`X509_VERIFY_PARAM_add1_ip`, `add1_rfc822`). So only a connection whose `Ssl` this
    /// configuration made and drove itself uses the cache: [`client::connect`](crate::client::connect),
    /// [`client::upgrade`](crate::client::upgrade), their async forms, and
    /// [`ClientConfig::handshake`](crate::client::ClientConfig::handshake). Its parameters are then the context's, plus the expected
    /// host or IP, which is in the key. The `Ssl` of [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl), one changed
    /// through [`Handshake::ssl_mut`](crate::Handshake::ssl_mut) or
    /// [`TlsStream::ssl_mut`](crate::TlsStream::ssl_mut), or given back with
    /// `into_ssl_stream`, always verifies in full: it may carry any setting. The readable
    /// parameters are in the key as well (flags, depth, security level, host flags, names,
    /// and the purpose on 3.5+).
    ///
    /// Even then a verification is not cached when the connection's `Ssl` verifies against
    /// another store or with another verify callback than the configuration's, enables
    /// certificate transparency, or sets CRL, OCSP, policy or fixed-time checks. A CA removed
    /// from `ca_dir` while the process runs keeps trusting its cached chains until their
    /// entries expire.
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
    /// Encrypted Client Hello: the server's configuration list, the outer name and ALPN,
    /// GREASE ([`ech`](crate::ech)). Default: none. Needs OpenSSL 4.0 with ECH; elsewhere
    /// a configuration with any of them is refused with
    /// [`ConfigError::Ech`](crate::client::ConfigError::Ech).
    pub ech: crate::ech::EchOptions,
    /// DANE on the context (`SSL_CTX_dane_enable`), set only by the test harness.
    #[cfg(feature = "harness")]
    pub(crate) dane: bool,
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
            ech: crate::ech::EchOptions::default(),
            #[cfg(feature = "harness")]
            dane: false,
        }
    }
}
