//! The report of a connection that failed, and its outcome, by what failed: the handshake,
//! STARTTLS, the connect, the proxy or the input.

use tlshake::client::ConnectError;

use super::report::Report;
use crate::facts::{self, ErrorFacts};
use crate::report::{self, ms, Outcome};

impl Report {
    /// Fills in what is known of the failed connection and the error, and gives the outcome.
    pub(super) fn failure(&mut self, e: &ConnectError) -> Outcome {
        self.error_text = Some(report::chain(e));
        self.retransmissions = e.handshake_error().and_then(|h| h.retransmissions());
        match e {
            ConnectError::Handshake {
                peer,
                connect_time,
                starttls_time,
                sni,
                source,
                ..
            } => {
                self.peer = Some(peer.to_string());
                self.sni = sni.clone();
                self.ech = source.ech().cloned();
                self.timings_ms.connect = connect_time.map(ms);
                self.timings_ms.starttls = starttls_time.map(ms);
                self.timings_ms.handshake = source.elapsed().map(ms);
                self.verify = source.verify().map(facts::verify);
                self.peer_certificate = source.peer_certificate().and_then(facts::certificate);
                self.error = Some(facts::handshake_error(source));
                if source.is_timeout() {
                    Outcome::Timeout
                } else if source.is_controlled_shutdown() {
                    Outcome::Shutdown
                } else {
                    Outcome::Failed
                }
            }
            ConnectError::Url(_)
            | ConnectError::Config(_)
            | ConnectError::SchemeRefused { .. }
            | ConnectError::TlsOverUdp
            | ConnectError::DtlsUrl { .. }
            | ConnectError::NotDtls { .. }
            | ConnectError::Dtls(_)
            | ConnectError::NotTls { .. } => {
                self.error = Some(facts::other_error("bad_input", &report::chain(e)));
                report::bad_input("refused", report::chain(e))
            }
            ConnectError::Starttls {
                peer,
                connect_time,
                source,
                ..
            } => {
                self.peer = Some(peer.to_string());
                self.timings_ms.connect = connect_time.map(ms);
                self.error = Some(ErrorFacts {
                    hint: source
                        .advice()
                        .map(|text| report::flags_for(&text, &source.advised())),
                    advice: source.advised().into_iter().map(report::flag).collect(),
                    ..facts::other_error("starttls", &report::chain(e))
                });
                if e.is_timeout() {
                    Outcome::Timeout
                } else {
                    Outcome::ConnectFailed
                }
            }
            ConnectError::ResetAfterAccept {
                peer, connect_time, ..
            } => {
                // The same event as a reset at the first handshake write: reported as a
                // failed handshake whichever of the two the reset raced.
                self.peer = Some(peer.to_string());
                self.timings_ms.connect = Some(ms(*connect_time));
                self.error = Some(facts::other_error("io", &report::chain(e)));
                Outcome::Failed
            }
            ConnectError::ConnectTimeout { .. } => {
                self.error = Some(facts::other_error("connect_timeout", &report::chain(e)));
                Outcome::Timeout
            }
            ConnectError::ResolveTimeout { .. } => {
                self.error = Some(facts::other_error("resolve_timeout", &report::chain(e)));
                Outcome::Timeout
            }
            ConnectError::Proxy { source, .. } => {
                self.error = Some(facts::other_error("proxy", &report::chain(e)));
                if matches!(source, tlshake::client::ProxyError::Timeout) {
                    Outcome::Timeout
                } else {
                    Outcome::ConnectFailed
                }
            }
            _ => {
                self.error = Some(facts::other_error("connect", &report::chain(e)));
                Outcome::ConnectFailed
            }
        }
    }
}
