//! The server's ECH keys: PEM files (a private key and its ECHConfigList, as `openssl ech`
//! writes them) read and checked once, into the `OSSL_ECHSTORE` of its `SslContext`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use openssl::bn::BigNumContext;
use openssl::ec::PointConversionForm;
use openssl::pkey::{Id, PKey, Private};
use openssl::ssl::SslContextBuilder;

use super::config::EchConfigList;
use super::config_error::EchConfigError;
use super::EchError;
use crate::error_queue::ErrorQueue;

/// The ECH key files of a server
/// ([`ServerConfigBuilder::ech_keys`](crate::server::ServerConfigBuilder::ech_keys)), as `openssl
/// s_server` takes them with `-ech_key`, `-ech_dir` and `-ech_noretry_dir`, read with
/// [`OSSL_ECHSTORE_read_pem(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/).
///
/// A key of the **retry** set (the default) decrypts, and its configuration is what the
/// server sends back to a client whose ECH it could not decrypt, so that the client can try
/// again; a key of the **no-retry** set only decrypts (an old key kept for clients that
/// still hold its configuration, but no longer handed out). Each file holds one private key
/// and the ECHConfigList it belongs to (`openssl ech -public_name NAME -out FILE`); a
/// directory contributes every file in it (its subdirectories are skipped). All are read
/// when the configuration is built, and a file that cannot be read or used stops the build
/// with its path and the cause.
///
/// ```no_run
/// use tlshake::ech::EchKeys;
/// use tlshake::server::ServerConfig;
///
/// let config = ServerConfig::builder()
///     .certificate_files("public.pem", "public.key")
///     .ech_keys(EchKeys::new().file("ech.pem").dir_no_retry("old-ech-keys"));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct EchKeys {
    sources: Vec<(Source, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File(PathBuf),
    Dir(PathBuf),
}

impl EchKeys {
    /// No keys.
    pub fn new() -> EchKeys {
        EchKeys::default()
    }

    /// A key file of the retry set (`s_server -ech_key`).
    pub fn file(mut self, path: impl Into<PathBuf>) -> EchKeys {
        self.sources.push((Source::File(path.into()), true));
        self
    }

    /// A key file of the no-retry set.
    pub fn file_no_retry(mut self, path: impl Into<PathBuf>) -> EchKeys {
        self.sources.push((Source::File(path.into()), false));
        self
    }

    /// Every file of a directory, in the retry set (`s_server -ech_dir`).
    pub fn dir(mut self, path: impl Into<PathBuf>) -> EchKeys {
        self.sources.push((Source::Dir(path.into()), true));
        self
    }

    /// Every file of a directory, in the no-retry set (`s_server -ech_noretry_dir`).
    pub fn dir_no_retry(mut self, path: impl Into<PathBuf>) -> EchKeys {
        self.sources.push((Source::Dir(path.into()), false));
        self
    }

