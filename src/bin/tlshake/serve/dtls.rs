//! `tlshake serve --dtls`: the events of a [`DtlsListener`], and each association answered
//! (echo or the HTTP page) on a thread of its own until the client closes or stays silent
//! for `--idle-timeout`.

use std::io::{Read, Write};
use std::time::Duration;

use tlshake::dtls::{DtlsListener, DtlsServerEvent, PeerChannel};
use tlshake::server::{http_reply, Accepted, ServerEvent};
use tlshake::TlsStream;

use super::conn::ReplyMode;
use crate::report::{self, Outcome};

/// What `serve` asked of its DTLS associations.
pub(super) struct Settings {
    /// Echo, or the HTTP page.
    pub(super) reply: ReplyMode,
    /// How long an association may stay silent.
    pub(super) idle: Duration,
    /// Exit after this many handshakes (`--max-connections`).
    pub(super) max: Option<u64>,
    /// How an event is reported (text or JSON).
    pub(super) report: fn(&DtlsServerEvent),
}

/// Serves until `--max-connections` handshakes ended, or the listener fails.
pub(super) fn run(mut listener: DtlsListener, s: &Settings) -> Outcome {
    let mut handshakes = 0u64;
    loop {
        let event = match listener.next_event(None) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(e) => {
                report::fail("tlshake", &e);
                return Outcome::Failed;
            }
        };
        (s.report)(&event);
        if !matches!(event, ServerEvent::Callback { .. }) {
            handshakes += 1;
        }
        if let ServerEvent::Established(accepted) = event {
            let (mode, idle) = (s.reply, s.idle);
            let spawned = std::thread::Builder::new()
                .name("serve-dtls".into())
                .spawn(move || answer(accepted, mode, idle));
            if let Err(e) = spawned {
                report::fail("tlshake: cannot start a thread for the association", &e);
            }
        }
        if s.max.is_some_and(|max| handshakes >= max) {
            return Outcome::Done;
        }
    }
}

/// Serves one association: echo every record back, or answer the first with the HTTP page;
/// ends at close_notify, an error, or `idle` without a datagram.
fn answer(mut accepted: Accepted<TlsStream<PeerChannel>>, mode: ReplyMode, idle: Duration) {
    accepted.stream.get_ref().set_blocking(Some(idle));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match accepted.stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let reply = match mode {
            ReplyMode::Echo => buf.get(..n).unwrap_or_default().to_vec(),
            ReplyMode::Http => http_reply(&accepted.session),
        };
        if accepted.stream.write_all(&reply).is_err() {
            break;
        }
        if mode == ReplyMode::Http {
            break;
        }
    }
    let _ = accepted.stream.shutdown();
}
