//! A handshake timeline: every TLS message sent and received, as OpenSSL's message callback
//! ([`SSL_set_msg_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_msg_callback/))
//! sees it, with its direction, size and time, and the facts that explain it decoded: the
//! groups offered and chosen, the signature algorithm, the ALPN, the certificate subjects,
//! the alert. Where `openssl s_client -msg` / `-trace` print hex dumps, this shows where a
//! slow handshake spends its time ("the server's Certificate came 40 ms after its
//! ServerHello").
//!
//! Give a [`TraceSink`] to [`ClientConfigBuilder::trace`](crate::client::ClientConfigBuilder::trace);
//! every connection of the configuration then appends its messages. The sink is the
//! caller's, so a handshake that fails still shows how far it got.

mod decode;
mod names;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::ssl::SslRef;

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// This end wrote it.
    Sent,
    /// The peer wrote it.
    Received,
}

/// One TLS message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceEvent {
    /// Time since the connection object was made (just before the TCP connect).
    pub at: Duration,
    /// Who sent it.
    pub direction: Direction,
    /// The message: `"ClientHello"`, `"ServerHello"`, `"EncryptedExtensions"`,
    /// `"Certificate"`, `"CertificateVerify"`, `"Finished"`, `"NewSessionTicket"`,
    /// `"KeyUpdate"`, `"Alert"`, `"ChangeCipherSpec"`, ...
    pub message: &'static str,
    /// Its size in bytes (a handshake message with its 4-byte header; an alert is 2).
    pub size: usize,
    /// What it says, decoded: `"groups offered: X25519MLKEM768, x25519, secp256r1"`,
    /// `"signature algorithms offered: ecdsa_secp256r1_sha256, ..."`, `"ALPN: h2"`,
    /// `"signature: ecdsa_secp256r1_sha256"`, `"subjects: CN=localhost"`,
    /// `"fatal handshake_failure"`, ...
    pub facts: Vec<String>,
}

/// Where the connections of a configuration put their timelines; clones share one list.
#[derive(Debug, Clone, Default)]
pub struct TraceSink {
    events: Arc<Mutex<Vec<TraceEvent>>>,
}

impl TraceSink {
    /// A new, empty sink.
    pub fn new() -> TraceSink {
        TraceSink::default()
    }

    /// Takes the events recorded so far, oldest first, leaving the sink empty: call it
    /// after each connection to get that connection's timeline.
    pub fn take(&self) -> Vec<TraceEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }

    fn push(&self, event: TraceEvent) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event);
        }
    }
}

/// What the message callback of one connection needs: its start and the sink.
#[derive(Debug)]
pub(crate) struct Recorder {
    start: Instant,
    sink: TraceSink,
}

impl Recorder {
    pub(crate) fn new(sink: TraceSink) -> Recorder {
        Recorder {
            start: Instant::now(),
            sink,
        }
    }

    /// One call of the message callback: `content_type` as OpenSSL gives it (20 to 23, or
    /// 256/257 for record headers and inner content types, which are skipped).
    pub(crate) fn record(&self, ssl: &SslRef, sent: bool, content_type: i32, bytes: &[u8]) {
        let Some((message, facts)) = decode::describe(ssl, content_type, bytes) else {
            return;
        };
        self.sink.push(TraceEvent {
            at: self.start.elapsed(),
            direction: if sent {
                Direction::Sent
            } else {
                Direction::Received
            },
            message,
            size: bytes.len(),
            facts,
        });
    }
}
