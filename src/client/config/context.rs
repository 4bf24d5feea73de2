//! The client's `SslContext`, built once from its options
//! ([`SSL_CTX_new(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_new/)): versions, trust,
//! verification, the client certificate, ciphers, groups, ALPN, tickets, the key log, the
//! session cache and the verification cache.

use std::sync::Arc;

use openssl::ssl::{
    SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode,
};

use crate::certstore::CertifiedKey;
use crate::policy;
use crate::verify_cache::VerifyCache;
use crate::version::ProtocolVersion;

use super::requests::CertificateRequest;
use super::sessions::session_key_index;
use super::trust::load_trust;
use super::verification::set_verification;
use super::{ClientOptions, ConfigError, SessionCache};

/// Which protocol a context is for: TLS over TCP, or DTLS over datagrams (the same
/// verification, identity, ciphers, groups and ALPN; DTLS 1.2 only; no session cache, no
/// verification cache, no ECH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    Tls,
    Dtls,
}

pub(super) fn build_context(
    o: &ClientOptions,
    sessions: &SessionCache,
    flavor: Flavor,
) -> Result<(SslContext, Option<Arc<VerifyCache>>), ConfigError> {
    let method = match flavor {
        Flavor::Tls => SslMethod::tls_client(),
        Flavor::Dtls => SslMethod::dtls_client(),
    };
    let mut b = SslContextBuilder::new(method)?;
    policy::check_set(o.protocols.versions(), o.allow_legacy_versions)?;
    policy::check_security_level(o.security_level)?;
    if let Some(list) = &o.groups {
        policy::check_groups(list)?;
    }
    let alpn = policy::alpn_wire(&o.alpn)?;
    let legacy = o.allow_legacy_versions && flavor == Flavor::Tls;
    if legacy {
        // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) above security level 0.
        b.set_security_level(0);
    }
    match flavor {
        Flavor::Tls => {
            b.set_min_proto_version(o.protocols.lowest().and_then(ProtocolVersion::to_openssl))?;
            b.set_max_proto_version(o.protocols.highest().and_then(ProtocolVersion::to_openssl))?;
            b.set_options(o.protocols.hole_options());
        }
        // DTLS 1.0 (TLS 1.1's record protection) is refused as TLS 1.1 is.
        Flavor::Dtls => {
            b.set_min_proto_version(Some(openssl::ssl::SslVersion::DTLS1_2))?;
            b.set_max_proto_version(Some(openssl::ssl::SslVersion::DTLS1_2))?;
        }
    }
    if let Some(level) = o.security_level {
        b.set_security_level(level);
    }

    load_trust(&mut b, o)?;
    #[cfg(feature = "harness")]
    if o.dane {
        crate::sys::dane_enable_context(&mut b)?;
    }
    if let Some(depth) = o.verify_depth {
        b.set_verify_depth(depth);
    }
    set_verification(&mut b, o);
    crate::sys::note_certificate_requests::<CertificateRequest>(&mut b);

    // The builder sets the certificate and its key together (`certificate_files`).
    if let (Some(cert), Some(key)) = (&o.cert_file, &o.key_file) {
        let ck =
            CertifiedKey::from_pem_files(cert, key, o.passphrase.as_deref().map(str::as_bytes))?;
        b.set_certificate(ck.cert())?;
        for extra in ck.chain() {
            b.add_extra_chain_cert(extra.clone())?;
        }
        b.set_private_key(ck.key())?;
    }

    // Without a list of the caller's, TLS 1.2 offers forward-secret AEAD suites only, and
    // CBC with the named opt-out.
    // TLS 1.0 and 1.1 have no AEAD suite: their opt-out implies this one.
    let list = o
        .ciphers
        .as_deref()
        .unwrap_or(if o.allow_cbc_ciphers || legacy {
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
        // Checked by the policy above: the same library takes the same list again.
        b.set_groups_list(list)?;
    }
    if !alpn.is_empty() {
        b.set_alpn_protos(&alpn)?;
    }
    // ECH needs TLS 1.3: asked of DTLS 1.2, it is refused (never sent in clear).
    let tls13 = o.protocols.contains(ProtocolVersion::Tls1_3) && flavor == Flavor::Tls;
    crate::ech::configure_context(&mut b, &o.ech, tls13).map_err(ConfigError::Ech)?;
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
    if o.resume_sessions && flavor == Flavor::Tls {
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
    let cache = if o.verify_cache && flavor == Flavor::Tls {
        Some(crate::sys::install_verify_cache(
            &mut b,
            o.verify_cache_ttl,
        )?)
    } else {
        None
    };
    Ok((b.build(), cache))
}
