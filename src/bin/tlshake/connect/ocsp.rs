//! `--status`: the OCSP status the server stapled, in the report.

use serde_json::{json, Value};
use tlshake::client::ocsp::Stapled;

pub(crate) fn to_json(stapled: Option<&Stapled>) -> Value {
    match stapled {
        None => Value::Null,
        Some(Stapled::None) => json!({"stapled": false}),
        Some(Stapled::Response(r)) => json!({
            "stapled": true,
            "status": r.status,
            "this_update": r.this_update,
            "next_update": r.next_update,
            "revocation_time": r.revocation_time,
            "verified": r.verified,
        }),
        Some(Stapled::Unusable { reason }) => json!({"stapled": true, "error": reason}),
        Some(_) => json!({"stapled": true}),
    }
}

pub(crate) fn to_text(stapled: &Stapled) -> String {
    match stapled {
        Stapled::None => "none stapled".to_string(),
        Stapled::Response(r) => {
            let mut text = format!(
                "{}, {} (this update {}",
                r.status,
                if r.verified {
                    "signature verified"
                } else {
                    "NOT verified"
                },
                r.this_update
            );
            if let Some(next) = &r.next_update {
                text.push_str(&format!(", next update {next}"));
            }
            if let Some(revoked) = &r.revocation_time {
                text.push_str(&format!(", revoked {revoked}"));
            }
            text.push(')');
            text
        }
        Stapled::Unusable { reason } => format!("unusable: {reason}"),
        _ => "stapled".to_string(),
    }
}
