//! JSON shapes of the report: certificates, verify results, handshake errors.

use openssl::x509::X509Ref;
use serde_json::{json, Value};
use tlshake::certstore::CertSummary;
use tlshake::{HandshakeError, VerifyResult};

/// `{"subject","issuer","san":[..],"not_before","not_after","sha256","sha1"}`, or null when
/// the digests cannot be computed.
pub(crate) fn certificate(cert: &X509Ref) -> Value {
    match CertSummary::from_x509(cert) {
        Ok(s) => {
            let san: Vec<String> = s
                .dns_names
                .iter()
                .cloned()
                .chain(s.ip_addresses.iter().map(ToString::to_string))
                .collect();
            json!({
                "subject": s.subject,
                "issuer": s.issuer,
                "san": san,
                "not_before": s.not_before,
                "not_after": s.not_after,
                "sha256": s.sha256.to_string(),
                "sha1": s.sha1.to_string(),
            })
        }
        Err(_) => Value::Null,
    }
}

/// `{"ok","code","message"}`.
pub(crate) fn verify(v: &VerifyResult) -> Value {
    json!({"ok": v.is_ok(), "code": v.code, "message": v.message})
}

/// `{"ret","ssl_error","reasons","hint","kind","message"}` of a handshake error.
pub(crate) fn handshake_error(e: &HandshakeError) -> Value {
    json!({
        "ret": e.ret(),
        "ssl_error": e.ssl_error().name(),
        "reasons": e.reasons(),
        "hint": e.hint().map(ToString::to_string),
        "kind": e.kind().name(),
        "message": e.to_string(),
    })
}

/// The same shape for an error outside the handshake: `ret` and `ssl_error` null, the
/// message as the only reason.
pub(crate) fn other_error(kind: &str, message: &str) -> Value {
    json!({
        "ret": null,
        "ssl_error": null,
        "reasons": [message],
        "hint": null,
        "kind": kind,
        "message": message,
    })
}
