//! Where a server's certificate comes from ([`CertificateSource`]) and whether it asks
//! clients for theirs ([`ClientAuth`]).

use crate::certstore::CertifiedKey;
use std::path::PathBuf;

/// Where the server certificate and its private key come from.
///
/// Everything is loaded and checked once, when the listener is built: the key must belong to
/// the certificate, and the certificate must be within its validity dates unless
/// [`ServerConfigBuilder::allow_invalid_dates`](super::ServerConfigBuilder::allow_invalid_dates) says otherwise.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CertificateSource {
    /// A PEM certificate file (leaf first, then its chain) and a PEM private key file
    /// (like `openssl s_server -cert -key`); see
    /// [`CertifiedKey::from_pem_files`](crate::certstore::CertifiedKey::from_pem_files).
    PemFiles {
        /// The certificate file.
        cert: PathBuf,
        /// The key file (may be the same file).
        key: PathBuf,
        /// The passphrase of an encrypted key.
        passphrase: Option<String>,
    },
    /// A PKCS#12 archive (`.p12` / `.pfx`) and its password.
    Pkcs12 {
        /// The archive.
        path: PathBuf,
        /// Its password.
        password: String,
    },
    /// The certificate of a store directory that matches a host name; see [`CertStore::find_by_name`](crate::certstore::CertStore::find_by_name).
    StoreByName {
        /// The directory loaded with [`CertStore::load_dir`](crate::certstore::CertStore::load_dir).
        dir: PathBuf,
        /// Passwords for PKCS#12 archives and encrypted keys in it.
        passwords: Vec<String>,
        /// The host name.
        name: String,
    },
    /// The certificate of a store directory with a fingerprint: a SHA-1 thumbprint (40 hex
    /// digits) or a SHA-256 fingerprint (64), spaces and colons allowed; see
    /// [`CertStore::find_by_hash_text`](crate::certstore::CertStore::find_by_hash_text).
    StoreByHash {
        /// The directory.
        dir: PathBuf,
        /// Passwords for PKCS#12 archives and encrypted keys in it.
        passwords: Vec<String>,
        /// The fingerprint as text.
        hash: String,
    },
    /// A certificate and key already loaded.
    Loaded(Box<CertifiedKey>),
}

impl CertificateSource {
    /// [`PemFiles`](Self::PemFiles) with an unencrypted key.
    pub fn pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> CertificateSource {
        CertificateSource::PemFiles {
            cert: cert.into(),
            key: key.into(),
            passphrase: None,
        }
    }

    /// [`Pkcs12`](Self::Pkcs12).
    pub fn pkcs12(path: impl Into<PathBuf>, password: impl Into<String>) -> CertificateSource {
        CertificateSource::Pkcs12 {
            path: path.into(),
            password: password.into(),
        }
    }

    /// [`StoreByName`](Self::StoreByName) with no passwords.
    pub fn store_by_name(dir: impl Into<PathBuf>, name: impl Into<String>) -> CertificateSource {
        CertificateSource::StoreByName {
            dir: dir.into(),
            passwords: Vec::new(),
            name: name.into(),
        }
    }

    /// [`StoreByHash`](Self::StoreByHash) with no passwords.
    pub fn store_by_hash(dir: impl Into<PathBuf>, hash: impl Into<String>) -> CertificateSource {
        CertificateSource::StoreByHash {
            dir: dir.into(),
            passwords: Vec::new(),
            hash: hash.into(),
        }
    }

    /// The same source with `passwords` for the store's PKCS#12 archives and encrypted keys
    /// (no effect on the other kinds).
    pub fn with_store_passwords<I, P>(mut self, list: I) -> CertificateSource
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        if let CertificateSource::StoreByName { passwords, .. }
        | CertificateSource::StoreByHash { passwords, .. } = &mut self
        {
            *passwords = list.into_iter().map(Into::into).collect();
        }
        self
    }
}

impl From<CertifiedKey> for CertificateSource {
    fn from(key: CertifiedKey) -> CertificateSource {
        CertificateSource::Loaded(Box::new(key))
    }
}

/// Client authentication (`SSL_CTX_set_verify`), with the CAs that issue client certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// No client certificate is requested (the default).
    #[default]
    None,
    /// A client certificate is requested; a client may send none, but one it sends must
    /// verify against `ca_file` (`SSL_VERIFY_PEER`, like `s_server -verify`).
    Optional {
        /// PEM file of the CAs that issue client certificates.
        ca_file: PathBuf,
    },
    /// A client certificate is required and must verify against `ca_file`
    /// (`SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT`, like `s_server -Verify`).
    Required {
        /// PEM file of the CAs that issue client certificates.
        ca_file: PathBuf,
    },
}
