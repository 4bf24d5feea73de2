//! [`DtlsListenerStats`]: what a [`DtlsListener`](super::DtlsListener) counted.

use crate::server::ListenerStats;

use super::inspect::Junk;

/// Counters of a [`DtlsListener`](super::DtlsListener) since it was bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsListenerStats {
    /// The counters every listener keeps: `accepted` counts the peers that passed the
    /// cookie exchange, and each end is counted as for TCP.
    pub listener: ListenerStats,
    /// Datagrams received.
    pub datagrams: u64,
    /// HelloVerifyRequests sent: ClientHellos without a valid cookie, each answered and
    /// forgotten.
    pub hello_verify_requests: u64,
    /// Datagrams that were not DTLS (too short for a record header, an unknown content type
    /// or version), dropped.
    pub not_dtls: u64,
    /// Datagrams with a record longer than the datagram, dropped.
    pub truncated: u64,
    /// Datagrams longer than any DTLS record, dropped.
    pub oversized: u64,
    /// Datagrams whose first record belongs to no epoch the peer can be in, dropped: from
    /// an address with no handshake, any but epoch 0 (a record of an association that
    /// ended, or never began); from any address, epoch 2 or later (there is no
    /// renegotiation).
    pub unknown_epoch: u64,
    /// Datagrams from an address with no handshake that were not a ClientHello DTLSv1_listen
    /// could read (another message, a fragment), dropped.
    pub stray: u64,
    /// Datagrams for a peer whose queue was full, dropped.
    pub queue_full: u64,
    /// Addresses with state now: handshakes in progress and established associations
    /// whose stream is alive.
    pub peers: usize,
    /// Rotations of the cookie secret.
    pub cookie_rotations: u64,
}

impl DtlsListenerStats {
    /// Counts a datagram dropped as `junk`.
    pub(super) fn count(&mut self, junk: Junk) {
        match junk {
            Junk::NotDtls => self.not_dtls += 1,
            Junk::Truncated => self.truncated += 1,
            Junk::Oversized => self.oversized += 1,
        }
    }
}
