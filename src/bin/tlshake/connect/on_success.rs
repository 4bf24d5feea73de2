//! The report of a connection whose handshake completed: what was negotiated, and with
//! `--send`, what came back.

use std::io::{Read, Write};
use std::time::Instant;

use tlshake::client::TlsConnection;
use tlshake::TlsStream;

use super::report::{Report, Retries, Timings};
use super::send::{self, ReadTimeout};
use crate::facts;
use crate::negotiated::Negotiated;
use crate::report::{ms, Outcome};

impl Report {
    /// Fills in what `conn` negotiated; with `send`, writes it and reads the answer until
    /// `deadline`. `Failed` when `--send` failed.
    pub(super) fn success<S: Read + Write + ReadTimeout>(
        &mut self,
        conn: &mut TlsConnection<TlsStream<S>>,
        send: Option<&str>,
        deadline: Instant,
    ) -> Outcome {
        let s = conn.session();
        self.peer = Some(conn.peer.to_string());
        self.protocol = Some(s.protocol.clone());
        self.cipher = Some(s.cipher.clone());
        self.alpn = s.alpn_str().map(str::to_string);
        self.sni = conn.sni.clone();
        self.resumed = s.resumed;
        self.negotiated = Some(Negotiated::of(&s));
        self.ech = Some(s.ech.clone());
        self.verify = s.verify.as_ref().map(facts::verify);
        self.peer_certificate = s.peer_certificate.as_deref().and_then(facts::certificate);
        if let Some(chain_pem) = &mut self.chain_pem {
            *chain_pem = s
                .peer_chain
                .iter()
                .filter_map(|c| c.to_pem().ok())
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .collect();
        }
        let t = conn.timings;
        self.timings_ms = Timings {
            connect: Some(ms(t.connect)),
            starttls: t.starttls.map(ms),
            handshake: Some(ms(t.handshake)),
        };
        let stats = conn.stream.stats();
        self.retries = Some(Retries {
            want_read: stats.want_read,
            want_write: stats.want_write,
        });
        if let Some(text) = send {
            let (response, failed) = send::exchange(conn, text, deadline);
            self.response = Some(response);
            if let Some((step, e)) = failed {
                let error = send::stream_error(step, &e);
                self.error_text = Some(error.message.clone());
                self.error = Some(error);
                return Outcome::Failed;
            }
        }
        Outcome::Done
    }
}