    /// True when no file or directory was given.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// Why one ECH key file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EchKeyError {
    /// It cannot be opened or read.
    Unreadable(#[source] io::Error),
    /// It is not a regular file (a FIFO, a device, ...): reading it could block.
    NotRegular {
        /// What it is instead.
        kind: &'static str,
    },
    /// It has no PEM private key.
    NoPrivateKey,
    /// Its private key cannot be decoded.
    PrivateKey(#[source] ErrorQueue),
    /// Its ECHConfigList is missing or refused.
    Config(#[source] EchConfigError),
    /// Its private key belongs to none of its ECHConfigs.
    KeyMismatch,
    /// OpenSSL refused to load it.
    Openssl(#[source] ErrorQueue),
}
impl fmt::Display for EchKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EchKeyError::Unreadable(_) => write!(f, "it cannot be read")?,
            EchKeyError::NotRegular { kind, .. } => {
                write!(f, "it is a {kind}, not a regular file")?
            }
            EchKeyError::NoPrivateKey => {
                write!(f, "it holds no private key (-----BEGIN PRIVATE KEY-----)")?
            }
            EchKeyError::PrivateKey(_) => write!(f, "its private key cannot be decoded")?,
            EchKeyError::Config(_) => write!(f, "its ECHConfigList is refused")?,
            EchKeyError::KeyMismatch => write!(
                f,
                "its private key is not the key of any ECHConfig in it (the public keys differ)"
            )?,
            EchKeyError::Openssl(_) => write!(f, "OpenSSL refused to load it")?,
        }
        crate::error::write_causes(self, f)
    }
}

/// Reads every key of `keys` into one store and installs it on the server context being
/// built (`OSSL_ECHSTORE_read_pem`, `SSL_CTX_set1_echstore`). Returns the number of keys.
pub(crate) fn load_keys(
    b: &mut SslContextBuilder,
    keys: &EchKeys,
    tls13: bool,
) -> Result<usize, EchError> {
    if keys.is_empty() {
        return Ok(0);
    }
    if let Some(reason) = super::unsupported_reason() {
        return Err(EchError::Unsupported { reason });
    }
    if !tls13 {
        return Err(EchError::NeedsTls13);
    }
    let mut files = Vec::new();
    for (source, retry) in &keys.sources {
        match source {
            Source::File(path) => files.push((path.clone(), *retry)),
            Source::Dir(dir) => {
                for path in dir_files(dir)? {
                    files.push((path, *retry));
                }
            }
        }
    }
    let mut checked = Vec::with_capacity(files.len());
    for (path, retry) in files {
        let pem = read_key_file(&path).map_err(|source| EchError::KeyFile {
            path: path.clone(),
            source,
        })?;
        checked.push((path, pem, retry));
    }
    #[cfg(all(ossl400, not(ossl_no_ech)))]
    {
        let mut store =
            crate::sys::ech::EchStore::new().map_err(super::tls("creating the ECH store"))?;
        for (path, pem, retry) in &checked {
            store.read_pem(pem, *retry).map_err(|e| EchError::KeyFile {
                path: path.clone(),
                source: EchKeyError::Openssl(e.into()),
            })?;
        }
        let n = store
            .num_keys()
            .map_err(super::tls("counting the ECH keys"))?;
        store
            .install(b)
            .map_err(super::tls("installing the ECH store on the context"))?;
        Ok(n)
    }
    #[cfg(not(all(ossl400, not(ossl_no_ech))))]
    {
        let _ = b;
        Ok(checked.len())
    }
}

/// The files of a key directory, by name; subdirectories are skipped.
fn dir_files(dir: &Path) -> Result<Vec<PathBuf>, EchError> {
    let unreadable = |source| EchError::KeyDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if !path.is_dir() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(EchError::EmptyKeyDir {
            path: dir.to_path_buf(),
        });
    }
    files.sort();
    Ok(files)
}

/// Reads one key file (a regular file only, opened without blocking) and checks it: a
/// private key, a valid ECHConfigList, and the key belonging to one of its configurations.
fn read_key_file(path: &Path) -> Result<Vec<u8>, EchKeyError> {
    use crate::regular_file::{self, RegularFileError};
    let pem = regular_file::read(path, None).map_err(|e| match e {
        RegularFileError::Io(source) => EchKeyError::Unreadable(source),
        RegularFileError::NotRegular(kind) => EchKeyError::NotRegular { kind },
        // No limit was given: a file past u64::MAX bytes.
        RegularFileError::TooLarge { size } => EchKeyError::Unreadable(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("{size} bytes"),
        )),
    })?;
    if !pem.windows(16).any(|w| w == b"PRIVATE KEY-----") {
        return Err(EchKeyError::NoPrivateKey);
    }
    let list = EchConfigList::parse(&pem).map_err(EchKeyError::Config)?;
    let key = PKey::private_key_from_pem(&pem).map_err(|e| EchKeyError::PrivateKey(e.into()))?;
    let public = public_key_bytes(&key).map_err(|e| EchKeyError::PrivateKey(e.into()))?;
    if !list.configs().iter().any(|c| c.public_key == public) {
        return Err(EchKeyError::KeyMismatch);
    }
    Ok(pem)
}

/// The encoded public key of a KEM private key, as an ECHConfig carries it: raw for X25519
/// and X448, the uncompressed point for the NIST curves.
fn public_key_bytes(key: &PKey<Private>) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    if key.id() == Id::EC {
        let ec = key.ec_key()?;
        let mut ctx = BigNumContext::new()?;
        return ec
            .public_key()
            .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx);
    }
    key.raw_public_key()
}
