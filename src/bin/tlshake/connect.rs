//! `tlshake connect URL`: one client handshake, reported in full.

use std::io::{ErrorKind, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use tlshake::client::{self, ClientConfig, ConnectError, ConnectOptions, TlsConnection};
use tlshake::deadline::Deadline;
use tlshake::fingerprint::Fingerprint;
use tlshake::starttls::{StarttlsOptions, StarttlsProtocol};
use tlshake::trace::{TraceEvent, TraceSink};
use tlshake::url::{Scheme, TransportUrl};
use tlshake::{NodelayPolicy, ProtocolSet, ProtocolVersion};

use crate::json;
use crate::report::{self, ms, Outcome};
use crate::sessions;

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

/// Options of `tlshake connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// Where to connect: tls://host:port, ssl://, tlsv1.2://, tlsv1.3://, or tcp://host:port
    /// with --starttls. IPv6 literals in brackets: tls://[::1]:443.
    url: String,
    /// Trusted CA certificates, one PEM file (default: the system trust store).
    #[arg(long, value_name = "FILE")]
    cafile: Option<PathBuf>,
    /// Directory of hashed CA certificates (c_rehash layout).
    #[arg(long, value_name = "DIR")]
    capath: Option<PathBuf>,
    /// Client certificate, PEM (chain after the leaf); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of --cert, PEM.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Passphrase of an encrypted --key.
    #[arg(long, value_name = "PASS")]
    pass: Option<String>,
    /// Name to send as SNI and to verify, instead of the URL's host.
    #[arg(long, value_name = "NAME")]
    servername: Option<String>,
    /// Send no SNI extension.
    #[arg(long)]
    no_sni: bool,
    /// Do not verify the certificate chain (the result is still reported).
    #[arg(long)]
    insecure: bool,
    /// Do not verify the host name or IP address against the certificate.
    #[arg(long)]
    no_verify_name: bool,
    /// Accept a self-signed server certificate.
    #[arg(long)]
    allow_self_signed: bool,
    /// Pin the server certificate's digest (hex, 32/40/64 digits, colons allowed,
    /// optional md5:/sha1:/sha256: prefix).
    #[arg(long, value_name = "HEX", value_parser = parse_fingerprint)]
    fingerprint: Option<Fingerprint>,
    /// ALPN protocols to offer, comma-separated, most preferred first (h2,http/1.1).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    alpn: Vec<String>,
    /// Lowest protocol version: tls1, tls1.1, tls1.2 (default), tls1.3.
    #[arg(long, value_name = "V")]
    min_proto: Option<ProtocolVersion>,
    /// Highest protocol version: tls1, tls1.1, tls1.2, tls1.3 (default).
    #[arg(long, value_name = "V")]
    max_proto: Option<ProtocolVersion>,
    /// Allow TLS 1.0 and 1.1 (lowers OpenSSL's security level to 0).
    #[arg(long)]
    legacy: bool,
    /// Also offer the TLS 1.2 CBC suites (default: ECDHE with AES-GCM or ChaCha20-Poly1305).
    #[arg(long)]
    allow_cbc: bool,
    /// TLS 1.2 cipher list (OpenSSL syntax).
    #[arg(long, value_name = "S")]
    ciphers: Option<String>,
    /// TLS 1.3 ciphersuites (OpenSSL syntax).
    #[arg(long, value_name = "S")]
    ciphersuites: Option<String>,
    /// Run this plain-text dialogue before the handshake (use a tcp:// URL).
    #[arg(long, value_name = "PROTO", help = starttls_help())]
    starttls: Option<StarttlsProtocol>,
    /// The XMPP domain for the stream header's to= with --starttls xmpp or xmpp-server
    /// (default: the URL's host), as s_client's -xmpphost.
    #[arg(long, value_name = "NAME")]
    xmpphost: Option<String>,
    /// One deadline in seconds for connect + STARTTLS + handshake (and for reading the
    /// answer to --send).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    timeout: f64,
    /// When to set TCP_NODELAY: leave, always (default), after.
    #[arg(long, value_name = "POLICY")]
    nodelay: Option<NodelayPolicy>,
    /// Write TEXT after the handshake, then print what comes back until EOF or the timeout.
    #[arg(long, value_name = "TEXT")]
    send: Option<String>,
    /// Print the whole certificate chain the server sent, as PEM.
    #[arg(long)]
    showcerts: bool,
    /// Offer the TLS session saved in FILE (PEM, as s_client -sess_out writes it) for
    /// resumption; "resumed" says whether the server took it.
    #[arg(long, value_name = "FILE")]
    sess_in: Option<PathBuf>,
    /// Save the TLS session to FILE (PEM, as s_client -sess_in reads it; mode 0600: it holds
    /// the session's secrets). Under TLS 1.3, waits up to 2 s for the server's ticket.
    #[arg(long, value_name = "FILE")]
    sess_out: Option<PathBuf>,
    /// After the first connection, make N more that offer its session, reporting for each
    /// whether it was resumed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    reconnect: u32,
    /// Tunnel through this HTTP proxy (HOST:PORT) with CONNECT first, within --timeout.
    #[arg(long, value_name = "HOST:PORT")]
    proxy: Option<String>,
    /// Show every TLS message sent and received, with its size, its time since the start of
    /// the connection and what it says (groups, signature, ALPN, certificates, alerts).
    #[arg(long)]
    trace: bool,
    /// Ask the server to staple its certificate's OCSP status and report it (none, good,
    /// revoked, unknown, with its times and whether its signature verified).
    #[arg(long)]
    status: bool,
    /// Append the connection's TLS secrets to FILE in the NSS key log format, for
    /// Wireshark (default: $SSLKEYLOGFILE when set). The file holds secrets that decrypt the
    /// traffic: debugging only.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Print exactly one JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_fingerprint(text: &str) -> Result<Fingerprint, String> {
    Fingerprint::parse(text).map_err(|e| e.to_string())
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e6 => Ok(s),
        _ => Err(format!(
            "{} is not a number of seconds: give a positive number such as 0.5 or 10",
            report::quoted(text)
        )),
    }
}

