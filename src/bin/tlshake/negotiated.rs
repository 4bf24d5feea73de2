//! What a handshake negotiated, as `openssl s_client` tells it (the key-exchange group, the
//! peer's signature, the peer's key), in the reports of `connect` and `serve`: the JSON and
//! the text are written from the same values.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;
use tlshake::library;
use tlshake::SessionInfo;
use tlshake::{Fact, PeerKey, PeerSignature};

/// The negotiated facts of one session.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    group: Fact<String>,
    post_quantum: Option<bool>,
    peer_signature: Fact<PeerSignature>,
    peer_key: Fact<PeerKey>,
}

impl Negotiated {
    pub(crate) fn of(s: &SessionInfo) -> Negotiated {
        Negotiated {
            group: s.group.clone(),
            post_quantum: s.post_quantum(),
            peer_signature: s.peer_signature.clone(),
            peer_key: s.peer_key.clone(),
        }
    }

    /// Sets the fields of [`Fields`] in the JSON object `report`.
    pub(crate) fn put_json(this: Option<&Negotiated>, report: &mut Value) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(Fields::of(this)) {
            for (name, value) in fields {
                report[name] = value;
            }
        }
    }

    /// Writes `this` as the fields of [`Fields`], for `#[serde(flatten, serialize_with)]`
    /// in a report.
    pub(crate) fn serialize_fields<S: Serializer>(
        this: &Option<Negotiated>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Fields::of(this.as_ref()).serialize(s)
    }

    /// The key-exchange group: `X25519MLKEM768 (post-quantum)`, `x25519`, or why none.
    pub(crate) fn group_text(&self) -> String {
        match (&self.group, self.post_quantum) {
            (Fact::Known(name), Some(true)) => format!("{name} (post-quantum)"),
            (Fact::Known(name), _) => name.clone(),
            (Fact::Resumed, _) => "none: the session was resumed, without a key exchange".into(),
            (other, _) => why_none(other),
        }
    }

    /// The peer's signature: `ecdsa_secp256r1_sha256 (ECDSA, SHA256)`; before OpenSSL 3.5,
    /// `ECDSA, SHA256` and why the scheme is not named.
    pub(crate) fn signature_text(&self) -> String {
        let sig = match &self.peer_signature {
            Fact::Known(sig) => sig,
            Fact::Resumed => return "none: the session was resumed, without a signature".into(),
            other => return why_none(other),
        };
        let mut parts = vec![sig.algorithm.clone()];
        parts.extend(sig.digest.clone());
        let parts = parts.join(", ");
        match &sig.scheme {
            Fact::Known(scheme) => format!("{scheme} ({parts})"),
            other => format!("{parts} (scheme: {})", why_none(other)),
        }
    }

    /// The peer's key: `EC 256 bits (prime256v1)`, `RSA 2048 bits`, or why none.
    pub(crate) fn key_text(&self) -> String {
        match &self.peer_key {
            Fact::Known(key) => match &key.group {
                Some(group) => format!("{} {} bits ({group})", key.algorithm, key.bits),
                None => format!("{} {} bits", key.algorithm, key.bits),
            },
            other => why_none(other),
        }
    }
}

/// The negotiated facts in a report's JSON: `group`, `post_quantum`, `peer_signature`,
/// `peer_key` and `missing` (each fact that is null, with why: `"resumed"`, `"absent"`,
/// `"needs OpenSSL 3.5"`). With no session, all null and nothing missing.
#[derive(Debug, Serialize)]
struct Fields<'a> {
    group: Option<&'a String>,
    post_quantum: Option<bool>,
    peer_signature: Option<Signature<'a>>,
    peer_key: Option<Key<'a>>,
    missing: BTreeMap<&'static str, String>,
}

/// `{"scheme","algorithm","digest"}`.
#[derive(Debug, Serialize)]
struct Signature<'a> {
    scheme: Option<&'a String>,
    algorithm: &'a String,
    digest: &'a Option<String>,
}

/// `{"algorithm","bits","group"}`.
#[derive(Debug, Serialize)]
struct Key<'a> {
    algorithm: &'a String,
    bits: u32,
    group: &'a Option<String>,
}

impl<'a> Fields<'a> {
    fn of(this: Option<&'a Negotiated>) -> Fields<'a> {
        let Some(n) = this else {
            return Fields {
                group: None,
                post_quantum: None,
                peer_signature: None,
                peer_key: None,
                missing: BTreeMap::new(),
            };
        };
        let mut missing = BTreeMap::new();
        let mut note = |name: &'static str, reason: Option<String>| {
            if let Some(reason) = reason {
                missing.insert(name, reason);
            }
        };
        note("group", n.group.missing_reason());
        note("peer_signature", n.peer_signature.missing_reason());
        note("peer_key", n.peer_key.missing_reason());
        let peer_signature = n.peer_signature.known().map(|sig| {
            note("peer_signature.scheme", sig.scheme.missing_reason());
            Signature {
                scheme: sig.scheme.known(),
                algorithm: &sig.algorithm,
                digest: &sig.digest,
            }
        });
        Fields {
            group: n.group.known(),
            post_quantum: n.post_quantum,
            peer_signature,
            peer_key: n.peer_key.known().map(|key: &PeerKey| Key {
                algorithm: &key.algorithm,
                bits: key.bits,
                group: &key.group,
            }),
            missing,
        }
    }
}

/// A missing fact in words.
fn why_none<T>(fact: &Fact<T>) -> String {
    match fact {
        Fact::NeedsNewerOpenssl { since } => format!(
            "not reported by OpenSSL {}; {} or newer reports it",
            library::running(),
            since.line()
        ),
        Fact::Resumed => "none: the session was resumed".into(),
        _ => "none".into(),
    }
}
