//! [`Transport`]: the byte stream under the TLS connection, with a record of what crossed it.
//!
//! OpenSSL reads and writes through a BIO that calls this type. It keeps what a diagnosis
//! needs and OpenSSL does not: the first bytes the peer sent (a plaintext banner), the byte
//! counts, whether the peer closed, and the last operating-system error with its errno.
//! It also retries reads and writes interrupted by a signal (`EINTR`).
//!
//! During the handshake it reads ahead: OpenSSL asks for a 5-byte record header and then the
//! record body, two system calls per record; the transport reads up to 4 KiB at once and
//! serves both from that buffer. That halves the reads of a handshake, and when the peer is
//! not speaking TLS, its whole first line (`220 mail ESMTP`) is there to quote in the hint.
//! A connection holds the buffer only while it has unread bytes in it: an empty one goes back
//! to a small per-thread pool, so thousands of handshakes waiting for their peers hold none,
//! and the few buffers in use stay warm in the cache. Reading ahead stops once the handshake
//! is done, and the peer's first bytes are then forgotten.

use std::cell::RefCell;
use std::io::{self, Read, Write};

/// How many of the peer's first bytes are kept for diagnosis.
pub(crate) const PEER_PREFIX_LEN: usize = 1024;

/// How many of the peer's first bytes a [`HandshakeError`](crate::HandshakeError) keeps.
const SHOWN_PEER_BYTES: usize = 256;

/// Size of the read-ahead buffer used during the handshake.
const READ_AHEAD_LEN: usize = 4096;

/// How many empty read-ahead buffers a thread keeps for reuse.
const SPARE_BUFFERS_KEPT: usize = 8;

thread_local! {
    /// Empty read-ahead buffers, reused by the thread's next reads. Without reuse every
    /// handshake would malloc and free buffers between OpenSSL's own allocations.
    static SPARE_BUFFERS: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A read-ahead buffer: a spare one of this thread, or a new one.
fn take_buffer() -> Box<[u8]> {
    SPARE_BUFFERS
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; READ_AHEAD_LEN].into_boxed_slice())
}

/// Gives an empty read-ahead buffer back to this thread's spares (or frees it).
fn give_back(buffer: Box<[u8]>) {
    let _ = SPARE_BUFFERS.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < SPARE_BUFFERS_KEPT {
            spare.push(buffer);
        }
    });
}

/// A byte stream with a record of the traffic. Created by [`Handshake`](crate::Handshake);
/// reach the inner stream with [`get_ref`](Self::get_ref) / [`get_mut`](Self::get_mut).
#[derive(Debug)]
pub struct Transport<S> {
    inner: S,
    peer_prefix: Vec<u8>,
    bytes_in: u64,
    bytes_out: u64,
    eof: bool,
    last_error: Option<io::Error>,
    read_ahead: bool,
    /// While set, a write that fails because the peer closed (`EPIPE`, `ECONNRESET`) is kept
    /// in `held` and OpenSSL is told to retry instead (see [`hold_close_errors`]).
    ///
    /// [`hold_close_errors`]: Self::hold_close_errors
    hold_close: bool,
    held: Option<io::Error>,
    /// Held only while it has unread bytes: `ahead[ahead_pos..ahead_end]`.
    ahead: Option<Box<[u8]>>,
    ahead_pos: usize,
    ahead_end: usize,
}

impl<S> Transport<S> {
    pub(crate) fn new(inner: S) -> Transport<S> {
        Transport {
            inner,
            peer_prefix: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
            eof: false,
            last_error: None,
            read_ahead: true,
            hold_close: false,
            held: None,
            ahead: None,
            ahead_pos: 0,
            ahead_end: 0,
        }
    }

    /// Stops reading ahead (bytes already buffered are still delivered first) and forgets
    /// the peer's first bytes, which only a failed handshake needs. Called when the handshake
    /// is done.
    pub(crate) fn handshake_done(&mut self) {
        self.peer_prefix = Vec::new();
        self.read_ahead = false;
    }

    /// Reads one datagram per read, never ahead: a DTLS transport keeps datagram boundaries
    /// (OpenSSL reads a whole record-layer packet at a time).
    pub(crate) fn set_datagram(&mut self) {
        self.read_ahead = false;
    }

