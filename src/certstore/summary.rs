//! What a person needs to know about a certificate to recognise it.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use openssl::asn1::Asn1TimeRef;
use openssl::nid::Nid;
use openssl::x509::{X509NameEntryRef, X509NameRef, X509Ref};

use super::basic_constraints::is_ca;
use crate::error_queue::ErrorQueue;
use crate::fingerprint::{DigestKind, Fingerprint};

/// A certificate's names, validity and fingerprints, as text a person can compare with what
/// `openssl x509 -text` or the Windows certificate dialog shows.
///
/// Used by [`CertStore`](super::CertStore) to select and describe certificates, and by the client
/// side to report the peer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CertSummary {
    /// The subject on one line, in certificate order: `CN=localhost, O=Example`.
    pub subject: String,
    /// The issuer, in the same form.
    pub issuer: String,
    /// The subject's common name (the last `CN` entry, the most specific one), if any.
    pub common_name: Option<String>,
    /// The DNS names of the subjectAltName extension (may be wildcards like `*.example.com`).
    pub dns_names: Vec<String>,
    /// The IP addresses of the subjectAltName extension.
    pub ip_addresses: Vec<IpAddr>,
    /// Start of validity, as OpenSSL prints it: `Jan  1 00:00:00 2020 GMT`.
    pub not_before: String,
    /// End of validity, as OpenSSL prints it.
    pub not_after: String,
    /// The SHA-1 fingerprint (the Windows thumbprint).
    pub sha1: Fingerprint,
    /// The SHA-256 fingerprint.
    pub sha256: Fingerprint,
    /// Whether the certificate is a certificate authority (basicConstraints `CA:TRUE`).
    pub is_ca: bool,
    /// Whether its issuer is its own subject
    /// ([X509_NAME_cmp(3)](https://docs.openssl.org/3.0/man3/X509_NAME_cmp/)): a self-signed
    /// certificate, such as `openssl req -x509` makes (OpenSSL 3 marks those `CA:TRUE` too),
    /// or a root CA. The signature is not checked. A client verifies it only if it trusts
    /// this very certificate.
    pub self_signed: bool,
}

impl CertSummary {
    /// Summarises `cert`. Missing parts (no CN, no subjectAltName) are simply absent; only the
    /// digests can fail ([X509_digest(3)](https://docs.openssl.org/3.0/man3/X509_digest/)).
    pub fn from_x509(cert: &X509Ref) -> Result<CertSummary, ErrorQueue> {
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        for name in cert.subject_alt_names().iter().flatten() {
            if let Some(dns) = name.dnsname() {
                dns_names.push(dns.to_owned());
            } else if let Some(ip) = name.ipaddress().and_then(ip_from_bytes) {
                ip_addresses.push(ip);
            }
        }
        Ok(CertSummary {
            subject: one_line(cert.subject_name()),
            issuer: one_line(cert.issuer_name()),
            common_name: cert
                .subject_name()
                .entries_by_nid(Nid::COMMONNAME)
                .last()
                .map(entry_value),
            dns_names,
            ip_addresses,
            not_before: time_text(cert.not_before()),
            not_after: time_text(cert.not_after()),
            sha1: Fingerprint::of(cert, DigestKind::Sha1)?,
            sha256: Fingerprint::of(cert, DigestKind::Sha256)?,
            is_ca: is_ca(cert),
            self_signed: cert
                .subject_name()
                .try_cmp(cert.issuer_name())
                .is_ok_and(|order| order.is_eq()),
        })
    }

    /// Every name the certificate answers to: the common name, the DNS names and the IP
    /// addresses, without duplicates, in that order.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let all = self
            .common_name
            .iter()
            .cloned()
            .chain(self.dns_names.iter().cloned())
            .chain(self.ip_addresses.iter().map(IpAddr::to_string));
        for name in all {
            if !names.iter().any(|known| known.eq_ignore_ascii_case(&name)) {
                names.push(name);
            }
        }
        names
    }
}

/// One certificate among several, described so that a person can pick it by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CandidateInfo {
    /// The subject on one line.
    pub subject: String,
    /// The SHA-1 fingerprint.
    pub sha1: Fingerprint,
    /// The SHA-256 fingerprint.
    pub sha256: Fingerprint,
    /// Start of validity.
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
    /// The file it was loaded from, if any.
    pub path: Option<PathBuf>,
}

impl CandidateInfo {
    /// Describes the certificate of `summary`, loaded from `path`.
    pub fn new(summary: &CertSummary, path: Option<PathBuf>) -> CandidateInfo {
        CandidateInfo {
            subject: summary.subject.clone(),
            sha1: summary.sha1.clone(),
            sha256: summary.sha256.clone(),
            not_before: summary.not_before.clone(),
            not_after: summary.not_after.clone(),
            path,
        }
    }
}

impl fmt::Display for CandidateInfo {
    /// `CN=a.example (SHA-1 AA:..., SHA-256 BB:..., valid Jan ... to Feb ..., file /p/a.pem)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (SHA-1 {}, SHA-256 {}, valid {} to {}",
            self.subject, self.sha1, self.sha256, self.not_before, self.not_after
        )?;
        if let Some(path) = &self.path {
            write!(f, ", file {}", path.display())?;
        }
        f.write_str(")")
    }
}

/// `CN=localhost, O=Example`: short names where OpenSSL knows them, dotted OIDs otherwise, with
/// RFC 4514 special characters backslash-escaped and control characters shown as `\u{..}`.
pub(crate) fn one_line(name: &X509NameRef) -> String {
    let mut text = String::new();
    for (i, entry) in name.entries().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let object = entry.object();
        match object.nid().short_name() {
            Ok(short) if object.nid() != Nid::UNDEF => text.push_str(short),
            _ => {
                let _ = write!(text, "{object}");
            }
        }
        text.push('=');
        for c in entry_value(entry).chars() {
            if c.is_control() {
                text.extend(c.escape_default());
                continue;
            }
            if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
                text.push('\\');
            }
            text.push(c);
        }
    }
    text
}

/// The entry's value as UTF-8; invalid encodings are shown lossily rather than failing.
fn entry_value(entry: &X509NameEntryRef) -> String {
    entry
        .data()
        .to_string()
        .unwrap_or_else(|_| String::from_utf8_lossy(entry.data().as_slice()).into_owned())
}

/// `ASN1_TIME_print` output, or a placeholder for a time OpenSSL cannot print.
pub(crate) fn time_text(time: &Asn1TimeRef) -> String {
    let mut text = String::new();
    if write!(text, "{time}").is_err() || text.is_empty() {
        return "<unprintable time>".to_owned();
    }
    text
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        Some(IpAddr::V4(Ipv4Addr::from(v4)))
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        Some(IpAddr::V6(Ipv6Addr::from(v6)))
    } else {
        None
    }
}
