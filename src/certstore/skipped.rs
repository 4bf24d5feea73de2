//! Certificates the store found but cannot serve, and files it did not load.

use std::fmt;
use std::path::PathBuf;

use super::{CertStoreError, CertSummary};

/// A certificate the store found but will not select, kept so that "no match" errors can say
/// why a certificate that looks right was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedCert {
    /// The file it came from.
    pub path: PathBuf,
    /// Its names, validity and fingerprints.
    pub summary: CertSummary,
    /// Why it is not a candidate.
    pub reason: SkipReason,
}

impl fmt::Display for SkippedCert {
    /// `CN=x.example in /certs/x.pem was found but has no private key (...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {} was found but {}",
            self.summary.subject,
            self.path.display(),
            self.reason
        )
    }
}

/// Why a found certificate is not a candidate for selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// Neither its own file nor a sibling `<stem>.key` file holds a private key.
    NoPrivateKey,
    /// It is a certificate authority (basicConstraints `CA:TRUE`) issued by another: it signs
    /// server certificates and is used to complete their chains, but is not served itself.
    /// (A self-signed one with its key is served when chosen: see
    /// [`CertSummary::self_signed`].)
    CertificateAuthority,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NoPrivateKey => {
                "has no private key (put the key in the same file or in a sibling <stem>.key file)"
            }
            SkipReason::CertificateAuthority => {
                "is a CA certificate (basicConstraints CA:TRUE), used only to complete chains"
            }
        })
    }
}

/// A directory entry the store did not load, and why: kept so that a server can say which
/// files it left out, and so that a "no match" error can name the files the certificate may
/// be in.
#[derive(Debug)]
#[non_exhaustive]
pub struct SkippedFile {
    /// The entry.
    pub path: PathBuf,
    /// Why it was not loaded.
    pub reason: FileSkipReason,
}

impl SkippedFile {
    /// The error that made the store skip the file, if it was one (rather than a directory or
    /// a file name the store does not read); its `source()` holds the cause.
    pub fn error(&self) -> Option<&CertStoreError> {
        match &self.reason {
            FileSkipReason::Failed(error) => Some(error),
            _ => None,
        }
    }
}

impl Clone for SkippedFile {
    fn clone(&self) -> SkippedFile {
        SkippedFile {
            path: self.path.clone(),
            reason: match &self.reason {
                FileSkipReason::Directory => FileSkipReason::Directory,
                FileSkipReason::OtherFileName => FileSkipReason::OtherFileName,
                FileSkipReason::Failed(error) => FileSkipReason::Failed(error.duplicate()),
            },
        }
    }
}

impl fmt::Display for SkippedFile {
    /// `/certs/sub is a directory (...)`, or the one-line message of the error, which names
    /// the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            FileSkipReason::Failed(error) => write!(f, "{error}"),
            reason => write!(f, "{} {reason}", self.path.display()),
        }
    }
}

/// Why a directory entry was not loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileSkipReason {
    /// A subdirectory: the store reads the files of one directory, not its subdirectories.
    Directory,
    /// A file whose name ends in none of the extensions the store reads (`.pem`, `.crt`,
    /// `.cer`, `.p12`, `.pfx`, and `.key` beside a certificate).
    OtherFileName,
    /// A certificate file that could not be read: unreadable, not a regular file, a dangling
    /// link, truncated, too large, or not a certificate OpenSSL can parse.
    Failed(CertStoreError),
}

impl fmt::Display for FileSkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileSkipReason::Directory => f.write_str(
                "is a directory (the store reads the files of one directory, not its \
                 subdirectories)",
            ),
            FileSkipReason::OtherFileName => f.write_str(
                "is not a certificate file name (.pem, .crt, .cer, .p12, .pfx, or .key beside \
                 a certificate)",
            ),
            FileSkipReason::Failed(error) => write!(f, "{error}"),
        }
    }
}