fn build_config(
    a: &ConnectArgs,
    trace: Option<&TraceSink>,
) -> Result<ClientConfig, client::ConfigError> {
    let mut b = ClientConfig::builder()
        .verify_peer(!a.insecure)
        .verify_peer_name(!a.no_verify_name && !a.insecure)
        .allow_self_signed(a.allow_self_signed)
        .sni(!a.no_sni)
        .allow_legacy_versions(a.legacy)
        .allow_cbc_ciphers(a.allow_cbc)
        .alpn(a.alpn.iter().filter(|p| !p.is_empty()).cloned());
    if let Some(p) = &a.cafile {
        b = b.ca_file(p);
    }
    if let Some(p) = &a.capath {
        b = b.ca_dir(p);
    }
    match (&a.cert, &a.key) {
        (Some(cert), Some(key)) => b = b.certificate_files(cert, key),
        (None, None) => {}
        _ => return Err(client::ConfigError::CertificateWithoutKey),
    }
    if let Some(p) = &a.pass {
        b = b.passphrase(p);
    }
    if let Some(n) = &a.servername {
        b = b.peer_name(n);
    }
    if let Some(f) = &a.fingerprint {
        b = b.peer_fingerprint(f.clone());
    }
    if a.min_proto.is_some() || a.max_proto.is_some() {
        let set = ProtocolSet::range(
            a.min_proto.unwrap_or(ProtocolVersion::Tls1_2),
            a.max_proto.unwrap_or(ProtocolVersion::Tls1_3),
        )
        .map_err(client::ConfigError::Policy)?;
        b = b.protocols(set);
    }
    if let Some(c) = &a.ciphers {
        b = b.ciphers(c);
    }
    if let Some(c) = &a.ciphersuites {
        b = b.ciphersuites(c);
    }
    if let Some(n) = a.nodelay {
        b = b.nodelay(n);
    }
    if let Some(path) = crate::keylog::path(a.keylog.as_deref()) {
        b = b.key_log(path);
    }
    b = b.status_request(a.status);
    if let Some(sink) = trace {
        b = b.trace(sink.clone());
    }
    if a.sess_in.is_some() || a.sess_out.is_some() || a.reconnect > 0 {
        b = b.resume_sessions(true);
    }
    b.build()
}

