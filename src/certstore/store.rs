//! Loading a directory of certificates into a [`CertStore`].

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use openssl::x509::{X509Ref, X509VerifyResult, X509};

use super::candidate::{Candidate, KeySource};
use super::files::{certificates_in_blocks, file_kind, read_store_file};
use super::pem::{is_pem, pem_blocks, unterminated_block};
use super::{
    CertStoreError, CertSummary, CertifiedKey, FileSkipReason, SkipReason, SkippedCert, SkippedFile,
};

/// Longest chain the store builds from its CA certificates.
const MAX_CHAIN: usize = 8;

/// Server certificates to choose from: load a directory once, then select by host name
/// ([`CertStore::find_by_name`]) or by fingerprint ([`CertStore::find_by_fingerprint`],
/// [`CertStore::find_by_hash_text`]).
///
/// Selection refuses certificates outside their validity dates unless
/// [`CertStore::set_allow_invalid_dates`] says otherwise.
#[derive(Clone, Default)]
pub struct CertStore {
    pub(super) candidates: Vec<Candidate>,
    pub(super) authorities: Vec<X509>,
    pub(super) skipped: Vec<SkippedCert>,
    pub(super) skipped_files: Vec<SkippedFile>,
    pub(super) passwords: Vec<String>,
    pub(super) allow_invalid_dates: bool,
}

/// What one directory entry gave.
enum Found {
    /// Nothing to keep: a key file, or a PEM file with a key and no certificate.
    Nothing,
    /// A certificate with its key (loaded, or to be read when chosen).
    Candidate(Box<Candidate>),
    /// A certificate that cannot be chosen, and the CA certificates its file holds.
    Skipped {
        summary: CertSummary,
        reason: SkipReason,
        authorities: Vec<X509>,
    },
    /// An entry the store does not load.
    File(FileSkipReason),
}

/// What a directory entry is to the store.
enum EntryKind {
    /// `*.pem`, `*.crt`, `*.cer`.
    Certificates,
    /// `*.p12`, `*.pfx`.
    Pkcs12,
    /// `*.key`: read when the certificate beside it is chosen.
    Key,
}

impl CertStore {
    /// Loads every certificate of `dir` (not its subdirectories), in file name order:
    ///
    /// - `*.pem`, `*.crt`, `*.cer`: the first certificate is the leaf, the others its chain
    ///   (PEM; a DER file holds one certificate). The private key is either in the same file
    ///   or in a sibling `<stem>.key` (`server.crt` + `server.key`). PEM files without a
    ///   certificate (a key on its own) are ignored.
    /// - `*.p12`, `*.pfx`: PKCS#12 archives, opened with the first of `passwords` that works.
    /// - `*.key` on their own are ignored.
    ///
    /// A private key is read, decrypted (`passwords` are tried in order; with none, an
    /// encrypted key fails with [`CertStoreError::KeyPassphrase`]) and checked against its
    /// certificate when a selection matches that certificate, not before: a broken key
    /// matters only for the certificate chosen, and the error of that choice names the file
    /// and the cause.
    ///
    /// A certificate without a private key, or a CA certificate issued by another
    /// (basicConstraints `CA:TRUE`), is not a candidate: it is listed by
    /// [`CertStore::skipped`] (and named in "no match" errors), and CA certificates complete
    /// the chains of leaves loaded without one. A self-signed certificate with its key is a
    /// candidate even when it says `CA:TRUE`, as `openssl req -x509` makes them (and as
    /// `s_server -cert` serves them); its [`CertSummary::self_signed`] says so.
    ///
    /// The directory keeps working around what it cannot use: subdirectories, files with
    /// other names, and certificate files that are unreadable, dangling symbolic links,
    /// FIFOs, sockets or devices (never opened for reading), larger than 1 MiB, truncated, or
    /// not certificates OpenSSL can parse are skipped and listed with their reason by
    /// [`CertStore::skipped_files`]; "no match" errors name the unreadable ones. Only a
    /// directory that cannot be listed fails, with [`CertStoreError::Unreadable`].
    pub fn load_dir(dir: &Path, passwords: &[&str]) -> Result<CertStore, CertStoreError> {
        let unreadable = |source| CertStoreError::Unreadable {
            path: dir.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(unreadable)? {
            paths.push(entry.map_err(unreadable)?.path());
        }
        paths.sort();

        let mut store = CertStore {
            passwords: passwords.iter().map(|p| (*p).to_owned()).collect(),
            ..CertStore::default()
        };
        for path in paths {
            let found = read_entry(&path, passwords);
            store.keep(path, found);
        }
        store.complete_chains();
        Ok(store)
    }

    /// The certificates selection chooses from.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &CertSummary> + '_ {
        self.candidates.iter().map(|c| &c.summary)
    }

