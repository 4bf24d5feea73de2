//! Loading a directory of certificates into a [`CertStore`].

use std::fs;
use std::path::{Path, PathBuf};

use openssl::x509::{X509Ref, X509VerifyResult, X509};

use super::files::{has_private_key, parse_certificates, parse_private_key_with, read};
use super::{CertStoreError, CertSummary, CertifiedKey, SkipReason, SkippedCert};

/// Longest chain the store builds from its CA certificates.
const MAX_CHAIN: usize = 8;

/// Server certificates to choose from, like the Windows certificate store behind WinDev's
/// `SocketCreateSSL`: load a directory once, then select by host name
/// ([`CertStore::find_by_name`]) or by fingerprint ([`CertStore::find_by_fingerprint`],
/// [`CertStore::find_by_hash_text`]).
///
/// Selection refuses certificates outside their validity dates unless
/// [`CertStore::set_allow_invalid_dates`] says otherwise.
#[derive(Debug, Clone, Default)]
pub struct CertStore {
    pub(super) entries: Vec<CertifiedKey>,
    pub(super) authorities: Vec<X509>,
    pub(super) skipped: Vec<SkippedCert>,
    pub(super) allow_invalid_dates: bool,
}

impl CertStore {
    /// Loads every certificate of `dir` (not its subdirectories), in file name order:
    ///
    /// - `*.pem`, `*.crt`, `*.cer`: the first certificate is the leaf, the others its chain
    ///   (PEM; a DER file holds one certificate). The private key is either in the same file
    ///   or in a sibling `<stem>.key` (`server.crt` + `server.key`). PEM files without a
    ///   certificate (a key on its own) are ignored.
    /// - `*.p12`, `*.pfx`: PKCS#12 archives, opened with the first of `passwords` that works.
    /// - `*.key` on their own and every other file are ignored.
    ///
    /// `passwords` are also tried, in order, on encrypted private keys; with no passwords,
    /// encrypted keys fail with [`CertStoreError::KeyPassphrase`].
    ///
    /// A certificate without a private key, or a CA certificate (basicConstraints `CA:TRUE`), is
    /// not a candidate: it is listed by [`CertStore::skipped`] (and named in "no match" errors),
    /// and CA certificates complete the chains of leaves loaded without one.
    ///
    /// A directory that cannot be listed gives [`CertStoreError::Unreadable`]; a file that is
    /// broken (unreadable, unparsable, wrong password, key not matching) fails the whole load
    /// with an error naming it, so that a server never starts with half its certificates.
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

        let mut store = CertStore::default();
        for path in paths.iter().filter(|path| path.is_file()) {
            match extension(path).as_deref() {
                Some("pem" | "crt" | "cer") => store.load_certificate_file(path, passwords)?,
                Some("p12" | "pfx") => {
                    let entry = CertifiedKey::from_pkcs12_passwords(path, passwords)?;
                    store.add(entry);
                }
                _ => {}
            }
        }
        store.complete_chains();
        Ok(store)
    }

    /// The certificates selection chooses from.
    pub fn entries(&self) -> &[CertifiedKey] {
        &self.entries
    }

    /// The CA certificates found (from CA files and from chains), used to complete chains.
    pub fn authorities(&self) -> &[X509] {
        &self.authorities
    }

    /// Certificates found but not selectable, with the reason.
    pub fn skipped(&self) -> &[SkippedCert] {
        &self.skipped
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

    fn load_certificate_file(
        &mut self,
        path: &Path,
        passwords: &[&str],
    ) -> Result<(), CertStoreError> {
        let bytes = read(path)?;
        let mut certs = parse_certificates(path, &bytes)?.into_iter();
        let Some(leaf) = certs.next() else {
            return Ok(());
        };
        let chain: Vec<X509> = certs.collect();
        let key = if has_private_key(&bytes) {
            Some((
                parse_private_key_with(path, &bytes, passwords)?,
                path.to_owned(),
            ))
        } else {
            let sibling = path.with_extension("key");
            if sibling.is_file() {
                let key_bytes = read(&sibling)?;
                Some((
                    parse_private_key_with(&sibling, &key_bytes, passwords)?,
                    sibling,
                ))
            } else {
                None
            }
        };
        match key {
            Some((key, key_path)) => {
                let entry = CertifiedKey::assemble(
                    leaf,
                    chain,
                    key,
                    Some(path.to_owned()),
                    Some(key_path),
                )?;
                self.add(entry);
            }
            None => {
                let summary = summarize(&leaf, path)?;
                let reason = if summary.is_ca {
                    self.authorities.push(leaf);
                    SkipReason::CertificateAuthority
                } else {
                    SkipReason::NoPrivateKey
                };
                self.skip(path.to_owned(), summary, reason);
                self.authorities.extend(chain);
            }
        }
        Ok(())
    }

    /// Adds a loaded pair: a candidate, unless it is a CA certificate.
    fn add(&mut self, entry: CertifiedKey) {
        if entry.summary().is_ca {
            let path = entry.source().map(Path::to_owned).unwrap_or_default();
            self.skip(
                path,
                entry.summary().clone(),
                SkipReason::CertificateAuthority,
            );
            self.authorities.push(entry.cert().to_owned());
        } else {
            self.entries.push(entry);
        }
    }

    fn skip(&mut self, path: PathBuf, summary: CertSummary, reason: SkipReason) {
        self.skipped.push(SkippedCert {
            path,
            summary,
            reason,
        });
    }

    /// Gives each leaf loaded without a chain the intermediates found among the CA
    /// certificates, up to (not including) a self-signed root.
    fn complete_chains(&mut self) {
        for entry in self.entries.iter_mut().filter(|e| e.chain().is_empty()) {
            let mut chain: Vec<X509> = Vec::new();
            let mut current: X509 = entry.cert().to_owned();
            while chain.len() < MAX_CHAIN {
                let Some(issuer) = self.authorities.iter().find(|ca| issued(ca, &current)) else {
                    break;
                };
                if issued(issuer, issuer) || chain.iter().any(|c| c == issuer) {
                    break;
                }
                chain.push(issuer.clone());
                current = issuer.clone();
            }
            entry.set_chain(chain);
        }
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
