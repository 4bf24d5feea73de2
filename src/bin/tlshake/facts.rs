//! What the reports of `connect` and `serve` say about a certificate, a verify result and an
//! error: typed values, written as JSON by serde and as text by each report.

use openssl::x509::X509Ref;
use serde::Serialize;
use tlshake::certstore::CertSummary;
use tlshake::ech::EchInfo;
use tlshake::{HandshakeError, VerifyResult};

use crate::report;

/// A certificate: `{"subject","issuer","san":[..],"not_before","not_after","sha256","sha1"}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Certificate {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    /// The DNS names, then the IP addresses.
    pub(crate) san: Vec<String>,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    pub(crate) sha256: String,
    pub(crate) sha1: String,
}

/// The certificate's facts, or `None` when its digests cannot be computed (null in JSON).
pub(crate) fn certificate(cert: &X509Ref) -> Option<Certificate> {
    let s = CertSummary::from_x509(cert).ok()?;
    let san: Vec<String> = s
        .dns_names
        .iter()
        .cloned()
        .chain(s.ip_addresses.iter().map(ToString::to_string))
        .collect();
    Some(Certificate {
        subject: s.subject,
        issuer: s.issuer,
        san,
        not_before: s.not_before,
        not_after: s.not_after,
        sha256: s.sha256.to_string(),
        sha1: s.sha1.to_string(),
    })
}

/// Encrypted Client Hello: `{"status","code","inner","outer","retry_configs",
/// "retry_public_names"}`. `retry_configs` is the base64 of the list the server sent back
/// (for `--ech-config`), null when it sent none.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Ech {
    pub(crate) status: &'static str,
    pub(crate) code: i32,
    pub(crate) inner: Option<String>,
    pub(crate) outer: Option<String>,
    pub(crate) retry_configs: Option<String>,
    pub(crate) retry_public_names: Vec<String>,
}

pub(crate) fn ech(e: &EchInfo) -> Ech {
    let retry = e.retry_config_list();
    let names: Vec<String> = match &retry {
        Some(Ok(list)) => list
            .public_names()
            .into_iter()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ech {
        status: e.status.name(),
        code: e.code,
        inner: e.inner_name.clone(),
        outer: e.outer_name.clone(),
        retry_configs: match retry {
            Some(Ok(list)) => Some(list.to_base64()),
            _ => None,
        },
        retry_public_names: names,
    }
}

/// A verify result: `{"ok","code","message"}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Verify {
    pub(crate) ok: bool,
    pub(crate) code: i32,
    pub(crate) message: String,
}

pub(crate) fn verify(v: &VerifyResult) -> Verify {
    Verify {
        ok: v.is_ok(),
        code: v.code,
        message: v.message.clone(),
    }
}

/// An error: `{"ret","ssl_error","reasons","hint","advice","kind","message"}`, and `"during"`
/// (`"write"` or `"read"`) for an error of `--send` after the handshake.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorFacts {
    /// What `SSL_connect` / `SSL_accept` returned, for a handshake error.
    pub(crate) ret: Option<i32>,
    /// The `SSL_get_error` code's name.
    pub(crate) ssl_error: Option<String>,
    /// OpenSSL's reasons, or the message as the only reason.
    pub(crate) reasons: Vec<String>,
    /// The hint, its advice named by flags.
    pub(crate) hint: Option<String>,
    /// The flags the hint advises.
    pub(crate) advice: Vec<&'static str>,
    pub(crate) kind: &'static str,
    /// The whole story: the error with its causes (and hint), said with flags.
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) during: Option<&'static str>,
}

/// A handshake error: the hint and the message name the flags that change what the hint
/// advises, and `advice` lists those flags.
pub(crate) fn handshake_error(e: &HandshakeError) -> ErrorFacts {
    ErrorFacts {
        ret: Some(e.ret()),
        ssl_error: Some(e.ssl_error().name().to_string()),
        reasons: e.reasons().into_iter().map(str::to_string).collect(),
        hint: e.hint().map(report::hint_text),
        advice: report::advice_flags(e.hint()),
        kind: e.kind().name(),
        message: report::whole(e),
        during: None,
    }
}

/// The same shape for an error outside the handshake: `ret` and `ssl_error` null, the
/// message as the only reason.
pub(crate) fn other_error(kind: &'static str, message: &str) -> ErrorFacts {
    ErrorFacts {
        ret: None,
        ssl_error: None,
        reasons: vec![message.to_string()],
        hint: None,
        advice: Vec::new(),
        kind,
        message: message.to_string(),
        during: None,
    }
}