    /// The CA certificates found (from CA files and from chains), used to complete chains.
    pub fn authorities(&self) -> &[X509] {
        &self.authorities
    }

    /// Certificates found but not selectable, with the reason.
    pub fn skipped(&self) -> &[SkippedCert] {
        &self.skipped
    }

    /// Directory entries not loaded, in file name order, with the reason: subdirectories,
    /// other file names, and certificate files that could not be read (whose
    /// [`SkippedFile::error`] says why).
    pub fn skipped_files(&self) -> &[SkippedFile] {
        &self.skipped_files
    }

    /// Whether selection accepts certificates outside their validity dates.
    pub fn allows_invalid_dates(&self) -> bool {
        self.allow_invalid_dates
    }

    /// Lets selection return expired and not-yet-valid certificates (for tests, or a clock
    /// known to be wrong). Off by default.
    pub fn set_allow_invalid_dates(&mut self, allow: bool) {
        self.allow_invalid_dates = allow;
    }

    /// Adds what one entry gave.
    fn keep(&mut self, path: PathBuf, found: Found) {
        match found {
            Found::Nothing => {}
            Found::Candidate(candidate) => {
                if candidate.summary.is_ca {
                    self.authorities.push(candidate.cert.clone());
                }
                self.candidates.push(*candidate);
            }
            Found::Skipped {
                summary,
                reason,
                authorities,
            } => {
                self.skipped.push(SkippedCert {
                    path,
                    summary,
                    reason,
                });
                self.authorities.extend(authorities);
            }
            Found::File(reason) => self.skipped_files.push(SkippedFile { path, reason }),
        }
    }

    /// Gives each leaf loaded without a chain the intermediates found among the CA
    /// certificates, up to (not including) a self-signed root. The CA certificates are
    /// looked up by the hash of their subject name, so a store of thousands completes its
    /// chains in linear time.
    fn complete_chains(&mut self) {
        let mut by_subject: HashMap<u32, Vec<&X509>> = HashMap::new();
        for ca in &self.authorities {
            by_subject
                .entry(ca.subject_name_hash())
                .or_default()
                .push(ca);
        }
        let issuer_of = |cert: &X509Ref| {
            by_subject
                .get(&cert.issuer_name_hash())
                .and_then(|cas| cas.iter().copied().find(|ca| issued(ca, cert)))
        };
        for candidate in self.candidates.iter_mut().filter(|c| c.chain.is_empty()) {
            let mut chain: Vec<X509> = Vec::new();
            let mut current: X509 = candidate.cert.clone();
            while chain.len() < MAX_CHAIN {
                let Some(issuer) = issuer_of(&current) else {
                    break;
                };
                if issued(issuer, issuer) || chain.iter().any(|c| c == issuer) {
                    break;
                }
                chain.push(issuer.clone());
                current = issuer.clone();
            }
            if !chain.is_empty() {
                candidate.set_chain(chain);
            }
        }
    }
}

impl fmt::Debug for CertStore {
    /// What was loaded and skipped; never a key or a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("candidates", &self.candidates)
            .field("authorities", &self.authorities.len())
            .field("skipped", &self.skipped)
            .field("skipped_files", &self.skipped_files)
            .field("passwords", &self.passwords.len())
            .field("allow_invalid_dates", &self.allow_invalid_dates)
            .finish()
    }
}

/// What one directory entry gives the store.
fn read_entry(path: &Path, passwords: &[&str]) -> Found {
    let read = match classify(path) {
        Ok(EntryKind::Certificates) => read_certificate_file(path),
        Ok(EntryKind::Pkcs12) => read_store_file(path)
            .and_then(|bytes| CertifiedKey::from_pkcs12_bytes(path, &bytes, passwords))
            .map(|entry| loaded(entry, path)),
        Ok(EntryKind::Key) => Ok(Found::Nothing),
        Err(reason) => return Found::File(reason),
    };
    read.unwrap_or_else(|error| Found::File(FileSkipReason::Failed(error)))
}

