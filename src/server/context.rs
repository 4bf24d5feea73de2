//! Building the server's `SslContext`s once: protocol range, options, groups, client
//! authentication, ALPN, tickets, the certificate, and one context per SNI name behind a servername callback.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::error::ErrorStack;
use openssl::ssl::{
    AlpnError, NameType, SniError, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions,
    SslVerifyMode,
};
use openssl::x509::X509;

use crate::certstore::{CertStore, CertStoreError, CertifiedKey};
use crate::policy;
use crate::server::builder::ServerConfigBuilder;
use crate::server::config::ServerConfig;
use crate::server::error::ServerConfigError;
use crate::server::protocols::ProtocolSet;
use crate::server::source::{CertificateSource, ClientAuth};
use crate::version::ProtocolVersion;

impl ServerConfigBuilder {
    /// Checks everything that can be checked before a client connects (the connection
    /// settings, the protocol set, ALPN, the security level, the groups, the certificates
    /// and their keys, the client CA file, the SNI names, the ECH keys) and builds the
    /// `SslContext` (and one per SNI name) once. [`TlsListener::bind`](super::TlsListener::bind)
    /// then only binds.
    pub fn build(self) -> Result<ServerConfig, ServerConfigError> {
        self.check_connection_settings()?;
        let context = build(&self)?;
        Ok(ServerConfig::new(self, context))
    }
}

/// The session id context every server context shares, so that sessions (and client
/// verification with resumption) work across the SNI contexts
/// ([`SSL_CTX_set_session_id_context(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_session_id_context/)).
const SESSION_ID_CONTEXT: &[u8] = b"tlshake-server";

/// The settings shared by the default context and the SNI contexts, checked.
struct Common {
    protocols: ProtocolSet,
    legacy: bool,
    cbc: bool,
    verify: Option<(SslVerifyMode, Vec<X509>)>,
    alpn: Option<Arc<Vec<Vec<u8>>>>,
    security_level: Option<u32>,
    groups: Option<String>,
    tickets: bool,
    /// A DTLS context (`DTLS_server_method`, DTLS 1.2) instead of TLS.
    dtls: bool,
}

/// Builds the default context (with the SNI contexts inside its servername callback).
pub(crate) fn build(config: &ServerConfigBuilder) -> Result<SslContext, ServerConfigError> {
    build_flavor(config, false, &|_| {})
}

/// Builds the DTLS context of `config` (`DTLS_server_method`, DTLS 1.2 only): the same
/// certificates, SNI contexts, client authentication, ciphers, groups and ALPN as [`build`],
/// no ECH (TLS 1.3 only: refused when configured), and `extra` (the cookie callbacks) on
/// every context.
pub(crate) fn build_dtls(
    config: &ServerConfig,
    extra: &dyn Fn(&mut SslContextBuilder),
) -> Result<SslContext, ServerConfigError> {
    build_flavor(&config.settings, true, extra)
}

