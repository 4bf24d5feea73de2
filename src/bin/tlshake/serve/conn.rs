//! One established connection of `tlshake serve`, served without blocking: echo, or one
//! HTTP request answered with the session page.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use clap::ValueEnum;
use nix::sys::epoll::EpollFlags;
use tlshake::server::http_reply;
use tlshake::SessionInfo;
use tlshake::TlsStream;

/// What the server does with a connection after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReplyMode {
    /// Send back every byte received, until the client closes.
    Echo,
    /// Read one request and answer `HTTP/1.1 200 OK` with a text page describing the session
    /// (like `s_server -www`).
    Http,
}

/// The most request bytes read before the HTTP reply goes out anyway.
const MAX_REQUEST: usize = 64 * 1024;

/// What the connection waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Watch the socket for these events.
    Watch(EpollFlags),
    /// Done (closed by the peer, answered, or failed): drop it.
    Close,
}

/// An established connection and what it still has to send.
pub(crate) struct Conn {
    pub(crate) stream: TlsStream<TcpStream>,
    session: SessionInfo,
    mode: ReplyMode,
    request: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
    answered: bool,
}

impl Conn {
    /// Takes an established stream, nonblocking as the listener hands it over
    /// ([`TlsListener::set_nonblocking_streams`](tlshake::server::TlsListener::set_nonblocking_streams)).
    pub(crate) fn new(stream: TlsStream<TcpStream>, session: SessionInfo, mode: ReplyMode) -> Conn {
        Conn {
            stream,
            session,
            mode,
            request: Vec::new(),
            out: Vec::new(),
            sent: 0,
            answered: false,
        }
    }

    /// Does what the socket allows now. `progressed` is set when bytes were read.
    pub(crate) fn on_ready(&mut self, progressed: &mut bool) -> Next {
        let mut buf = [0u8; 16 * 1024];
        loop {
            // What is owed goes out first; nothing more is read until it has.
            match self.flush() {
                Ok(true) => {}
                Ok(false) => return Next::Watch(EpollFlags::EPOLLOUT),
                Err(_) => return Next::Close,
            }
            if self.answered {
                let _ = self.stream.shutdown();
                return Next::Close;
            }
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    if self.mode == ReplyMode::Http && !self.request.is_empty() {
                        self.answer();
                        continue;
                    }
                    return Next::Close;
                }
                Ok(n) => {
                    *progressed = true;
                    let data = buf.get(..n).unwrap_or_default();
                    match self.mode {
                        ReplyMode::Echo => self.queue(data),
                        ReplyMode::Http => {
                            self.request.extend_from_slice(data);
                            let complete = self.request.windows(4).any(|w| w == b"\r\n\r\n");
                            if complete || self.request.len() >= MAX_REQUEST {
                                self.answer();
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Next::Watch(EpollFlags::EPOLLIN)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
    }

    fn answer(&mut self) {
        let reply = http_reply(&self.session);
        self.queue(&reply);
        self.answered = true;
    }

    fn queue(&mut self, data: &[u8]) {
        self.out.clear();
        self.out.extend_from_slice(data);
        self.sent = 0;
    }

    /// Writes what is owed; `Ok(false)` when the socket is full. The buffer is not touched
    /// while a write is pending, so OpenSSL's retry sees the same bytes.
    fn flush(&mut self) -> io::Result<bool> {
        while self.sent < self.out.len() {
            let rest = self.out.get(self.sent..).unwrap_or_default();
            match self.stream.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.sent = 0;
        Ok(true)
    }
}
