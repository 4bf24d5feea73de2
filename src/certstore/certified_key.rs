//! A certificate, its chain and its private key, ready to serve.

use std::fmt;
use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::{X509Ref, X509};

use super::files::{load_certificates, open_pkcs12, parse_private_key, read};
use super::validity::check_validity;
use super::{CertStoreError, CertSummary};

/// A leaf certificate, the chain to send after it, and the private key that belongs to it.
///
/// Every constructor checks that the key matches the certificate
/// ([X509_check_private_key(3)](https://docs.openssl.org/3.0/man3/X509_check_private_key/)
/// semantics, via the public keys). Validity dates are *not* checked here; see
/// [`CertifiedKey::check_validity`].
#[derive(Clone)]
pub struct CertifiedKey {
    cert: X509,
    chain: Vec<X509>,
    key: PKey<Private>,
    source: Option<PathBuf>,
    summary: CertSummary,
}

impl CertifiedKey {
    /// Pairs a certificate built or loaded in memory with its chain and key.
    pub fn from_parts(
        cert: X509,
        chain: Vec<X509>,
        key: PKey<Private>,
    ) -> Result<CertifiedKey, CertStoreError> {
        CertifiedKey::assemble(cert, chain, key, None, None)
    }

    /// Loads a PEM certificate file (the leaf, then optionally its chain; a single DER
    /// certificate also works) and a PEM private key file, which may be the same file.
    ///
    /// An encrypted key (`ENCRYPTED PRIVATE KEY`, or traditional `Proc-Type: 4,ENCRYPTED`) needs
    /// `passphrase`; a missing or wrong one gives [`CertStoreError::KeyPassphrase`]. A key that
    /// does not belong to the certificate gives [`CertStoreError::KeyMismatch`]. Nothing ever
    /// prompts on the terminal.
    pub fn from_pem_files(
        cert: &Path,
        key: &Path,
        passphrase: Option<&[u8]>,
    ) -> Result<CertifiedKey, CertStoreError> {
        let mut certs = load_certificates(cert)?.into_iter();
        let leaf = certs.next().ok_or_else(|| CertStoreError::NoCertificate {
            path: cert.to_owned(),
        })?;
        let private_key = parse_private_key(key, &read(key)?, passphrase)?;
        CertifiedKey::assemble(
            leaf,
            certs.collect(),
            private_key,
            Some(cert.to_owned()),
            Some(key.to_owned()),
        )
    }

    /// Loads a PKCS#12 (`.p12`/`.pfx`) archive holding the certificate, its key and optionally
    /// its chain ([PKCS12_parse(3)](https://docs.openssl.org/3.0/man3/PKCS12_parse/)).
    ///
    /// A wrong password gives [`CertStoreError::Pkcs12Password`]. OpenSSL 3 reads archives
    /// protected with AES and SHA-256; old RC2/3DES archives need its legacy provider, and
    /// [`CertStoreError::Pkcs12Parse`] says so.
    pub fn from_pkcs12(path: &Path, password: &str) -> Result<CertifiedKey, CertStoreError> {
        CertifiedKey::from_pkcs12_passwords(path, &[password])
    }

    /// [`CertifiedKey::from_pkcs12`] trying each password in turn.
    pub(crate) fn from_pkcs12_passwords(
        path: &Path,
        passwords: &[&str],
    ) -> Result<CertifiedKey, CertStoreError> {
        CertifiedKey::from_pkcs12_bytes(path, &read(path)?, passwords)
    }

    /// [`CertifiedKey::from_pkcs12_passwords`] with the archive read already.
    pub(crate) fn from_pkcs12_bytes(
        path: &Path,
        bytes: &[u8],
        passwords: &[&str],
    ) -> Result<CertifiedKey, CertStoreError> {
        let parsed = open_pkcs12(path, bytes, passwords)?;
        let incomplete = |missing| CertStoreError::Pkcs12Incomplete {
            path: path.to_owned(),
            missing,
        };
        let cert = parsed.cert.ok_or_else(|| incomplete("certificate"))?;
        let key = parsed.pkey.ok_or_else(|| incomplete("private key"))?;
        let chain = parsed
            .ca
            .map(|stack| stack.into_iter().collect())
            .unwrap_or_default();
        CertifiedKey::assemble(
            cert,
            chain,
            key,
            Some(path.to_owned()),
            Some(path.to_owned()),
        )
    }

    /// Checks the pair and computes the summary.
    pub(crate) fn assemble(
        cert: X509,
        chain: Vec<X509>,
        key: PKey<Private>,
        cert_path: Option<PathBuf>,
        key_path: Option<PathBuf>,
    ) -> Result<CertifiedKey, CertStoreError> {
        let summary = CertSummary::from_x509(&cert).map_err(|source| CertStoreError::Inspect {
            what: format!(
                "compute the fingerprints of the certificate from {}",
                show(&cert_path)
            ),
            source,
        })?;
        let public = cert
            .public_key()
            .map_err(|source| CertStoreError::Inspect {
                what: format!("read the public key of certificate {}", summary.subject),
                source: source.into(),
            })?;
        if !public.public_eq(&key) {
            return Err(CertStoreError::KeyMismatch {
                cert: cert_path,
                key: key_path,
                subject: summary.subject,
            });
        }
        Ok(CertifiedKey {
            cert,
            chain,
            key,
            source: cert_path,
            summary,
        })
    }

    /// Replaces the chain (used when the store completes it from its CA certificates).
    pub(crate) fn set_chain(&mut self, chain: Vec<X509>) {
        self.chain = chain;
    }

    /// The leaf certificate.
    pub fn cert(&self) -> &X509Ref {
        &self.cert
    }

    /// The intermediate certificates to send after the leaf, nearest first.
    pub fn chain(&self) -> &[X509] {
        &self.chain
    }

    /// The private key.
    pub fn key(&self) -> &PKeyRef<Private> {
        &self.key
    }

    /// The file the certificate came from, if it was loaded from one.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Names, validity and fingerprints of the leaf certificate.
    pub fn summary(&self) -> &CertSummary {
        &self.summary
    }

    /// [`check_validity`](super::check_validity) of the leaf certificate against the clock.
    pub fn check_validity(&self, allow_invalid_dates: bool) -> Result<(), CertStoreError> {
        check_validity(&self.cert, allow_invalid_dates)
    }
}

impl fmt::Debug for CertifiedKey {
    /// Shows the summary and where it came from; never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("subject", &self.summary.subject)
            .field("sha256", &self.summary.sha256)
            .field("chain_len", &self.chain.len())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

fn show(path: &Option<PathBuf>) -> String {
    path.as_deref()
        .map_or_else(|| "memory".to_owned(), |p| p.display().to_string())
}
