//! `--send TEXT`: written after the handshake, and what comes back read until EOF or the
//! deadline; a failure of either step reported in the shape of a handshake error.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use tlshake::client::TlsConnection;
use tlshake::internals::Deadline;
use tlshake::{HandshakeError, TlsStream};

use crate::facts::{self, ErrorFacts};
use crate::report;

/// Which step of `--send` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SendStep {
    /// Writing the text.
    Write,
    /// Reading the answer.
    Read,
}

/// A socket whose reads can be given a timeout (`SO_RCVTIMEO`): what `--send` waits with.
pub(super) trait ReadTimeout {
    /// Sets the read timeout.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()>;
}

impl ReadTimeout for std::net::TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }
}

impl ReadTimeout for tlshake::dtls::UdpTransport {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }
}

/// Writes `text`, then reads until EOF, a TLS close, an error or the deadline. Returns what
/// came back, and the error that ended the exchange, if one did (a deadline is no error: the
/// answer is what arrived before it).
pub(super) fn exchange<S: Read + Write + ReadTimeout>(
    conn: &mut TlsConnection<TlsStream<S>>,
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

/// The error of a `--send` write or read after the handshake, in the shape of
/// [`facts::handshake_error`] with `during` set (`"write"` or `"read"`).
///
/// A typed error of the crate inside the `io::Error` ([`HandshakeError`]) is reported whole,
/// with its hint; an OpenSSL error (`SSL_ERROR_SSL`, an alert from the peer) gives its
/// queue's reasons and `kind: "protocol"`; an operating-system error gives `kind: "io"`.
pub(super) fn stream_error(step: SendStep, e: &std::io::Error) -> ErrorFacts {
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
        return ErrorFacts {
            message: format!("{what}: {}", report::whole(h)),
            during: Some(during),
            ..facts::handshake_error(h)
        };
    }
    if let Some(tls) = tlshake::StreamError::from_io(e) {
        let reasons: Vec<String> = tls.reasons().into_iter().map(str::to_string).collect();
        let shown = if reasons.is_empty() {
            report::chain(tls)
        } else {
            reasons.join("; ")
        };
        return ErrorFacts {
            ret: None,
            ssl_error: Some("SSL_ERROR_SSL".to_string()),
            reasons,
            hint: tls.hint().map(report::hint_text),
            advice: report::advice_flags(tls.hint()),
            kind: "protocol",
            message: format!("{what}: {shown}"),
            during: Some(during),
        };
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
        // `openssl::ssl::Error` says its cause in its own message: said once.
        let shown = if reasons.is_empty() {
            ssl.to_string()
        } else {
            reasons.join("; ")
        };
        return ErrorFacts {
            ret: None,
            ssl_error: Some(format!("{:?}", ssl.code())),
            reasons: if reasons.is_empty() {
                vec![shown.clone()]
            } else {
                reasons
            },
            hint: None,
            advice: Vec::new(),
            kind: "protocol",
            message: format!("{what}: {shown}"),
            during: Some(during),
        };
    }
    let shown = report::chain(e);
    ErrorFacts {
        message: format!("{what}: {shown}"),
        during: Some(during),
        ..facts::other_error("io", &shown)
    }
}
