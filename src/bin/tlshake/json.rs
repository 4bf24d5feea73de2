//! JSON shapes of the report: certificates, verify results, handshake errors.

use openssl::x509::X509Ref;
use serde_json::{json, Value};
use tlshake::certstore::CertSummary;
use tlshake::{HandshakeError, VerifyResult};

use crate::connect::SendStep;
use crate::report;

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

/// `{"ret","ssl_error","reasons","hint","advice","kind","message"}` of a handshake error:
/// the hint and the message name the flags that change what the hint advises, and `advice`
/// lists those flags.
pub(crate) fn handshake_error(e: &HandshakeError) -> Value {
    json!({
        "ret": e.ret(),
        "ssl_error": e.ssl_error().name(),
        "reasons": e.reasons(),
        "hint": e.hint().map(report::hint_text),
        "advice": report::advice_flags(e.hint()),
        "kind": e.kind().name(),
        "message": report::whole(e),
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
        "advice": [],
        "kind": kind,
        "message": message,
    })
}

/// The error of a `--send` write or read after the handshake, and its hint, in the shape of
/// [`handshake_error`] with `"during"` added (`"write"` or `"read"`).
///
/// A typed error of the crate inside the `io::Error` ([`HandshakeError`]) is reported whole,
/// with its hint; an OpenSSL error (`SSL_ERROR_SSL`, an alert from the peer) gives its
/// queue's reasons and `kind: "protocol"`; an operating-system error gives `kind: "io"`.
pub(crate) fn stream_error(step: SendStep, e: &std::io::Error) -> (Value, Option<String>) {
    let during = match step {
        SendStep::Write => "write",
        SendStep::Read => "read",
    };
    let what = match step {
        SendStep::Write => "writing --send after the handshake failed",
        SendStep::Read => "reading the answer to --send failed",
    };
    let inner = e.get_ref();
    if let Some(h) = inner.and_then(|i| i.downcast_ref::<HandshakeError>()) {
        let mut v = handshake_error(h);
        v["message"] = format!("{what}: {}", report::whole(h)).into();
        v["during"] = during.into();
        return (v, h.hint().map(report::hint_text));
    }
    if let Some(tls) = tlshake::StreamError::from_io(e) {
        let reasons: Vec<&str> = tls.reasons();
        let shown = if reasons.is_empty() {
            tls.to_string()
        } else {
            reasons.join("; ")
        };
        let hint = tls.hint().map(report::hint_text);
        let v = json!({
            "ret": null,
            "ssl_error": "SSL_ERROR_SSL",
            "reasons": reasons,
            "hint": hint,
            "advice": report::advice_flags(tls.hint()),
            "kind": "protocol",
            "message": format!("{what}: {shown}"),
            "during": during,
        });
        return (v, hint);
    }
    if let Some(ssl) = inner.and_then(|i| i.downcast_ref::<openssl::ssl::Error>()) {
        let reasons: Vec<String> = ssl
            .ssl_error()
            .map(|stack| {
                stack
                    .errors()
                    .iter()
                    .map(|x| {
                        x.reason()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let shown = if reasons.is_empty() {
            ssl.to_string()
        } else {
            reasons.join("; ")
        };
        let v = json!({
            "ret": null,
            "ssl_error": format!("{:?}", ssl.code()),
            "reasons": if reasons.is_empty() { vec![shown.clone()] } else { reasons },
            "hint": null,
            "advice": [],
            "kind": "protocol",
            "message": format!("{what}: {shown}"),
            "during": during,
        });
        return (v, None);
    }
    let mut v = other_error("io", &e.to_string());
    v["message"] = format!("{what}: {e}").into();
    v["during"] = during.into();
    (v, None)
}