/// Runs `tlshake connect`.
pub(crate) fn run(a: &ConnectArgs) -> Outcome {
    let url: TransportUrl = match a.url.parse() {
        Ok(u) => u,
        Err(e) => return refuse(a, "bad URL", &report::chain(&e)),
    };
    if let Some(protocol) = a.starttls {
        if url.scheme() != Scheme::Tcp {
            let reason = format!(
                "{}:// starts TLS at the first byte, but --starttls {protocol} first runs the \
                 plain-text {} dialogue and then starts TLS: write tcp://{}",
                url.scheme().as_str(),
                protocol.label(),
                url.authority()
            );
            return refuse(a, "--starttls needs a tcp:// URL", &reason);
        }
    }
    if let Some(p) = &a.cafile {
        if let Err(e) = std::fs::metadata(p) {
            return refuse(
                a,
                &format!("cannot read --cafile {}", p.display()),
                &report::chain(&e),
            );
        }
    }
    let sink = a.trace.then(TraceSink::new);
    let config = match build_config(a, sink.as_ref()) {
        Ok(c) => c,
        Err(e) => return refuse(a, "configuration refused", &report::chain(&e)),
    };
    let deadline = Instant::now() + Duration::from_secs_f64(a.timeout);
    let host = url.host().to_string();
    if let Some(path) = &a.sess_in {
        if let Err(e) = sessions::import(&config, &host, path) {
            return refuse(a, "--sess-in refused", &report::chain(&e));
        }
    }
    let xmpp_host = a.xmpphost.clone().unwrap_or_else(|| host.clone());
    let options = |deadline: Instant| {
        let mut options = ConnectOptions::new()
            .starttls_options(StarttlsOptions::default().with_xmpp_host(xmpp_host.clone()))
            .deadline(deadline);
        if let Some(protocol) = a.starttls {
            options = options.starttls(protocol);
        }
        if let Some(proxy) = &a.proxy {
            options = options.proxy(proxy.clone());
        }
        options
    };
    let mut r = Report::new(Some(&a.url), a.showcerts);
    let outcome = match client::connect_with(&url, &config, &options(deadline)) {
        Ok(mut conn) => {
            let wants_session = a.sess_out.is_some() || a.reconnect > 0;
            let kept =
                wants_session.then(|| sessions::keep(&mut conn, a.sess_out.as_deref(), deadline));
            r.ocsp = client::ocsp::stapled(conn.stream.ssl(), a.status);

            let mut outcome = r.success(&mut conn, a.send.as_deref(), deadline);
            let _ = conn.stream.shutdown();
            match kept {
                Some(Ok(saved)) => r.session_saved = Some(saved),
                Some(Err(e)) => {
                    r.error = json::other_error("session_file", &e);
                    r.error_text = Some(e);
                    outcome = Outcome::Failed;
                }
                None => {}
            }
            // The first connection's messages, up to its close_notify (after the ticket).
            r.trace = sink.as_ref().map(TraceSink::take);
            if outcome == Outcome::Done && a.reconnect > 0 {
                let timeout = Duration::from_secs_f64(a.timeout);
                r.reconnects = sessions::reconnect(&url, &config, options, a.reconnect, timeout);
            }
            outcome
        }
        Err(e) => {
            r.trace = sink.as_ref().map(TraceSink::take);
            r.failure(&e)
        }
    };
    if outcome == Outcome::BadInput && !a.json {
        return outcome;
    }
    r.outcome = outcome;
    r.emit(a.json);
    outcome
}

