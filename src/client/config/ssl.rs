//! The connections of a configuration: [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl) and
//! [`ClientConfig::handshake`](crate::client::ClientConfig::handshake) (`SSL_new` with SNI, the expected name, a pinned version and a
//! saved session).

use std::net::IpAddr;

use openssl::ssl::{Ssl, SslContext};

use crate::handshake::Handshake;
use crate::policy;
use crate::version::ProtocolVersion;

use super::context::{build_context, Flavor};
use super::requests::{certificate_request_index, CertificateRequest};
use super::sessions::{session_key, session_key_index};
use super::verification::{pin_slot_index, PinSlot};
use super::{ClientConfig, ConfigError};

impl ClientConfig {
    /// A new connection object for `host` ([`SSL_new(3)`](https://docs.openssl.org/3.0/man3/SSL_new/)):
    /// SNI for a DNS name (unless disabled), the name or IP checked against the certificate
    /// (unless disabled), a pinned version range when given, and a saved session offered when
    /// resumption is on. `host` is the URL host; [`ClientOptions::peer_name`](crate::client::ClientOptions::peer_name) overrides it.
    ///
    /// ```
    /// use tlshake::client::ClientConfig;
    ///
    /// let config = ClientConfig::builder().build()?;
    /// let ssl = config.new_ssl("example.com")?;
    /// assert_eq!(ssl.servername(openssl::ssl::NameType::HOST_NAME), Some("example.com"));
    /// # Ok::<(), tlshake::client::ConfigError>(())
    /// ```
    ///
    /// The `Ssl` is yours to change (`param_mut`, `set_verify`, ...), so the verification
    /// cache cannot know its verification parameters: a handshake over it always verifies
    /// the peer's chain in full (see [`ClientOptions::verify_cache`](crate::client::ClientOptions::verify_cache)). To step a handshake
    /// yourself and keep the cache, start it with [`handshake`](Self::handshake).
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
        self.build_ssl(host, pinned)
    }

    /// A client [`Handshake`] for `host` over `transport` (a connected socket, or a
    /// [`MemoryPipe`](crate::MemoryPipe)), not started yet: the `Ssl` of
    /// [`new_ssl`](Self::new_ssl), handed straight to
    /// [`Handshake::client`]. Since nobody else held the `Ssl`, its verification parameters
    /// are this configuration's and a chain verified before may be taken from the
    /// verification cache ([`ClientOptions::verify_cache`](crate::client::ClientOptions::verify_cache)). Changing the `Ssl` afterwards
    /// through [`Handshake::ssl_mut`] switches the cache off for this connection.
    ///
    /// ```no_run
    /// use std::net::TcpStream;
    /// use std::time::{Duration, Instant};
    /// use tlshake::client::ClientConfig;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = ClientConfig::builder().build()?;
    /// let tcp = TcpStream::connect("example.com:443")?;
    /// tcp.set_nonblocking(true)?;
    /// let tls = config
    ///     .handshake("example.com", tcp)?
    ///     .drive(Instant::now() + Duration::from_secs(5))?;
    /// println!("{}", tls.protocol());
    /// # Ok(()) }
    /// ```
    #[doc(alias = "SSL_connect")]
    pub fn handshake<S: std::io::Read + std::io::Write>(
        &self,
        host: &str,
        transport: S,
    ) -> Result<Handshake<S>, ConfigError> {
        let ssl = self.sealed_ssl(host, None)?;
        // Only the BIO allocation can fail here: OpenSSL's queue says why.
        Handshake::client(ssl, transport).map_err(|e| ConfigError::Tls(e.queue().clone()))
    }

    /// The `Ssl` of [`new_ssl_pinned`](Self::new_ssl_pinned), sealed for the verification
    /// cache: only for callers inside the crate that hand it to the engine at once and lend
    /// nobody a `&mut` to it before.
    pub(crate) fn sealed_ssl(
        &self,
        host: &str,
        pinned: Option<ProtocolVersion>,
    ) -> Result<Ssl, ConfigError> {
        let mut ssl = self.build_ssl(host, pinned)?;
        crate::sys::seal(&mut ssl)?;
        Ok(ssl)
    }

    /// The DTLS context of this configuration (`DTLS_client_method`, DTLS 1.2): the same
    /// trust, verification, client certificate, ciphers, groups and ALPN as the TLS context,
    /// built on first use and then shared by every DTLS connection made with this
    /// configuration and its clones. No session resumption, no verification cache, and ECH
    /// (TLS 1.3 only) is refused.
    #[doc(alias = "DTLS_client_method")]
    pub fn dtls_context(&self) -> Result<&SslContext, ConfigError> {
        if let Some(ctx) = self.dtls_ctx.get() {
            return Ok(ctx);
        }
        let (ctx, _) = build_context(&self.options, &self.sessions, Flavor::Dtls)?;
        Ok(self.dtls_ctx.get_or_init(|| ctx))
    }

    /// A DTLS `Ssl` for `host` from [`dtls_context`](Self::dtls_context), with the
    /// per-connection settings of [`new_ssl`](Self::new_ssl): SNI, the name or address
    /// checked, OCSP stapling, the certificate pin.
    #[doc(alias = "SSL_new")]
    pub fn new_dtls_ssl(&self, host: &str) -> Result<Ssl, ConfigError> {
        let ctx = self.dtls_context()?;
        self.build_ssl_from(ctx, host, None, Flavor::Dtls)
    }

    fn build_ssl(&self, host: &str, pinned: Option<ProtocolVersion>) -> Result<Ssl, ConfigError> {
        self.build_ssl_from(&self.ctx, host, pinned, Flavor::Tls)
    }

    fn build_ssl_from(
        &self,
        ctx: &SslContext,
        host: &str,
        pinned: Option<ProtocolVersion>,
        flavor: Flavor,
    ) -> Result<Ssl, ConfigError> {
        let o = &self.options;
        let name = o.peer_name.as_deref().unwrap_or(host);
        let mut ssl = Ssl::new(ctx)?;
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
        // The timeline decodes TLS records; DTLS records have another header.
        if let (Some(sink), Flavor::Tls) = (&o.trace, flavor) {
            crate::sys::install_trace(&mut ssl, crate::trace::Recorder::new(sink.clone()))?;
        }
        let tls13 = pinned.is_none_or(|v| v == ProtocolVersion::Tls1_3) && flavor == Flavor::Tls;
        crate::ech::configure_ssl(&mut ssl, &o.ech, tls13).map_err(ConfigError::Ech)?;
        if let Some(version) = pinned {
            policy::check_versions([version], o.allow_legacy_versions)?;
            let v = version.to_openssl();
            ssl.set_min_proto_version(v)?;
            ssl.set_max_proto_version(v)?;
        }
        if o.resume_sessions && flavor == Flavor::Tls {
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
}