    /// Forgets the traffic so far: the counts start again from zero and the peer's first
    /// bytes are forgotten (a DTLS server's peer after its cookie exchange, whose progress is
    /// counted from there).
    pub(crate) fn reset_counters(&mut self) {
        self.bytes_in = 0;
        self.bytes_out = 0;
        self.peer_prefix.clear();
    }

    /// Bytes read from the socket but not yet handed to OpenSSL. When this is non-zero, the
    /// socket may not poll readable although data is waiting.
    pub fn buffered(&self) -> usize {
        self.ahead_end - self.ahead_pos
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner stream, mutably. Reading or writing it directly corrupts the TLS session.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner stream, by value.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The first bytes the peer sent (up to 1024), kept until the handshake is done.
    pub fn peer_prefix(&self) -> &[u8] {
        &self.peer_prefix
    }

    /// The part of [`peer_prefix`](Self::peer_prefix) an error keeps: the first 256 bytes.
    pub(crate) fn shown_prefix(&self) -> &[u8] {
        &self.peer_prefix[..self.peer_prefix.len().min(SHOWN_PEER_BYTES)]
    }

    /// Bytes received from the peer so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes sent to the peer so far.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_out
    }

    /// True once a read returned end-of-file.
    pub fn saw_eof(&self) -> bool {
        self.eof
    }

    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.last_error.take()
    }

    /// While `on`, a write that fails because the peer closed the connection (`EPIPE`,
    /// `ECONNRESET`) does not reach OpenSSL as a failure: the transport keeps the error (see
    /// [`take_held`](Self::take_held)) and OpenSSL is told to retry (`WouldBlock`), so the
    /// connection stays readable. OpenSSL 4.0 refuses every call on a connection whose write
    /// failed, and the peer's last words (a TLS 1.3 server's verdict on a missing client
    /// certificate) would then be lost in the receive buffer.
    pub(crate) fn hold_close_errors(&mut self, on: bool) {
        self.hold_close = on;
    }

    /// The closed-connection error a write kept from OpenSSL while
    /// [`hold_close_errors`](Self::hold_close_errors) was on.
    pub(crate) fn take_held(&mut self) -> Option<io::Error> {
        self.held.take()
    }

    fn record_error(&mut self, e: io::Error) -> io::Error {
        let copy = match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        self.last_error = Some(e);
        copy
    }
}

/// The errors of a write to a connection the peer closed or reset.
fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

fn is_retry(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl<S: Read> Transport<S> {
    /// One read from the inner stream into `buf`, with the traffic recorded and `EINTR`
    /// retried.
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.bytes_in += n as u64;
                    let room = PEER_PREFIX_LEN.saturating_sub(self.peer_prefix.len());
                    self.peer_prefix.extend_from_slice(&buf[..n.min(room)]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_retry(&e) => return Err(e),
                Err(e) => return Err(self.record_error(e)),
            }
        }
    }

    /// Copies buffered bytes into `buf`; the buffer goes back to the spares once empty.
    fn serve_buffered(&mut self, buf: &mut [u8]) -> usize {
        let Some(ahead) = &self.ahead else {
            return 0;
        };
        let n = buf.len().min(self.ahead_end - self.ahead_pos);
        buf[..n].copy_from_slice(&ahead[self.ahead_pos..self.ahead_pos + n]);
        self.ahead_pos += n;
        if self.ahead_pos == self.ahead_end {
            if let Some(empty) = self.ahead.take() {
                give_back(empty);
            }
            self.ahead_pos = 0;
            self.ahead_end = 0;
        }
        n
    }
}

impl<S: Read> Read for Transport<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.buffered() > 0 {
            return Ok(self.serve_buffered(buf));
        }
        if !self.read_ahead || buf.len() >= READ_AHEAD_LEN {
            return self.read_inner(buf);
        }
        let mut ahead = take_buffer();
        match self.read_inner(&mut ahead) {
            Ok(n) if n > 0 => {
                self.ahead = Some(ahead);
                self.ahead_pos = 0;
                self.ahead_end = n;
                Ok(self.serve_buffered(buf))
            }
            other => {
                give_back(ahead);
                other
            }
        }
    }
}

impl<S: Write> Write for Transport<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.inner.write(buf) {
                Ok(n) => {
                    self.bytes_out += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_retry(&e) => return Err(e),
                Err(e) if self.hold_close && is_closed(&e) => {
                    self.held = Some(e);
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Err(e) => return Err(self.record_error(e)),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.inner.flush() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}
