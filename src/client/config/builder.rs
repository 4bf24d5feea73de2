//! [`ClientConfigBuilder`]: one setter per setting, checked and built into one `SslContext`
//! by [`build`](ClientConfigBuilder::build).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::nodelay::NodelayPolicy;
use crate::server::ProtocolSet;

use super::context::{build_context, Flavor};
use super::{ClientConfig, ClientOptions, ConfigError, SessionCache};

/// Builds a [`ClientConfig`](crate::client::ClientConfig).
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ClientConfigBuilder {
    options: ClientOptions,
}

impl ClientConfigBuilder {
    /// Verify the peer's certificate chain (default on; `SSL_VERIFY_PEER`,
    /// [`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)).
    pub fn verify_peer(mut self, on: bool) -> Self {
        self.options.verify_peer = on;
        self
    }
    /// Verify the peer's host name or IP address (default on;
    /// [`X509_VERIFY_PARAM_set1_host(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/)).
    pub fn verify_peer_name(mut self, on: bool) -> Self {
        self.options.verify_peer_name = on;
        self
    }
    /// Accept a self-signed peer certificate (forgiven in the verify callback).
    pub fn allow_self_signed(mut self, on: bool) -> Self {
        self.options.allow_self_signed = on;
        self
    }
    /// Keep the peer's chain in the session facts (default on).
    pub fn capture_peer_chain(mut self, on: bool) -> Self {
        self.options.capture_peer_chain = on;
        self
    }
    /// Send SNI for host names (default on).
    pub fn sni(mut self, on: bool) -> Self {
        self.options.sni = on;
        self
    }
    /// Allow TLS 1.0 and 1.1 (sets security level 0 on OpenSSL 3).
    pub fn allow_legacy_versions(mut self, on: bool) -> Self {
        self.options.allow_legacy_versions = on;
        self
    }
    /// Also offer the TLS 1.2 CBC suites, for servers that have no AEAD suite (default
    /// off; [`ClientOptions::allow_cbc_ciphers`];
    /// [`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
    pub fn allow_cbc_ciphers(mut self, on: bool) -> Self {
        self.options.allow_cbc_ciphers = on;
        self
    }
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
    pub fn resume_sessions(mut self, on: bool) -> Self {
        self.options.resume_sessions = on;
        self
    }
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
    /// Ask for the server's stapled OCSP status
    /// ([`SSL_set_tlsext_status_type(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_status_cb/));
    /// read it with [`ocsp::stapled`](crate::client::ocsp::stapled). It is reported, not
    /// enforced: a handshake does not fail for a missing or revoked status.
    pub fn status_request(mut self, on: bool) -> Self {
        self.options.status_request = on;
        self
    }
    /// Write the TLS secrets of every connection to this file, appending, in the NSS
    /// key log format Wireshark reads (`tshark -o tls.keylog_file:FILE`), as `SSLKEYLOGFILE`
    /// does for curl and Firefox ([`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/)). **The file holds secrets**: whoever reads it can decrypt
    /// the connections; use it only to debug.
    pub fn key_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.key_log = Some(path.into());
        self
    }
    /// Trusted CAs, PEM file ([`SSL_CTX_load_verify_locations(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_load_verify_locations/)).
    /// Read and decoded once, when the configuration is built: a certificate block that
    /// repeats an earlier one byte for byte is dropped before OpenSSL decodes it (as
    /// `X509_STORE_add_cert` would drop the duplicate after), so a bundle of one
    /// certificate repeated 33,000 times (20 MB) loads in about as long as the
    /// certificate alone. The load time grows with the distinct certificates, each
    /// decoded in about 200 µs; it is not bounded by a connection's deadline.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.ca_file = Some(path.into());
        self
    }
    /// Trusted CAs, hashed directory.
    pub fn ca_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.ca_dir = Some(path.into());
        self
    }
    /// The client certificate from a PEM certificate file (leaf first, then its chain) and a
    /// PEM key file (may be the same file), as
    /// [`ServerConfigBuilder::certificate_files`](crate::server::ServerConfigBuilder::certificate_files)
    /// takes the server's
    /// ([`SSL_CTX_use_certificate(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_use_certificate/)).
    pub fn certificate_files(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.options.cert_file = Some(cert.into());
        self.options.key_file = Some(key.into());
        self
    }
    /// The key's passphrase.
    pub fn passphrase(mut self, text: impl Into<String>) -> Self {
        self.options.passphrase = Some(text.into());
        self
    }
    /// SNI ([`SSL_set_tlsext_host_name(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_servername_callback/))
    /// and verified name instead of the URL host.
    pub fn peer_name(mut self, text: impl Into<String>) -> Self {
        self.options.peer_name = Some(text.into());
        self
    }
    /// TLS 1.2 cipher list ([`SSL_CTX_set_cipher_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/)).
    pub fn ciphers(mut self, text: impl Into<String>) -> Self {
        self.options.ciphers = Some(text.into());
        self
    }
    /// TLS 1.3 ciphersuites (`SSL_CTX_set_ciphersuites`).
    pub fn ciphersuites(mut self, text: impl Into<String>) -> Self {
        self.options.ciphersuites = Some(text.into());
        self
    }
    /// Key-exchange groups, most preferred first
    /// ([`SSL_CTX_set1_groups_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)).
    /// Default: OpenSSL's own list, which keeps the post-quantum hybrid on OpenSSL 3.5+.
    /// Checked when built by [`policy::check_groups`](crate::policy::check_groups), as
    /// the server's: a group the linked OpenSSL does not know is
    /// [`PolicyError::UnknownGroup`](crate::PolicyError::UnknownGroup), which
    /// names the release that brought it.
    pub fn groups(mut self, text: impl Into<String>) -> Self {
        self.options.groups = Some(text.into());
        self
    }

    /// Trusted CAs as PEM text.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.options.ca_pem = Some(pem.into());
        self
    }

    /// How many intermediate CAs the peer's chain may have between its certificate and a
    /// trusted CA, as `openssl s_client -verify_depth`
    /// ([`SSL_CTX_set_verify_depth(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)):
    /// 0 takes only a certificate a trusted CA issued itself. A longer chain fails the
    /// handshake with verify code 22 (certificate chain too long) and
    /// [`Hint::ChainTooLong`](crate::Hint::ChainTooLong). Default: OpenSSL's, 100.
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
    /// [`PolicyError::SecurityLevel`](crate::PolicyError::SecurityLevel).
    pub fn security_level(mut self, level: u32) -> Self {
        self.options.security_level = Some(level);
        self
    }

    /// The protocol versions offered (default TLS 1.2 | TLS 1.3), as
    /// [`ServerConfigBuilder::protocols`](crate::server::ServerConfigBuilder::protocols) takes the
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
    /// [`ClientOptions::verify_cache`](crate::client::ClientOptions::verify_cache) for what is cached and what is always checked.
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

    /// Encrypt the ClientHello under the server's ECH configurations (RFC 9849): `list` is
    /// the ECHConfigList the server publishes (its DNS HTTPS record's `ech=` value, or what
    /// `openssl ech` wrote) as wire bytes, base64 text or PEM text with an `ECHCONFIG` block
    /// ([`EchConfigList::parse`](crate::ech::EchConfigList::parse)). The server name
    /// (SNI, [`peer_name`](Self::peer_name)) then goes only in the encrypted inner
    /// ClientHello; the outer one names the configuration's public name. A server that
    /// cannot decrypt it makes the handshake fail with
    /// [`Hint::EchRejected`](crate::Hint::EchRejected), never go on in clear.
    ///
    /// Checked by [`build`](Self::build): a malformed or unusable list, a protocol set
    /// without TLS 1.3, or an OpenSSL without ECH (before 4.0) is refused with
    /// [`ConfigError::Ech`]
    /// ([`SSL_CTX_set1_echstore(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)).
    ///
    /// ```no_run
    /// use tlshake::client::ClientConfig;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = ClientConfig::builder()
    ///     .ech_config_list(std::fs::read("ech.pem")?)
    ///     .build()?; // OpenSSL 4.0 with ECH only
    /// # let _ = config;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "SSL_CTX_set1_echstore")]
    pub fn ech_config_list(mut self, list: impl Into<Vec<u8>>) -> Self {
        self.options.ech.config_list = Some(list.into());
        self
    }

    /// The SNI of the outer ClientHello, instead of the ECH configuration's public name
    /// (needs [`ech_config_list`](Self::ech_config_list);
    /// [`SSL_ech_set1_outer_server_name(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)).
    #[doc(alias = "SSL_ech_set1_outer_server_name")]
    pub fn ech_outer_sni(mut self, name: impl Into<String>) -> Self {
        self.options.ech.outer_sni = Some(name.into());
        self
    }

    /// The ALPN protocols of the outer ClientHello, instead of [`alpn`](Self::alpn)'s, which
    /// then go only in the inner one (needs [`ech_config_list`](Self::ech_config_list);
    /// [`SSL_CTX_ech_set1_outer_alpn_protos(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)).
    #[doc(alias = "SSL_CTX_ech_set1_outer_alpn_protos")]
    pub fn ech_outer_alpn<I, T>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.options.ech.outer_alpn = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Send a GREASE ECH extension (random bytes shaped like ECH) when no configuration list
    /// is given, so that connections with and without ECH look alike; a configuration list
    /// takes precedence (`SSL_OP_ECH_GREASE`,
    /// [`SSL_CTX_set_options(3)`](https://docs.openssl.org/master/man3/SSL_CTX_set_options/)).
    /// A server with ECH may answer with its configurations, in
    /// [`SessionInfo::ech`](crate::SessionInfo::ech)'s retry configurations.
    pub fn ech_grease(mut self, on: bool) -> Self {
        self.options.ech.grease = on;
        self
    }

    /// DANE on the context, for the harness's verification-parameter tests.
    #[cfg(feature = "harness")]
    pub(crate) fn dane(mut self) -> Self {
        self.options.dane = true;
        self
    }

    /// Validates the options and builds the `SslContext` once.
    pub fn build(self) -> Result<ClientConfig, ConfigError> {
        let options = self.options;
        let sessions = SessionCache::default();
        let (ctx, verify_cache) = build_context(&options, &sessions, Flavor::Tls)?;
        Ok(ClientConfig {
            ctx,
            options: Arc::new(options),
            sessions,
            imported: SessionCache::default(),
            verify_cache,
            dtls_ctx: Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyError;

    #[test]
    fn groups_are_checked_and_set() {
        let bad = ClientConfig::builder().groups("no-such-group").build();
        assert!(
            matches!(bad, Err(ConfigError::Policy(PolicyError::UnknownGroup { ref group, .. })) if group == "no-such-group"),
            "{bad:?}"
        );
        let good = ClientConfig::builder().groups("X25519:P-256").build();
        assert_eq!(
            good.map(|c| c.options().groups.clone()).ok().flatten(),
            Some("X25519:P-256".to_string())
        );
    }
}
