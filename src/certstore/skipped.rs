//! Certificates the store found but cannot serve.

use std::fmt;
use std::path::PathBuf;

use super::CertSummary;

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
    /// It is a certificate authority (basicConstraints `CA:TRUE`): it signs server
    /// certificates and is used to complete their chains, but is not served itself.
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
