//! Everything that can go wrong while loading or selecting a certificate.

use std::fmt;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::{CandidateInfo, SkippedCert, SkippedFile};
use crate::error_queue::ErrorQueue;
use crate::fingerprint::{Fingerprint, FingerprintError};

/// Why a certificate could not be loaded or selected.
#[derive(Debug)]
#[non_exhaustive]
pub enum CertStoreError {
    /// The certificate directory could not be listed.
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A certificate, key or PKCS#12 file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The directory entry is not a regular file (a FIFO, a socket, a device): it is never
    /// read, since reading a FIFO or a device can block for as long as no one writes to it.
    NotRegularFile {
        /// The entry.
        path: PathBuf,
        /// What it is: `"FIFO"`, `"socket"`, `"character device"`, `"block device"`.
        kind: &'static str,
    },
    /// The directory entry is a symbolic link to nothing.
    DanglingLink {
        /// The link.
        path: PathBuf,
        /// What it points to.
        target: PathBuf,
    },
    /// The file is larger than any certificate, chain and key: it is not read.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The largest size read, in bytes.
        limit: u64,
    },
    /// A PEM block starts but never ends: the file was cut short.
    TruncatedPem {
        /// The file.
        path: PathBuf,
        /// The label of the unterminated block (`CERTIFICATE`, `PRIVATE KEY`, ...).
        label: String,
    },
    /// The file holds no certificate at all.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// OpenSSL could not parse a certificate in the file.
    CertificateParse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// The key file holds no private key OpenSSL can read.
    KeyParse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// The key file holds no private key block.
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key is encrypted and the passphrase is missing or wrong.
    KeyPassphrase {
        /// The key file.
        path: PathBuf,
        /// Whether a passphrase was tried at all.
        passphrase_given: bool,
    },
    /// The private key does not belong to the certificate.
    KeyMismatch {
        /// Where the certificate came from (`None`: built in memory).
        cert: Option<PathBuf>,
        /// Where the key came from (`None`: built in memory).
        key: Option<PathBuf>,
        /// The certificate's subject.
        subject: String,
    },
    /// The file is not a PKCS#12 archive OpenSSL can read.
    Pkcs12Parse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// No password given opens the PKCS#12 archive (its MAC does not verify).
    Pkcs12Password {
        /// The file.
        path: PathBuf,
    },
    /// The PKCS#12 archive opened, but lacks the certificate or the private key.
    Pkcs12Incomplete {
        /// The file.
        path: PathBuf,
        /// What is missing: `"certificate"` or `"private key"`.
        missing: &'static str,
    },
    /// OpenSSL failed while computing a digest or comparing times.
    Inspect {
        /// What was being done.
        what: String,
        /// OpenSSL's errors.
        source: ErrorQueue,
    },
    /// The certificate's validity ended before now.
    Expired {
        /// The certificate's subject.
        subject: String,
        /// Start of validity.
        not_before: String,
        /// End of validity.
        not_after: String,
        /// The time it was checked against.
        now: String,
    },
    /// The certificate's validity starts after now.
    NotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Start of validity.
        not_before: String,
        /// End of validity.
        not_after: String,
        /// The time it was checked against.
        now: String,
    },
    /// Several different certificates match the name.
    Ambiguous {
        /// The name asked for.
        name: String,
        /// The matching certificates.
        candidates: Vec<CandidateInfo>,
    },
    /// No usable certificate matches the name.
    NoNameMatch {
        /// The name asked for.
        name: String,
        /// Every name the usable certificates answer to.
        available: Vec<String>,
        /// Certificates that match but cannot be used (no private key, CA certificate).
        unusable: Vec<SkippedCert>,
        /// Files of the store that could not be read: the certificate may be in one of them.
        unread: Vec<SkippedFile>,
    },
    /// No usable certificate has the fingerprint.
    NoFingerprintMatch {
        /// The fingerprint asked for.
        given: Fingerprint,
        /// The usable certificates.
        available: Vec<CandidateInfo>,
        /// Certificates that match but cannot be used (no private key, CA certificate).
        unusable: Vec<SkippedCert>,
        /// Files of the store that could not be read: the certificate may be in one of them.
        unread: Vec<SkippedFile>,
    },
    /// The fingerprint text could not be parsed.
    BadFingerprint(FingerprintError),
}
impl fmt::Display for CertStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertStoreError::Unreadable { path, .. } => write!(f, "cannot read certificate directory {}: check that it exists, is a directory and is \
         readable", path.display())?,
            CertStoreError::Read { path, .. } => write!(f, "cannot read {}", path.display())?,
            CertStoreError::NotRegularFile { path, kind, .. } => write!(f, "{} is a {kind}, not a regular file: put a certificate file there, or move it out of \
         the directory", path.display())?,
            CertStoreError::DanglingLink { path, target, .. } => write!(f, "{} is a symbolic link to {}, which does not exist: fix the link or remove it", path.display(), target.display())?,
            CertStoreError::TooLarge { path, size, limit, .. } => write!(f, "{} is {size} bytes, more than the {limit} a certificate file may hold: move it out of \
         the directory", path.display())?,
            CertStoreError::TruncatedPem { path, label, .. } => write!(f, "{} is truncated: its `-----BEGIN {label}-----` block has no `-----END {label}-----` \
         line; write the file again in full", path.display())?,
            CertStoreError::NoCertificate { path, .. } => write!(f, "{} holds no certificate: expected PEM `-----BEGIN CERTIFICATE-----` blocks (leaf first, \
         then its chain) or one DER certificate", path.display())?,
            CertStoreError::CertificateParse { path, .. } => write!(f, "cannot parse the certificate in {}", path.display())?,
            CertStoreError::KeyParse { path, .. } => write!(f, "cannot read a private key from {}: expected a PEM `PRIVATE KEY` block (PKCS#8, or \
         traditional RSA/EC)", path.display())?,
            CertStoreError::NoPrivateKey { path, .. } => write!(f, "{} holds no private key: expected a PEM `-----BEGIN PRIVATE KEY-----` block (or \
         `ENCRYPTED PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`)", path.display())?,
            CertStoreError::KeyPassphrase { path, passphrase_given, .. } => write!(f, "the private key in {} is encrypted and {}", path.display(), if *passphrase_given {
            "the passphrase given does not decrypt it; check the passphrase"
        } else {
            "no passphrase was given; supply its passphrase"
        })?,
            CertStoreError::KeyMismatch { cert, key, subject, .. } => write!(f, "the private key from {} does not belong to the certificate {subject} from {}; pair \
         each certificate with the key it was issued for", show(key.as_deref()), show(cert.as_deref()))?,
            CertStoreError::Pkcs12Parse { path, source, .. } => write!(f, "cannot read PKCS#12 file {}{}", path.display(), legacy_hint(source))?,
            CertStoreError::Pkcs12Password { path, .. } => write!(f, "wrong password for PKCS#12 file {}: none of the passwords given opens it; supply the \
         password it was exported with", path.display())?,
            CertStoreError::Pkcs12Incomplete { path, missing, .. } => write!(f, "PKCS#12 file {} has no {missing}; export it again with the certificate and its \
         private key", path.display())?,
            CertStoreError::Inspect { what, .. } => write!(f, "cannot {what}")?,
            CertStoreError::Expired { subject, not_before, not_after, now, .. } => write!(f, "certificate {subject} expired on {not_after} (valid from {not_before} to {not_after}, \
         now {now}); renew it, or set allow_invalid_dates to use it anyway")?,
            CertStoreError::NotYetValid { subject, not_before, not_after, now, .. } => write!(f, "certificate {subject} is not valid before {not_before} (valid from {not_before} to \
         {not_after}, now {now}); check the system clock, or set allow_invalid_dates to use it \
         anyway")?,
            CertStoreError::Ambiguous { name, candidates, .. } => write!(f, "{} certificates match {name:?}; select one by fingerprint instead:{}", candidates.len(), list(candidates))?,
            CertStoreError::NoNameMatch { name, available, unusable, unread, .. } => write!(f, "no certificate in the store matches {name:?}; {}{}{}", names(available), list(unusable), unread_list(unread))?,
            CertStoreError::NoFingerprintMatch { given, available, unusable, unread, .. } => write!(f, "no certificate in the store has the {} fingerprint {given}; {}{}{}", given.kind(), fingerprints(available), list(unusable), unread_list(unread))?,
            CertStoreError::BadFingerprint(inner) => return fmt::Display::fmt(inner, f),
        }
        crate::error::write_causes(self, f)
    }
}
/// The cause of each variant; a variant that only carries another error is that error,
/// so its causes are its own.
impl std::error::Error for CertStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertStoreError::Unreadable { source, .. } => Some(source),
            CertStoreError::Read { source, .. } => Some(source),
            CertStoreError::NotRegularFile { .. } => None,
            CertStoreError::DanglingLink { .. } => None,
            CertStoreError::TooLarge { .. } => None,
            CertStoreError::TruncatedPem { .. } => None,
            CertStoreError::NoCertificate { .. } => None,
            CertStoreError::CertificateParse { source, .. } => Some(source),
            CertStoreError::KeyParse { source, .. } => Some(source),
            CertStoreError::NoPrivateKey { .. } => None,
            CertStoreError::KeyPassphrase { .. } => None,
            CertStoreError::KeyMismatch { .. } => None,
            CertStoreError::Pkcs12Parse { source, .. } => Some(source),
            CertStoreError::Pkcs12Password { .. } => None,
            CertStoreError::Pkcs12Incomplete { .. } => None,
            CertStoreError::Inspect { source, .. } => Some(source),
            CertStoreError::Expired { .. } => None,
            CertStoreError::NotYetValid { .. } => None,
            CertStoreError::Ambiguous { .. } => None,
            CertStoreError::NoNameMatch { .. } => None,
            CertStoreError::NoFingerprintMatch { .. } => None,
            CertStoreError::BadFingerprint(inner) => inner.source(),
        }
    }
}

