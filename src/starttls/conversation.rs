//! Chunked reading of replies and writing of commands over the plain stream.

use std::io::{self, Read, Write};

use super::reply::{escape_bytes, preview, ReplyError};
use super::StarttlsError;

/// How many bytes one `read` asks for.
const CHUNK: usize = 4096;

/// A reply parser from [`super::reply`].
pub(super) type Parser<T> = fn(&[u8]) -> Result<Option<(T, usize)>, ReplyError>;

/// The client's side of the plain-text dialogue: a stream and the bytes received from it but
/// not yet parsed.
#[derive(Debug)]
pub(super) struct Conversation<'s, S> {
    stream: &'s mut S,
    buf: Vec<u8>,
}

impl<'s, S: Read + Write> Conversation<'s, S> {
    pub(super) fn new(stream: &'s mut S) -> Self {
        Conversation {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes a whole command and flushes it.
    pub(super) fn send(&mut self, bytes: &[u8], during: &'static str) -> Result<(), StarttlsError> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| io_error(e, during))
    }

    /// Reads until `parse` finds one complete reply at the start of the buffered bytes, and
    /// returns it with the number of bytes it took. Bytes after it stay buffered.
    pub(super) fn receive<T>(
        &mut self,
        during: &'static str,
        parse: Parser<T>,
    ) -> Result<(T, usize), StarttlsError> {
        loop {
            match parse(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used.min(self.buf.len()));
                    return Ok((reply, used));
                }
                Ok(None) => self.fill(during)?,
                Err(e) => return Err(reply_error(e, during)),
            }
        }
    }

    /// Ends the dialogue after the go-ahead: any byte still buffered arrived after it and is
    /// refused as [`StarttlsError::InjectedBytes`].
    pub(super) fn finish(self) -> Result<(), StarttlsError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(StarttlsError::InjectedBytes {
                count: self.buf.len(),
                preview: preview(&self.buf),
            })
        }
    }

    /// One read of up to [`CHUNK`] bytes, appended to the buffer.
    fn fill(&mut self, during: &'static str) -> Result<(), StarttlsError> {
        let mut chunk = [0u8; CHUNK];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(StarttlsError::Closed {
                        during,
                        received: escape_bytes(self.buf.get(..256).unwrap_or(&self.buf)),
                    })
                }
                Ok(n) => {
                    self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&chunk));
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, during)),
            }
        }
    }
}

fn io_error(e: io::Error, during: &'static str) -> StarttlsError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => StarttlsError::Timeout { during },
        _ => StarttlsError::Io { during, source: e },
    }
}

fn reply_error(e: ReplyError, during: &'static str) -> StarttlsError {
    match e {
        ReplyError::Malformed { preview, .. } => StarttlsError::UnexpectedReply {
            during,
            reply: preview,
        },
        ReplyError::MismatchedCode { first, line } => StarttlsError::UnexpectedReply {
            during,
            reply: format!("{first}-... then {line}"),
        },
        ReplyError::TooLong { .. } | ReplyError::TooManyLines { .. } => {
            StarttlsError::TooLong { during }
        }
    }
}
