//! A certificate of a [`CertStore`](super::CertStore), whose private key is read and checked
//! when a selection matches it: a store of thousands of certificates loads without decoding
//! thousands of keys, and a key that cannot be used matters only for the certificate chosen.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use openssl::x509::X509;

use super::files::{parse_private_key_with, read_store_file};
use super::pem::unterminated_block;
use super::{CertStoreError, CertSummary, CertifiedKey};

/// Where a candidate's private key is.
#[derive(Clone)]
pub(super) enum KeySource {
    /// In the certificate's own file, whose bytes are kept.
    SameFile(Vec<u8>),
    /// In the sibling `<stem>.key` file.
    Sibling(PathBuf),
    /// Loaded with the certificate (a PKCS#12 archive).
    Loaded,
}

/// A certificate that selection may choose.
#[derive(Clone)]
pub(super) struct Candidate {
    pub(super) cert: X509,
    pub(super) chain: Vec<X509>,
    pub(super) summary: CertSummary,
    pub(super) path: PathBuf,
    key: KeySource,
    certified: OnceLock<CertifiedKey>,
}

impl Candidate {
    /// A certificate whose key is read when it is first chosen.
    pub(super) fn with_key_at(
        cert: X509,
        chain: Vec<X509>,
        summary: CertSummary,
        path: PathBuf,
        key: KeySource,
    ) -> Candidate {
        Candidate {
            cert,
            chain,
            summary,
            path,
            key,
            certified: OnceLock::new(),
        }
    }

    /// A certificate loaded with its key already.
    pub(super) fn loaded(entry: CertifiedKey, path: PathBuf) -> Candidate {
        Candidate {
            cert: entry.cert().to_owned(),
            chain: entry.chain().to_vec(),
            summary: entry.summary().clone(),
            path,
            key: KeySource::Loaded,
            certified: OnceLock::from(entry),
        }
    }

    /// Replaces the chain (the store completes it from its CA certificates).
    pub(super) fn set_chain(&mut self, chain: Vec<X509>) {
        if let Some(entry) = self.certified.get_mut() {
            entry.set_chain(chain.clone());
        }
        self.chain = chain;
    }

    /// The certificate with its private key: the key is read, decrypted with the first of
    /// `passwords` that works, and checked against the certificate the first time; an error
    /// names the file and the cause.
    pub(super) fn certified(&self, passwords: &[&str]) -> Result<&CertifiedKey, CertStoreError> {
        if let Some(entry) = self.certified.get() {
            return Ok(entry);
        }
        let (bytes, key_path): (Cow<'_, [u8]>, &Path) = match &self.key {
            KeySource::SameFile(bytes) => (Cow::Borrowed(bytes), &self.path),
            KeySource::Sibling(path) => {
                let bytes = read_store_file(path)?;
                if let Some(label) = unterminated_block(&String::from_utf8_lossy(&bytes)) {
                    return Err(CertStoreError::TruncatedPem {
                        path: path.clone(),
                        label,
                    });
                }
                (Cow::Owned(bytes), path)
            }
            // A loaded candidate has its entry; this arm is not reached.
            KeySource::Loaded => {
                return Err(CertStoreError::NoPrivateKey {
                    path: self.path.clone(),
                })
            }
        };
        let key = parse_private_key_with(key_path, &bytes, passwords)?;
        let entry = CertifiedKey::assemble(
            self.cert.clone(),
            self.chain.clone(),
            key,
            Some(self.path.clone()),
            Some(key_path.to_owned()),
        )?;
        Ok(self.certified.get_or_init(|| entry))
    }
}

impl fmt::Debug for Candidate {
    /// The certificate and where it came from; never the key or the file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("subject", &self.summary.subject)
            .field("sha256", &self.summary.sha256)
            .field("self_signed", &self.summary.self_signed)
            .field("chain_len", &self.chain.len())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