impl From<FingerprintError> for CertStoreError {
    fn from(error: FingerprintError) -> CertStoreError {
        CertStoreError::BadFingerprint(error)
    }
}

impl CertStoreError {
    /// A copy of this error, for a store that keeps the errors of the files it skipped and
    /// hands one out again. An operating-system error keeps its code (or, without one, its
    /// kind and message).
    pub(crate) fn duplicate(&self) -> CertStoreError {
        use CertStoreError as E;
        match self {
            E::Unreadable { path, source } => E::Unreadable {
                path: path.clone(),
                source: copy_io(source),
            },
            E::Read { path, source } => E::Read {
                path: path.clone(),
                source: copy_io(source),
            },
            E::NotRegularFile { path, kind } => E::NotRegularFile {
                path: path.clone(),
                kind,
            },
            E::DanglingLink { path, target } => E::DanglingLink {
                path: path.clone(),
                target: target.clone(),
            },
            E::TooLarge { path, size, limit } => E::TooLarge {
                path: path.clone(),
                size: *size,
                limit: *limit,
            },
            E::TruncatedPem { path, label } => E::TruncatedPem {
                path: path.clone(),
                label: label.clone(),
            },
            E::NoCertificate { path } => E::NoCertificate { path: path.clone() },
            E::CertificateParse { path, source } => E::CertificateParse {
                path: path.clone(),
                source: source.clone(),
            },
            E::KeyParse { path, source } => E::KeyParse {
                path: path.clone(),
                source: source.clone(),
            },
            E::NoPrivateKey { path } => E::NoPrivateKey { path: path.clone() },
            E::KeyPassphrase {
                path,
                passphrase_given,
            } => E::KeyPassphrase {
                path: path.clone(),
                passphrase_given: *passphrase_given,
            },
            E::KeyMismatch { cert, key, subject } => E::KeyMismatch {
                cert: cert.clone(),
                key: key.clone(),
                subject: subject.clone(),
            },
            E::Pkcs12Parse { path, source } => E::Pkcs12Parse {
                path: path.clone(),
                source: source.clone(),
            },
            E::Pkcs12Password { path } => E::Pkcs12Password { path: path.clone() },
            E::Pkcs12Incomplete { path, missing } => E::Pkcs12Incomplete {
                path: path.clone(),
                missing,
            },
            E::Inspect { what, source } => E::Inspect {
                what: what.clone(),
                source: source.clone(),
            },
            E::Expired {
                subject,
                not_before,
                not_after,
                now,
            } => E::Expired {
                subject: subject.clone(),
                not_before: not_before.clone(),
                not_after: not_after.clone(),
                now: now.clone(),
            },
            E::NotYetValid {
                subject,
                not_before,
                not_after,
                now,
            } => E::NotYetValid {
                subject: subject.clone(),
                not_before: not_before.clone(),
                not_after: not_after.clone(),
                now: now.clone(),
            },
            E::Ambiguous { name, candidates } => E::Ambiguous {
                name: name.clone(),
                candidates: candidates.clone(),
            },
            E::NoNameMatch {
                name,
                available,
                unusable,
                unread,
            } => E::NoNameMatch {
                name: name.clone(),
                available: available.clone(),
                unusable: unusable.clone(),
                unread: unread.clone(),
            },
            E::NoFingerprintMatch {
                given,
                available,
                unusable,
                unread,
            } => E::NoFingerprintMatch {
                given: given.clone(),
                available: available.clone(),
                unusable: unusable.clone(),
                unread: unread.clone(),
            },
            E::BadFingerprint(error) => E::BadFingerprint(error.clone()),
        }
    }
}

