//! Verification settings of one connection that the `openssl` crate does not bind, for tests
//! that change every setting a user could reach through FFI: the trust setting, certificate
//! policies, DANE TLSA records, and OpenSSL 4.0's extra expected IP and e-mail addresses.
//!
//! They exist to check that tlshake's verification cache never gives another verdict than
//! OpenSSL: a connection whose `Ssl` was changed through these (or through anything else
//! that takes a `&mut SslRef`) verifies in full.

use openssl::error::ErrorStack;
use openssl::ssl::SslRef;

use crate::client::{ClientConfig, ClientConfigBuilder, ConfigError};

/// Sets the trust setting (`X509_TRUST_*`, e.g. 6 for `X509_TRUST_OCSP_SIGN`) the peer's
/// chain is checked with: [`SSL_set_trust(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_purpose/).
pub fn set_trust(ssl: &mut SslRef, trust: i32) -> Result<(), ErrorStack> {
    crate::sys::set_trust(ssl, trust)
}

/// Sets the acceptable certificate policies, as dotted OIDs:
/// [`X509_VERIFY_PARAM_set1_policies(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/)
/// on the connection's parameters. They count only with `X509_V_FLAG_POLICY_CHECK`.
pub fn set_policies(ssl: &mut SslRef, oids: &[&str]) -> Result<(), ErrorStack> {
    crate::sys::set_policies(ssl, oids)
}

/// Builds `builder` with DANE enabled on its context
/// ([`SSL_CTX_dane_enable(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_dane_enable/)), which
/// a tlshake configuration otherwise never does: only then can a connection take TLSA records.
pub fn dane_client_config(builder: ClientConfigBuilder) -> Result<ClientConfig, ConfigError> {
    builder.dane().build()
}

/// Turns DANE on for this connection with `base_domain` as its reference identity and adds
/// one TLSA record (`usage`, `selector`, `mtype`, `data`):
/// [`SSL_dane_enable(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_dane_enable/) and
/// `SSL_dane_tlsa_add`. Fails when the context was not DANE-enabled
/// ([`dane_client_config`]). `Ok(false)`: OpenSSL found the record unusable.
pub fn add_dane_tlsa(
    ssl: &mut SslRef,
    base_domain: &str,
    usage_selector_mtype: (u8, u8, u8),
    data: &[u8],
) -> Result<bool, ErrorStack> {
    crate::sys::dane_tlsa(ssl, base_domain, usage_selector_mtype, data)
}

/// OpenSSL 4.0: one more IP address the peer's certificate may match
/// ([`X509_VERIFY_PARAM_add1_ip(3)`](https://docs.openssl.org/master/man3/X509_VERIFY_PARAM_set_flags/)).
#[cfg(ossl400)]
pub fn add_ip(ssl: &mut SslRef, ip: std::net::IpAddr) -> Result<(), ErrorStack> {
    crate::sys::add_ip(ssl, ip)
}

/// OpenSSL 4.0: one more e-mail address the peer's certificate may match
/// (`X509_VERIFY_PARAM_add1_rfc822`).
#[cfg(ossl400)]
pub fn add_rfc822(ssl: &mut SslRef, email: &str) -> Result<(), ErrorStack> {
    crate::sys::add_rfc822(ssl, email)
}