/// A certificate file: a candidate when its key is in it or beside it (unless it is a CA
/// certificate issued by another), otherwise skipped with the reason.
fn read_certificate_file(path: &Path) -> Result<Found, CertStoreError> {
    let bytes = read_store_file(path)?;
    let (certs, key_in_file) = if is_pem(&bytes) {
        let text = String::from_utf8_lossy(&bytes);
        if let Some(label) = unterminated_block(&text) {
            return Err(CertStoreError::TruncatedPem {
                path: path.to_owned(),
                label,
            });
        }
        let blocks = pem_blocks(&text);
        let has_key = blocks.iter().any(|block| block.is_private_key());
        (certificates_in_blocks(path, &blocks)?, has_key)
    } else {
        let cert = X509::from_der(&bytes).map_err(|source| CertStoreError::CertificateParse {
            path: path.to_owned(),
            source: source.into(),
        })?;
        (vec![cert], false)
    };
    let mut certs = certs.into_iter();
    let Some(leaf) = certs.next() else {
        return Ok(Found::Nothing);
    };
    let chain: Vec<X509> = certs.collect();
    let summary = summarize(&leaf, path)?;
    let key = if key_in_file {
        Some(KeySource::SameFile(bytes))
    } else {
        let sibling = path.with_extension("key");
        fs::symlink_metadata(&sibling)
            .is_ok()
            .then_some(KeySource::Sibling(sibling))
    };
    Ok(match key {
        Some(_) if summary.is_ca && !summary.self_signed => Found::Skipped {
            summary,
            reason: SkipReason::CertificateAuthority,
            authorities: vec![leaf],
        },
        Some(key) => Found::Candidate(Box::new(Candidate::with_key_at(
            leaf,
            chain,
            summary,
            path.to_owned(),
            key,
        ))),
        None => {
            let reason = if summary.is_ca {
                SkipReason::CertificateAuthority
            } else {
                SkipReason::NoPrivateKey
            };
            let mut authorities = chain;
            if summary.is_ca {
                authorities.insert(0, leaf);
            }
            Found::Skipped {
                summary,
                reason,
                authorities,
            }
        }
    })
}

/// A pair loaded with its key (a PKCS#12 archive): a candidate, unless it is a CA
/// certificate issued by another.
fn loaded(entry: CertifiedKey, path: &Path) -> Found {
    let summary = entry.summary();
    if summary.is_ca && !summary.self_signed {
        return Found::Skipped {
            summary: summary.clone(),
            reason: SkipReason::CertificateAuthority,
            authorities: vec![entry.cert().to_owned()],
        };
    }
    Found::Candidate(Box::new(Candidate::loaded(entry, path.to_owned())))
}

/// What the store does with a directory entry, looked up without opening it: a FIFO or a
/// device is never opened, and a dangling link is told from a missing file.
fn classify(path: &Path) -> Result<EntryKind, FileSkipReason> {
    let failed = FileSkipReason::Failed;
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(source) => {
            let is_link =
                fs::symlink_metadata(path).is_ok_and(|link| link.file_type().is_symlink());
            if is_link && source.kind() == io::ErrorKind::NotFound {
                return Err(failed(CertStoreError::DanglingLink {
                    path: path.to_owned(),
                    target: fs::read_link(path).unwrap_or_default(),
                }));
            }
            return Err(failed(CertStoreError::Read {
                path: path.to_owned(),
                source,
            }));
        }
    };
    if meta.is_dir() {
        return Err(FileSkipReason::Directory);
    }
    if !meta.is_file() {
        return Err(failed(CertStoreError::NotRegularFile {
            path: path.to_owned(),
            kind: file_kind(&meta.file_type()),
        }));
    }
    match extension(path).as_deref() {
        Some("pem" | "crt" | "cer") => Ok(EntryKind::Certificates),
        Some("p12" | "pfx") => Ok(EntryKind::Pkcs12),
        Some("key") => Ok(EntryKind::Key),
        _ => Err(FileSkipReason::OtherFileName),
    }
}

/// Whether `issuer` issued `subject`
/// ([X509_check_issued(3)](https://docs.openssl.org/3.0/man3/X509_check_issued/)).
fn issued(issuer: &X509Ref, subject: &X509Ref) -> bool {
    issuer.issued(subject) == X509VerifyResult::OK
}

fn summarize(cert: &X509Ref, path: &Path) -> Result<CertSummary, CertStoreError> {
    CertSummary::from_x509(cert).map_err(|source| CertStoreError::Inspect {
        what: format!(
            "compute the fingerprints of the certificate in {}",
            path.display()
        ),
        source,
    })
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase)
}
