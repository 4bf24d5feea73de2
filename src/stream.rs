//! [`TlsStream`]: an established TLS connection.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use openssl::ssl::{ShutdownResult, SslRef, SslStream};

use crate::ffi;
use crate::handshake::HandshakeStats;
use crate::nodelay;
use crate::session::SessionInfo;
use crate::transport::Transport;

/// An established TLS connection over `S`: `Read` + `Write` for application data
/// ([`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/) /
/// [`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/)), plus the session facts and
/// the handshake's counters.
#[derive(Debug)]
pub struct TlsStream<S> {
    stream: SslStream<Transport<S>>,
    stats: HandshakeStats,
    nodelay_before: Option<bool>,
}

impl<S> TlsStream<S> {
    pub(crate) fn new(
        stream: SslStream<Transport<S>>,
        stats: HandshakeStats,
        nodelay_before: Option<bool>,
    ) -> TlsStream<S> {
        TlsStream {
            stream,
            stats,
            nodelay_before,
        }
    }

    /// The OpenSSL connection object.
    pub fn ssl(&self) -> &SslRef {
        self.stream.ssl()
    }

    /// The facts of the session: protocol, cipher, ALPN, resumption, peer certificate, ...
    pub fn session(&self) -> SessionInfo {
        SessionInfo::from_ssl(self.stream.ssl())
    }

    /// The protocol as OpenSSL names it (`"TLSv1.3"`).
    pub fn protocol(&self) -> &'static str {
        self.stream.ssl().version_str()
    }

    /// OpenSSL's name of the cipher suite.
    pub fn cipher(&self) -> &'static str {
        self.stream
            .ssl()
            .current_cipher()
            .map(|c| c.name())
            .unwrap_or("")
    }

    /// The handshake's counters (retries, steps, duration).
    pub fn stats(&self) -> HandshakeStats {
        self.stats
    }

    /// The transport and its traffic record.
    pub fn transport(&self) -> &Transport<S> {
        self.stream.get_ref()
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        self.stream.get_ref().get_ref()
    }

    /// The inner stream, mutably; reading or writing it directly corrupts the session.
    pub fn get_mut(&mut self) -> &mut S {
        self.stream.get_mut().get_mut()
    }

    /// The `TCP_NODELAY` setting the socket had before the handshake changed it, if it did.
    pub fn nodelay_before_handshake(&self) -> Option<bool> {
        self.nodelay_before
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// Sends close_notify ([`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/)).
    /// Returns `true` once the peer's close_notify was received too.
    pub fn shutdown(&mut self) -> io::Result<bool> {
        match self.stream.shutdown() {
            Ok(ShutdownResult::Sent) => Ok(false),
            Ok(ShutdownResult::Received) => Ok(true),
            Err(e) => Err(e
                .into_io_error()
                .unwrap_or_else(|e| io::Error::other(e.to_string()))),
        }
    }
}

impl<S: AsFd> TlsStream<S> {
    /// Puts `TCP_NODELAY` back the way it was before the handshake.
    pub fn restore_nodelay(&self) -> io::Result<()> {
        match self.nodelay_before {
            Some(previous) => nodelay::set_nodelay(self.get_ref(), previous),
            None => Ok(()),
        }
    }
}

/// Reads application data ([`SSL_read_ex(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)).
///
/// After each read, the connection's 16.7 kB record buffer is given back when it holds
/// nothing ([`SSL_free_buffers(3)`](https://docs.openssl.org/3.0/man3/SSL_alloc_buffers/)):
/// `SSL_MODE_RELEASE_BUFFERS` frees it only after a record was read completely, so a
/// connection whose last read found no data (`WouldBlock` on an idle socket) would keep it
/// while it waits. Not done with OpenSSL releases that have CVE-2024-4741.
impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.stream.read(buf);
        ffi::free_idle_buffers(&mut self.stream);
        result
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
