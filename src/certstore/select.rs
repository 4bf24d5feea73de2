//! Selecting one certificate of a [`CertStore`] by name or fingerprint.

use std::net::IpAddr;

use openssl::asn1::Asn1Time;

use super::candidate::Candidate;
use super::validity::check_validity_at;
use super::{
    name_matches, CandidateInfo, CertStore, CertStoreError, CertSummary, CertifiedKey, SkippedFile,
};
use crate::fingerprint::{DigestKind, Fingerprint};

impl CertStore {
    /// The certificate for host `name`: matched, ASCII case-insensitively, against the subject
    /// CN and the DNS subjectAltNames with [`name_matches`] (wildcards per RFC 6125), and
    /// against the IP subjectAltNames when `name` is an IP address.
    ///
    /// Unless [`CertStore::set_allow_invalid_dates`] is on, certificates outside their validity
    /// dates are left out; if only such certificates match, their
    /// [`CertStoreError::Expired`] / [`CertStoreError::NotYetValid`] is returned. A self-signed
    /// CA certificate matches too (see [`CertStore::load_dir`]), but a leaf certificate that
    /// matches wins over it. The private keys of the matches are read then; a match whose key
    /// cannot be used is left out, and if none is left, the first key error is returned (it
    /// names the file and the cause: [`CertStoreError::KeyPassphrase`],
    /// [`CertStoreError::KeyMismatch`], ...). The same certificate loaded from two files
    /// counts once. Several different matches give [`CertStoreError::Ambiguous`], listing
    /// their fingerprints to select by instead; none gives [`CertStoreError::NoNameMatch`],
    /// listing the names available and the files that could not be read.
    pub fn find_by_name(&self, name: &str) -> Result<&CertifiedKey, CertStoreError> {
        let matches: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|candidate| summary_matches_name(&candidate.summary, name))
            .collect();
        if matches.is_empty() {
            let mut available: Vec<String> = Vec::new();
            for candidate in self.candidates.iter().flat_map(|c| c.summary.names()) {
                if !available.iter().any(|n| n.eq_ignore_ascii_case(&candidate)) {
                    available.push(candidate);
                }
            }
            return Err(CertStoreError::NoNameMatch {
                name: name.to_owned(),
                available,
                unusable: self
                    .skipped
                    .iter()
                    .filter(|s| summary_matches_name(&s.summary, name))
                    .cloned()
                    .collect(),
                unread: self.unread(),
            });
        }
        self.select(matches, name)
    }

    /// The certificate with this fingerprint (SHA-1 thumbprint or SHA-256; MD5 also works).
    ///
    /// Validity dates and the private key are checked as in [`CertStore::find_by_name`]. None
    /// gives [`CertStoreError::NoFingerprintMatch`], listing the fingerprints available and
    /// the files that could not be read.
    pub fn find_by_fingerprint(
        &self,
        fingerprint: &Fingerprint,
    ) -> Result<&CertifiedKey, CertStoreError> {
        let matches: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|candidate| match fingerprint.kind() {
                DigestKind::Md5 => fingerprint.matches(&candidate.cert),
                _ => summary_has_fingerprint(&candidate.summary, fingerprint),
            })
            .collect();
        if matches.is_empty() {
            return Err(CertStoreError::NoFingerprintMatch {
                given: fingerprint.clone(),
                available: self
                    .candidates
                    .iter()
                    .map(|c| CandidateInfo::new(&c.summary, Some(c.path.clone())))
                    .collect(),
                unusable: self
                    .skipped
                    .iter()
                    .filter(|s| summary_has_fingerprint(&s.summary, fingerprint))
                    .cloned()
                    .collect(),
                unread: self.unread(),
            });
        }
        self.select(matches, &fingerprint.to_string())
    }

    /// Parses `text` with [`Fingerprint::parse`] (any pasted form: thumbprint with spaces,
    /// `openssl x509 -fingerprint` output, `sha256:` prefix, ...) and selects by it. A text
    /// that is no fingerprint gives [`CertStoreError::BadFingerprint`], which points at the
    /// offending character.
    pub fn find_by_hash_text(&self, text: &str) -> Result<&CertifiedKey, CertStoreError> {
        let fingerprint = Fingerprint::parse(text)?;
        self.find_by_fingerprint(&fingerprint)
    }

    /// Narrows the matches to valid ones (leaves before self-signed CAs), reads their keys,
    /// and picks the single distinct certificate left.
    fn select<'a>(
        &'a self,
        matches: Vec<&'a Candidate>,
        asked: &str,
    ) -> Result<&'a CertifiedKey, CertStoreError> {
        let mut valid: Vec<&Candidate> = Vec::new();
        let mut first_error = None;
        if self.allow_invalid_dates {
            valid = matches;
        } else {
            let now = Asn1Time::days_from_now(0).map_err(|source| CertStoreError::Inspect {
                what: "read the current time".to_owned(),
                source: source.into(),
            })?;
            for candidate in matches {
                match check_validity_at(&candidate.cert, &now, false) {
                    Ok(()) => valid.push(candidate),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
        }
        if valid.iter().any(|c| !c.summary.is_ca) {
            valid.retain(|c| !c.summary.is_ca);
        }
        let passwords: Vec<&str> = self.passwords.iter().map(String::as_str).collect();
        let mut usable: Vec<&CertifiedKey> = Vec::new();
        let mut key_error = None;
        for candidate in valid {
            match candidate.certified(&passwords) {
                Ok(entry) => {
                    if !usable
                        .iter()
                        .any(|known| known.summary().sha256 == entry.summary().sha256)
                    {
                        usable.push(entry);
                    }
                }
                Err(error) => {
                    key_error.get_or_insert(error);
                }
            }
        }
        match usable.as_slice() {
            [single] => Ok(single),
            [] => Err(key_error
                .or(first_error)
                .unwrap_or_else(|| CertStoreError::NoNameMatch {
                    name: asked.to_owned(),
                    available: Vec::new(),
                    unusable: Vec::new(),
                    unread: Vec::new(),
                })),
            several => Err(CertStoreError::Ambiguous {
                name: asked.to_owned(),
                candidates: several
                    .iter()
                    .map(|e| CandidateInfo::new(e.summary(), e.source().map(Into::into)))
                    .collect(),
            }),
        }
    }

    /// The certificate files that could not be read.
    fn unread(&self) -> Vec<SkippedFile> {
        self.skipped_files
            .iter()
            .filter(|file| file.error().is_some())
            .cloned()
            .collect()
    }
}

fn summary_matches_name(summary: &CertSummary, name: &str) -> bool {
    let by_dns = summary
        .common_name
        .iter()
        .chain(&summary.dns_names)
        .any(|pattern| name_matches(pattern, name));
    by_dns || ip_of(name).is_some_and(|ip| summary.ip_addresses.contains(&ip))
}

fn summary_has_fingerprint(summary: &CertSummary, fingerprint: &Fingerprint) -> bool {
    summary.sha1 == *fingerprint || summary.sha256 == *fingerprint
}

fn ip_of(name: &str) -> Option<IpAddr> {
    let unbracketed = name
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(name);
    unbracketed.parse().ok()
}