fn copy_io(error: &io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(error.kind(), error.to_string()),
    }
}

/// The files that could not be read, each with its causes: they are items of this message,
/// not its source.
fn unread_list(unread: &[SkippedFile]) -> String {
    if unread.is_empty() {
        return String::new();
    }
    let mut text = "\n  files that could not be read, which may hold it:".to_owned();
    for file in unread {
        let _ = write!(text, "\n  - {file}");
        let mut cause = file.error().and_then(std::error::Error::source);
        while let Some(error) = cause {
            let _ = write!(text, ": {error}");
            cause = error.source();
        }
    }
    text
}

fn show(path: Option<&Path>) -> String {
    match path {
        Some(path) => path.display().to_string(),
        None => "memory".to_owned(),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let mut text = String::new();
    for item in items {
        let _ = write!(text, "\n  - {item}");
    }
    text
}

fn names(available: &[String]) -> String {
    if available.is_empty() {
        "the store holds no usable certificate".to_owned()
    } else {
        format!("names available: {}", available.join(", "))
    }
}

fn fingerprints(available: &[CandidateInfo]) -> String {
    if available.is_empty() {
        "the store holds no usable certificate".to_owned()
    } else {
        format!("certificates available:{}", list(available))
    }
}

fn legacy_hint(source: &ErrorQueue) -> &'static str {
    let unsupported = source.entries().iter().any(|e| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("unsupported"))
    });
    if unsupported {
        "; it may use a legacy algorithm (RC2, 3DES): re-export it with AES-256-CBC, e.g. \
         `openssl pkcs12 -export -certpbe AES-256-CBC -keypbe AES-256-CBC -macalg sha256`, or \
         enable OpenSSL's legacy provider"
    } else {
        ""
    }
}