/// Refuses the run as bad input: the message on stderr, and with `--json` the report with
/// `outcome: "bad_input"` on stdout.
fn refuse(a: &ConnectArgs, what: &str, message: &dyn std::fmt::Display) -> Outcome {
    let outcome = report::bad_input(what, message);
    if a.json {
        let mut r = Report::new(Some(&a.url), a.showcerts);
        r.outcome = outcome;
        r.error = json::other_error("bad_input", &format!("{what}: {message}"));
        r.emit(true);
    }
    outcome
}

/// With `--json`, a command line that could not be parsed: the report with
/// `outcome: "bad_input"` and the parser's message, written on stdout.
pub(crate) fn usage_error_json(message: &str) {
    let mut r = Report::new(None, false);
    r.outcome = Outcome::BadInput;
    r.error = json::other_error("usage", message);
    r.emit(true);
}

/// Everything the report says, filled in as the connection goes.
#[derive(Debug)]
struct Report {
    url: Option<String>,
    outcome: Outcome,
    peer: Option<String>,
    protocol: Option<String>,
    cipher: Option<String>,
    alpn: Option<String>,
    sni: Option<String>,
    resumed: bool,
    verify: Value,
    verify_text: Option<String>,
    peer_certificate: Value,
    showcerts: bool,
    chain_pem: Vec<String>,
    timings: [Option<f64>; 3],
    retries: Option<(u32, u32)>,
    error: Value,
    error_text: Option<String>,
    hint_text: Option<String>,
    response: Option<String>,
    /// With --sess-out or --reconnect: whether the server gave a resumable session.
    session_saved: Option<bool>,
    reconnects: Vec<sessions::Attempt>,
    /// With --status: what the server stapled.
    ocsp: Option<client::ocsp::Stapled>,
    /// With --trace: the first connection's messages.
    trace: Option<Vec<TraceEvent>>,
}

impl Report {
    fn new(url: Option<&str>, showcerts: bool) -> Report {
        Report {
            url: url.map(report::capped),
            outcome: Outcome::Failed,
            peer: None,
            protocol: None,
            cipher: None,
            alpn: None,
            sni: None,
            resumed: false,
            verify: Value::Null,
            verify_text: None,
            peer_certificate: Value::Null,
            showcerts,
            chain_pem: Vec::new(),
            timings: [None; 3],
            retries: None,
            error: Value::Null,
            error_text: None,
            hint_text: None,
            response: None,
            session_saved: None,
            reconnects: Vec::new(),
            ocsp: None,
            trace: None,
        }
    }

    /// Writes the report on stdout: JSON or text.
    fn emit(&self, as_json: bool) {
        if as_json {
            report::emit(&format!("{}\n", self.to_json()));
        } else {
            report::emit(&self.render_human());
        }
    }

    fn success(
        &mut self,
        conn: &mut TlsConnection,
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
        if let Some(v) = &s.verify {
            self.verify = json::verify(v);
            self.verify_text = Some(format!("{} ({})", v.code, v.message));
        }
        if let Some(cert) = &s.peer_certificate {
            self.peer_certificate = json::certificate(cert);
        }
        self.chain_pem = s
            .peer_chain
            .iter()
            .filter_map(|c| c.to_pem().ok())
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .collect();
        let t = conn.timings;
        self.timings = [
            Some(ms(t.connect)),
            t.starttls.map(ms),
            Some(ms(t.handshake)),
        ];
        let stats = conn.stream.stats();
        self.retries = Some((stats.want_read, stats.want_write));
        if let Some(text) = send {
            let (response, failed) = exchange(conn, text, deadline);
            self.response = Some(response);
            if let Some((step, e)) = failed {
                let (error, hint) = json::stream_error(step, &e);
                self.error_text = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                self.hint_text = hint;
                self.error = error;
                return Outcome::Failed;
            }
        }
        Outcome::Done
    }

