//! Everything that can go wrong while loading or selecting a certificate.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::{CandidateInfo, SkippedCert};
use crate::error_queue::ErrorQueue;
use crate::fingerprint::{Fingerprint, FingerprintError};

/// Why a certificate could not be loaded or selected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertStoreError {
    /// The certificate directory could not be listed.
    #[error(
        "cannot read certificate directory {}: {source}; check that it exists, is a directory \
         and is readable",
        path.display()
    )]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A certificate, key or PKCS#12 file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The file holds no certificate at all.
    #[error(
        "{} holds no certificate: expected PEM `-----BEGIN CERTIFICATE-----` blocks (leaf first, \
         then its chain) or one DER certificate",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// OpenSSL could not parse a certificate in the file.
    #[error("cannot parse the certificate in {}", path.display())]
    CertificateParse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The key file holds no private key OpenSSL can read.
    #[error(
        "cannot read a private key from {}: expected a PEM `PRIVATE KEY` block (PKCS#8, or \
         traditional RSA/EC)",
        path.display()
    )]
    KeyParse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The key file holds no private key block.
    #[error(
        "{} holds no private key: expected a PEM `-----BEGIN PRIVATE KEY-----` block (or \
         `ENCRYPTED PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`)",
        path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key is encrypted and the passphrase is missing or wrong.
    #[error(
        "the private key in {} is encrypted and {}",
        path.display(),
        if *passphrase_given {
            "the passphrase given does not decrypt it; check the passphrase"
        } else {
            "no passphrase was given; supply its passphrase"
        }
    )]
    KeyPassphrase {
        /// The key file.
        path: PathBuf,
        /// Whether a passphrase was tried at all.
        passphrase_given: bool,
    },
    /// The private key does not belong to the certificate.
    #[error(
        "the private key from {} does not belong to the certificate {subject} from {}; pair \
         each certificate with the key it was issued for",
        show(key.as_deref()),
        show(cert.as_deref())
    )]
    KeyMismatch {
        /// Where the certificate came from (`None`: built in memory).
        cert: Option<PathBuf>,
        /// Where the key came from (`None`: built in memory).
        key: Option<PathBuf>,
        /// The certificate's subject.
        subject: String,
    },
    /// The file is not a PKCS#12 archive OpenSSL can read.
    #[error(
        "cannot read PKCS#12 file {}{}",
        path.display(),
        legacy_hint(source)
    )]
    Pkcs12Parse {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// No password given opens the PKCS#12 archive (its MAC does not verify).
    #[error(
        "wrong password for PKCS#12 file {}: none of the passwords given opens it; supply the \
         password it was exported with",
        path.display()
    )]
    Pkcs12Password {
        /// The file.
        path: PathBuf,
    },
    /// The PKCS#12 archive opened, but lacks the certificate or the private key.
    #[error(
        "PKCS#12 file {} has no {missing}; export it again with the certificate and its \
         private key",
        path.display()
    )]
    Pkcs12Incomplete {
        /// The file.
        path: PathBuf,
        /// What is missing: `"certificate"` or `"private key"`.
        missing: &'static str,
    },
    /// OpenSSL failed while computing a digest or comparing times.
    #[error("cannot {what}")]
    Inspect {
        /// What was being done.
        what: String,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The certificate's validity ended before now.
    #[error(
        "certificate {subject} expired on {not_after} (valid from {not_before} to {not_after}, \
         now {now}); renew it, or set allow_invalid_dates to use it anyway"
    )]
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
    #[error(
        "certificate {subject} is not valid before {not_before} (valid from {not_before} to \
         {not_after}, now {now}); check the system clock, or set allow_invalid_dates to use it \
         anyway"
    )]
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
    #[error(
        "{} certificates match {name:?}; select one by fingerprint instead:{}",
        candidates.len(),
        list(candidates)
    )]
    Ambiguous {
        /// The name asked for.
        name: String,
        /// The matching certificates.
        candidates: Vec<CandidateInfo>,
    },
    /// No usable certificate matches the name.
    #[error(
        "no certificate in the store matches {name:?}; {}{}",
        names(available),
        list(unusable)
    )]
    NoNameMatch {
        /// The name asked for.
        name: String,
        /// Every name the usable certificates answer to.
        available: Vec<String>,
        /// Certificates that match but cannot be used (no private key, CA certificate).
        unusable: Vec<SkippedCert>,
    },
    /// No usable certificate has the fingerprint.
    #[error(
        "no certificate in the store has the {} fingerprint {given}; {}{}",
        given.kind(),
        fingerprints(available),
        list(unusable)
    )]
    NoFingerprintMatch {
        /// The fingerprint asked for.
        given: Fingerprint,
        /// The usable certificates.
        available: Vec<CandidateInfo>,
        /// Certificates that match but cannot be used (no private key, CA certificate).
        unusable: Vec<SkippedCert>,
    },
    /// The fingerprint text could not be parsed.
    #[error(transparent)]
    BadFingerprint(#[from] FingerprintError),
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
