//! The report of `tlshake connect`: one typed value of what happened, filled in as the
//! connection goes, from which both the JSON (serde) and the text
//! ([`report_text`](super::report_text)) are written.

use serde::{Serialize, Serializer};
use tlshake::client::ocsp::Stapled;
use tlshake::ech::EchInfo;
use tlshake::trace::TraceEvent;

use super::sessions::Attempt;
use crate::facts::{self, Certificate, ErrorFacts, Verify};
use crate::negotiated::Negotiated;
use crate::report::{self, Outcome};

/// Everything the report says. Its JSON is one object with these fields (and the negotiated
/// facts beside them), its keys in alphabetical order.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub(super) outcome: Outcome,
    /// The URL as given (capped), or null for a command line that could not be parsed.
    pub(super) url: Option<String>,
    pub(super) peer: Option<String>,
    pub(super) protocol: Option<String>,
    pub(super) cipher: Option<String>,
    pub(super) alpn: Option<String>,
    pub(super) sni: Option<String>,
    pub(super) resumed: bool,
    /// The group, the peer's signature and key, once the handshake is done.
    #[serde(flatten, serialize_with = "Negotiated::serialize_fields")]
    pub(super) negotiated: Option<Negotiated>,
    pub(super) verify: Option<Verify>,
    pub(super) peer_certificate: Option<Certificate>,
    /// With --showcerts: the chain the server sent, as PEM (null without).
    pub(super) chain_pem: Option<Vec<String>>,
    pub(super) timings_ms: Timings,
    pub(super) retries: Option<Retries>,
    /// DTLS: how many times the handshake's last flight was sent again (null for TLS).
    pub(super) retransmissions: Option<u32>,
    /// DTLS: the SRTP profile negotiated, with --srtp.
    pub(super) srtp_profile: Option<String>,
    pub(super) error: Option<ErrorFacts>,
    /// The same error as the text's `error:` line says it: its whole chain (for a failed
    /// handshake, the connection's words before the story `error.message` tells).
    #[serde(skip)]
    pub(super) error_text: Option<String>,
    /// With --send: what came back.
    pub(super) response: Option<String>,
    /// With --sess-out or --reconnect: whether the server gave a resumable session.
    pub(super) session_saved: Option<bool>,
    /// With --status: what the server stapled.
    #[serde(serialize_with = "stapled")]
    pub(super) ocsp: Option<Stapled>,
    /// With --trace: the first connection's messages.
    #[serde(serialize_with = "messages")]
    pub(super) trace: Option<Vec<TraceEvent>>,
    /// What became of Encrypted Client Hello.
    #[serde(serialize_with = "ech")]
    pub(super) ech: Option<EchInfo>,
    /// With --reconnect: the connections after the first.
    pub(super) reconnects: Vec<Attempt>,
}

/// `{"connect","starttls","handshake"}`: milliseconds of each step, null for a step not taken
/// or not finished.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(super) struct Timings {
    pub(super) connect: Option<f64>,
    pub(super) starttls: Option<f64>,
    pub(super) handshake: Option<f64>,
}

/// `{"want_read","want_write"}`: how often the handshake waited for the socket.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Retries {
    pub(super) want_read: u32,
    pub(super) want_write: u32,
}

impl Report {
    /// A report of nothing yet, that fails unless told otherwise.
    pub(super) fn new(url: Option<&str>, showcerts: bool) -> Report {
        Report {
            outcome: Outcome::Failed,
            url: url.map(report::capped),
            peer: None,
            protocol: None,
            cipher: None,
            alpn: None,
            sni: None,
            resumed: false,
            negotiated: None,
            verify: None,
            peer_certificate: None,
            chain_pem: showcerts.then(Vec::new),
            timings_ms: Timings::default(),
            retries: None,
            retransmissions: None,
            srtp_profile: None,
            error: None,
            error_text: None,
            response: None,
            session_saved: None,
            ocsp: None,
            trace: None,
            ech: None,
            reconnects: Vec::new(),
        }
    }

    /// The JSON object, on one line. Through `serde_json::Value`, whose map keeps its keys
    /// in alphabetical order (which cannot fail: every key is a string).
    pub(super) fn to_json(&self) -> String {
        serde_json::to_value(self)
            .unwrap_or(serde_json::Value::Null)
            .to_string()
    }

    /// Writes the report on stdout: JSON or text.
    pub(super) fn emit(&self, as_json: bool) {
        if as_json {
            report::emit(&format!("{}\n", self.to_json()));
        } else {
            report::emit(&self.to_text());
        }
    }
}

/// `ocsp`: the stapled status in JSON ([`crate::connect::ocsp::to_json`]).
fn stapled<S: Serializer>(stapled: &Option<Stapled>, s: S) -> Result<S::Ok, S::Error> {
    super::ocsp::to_json(stapled.as_ref()).serialize(s)
}

/// `ech`: Encrypted Client Hello in JSON ([`facts::ech`]).
fn ech<S: Serializer>(info: &Option<EchInfo>, s: S) -> Result<S::Ok, S::Error> {
    info.as_ref().map(facts::ech).serialize(s)
}

/// `trace`: the messages in JSON ([`crate::trace::to_json`]).
fn messages<S: Serializer>(events: &Option<Vec<TraceEvent>>, s: S) -> Result<S::Ok, S::Error> {
    events.as_deref().map(crate::trace::to_json).serialize(s)
}