fn build_flavor(
    config: &ServerConfigBuilder,
    dtls: bool,
    extra: &dyn Fn(&mut SslContextBuilder),
) -> Result<SslContext, ServerConfigError> {
    policy::check_set(config.protocols.versions(), config.allow_legacy)?;
    policy::check_security_level(config.security_level)?;
    if let Some(list) = &config.groups {
        policy::check_groups(list)?;
    }
    // Checked; kept as names for the selection callback.
    policy::alpn_wire(&config.alpn)?;
    let common = Common {
        protocols: config.protocols,
        legacy: config.allow_legacy,
        cbc: config.allow_cbc,
        verify: client_verification(&config.client_auth)?,
        alpn: (!config.alpn.is_empty()).then(|| Arc::new(config.alpn.clone())),
        security_level: config.security_level,
        groups: config.groups.clone(),
        tickets: config.session_tickets,
        dtls,
    };
    let source = config
        .certificate
        .as_ref()
        .ok_or(ServerConfigError::NoCertificate)?;
    let key_log = match &config.key_log {
        Some(path) => Some(
            crate::keylog::KeyLog::open(path)
                .map_err(|source| ServerConfigError::KeyLog { source })?,
        ),
        None => None,
    };
    let mut stores = StoreCache::default();
    let identity = resolve(source, config.allow_invalid_dates, &mut stores)?;

    let mut by_name: HashMap<String, SslContext> = HashMap::new();
    for (name, source) in &config.sni {
        let key = server_name_key(name)?;
        if by_name.contains_key(&key) {
            return Err(ServerConfigError::DuplicateServerName { name: name.clone() });
        }
        let certified =
            resolve(source, config.allow_invalid_dates, &mut stores).map_err(|e| match e {
                ServerConfigError::Certificate(source) => ServerConfigError::SniCertificate {
                    name: name.clone(),
                    source,
                },
                other => other,
            })?;
        let mut builder = base(&common)?;
        extra(&mut builder);
        if let Some(log) = &key_log {
            log.install(&mut builder);
        }
        use_identity(&mut builder, &certified)?;
        by_name.insert(key, builder.build());
    }

    let mut builder = base(&common)?;
    extra(&mut builder);
    if let Some(log) = &key_log {
        log.install(&mut builder);
    }
    use_identity(&mut builder, &identity)?;
    // Each connection copies the store at SSL_new, before a servername callback switches
    // its context: the default context alone needs it.
    let tls13 = config.protocols.contains(ProtocolVersion::Tls1_3) && !dtls;
    crate::ech::load_keys(&mut builder, &config.ech_keys, tls13).map_err(ServerConfigError::Ech)?;
    if !by_name.is_empty() {
        builder.set_servername_callback(move |ssl, _alert| {
            let Some(name) = ssl.servername(NameType::HOST_NAME) else {
                return Ok(());
            };
            match lookup(&by_name, name) {
                Some(ctx) => ssl.set_ssl_context(ctx).map_err(|_| SniError::ALERT_FATAL),
                // An unknown name gets the default certificate, as with `s_server`.
                None => Ok(()),
            }
        });
    }
    Ok(builder.build())
}

/// Reads the client CA file once; its certificates go into every context.
fn client_verification(
    auth: &ClientAuth,
) -> Result<Option<(SslVerifyMode, Vec<X509>)>, ServerConfigError> {
    let (mode, ca_file) = match auth {
        ClientAuth::None => return Ok(None),
        ClientAuth::Optional { ca_file } => (SslVerifyMode::PEER, ca_file),
        ClientAuth::Required { ca_file } => (
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            ca_file,
        ),
    };
    Ok(Some((mode, read_ca_file(ca_file)?)))
}

fn read_ca_file(path: &Path) -> Result<Vec<X509>, ServerConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ServerConfigError::ClientCaUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = X509::stack_from_pem(&bytes).map_err(|source| ServerConfigError::ClientCa {
        path: path.to_path_buf(),
        source: Some(source.into()),
    })?;
    if certs.is_empty() {
        return Err(ServerConfigError::ClientCa {
            path: path.to_path_buf(),
            source: None,
        });
    }
    Ok(certs)
}

use crate::version::{TLS12_CIPHERS, TLS12_CIPHERS_WITH_CBC};