    fn failure(&mut self, e: &ConnectError) -> Outcome {
        self.error_text = Some(report::chain(e));
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
                self.timings = [
                    connect_time.map(ms),
                    starttls_time.map(ms),
                    source.elapsed().map(ms),
                ];
                if let Some(v) = source.verify() {
                    self.verify = json::verify(v);
                    self.verify_text = Some(format!("{} ({})", v.code, v.message));
                }
                if let Some(cert) = source.peer_certificate() {
                    self.peer_certificate = json::certificate(cert);
                }
                self.error = json::handshake_error(source);
                self.hint_text = source.hint().map(report::hint_text);
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
            | ConnectError::NotTls { .. } => {
                self.error = json::other_error("bad_input", &report::chain(e));
                report::bad_input("refused", e)
            }
            ConnectError::Starttls {
                peer,
                connect_time,
                source,
                ..
            } => {
                self.peer = Some(peer.to_string());
                self.timings[0] = connect_time.map(ms);
                self.error = json::other_error("starttls", &report::chain(e));
                self.hint_text = source
                    .advice()
                    .map(|text| report::flags_for(&text, &source.advised()));
                self.error["hint"] = self.hint_text.clone().into();
                let advice: Vec<&str> = source.advised().into_iter().map(report::flag).collect();
                self.error["advice"] = advice.into();
                if e.is_timeout() {
                    Outcome::Timeout
                } else {
                    Outcome::ConnectFailed
                }
            }
            ConnectError::ResetAfterAccept {
                peer,
                connect_time,
                source,
                ..
            } => {
                // The same event as a reset at the first handshake write: reported as a
                // failed handshake whichever of the two the reset raced.
                self.peer = Some(peer.to_string());
                self.timings[0] = Some(ms(*connect_time));
                let message = format!("{e}: {source}");
                self.error = json::other_error("io", &message);
                self.error_text = Some(message);
                Outcome::Failed
            }
            ConnectError::ConnectTimeout { .. } => {
                self.error = json::other_error("connect_timeout", &report::chain(e));
                Outcome::Timeout
            }
            ConnectError::ResolveTimeout { .. } => {
                self.error = json::other_error("resolve_timeout", &report::chain(e));
                Outcome::Timeout
            }
            ConnectError::Proxy { source, .. } => {
                let message = report::chain(e);
                self.error = json::other_error("proxy", &message);
                self.error_text = Some(message);
                if matches!(source, tlshake::client::proxy::ProxyError::Timeout) {
                    Outcome::Timeout
                } else {
                    Outcome::ConnectFailed
                }
            }
            _ => {
                self.error = json::other_error("connect", &report::chain(e));
                Outcome::ConnectFailed
            }
        }
    }

    fn to_json(&self) -> Value {
        let [connect, starttls, handshake] = self.timings;
        json!({
            "outcome": self.outcome.name(),
            "url": self.url,
            "peer": self.peer,
            "protocol": self.protocol,
            "cipher": self.cipher,
            "alpn": self.alpn,
            "sni": self.sni,
            "resumed": self.resumed,
            "verify": self.verify,
            "peer_certificate": self.peer_certificate,
            "chain_pem": if self.showcerts { json!(self.chain_pem) } else { Value::Null },
            "timings_ms": {"connect": connect, "starttls": starttls, "handshake": handshake},
            "retries": self.retries.map(|(r, w)| json!({"want_read": r, "want_write": w})),
            "error": self.error,
            "response": self.response,
            "session_saved": self.session_saved,
            "ocsp": crate::ocsp::to_json(self.ocsp.as_ref()),
            "trace": self.trace.as_deref().map(crate::trace::to_json),
            "reconnects": self
                .reconnects
                .iter()
                .enumerate()
                .map(|(i, r)| r.to_json(i + 1))
                .collect::<Vec<_>>(),
        })
    }

    fn render_human(&self) -> String {
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
        if self.outcome == Outcome::Done {
            outln!(out, "  resumed:     {}", self.resumed);
        }
        match self.session_saved {
            Some(true) => outln!(out, "  session:     resumable"),
            Some(false) => outln!(
                out,
                "  session:     none (the server gave no resumable session)"
            ),
            None => {}
        }
        for (i, attempt) in self.reconnects.iter().enumerate() {
            outln!(out, "{}", attempt.to_text(i + 1));
        }
        if let Some(cert) = self.peer_certificate.as_object() {
            let field = |k: &str| {
                cert.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .to_string()
            };
            outln!(out, "  certificate: {}", field("subject"));
            outln!(out, "    issuer:    {}", field("issuer"));
            let san: Vec<&str> = cert
                .get("san")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            outln!(out, "    names:     {}", san.join(", "));
            outln!(
                out,
                "    valid:     {} .. {}",
                field("not_before"),
                field("not_after")
            );
            outln!(out, "    sha256:    {}", field("sha256"));
        }
        if let Some(v) = &self.verify_text {
            outln!(out, "  verify:      {v}");
        }
        if let Some(stapled) = &self.ocsp {
            outln!(out, "  OCSP:        {}", crate::ocsp::to_text(stapled));
        }
        let [connect, starttls, handshake] = self.timings;
        let t = |v: Option<f64>| {
            v.map(|v| format!("{v:.3} ms"))
                .unwrap_or_else(|| "-".into())
        };
        out!(out, "  timings:     connect {}", t(connect));
        if starttls.is_some() {
            out!(out, ", starttls {}", t(starttls));
        }
        outln!(out, ", handshake {}", t(handshake));
        if let Some((r, w)) = self.retries {
            outln!(out, "  retries:     WANT_READ {r}, WANT_WRITE {w}");
        }
        if let Some(events) = &self.trace {
            outln!(
                out,
                "  trace:       {} messages (ms since the start of the connection)",
                events.len()
            );
            out.push_str(&crate::trace::to_text(events));
        }
        if let Some(e) = &self.error_text {
            outln!(out, "  error:       {e}");
        }
        if let Some(reasons) = self.error.get("reasons").and_then(Value::as_array) {
            for r in reasons.iter().filter_map(Value::as_str) {
                if Some(r) != self.error_text.as_deref() {
                    outln!(out, "    reason:    {r}");
                }
            }
        }
        if let Some(h) = self.hint_text.as_ref().filter(|h| {
            !self
                .error_text
                .as_deref()
                .unwrap_or_default()
                .contains(h.as_str())
        }) {
            outln!(out, "  hint:        {h}");
        }
        if self.showcerts {
            for pem in &self.chain_pem {
                out!(out, "{pem}");
            }
        }
        if let Some(resp) = &self.response {
            outln!(out, "--- response ---");
            out!(out, "{resp}");
        }
        out
    }
}

