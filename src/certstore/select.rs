//! Selecting one certificate of a [`CertStore`] by name or fingerprint.

use std::net::IpAddr;

use openssl::asn1::Asn1Time;

use super::validity::check_validity_at;
use super::{name_matches, CandidateInfo, CertStore, CertStoreError, CertSummary, CertifiedKey};
use crate::fingerprint::{DigestKind, Fingerprint};

impl CertStore {
    /// The certificate for host `name`: matched, ASCII case-insensitively, against the subject
    /// CN and the DNS subjectAltNames with [`name_matches`] (wildcards per RFC 6125), and
    /// against the IP subjectAltNames when `name` is an IP address.
    ///
    /// Unless [`CertStore::set_allow_invalid_dates`] is on, certificates outside their validity
    /// dates are left out; if only such certificates match, their
    /// [`CertStoreError::Expired`] / [`CertStoreError::NotYetValid`] is returned. The same
    /// certificate loaded from two files counts once. Several different matches give
    /// [`CertStoreError::Ambiguous`], listing their fingerprints to select by instead; none gives
    /// [`CertStoreError::NoNameMatch`], listing the names available.
    pub fn find_by_name(&self, name: &str) -> Result<&CertifiedKey, CertStoreError> {
        let matches: Vec<&CertifiedKey> = self
            .entries
            .iter()
            .filter(|entry| summary_matches_name(entry.summary(), name))
            .collect();
        if matches.is_empty() {
            let mut available: Vec<String> = Vec::new();
            for candidate in self.entries.iter().flat_map(|e| e.summary().names()) {
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
            });
        }
        self.select(matches, name)
    }

    /// The certificate with this fingerprint (SHA-1 thumbprint or SHA-256; MD5 also works).
    ///
    /// Validity dates are checked as in [`CertStore::find_by_name`]. None gives
    /// [`CertStoreError::NoFingerprintMatch`], listing the fingerprints available.
    pub fn find_by_fingerprint(
        &self,
        fingerprint: &Fingerprint,
    ) -> Result<&CertifiedKey, CertStoreError> {
        let matches: Vec<&CertifiedKey> = self
            .entries
            .iter()
            .filter(|entry| match fingerprint.kind() {
                DigestKind::Md5 => fingerprint.matches(entry.cert()),
                _ => summary_has_fingerprint(entry.summary(), fingerprint),
            })
            .collect();
        if matches.is_empty() {
            return Err(CertStoreError::NoFingerprintMatch {
                given: fingerprint.clone(),
                available: self
                    .entries
                    .iter()
                    .map(|e| CandidateInfo::new(e.summary(), e.source().map(Into::into)))
                    .collect(),
                unusable: self
                    .skipped
                    .iter()
                    .filter(|s| summary_has_fingerprint(&s.summary, fingerprint))
                    .cloned()
                    .collect(),
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

    /// Narrows the matches to valid ones, one per distinct certificate, and picks the single
    /// one left.
    fn select<'a>(
        &'a self,
        matches: Vec<&'a CertifiedKey>,
        asked: &str,
    ) -> Result<&'a CertifiedKey, CertStoreError> {
        let mut distinct: Vec<&CertifiedKey> = Vec::new();
        for entry in matches {
            if !distinct
                .iter()
                .any(|known| known.summary().sha256 == entry.summary().sha256)
            {
                distinct.push(entry);
            }
        }
        let mut usable = Vec::new();
        let mut first_error = None;
        if self.allow_invalid_dates {
            usable = distinct;
        } else {
            let now = Asn1Time::days_from_now(0).map_err(|source| CertStoreError::Inspect {
                what: "read the current time".to_owned(),
                source: source.into(),
            })?;
            for entry in distinct {
                match check_validity_at(entry.cert(), &now, false) {
                    Ok(()) => usable.push(entry),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
        }
        match usable.as_slice() {
            [single] => Ok(single),
            [] => Err(first_error.unwrap_or_else(|| CertStoreError::NoNameMatch {
                name: asked.to_owned(),
                available: Vec::new(),
                unusable: Vec::new(),
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