/// A context with everything but the certificate.
fn base(common: &Common) -> Result<SslContextBuilder, ServerConfigError> {
    let tls = |step| {
        move |source: ErrorStack| ServerConfigError::Tls {
            step,
            source: source.into(),
        }
    };
    let method = if common.dtls {
        SslMethod::dtls_server()
    } else {
        SslMethod::tls_server()
    };
    let mut b = SslContext::builder(method).map_err(tls("creating the SSL_CTX"))?;
    let (lowest, highest) = if common.dtls {
        // DTLS 1.0 (TLS 1.1's record protection) is refused as TLS 1.1 is.
        let v = Some(openssl::ssl::SslVersion::DTLS1_2);
        (v, v)
    } else {
        let p = &common.protocols;
        let version = |v: Option<ProtocolVersion>| v.and_then(ProtocolVersion::to_openssl);
        (version(p.lowest()), version(p.highest()))
    };
    b.set_min_proto_version(lowest)
        .map_err(tls("setting the lowest protocol version"))?;
    b.set_max_proto_version(highest)
        .map_err(tls("setting the highest protocol version"))?;
    let mut options = SslOptions::NO_COMPRESSION
        | SslOptions::CIPHER_SERVER_PREFERENCE
        | SslOptions::NO_RENEGOTIATION;
    if !common.dtls {
        options |= common.protocols.hole_options();
    }
    if !common.tickets {
        options |= SslOptions::NO_TICKET;
    }
    b.set_options(options);
    // TLS 1.2: forward-secret AEAD suites only; CBC with the named opt-out. TLS 1.3 suites
    // all have forward secrecy and are AEAD.
    // TLS 1.0 and 1.1 have no AEAD suite: their opt-out implies this one.
    let legacy = common.legacy && !common.dtls;
    let list = if common.cbc || legacy {
        TLS12_CIPHERS_WITH_CBC
    } else {
        TLS12_CIPHERS
    };
    b.set_cipher_list(list)
        .map_err(tls("setting the TLS 1.2 cipher list"))?;
    if let Some(groups) = &common.groups {
        // Checked by the policy: the same library takes the same list again.
        b.set_groups_list(groups)
            .map_err(tls("setting the key-exchange groups"))?;
    }
    // Idle connections give their record buffers back (see benches/heap.rs);
    // `SslAcceptor` sets the same mode.
    b.set_mode(SslMode::RELEASE_BUFFERS);
    // One TLS 1.3 ticket per connection instead of OpenSSL's two: a resuming client uses
    // one per connection, and each ticket costs the server an encryption and a record
    // (2.1% of the instructions of a client+server handshake pair, benches/heap.rs under
    // callgrind; BENCHMARKS.md).
    let tickets = if common.tickets { 1 } else { 0 };
    b.set_num_tickets(tickets)
        .map_err(tls("setting the number of TLS 1.3 session tickets"))?;
    if legacy {
        // OpenSSL 3's default security level 1 (2 on some distributions) refuses the SHA-1
        // signatures of TLS 1.0 and 1.1; level 0 is what the legacy opt-out means.
        b.set_security_level(0);
    }
    if let Some(level) = common.security_level {
        b.set_security_level(level);
    }
    b.set_session_id_context(SESSION_ID_CONTEXT)
        .map_err(tls("setting the session id context"))?;
    if let Some((mode, cas)) = &common.verify {
        // OpenSSL's decision unchanged; a rejected client certificate is kept for the hint.
        b.set_verify_callback(*mode, |preverified, ctx| {
            if !preverified {
                crate::handshake::remember_rejected_leaf(ctx);
            }
            preverified
        });
        for ca in cas {
            b.cert_store_mut()
                .add_cert(ca.clone())
                .map_err(tls("adding a client CA to the trust store"))?;
            b.add_client_ca(ca)
                .map_err(tls("adding a client CA to the CA list sent to clients"))?;
        }
    }
    if let Some(ours) = &common.alpn {
        let ours = Arc::clone(ours);
        b.set_alpn_select_callback(move |_ssl, offered| {
            select_alpn(&ours, offered).ok_or(AlpnError::NOACK)
        });
    }
    Ok(b)
}

/// The server's most preferred protocol that the client offered (the client's list is in
/// wire format: length-prefixed names), like `SSL_select_next_proto` with the server's list
/// first. A malformed client list selects nothing.
pub(crate) fn select_alpn<'a>(ours: &[Vec<u8>], offered: &'a [u8]) -> Option<&'a [u8]> {
    let mut theirs = Vec::new();
    let mut rest = offered;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 || tail.len() < len {
            return None;
        }
        let (name, after) = tail.split_at(len);
        theirs.push(name);
        rest = after;
    }
    ours.iter()
        .find_map(|want| theirs.iter().copied().find(|name| *name == want.as_slice()))
}

fn use_identity(b: &mut SslContextBuilder, key: &CertifiedKey) -> Result<(), ServerConfigError> {
    let tls = |step| {
        move |source: ErrorStack| ServerConfigError::Tls {
            step,
            source: source.into(),
        }
    };
    b.set_certificate(key.cert())
        .map_err(tls("installing the server certificate"))?;
    for cert in key.chain() {
        b.add_extra_chain_cert(cert.clone())
            .map_err(tls("adding a chain certificate"))?;
    }
    b.set_private_key(key.key())
        .map_err(tls("installing the private key"))?;
    b.check_private_key()
        .map_err(tls("checking the private key against the certificate"))
}

/// Certificate stores loaded while building, so that a directory used for several names is
/// read once.
#[derive(Default)]
struct StoreCache {
    loaded: HashMap<(PathBuf, Vec<String>, bool), CertStore>,
}