/// Which step of `--send` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendStep {
    /// Writing the text.
    Write,
    /// Reading the answer.
    Read,
}

/// Writes `text`, then reads until EOF, a TLS close, an error or the deadline. Returns what
/// came back, and the error that ended the exchange, if one did (a deadline is no error: the
/// answer is what arrived before it).
fn exchange(
    conn: &mut TlsConnection,
    text: &str,
    deadline: Instant,
) -> (String, Option<(SendStep, std::io::Error)>) {
    let mut out = Vec::new();
    let lossy = |out: &[u8]| String::from_utf8_lossy(out).into_owned();
    if let Err(e) = conn
        .stream
        .write_all(text.as_bytes())
        .and_then(|()| conn.stream.flush())
    {
        return (String::new(), Some((SendStep::Write, e)));
    }
    let mut buf = [0u8; 4096];
    // The connection's one deadline bounds the exchange too; once passed, it ends.
    while let Ok(left) = Deadline::at(deadline).time_left("--send") {
        if let Err(e) = conn.stream.get_ref().set_read_timeout(left) {
            return (lossy(&out), Some((SendStep::Read, e)));
        }
        match conn.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => return (lossy(&out), Some((SendStep::Read, e))),
        }
    }
    (lossy(&out), None)
}

/// The --starttls help, listing every protocol from the one table.
fn starttls_help() -> String {
    format!(
        "Run this plain-text dialogue before the handshake: {} (use a tcp:// URL)",
        StarttlsProtocol::names(", ")
    )
}
