//! `--sess-in`, `--sess-out` and `--reconnect`: sessions kept across connections, in files
//! `openssl s_client -sess_in` / `-sess_out` read and write, and reused on reconnection.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use tlshake::client::{self, ClientConfig, ConnectOptions, TlsConnection};
use tlshake::session_file;
use tlshake::url::TransportUrl;

use crate::negotiated::Negotiated;
use crate::report::{self, AnyError, Failure};

/// How long to wait for a TLS 1.3 session ticket after a handshake, within `--timeout`:
/// servers send theirs right after the handshake.
const TICKET_WAIT: Duration = Duration::from_secs(2);

/// One of the `--reconnect` connections: in JSON
/// `{"attempt","resumed","protocol","handshake_ms","error"}` and the negotiated facts.
#[derive(Debug, Serialize)]
pub(crate) struct Attempt {
    /// 1 for the first reconnection.
    attempt: usize,
    resumed: bool,
    protocol: Option<String>,
    handshake_ms: Option<f64>,
    /// Why it failed, with the whole chain of causes.
    error: Option<String>,
    #[serde(flatten, serialize_with = "Negotiated::serialize_fields")]
    negotiated: Option<Negotiated>,
}

impl Attempt {
    /// Its line in the text report.
    pub(crate) fn to_text(&self) -> String {
        let n = self.attempt;
        match (&self.error, &self.protocol) {
            (Some(e), _) => format!("  reconnect {n}: failed: {e}"),
            (None, p) => format!(
                "  reconnect {n}: {}, {}, handshake {:.3} ms, group {}",
                if self.resumed {
                    "resumed"
                } else {
                    "new session"
                },
                p.as_deref().unwrap_or("-"),
                self.handshake_ms.unwrap_or_default(),
                self.negotiated
                    .as_ref()
                    .map_or_else(|| "-".to_string(), Negotiated::group_text)
            ),
        }
    }
}

/// Offers the session in `path` to the connections to `host`.
pub(super) fn import(
    config: &ClientConfig,
    host: &str,
    path: &Path,
) -> Result<(), session_file::SessionFileError> {
    let session = session_file::read_session(path)?;
    config.import_session(host, &session).map_err(|source| {
        session_file::SessionFileError::Invalid {
            path: path.to_path_buf(),
            source: Some(source),
        }
    })
}

/// After a handshake: waits for the session the connection can be resumed with (a TLS 1.3
/// ticket comes after the handshake) and writes it to `sess_out`. `Ok(false)` when the server
/// gave none.
pub(super) fn keep(
    conn: &mut TlsConnection,
    sess_out: Option<&Path>,
    deadline: Instant,
) -> Result<bool, AnyError> {
    let wait_until = deadline.min(Instant::now() + TICKET_WAIT);
    let session = client::wait_for_session(&mut conn.stream, wait_until)
        .map_err(|e| Failure::because("reading the session ticket", e))?;
    match (session, sess_out) {
        (Some(s), Some(path)) => {
            session_file::write_session(path, &s)?;
            Ok(true)
        }
        (Some(_), None) => Ok(true),
        (None, _) => Ok(false),
    }
}

/// `count` more connections with `config` (which offers the saved session), each with its
/// own deadline of `timeout`, each closed with close_notify so that its session stays
/// resumable.
pub(super) fn reconnect(
    url: &TransportUrl,
    config: &ClientConfig,
    options: impl Fn(Instant) -> ConnectOptions,
    count: u32,
    timeout: Duration,
) -> Vec<Attempt> {
    (1..=count as usize)
        .map(|attempt| {
            let deadline = Instant::now() + timeout;
            match client::connect_with(url, config, &options(deadline)) {
                Ok(mut conn) => {
                    let s = conn.session();
                    // A new ticket replaces the one used, as the next attempt should offer.
                    let _ = keep(&mut conn, None, deadline);
                    let _ = conn.stream.shutdown();
                    Attempt {
                        attempt,
                        resumed: s.resumed,
                        protocol: Some(s.protocol.clone()),
                        handshake_ms: Some(conn.timings.handshake.as_secs_f64() * 1e3),
                        error: None,
                        negotiated: Some(Negotiated::of(&s)),
                    }
                }
                Err(e) => Attempt {
                    attempt,
                    resumed: false,
                    protocol: None,
                    handshake_ms: None,
                    error: Some(report::chain(&e)),
                    negotiated: None,
                },
            }
        })
        .collect()
}
