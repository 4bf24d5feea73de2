//! [`Transport`]: the byte stream under the TLS connection, with a record of what crossed it.
//!
//! OpenSSL reads and writes through a BIO that calls this type. It keeps what a diagnosis
//! needs and OpenSSL does not: the first bytes the peer sent (a plaintext banner), the byte
//! counts, whether the peer closed, and the last operating-system error with its errno.
//! It also retries reads and writes interrupted by a signal (`EINTR`).

use std::io::{self, Read, Write};

/// How many of the peer's first bytes are kept for diagnosis.
pub(crate) const PEER_PREFIX_LEN: usize = 1024;

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
        }
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

    /// The first bytes the peer sent (up to 1024).
    pub fn peer_prefix(&self) -> &[u8] {
        &self.peer_prefix
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

    fn record_error(&mut self, e: io::Error) -> io::Error {
        let copy = match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        self.last_error = Some(e);
        copy
    }
}

fn is_retry(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl<S: Read> Read for Transport<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(0) if !buf.is_empty() => {
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
