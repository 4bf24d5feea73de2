//! The text of `tlshake connect`'s report, written from the same [`Report`] as the JSON.

use super::report::Report;
use crate::report::Outcome;

/// Appends formatted text to a `String`.
macro_rules! out {
    ($s:expr, $($a:tt)*) => {
        $s.push_str(&format!($($a)*))
    };
}

/// Appends formatted text and a newline to a `String`.
macro_rules! outln {
    ($s:expr, $($a:tt)*) => {{
        $s.push_str(&format!($($a)*));
        $s.push('\n');
    }};
}

impl Report {
    /// The report for a person: a headline, then one fact a line.
    pub(super) fn to_text(&self) -> String {
        let mut out = String::new();
        let peer = self.peer.as_deref().unwrap_or("-");
        let url = self.url.as_deref().unwrap_or("-");
        match (&self.protocol, &self.cipher) {
            (Some(p), Some(c)) => outln!(
                out,
                "{}: {} with {peer}, {p}, {c}",
                self.outcome.name(),
                url
            ),
            _ => outln!(out, "{}: {url} ({peer})", self.outcome.name()),
        }
        if let Some(sni) = &self.sni {
            outln!(out, "  SNI:         {sni}");
        }
        if let Some(alpn) = &self.alpn {
            outln!(out, "  ALPN:        {alpn}");
        }
        if let Some(line) = self.ech.as_ref().and_then(crate::ech::report_line) {
            outln!(out, "  ECH:         {line}");
        }
        if self.outcome == Outcome::Done {
            outln!(out, "  resumed:     {}", self.resumed);
        }
        if let Some(n) = &self.negotiated {
            outln!(out, "  group:       {}", n.group_text());
            outln!(out, "  signature:   {}", n.signature_text());
            outln!(out, "  peer key:    {}", n.key_text());
        }
        match self.session_saved {
            Some(true) => outln!(out, "  session:     resumable"),
            Some(false) => outln!(
                out,
                "  session:     none (the server gave no resumable session)"
            ),
            None => {}
        }
        for attempt in &self.reconnects {
            outln!(out, "{}", attempt.to_text());
        }
        if let Some(cert) = &self.peer_certificate {
            outln!(out, "  certificate: {}", cert.subject);
            outln!(out, "    issuer:    {}", cert.issuer);
            outln!(out, "    names:     {}", cert.san.join(", "));
            outln!(
                out,
                "    valid:     {} .. {}",
                cert.not_before,
                cert.not_after
            );
            outln!(out, "    sha256:    {}", cert.sha256);
        }
        if let Some(v) = &self.verify {
            outln!(out, "  verify:      {} ({})", v.code, v.message);
        }
        if let Some(stapled) = &self.ocsp {
            outln!(out, "  OCSP:        {}", super::ocsp::to_text(stapled));
        }
        let t = |v: Option<f64>| {
            v.map(|v| format!("{v:.3} ms"))
                .unwrap_or_else(|| "-".into())
        };
        let timings = self.timings_ms;
        out!(out, "  timings:     connect {}", t(timings.connect));
        if timings.starttls.is_some() {
            out!(out, ", starttls {}", t(timings.starttls));
        }
        outln!(out, ", handshake {}", t(timings.handshake));
        if let Some(r) = self.retries {
            outln!(
                out,
                "  retries:     WANT_READ {}, WANT_WRITE {}",
                r.want_read,
                r.want_write
            );
        }
        if let Some(n) = self.retransmissions {
            let s = if n == 1 { "" } else { "s" };
            outln!(out, "  retransmitted: {n} flight{s}");
        }
        if let Some(profile) = &self.srtp_profile {
            outln!(out, "  SRTP:        {profile}");
        }
        if let Some(events) = &self.trace {
            outln!(
                out,
                "  trace:       {} messages (ms since the start of the connection)",
                events.len()
            );
            out.push_str(&crate::trace::to_text(events));
        }
        let error_text = self.error_text.as_deref();
        if let Some(e) = error_text {
            outln!(out, "  error:       {e}");
        }
        if let Some(error) = &self.error {
            for r in error
                .reasons
                .iter()
                .filter(|r| Some(r.as_str()) != error_text)
            {
                outln!(out, "    reason:    {r}");
            }
            if let Some(h) = error
                .hint
                .as_ref()
                .filter(|h| !error_text.unwrap_or_default().contains(h.as_str()))
            {
                outln!(out, "  hint:        {h}");
            }
        }
        for pem in self.chain_pem.iter().flatten() {
            out!(out, "{pem}");
        }
        if let Some(resp) = &self.response {
            outln!(out, "--- response ---");
            out!(out, "{resp}");
        }
        out
    }
}
