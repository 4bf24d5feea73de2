//! `--sess-in`, `--sess-out` and `--reconnect`: sessions kept across connections, in files
//! `openssl s_client -sess_in` / `-sess_out` read and write, and reused on reconnection.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tlshake::client::{self, ClientConfig, ConnectOptions, TlsConnection};
use tlshake::session_file;
use tlshake::url::TransportUrl;

/// How long to wait for a TLS 1.3 session ticket after a handshake, within `--timeout`:
/// servers send theirs right after the handshake.
const TICKET_WAIT: Duration = Duration::from_secs(2);

/// One of the `--reconnect` connections.
#[derive(Debug)]
pub(crate) struct Attempt {
    resumed: bool,
    protocol: Option<String>,
    handshake_ms: Option<f64>,
    error: Option<String>,
}

impl Attempt {
    pub(crate) fn to_json(&self, n: usize) -> Value {
        json!({
            "attempt": n,
            "resumed": self.resumed,
            "protocol": self.protocol,
            "handshake_ms": self.handshake_ms,
            "error": self.error,
        })
    }

    pub(crate) fn to_text(&self, n: usize) -> String {
        match (&self.error, &self.protocol) {
            (Some(e), _) => format!("  reconnect {n}: failed: {e}"),
            (None, p) => format!(
                "  reconnect {n}: {}, {}, handshake {:.3} ms",
                if self.resumed {
                    "resumed"
                } else {
                    "new session"
                },
                p.as_deref().unwrap_or("-"),
                self.handshake_ms.unwrap_or_default()
            ),
        }
    }
}

/// Offers the session in `path` to the connections to `host`.
pub(crate) fn import(
    config: &ClientConfig,
    host: &str,
    path: &Path,
) -> Result<(), session_file::SessionFileError> {
    let session = session_file::read_session(path)?;
    config.import_session(host, session);
    Ok(())
}

/// After a handshake: waits for the session the connection can be resumed with (a TLS 1.3
/// ticket comes after the handshake) and writes it to `sess_out`. `Ok(false)` when the server
/// gave none.
pub(crate) fn keep(
    conn: &mut TlsConnection,
    sess_out: Option<&Path>,
    deadline: Instant,
) -> Result<bool, String> {
    let wait_until = deadline.min(Instant::now() + TICKET_WAIT);
    let session = client::wait_for_session(&mut conn.stream, wait_until)
        .map_err(|e| format!("reading the session ticket: {e}"))?;
    match (session, sess_out) {
        (Some(s), Some(path)) => {
            session_file::write_session(path, &s).map_err(|e| crate::report::chain(&e))?;
            Ok(true)
        }
        (Some(_), None) => Ok(true),
        (None, _) => Ok(false),
    }
}

/// `count` more connections with `config` (which offers the saved session), each with its
/// own deadline of `timeout`, each closed with close_notify so that its session stays
/// resumable.
pub(crate) fn reconnect(
    url: &TransportUrl,
    config: &ClientConfig,
    options: impl Fn(Instant) -> ConnectOptions,
    count: u32,
    timeout: Duration,
) -> Vec<Attempt> {
    (0..count)
        .map(|_| {
            let deadline = Instant::now() + timeout;
            match client::connect_with(url, config, &options(deadline)) {
                Ok(mut conn) => {
                    let s = conn.session();
                    // A new ticket replaces the one used, as the next attempt should offer.
                    let _ = keep(&mut conn, None, deadline);
                    let _ = conn.stream.shutdown();
                    Attempt {
                        resumed: s.resumed,
                        protocol: Some(s.protocol.clone()),
                        handshake_ms: Some(conn.timings.handshake.as_secs_f64() * 1e3),
                        error: None,
                    }
                }
                Err(e) => Attempt {
                    resumed: false,
                    protocol: None,
                    handshake_ms: None,
                    error: Some(e.to_string()),
                },
            }
        })
        .collect()
}