impl StoreCache {
    fn get(
        &mut self,
        dir: &Path,
        passwords: &[String],
        allow_invalid_dates: bool,
    ) -> Result<&CertStore, CertStoreError> {
        let key = (dir.to_path_buf(), passwords.to_vec(), allow_invalid_dates);
        match self.loaded.entry(key) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let refs: Vec<&str> = passwords.iter().map(String::as_str).collect();
                let mut store = CertStore::load_dir(dir, &refs)?;
                store.set_allow_invalid_dates(allow_invalid_dates);
                Ok(entry.insert(store))
            }
        }
    }
}

/// Loads (or selects) the certificate and checks its dates.
fn resolve(
    source: &CertificateSource,
    allow_invalid_dates: bool,
    stores: &mut StoreCache,
) -> Result<CertifiedKey, ServerConfigError> {
    let key = match source {
        CertificateSource::PemFiles {
            cert,
            key,
            passphrase,
        } => CertifiedKey::from_pem_files(cert, key, passphrase.as_deref().map(str::as_bytes))?,
        CertificateSource::Pkcs12 { path, password } => CertifiedKey::from_pkcs12(path, password)?,
        CertificateSource::StoreByName {
            dir,
            passwords,
            name,
        } => stores
            .get(dir, passwords, allow_invalid_dates)?
            .find_by_name(name)?
            .clone(),
        CertificateSource::StoreByHash {
            dir,
            passwords,
            hash,
        } => stores
            .get(dir, passwords, allow_invalid_dates)?
            .find_by_hash_text(hash)?
            .clone(),
        CertificateSource::Loaded(key) => CertifiedKey::clone(key),
    };
    key.check_validity(allow_invalid_dates)?;
    Ok(key)
}

/// The lower-case key of an SNI name, checked to be a host name (`*.` allowed as the first
/// label).
fn server_name_key(name: &str) -> Result<String, ServerConfigError> {
    let invalid = || ServerConfigError::InvalidServerName {
        name: name.to_string(),
    };
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let host = lower.strip_prefix("*.").unwrap_or(&lower);
    if host.is_empty() || host.len() > 253 {
        return Err(invalid());
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(invalid());
        }
    }
    Ok(lower)
}

/// The context for `name`: an exact match, else a `*.` entry for its parent domain.
fn lookup<'m>(by_name: &'m HashMap<String, SslContext>, name: &str) -> Option<&'m SslContext> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(ctx) = by_name.get(&lower) {
        return Some(ctx);
    }
    let (_, parent) = lower.split_once('.')?;
    by_name.get(&format!("*.{parent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tls13_ticket_by_default_none_when_off() {
        let key = CertifiedKey::from_pem_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/server.pem"),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/server.key"),
            None,
        )
        .map_err(|e| e.to_string());
        let tickets = |on: bool| {
            key.clone().and_then(|k| {
                ServerConfig::builder()
                    .certificate(k)
                    .session_tickets(on)
                    .build()
                    .map(|config| config.context().num_tickets())
                    .map_err(|e| e.to_string())
            })
        };
        assert_eq!(tickets(true), Ok(1));
        assert_eq!(tickets(false), Ok(0));
    }

    #[test]
    fn alpn_follows_the_server_preference() {
        let ours = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let offered = b"\x08http/1.1\x02h2";
        assert_eq!(select_alpn(&ours, offered), Some(&b"h2"[..]));
        assert_eq!(select_alpn(&ours, b"\x08http/1.1"), Some(&b"http/1.1"[..]));
        assert_eq!(select_alpn(&ours, b"\x06spdy/1"), None);
        assert_eq!(select_alpn(&ours, b"\x09http/1.1"), None, "truncated list");
    }

    #[test]
    fn server_names_are_checked() {
        assert_eq!(
            server_name_key("Other.Example.").ok(),
            Some("other.example".into())
        );
        assert_eq!(
            server_name_key("*.tlshake.test").ok(),
            Some("*.tlshake.test".into())
        );
        for bad in ["", "*.", "a..b", "bad name", "-x.example", "x*.example"] {
            assert!(
                matches!(
                    server_name_key(bad),
                    Err(ServerConfigError::InvalidServerName { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
