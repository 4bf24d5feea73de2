//! The server certificates the benchmark serves: the bundled ones, by key type.

use crate::bundled;
use openssl::pkey::PKey;
use openssl::x509::X509;
use tlshake::certstore::CertifiedKey;

use super::args::BenchKey;
use crate::report::AnyError;

/// The bundled certificate and key (PEM) of `key`'s type.
pub(super) fn bundled_pem(key: BenchKey) -> (&'static str, &'static str) {
    match key {
        BenchKey::Ecdsa => (bundled::SERVER_PEM, bundled::SERVER_KEY),
        BenchKey::Rsa => (bundled::SERVER_RSA_PEM, bundled::SERVER_RSA_KEY),
    }
}

/// The server's certificate and key, from PEM.
pub(super) fn certified_key(pem: &str, key: &str) -> Result<CertifiedKey, AnyError> {
    let cert = X509::from_pem(pem.as_bytes())?;
    let key = PKey::private_key_from_pem(key.as_bytes())?;
    Ok(CertifiedKey::from_parts(cert, Vec::new(), key)?)
}
