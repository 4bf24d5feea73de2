//! Sans-IO handshakes over memory buffers: [`MemoryHandshake`], [`MemoryPipe`],
//! [`MemorySession`].
use std::collections::VecDeque;
use std::io::{self, Read, Write};

use openssl::ssl::{Ssl, SslRef};

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Role};
use crate::session::SessionInfo;
use crate::stream::TlsStream;

/// A byte transport made of two buffers: what the peer sent (fed by the caller) and what this
/// end wrote (taken by the caller).
///
/// * `read` serves the fed bytes; when there are none it fails with
///   [`io::ErrorKind::WouldBlock`], which OpenSSL reports as `SSL_ERROR_WANT_READ`. After
///   [`feed_eof`](Self::feed_eof) it returns end-of-file instead, once the fed bytes are
///   used up.
/// * `write` always succeeds and appends to the outbound buffer, which
///   [`take_output`](Self::take_output) empties.
#[derive(Debug, Default)]
pub struct MemoryPipe {
    inbound: VecDeque<u8>,
    outbound: Vec<u8>,
    eof: bool,
}

impl MemoryPipe {
    /// An empty pipe.
    pub fn new() -> MemoryPipe {
        MemoryPipe::default()
    }

    /// Appends bytes that arrived from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.inbound.extend(bytes);
    }

    /// Records that the peer closed its side: reads return end-of-file once the fed bytes are
    /// used up.
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// Moves every byte written so far to the end of `out`; returns how many. (Not named
    /// `take`, which [`Read::take`] already is.)
    pub fn take_output(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.outbound.len();
        out.append(&mut self.outbound);
        n
    }

    /// Bytes written and not yet taken.
    pub fn pending_output(&self) -> usize {
        self.outbound.len()
    }

    /// Bytes fed and not yet read.
    pub fn pending_input(&self) -> usize {
        self.inbound.len()
    }
}

impl Read for MemoryPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inbound.is_empty() && !buf.is_empty() {
            if self.eof {
                return Ok(0);
            }
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.inbound.read(buf)
    }
}

impl Write for MemoryPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbound.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sans-IO handshakes: TLS over memory buffers, with no socket and no clock.
///
/// [`MemoryHandshake`] is a [`Handshake`] over a [`MemoryPipe`]: the caller carries the bytes.
/// Feed what arrived from the peer with [`feed`](MemoryHandshake::feed), call
/// [`step`](MemoryHandshake::step), send what [`take`](MemoryHandshake::take) hands back, and
/// repeat. `step` returns the same [`HandshakeOutcome`] as a socket handshake, and
/// [`Want::Read`](crate::Want::Read) means "feed me more bytes from the peer". Once it is
/// [`Done`](HandshakeOutcome::Done), [`into_session`](MemoryHandshake::into_session) gives a
/// [`MemorySession`] that encrypts and decrypts application data the same way.
///
/// **Take the pending output before waiting for the peer.** A step that returns
/// `Want::Read` has often just produced a flight (the ClientHello, the server's
/// ServerHello...Finished); the peer cannot answer before it gets those bytes, so a loop that
/// waits for input without calling `take` first waits forever.
///
/// Because nothing here reads a clock or touches a socket, a test can truncate, corrupt or
/// delay any byte of a handshake and get the same result every time.
///
/// # Two ends pumped against each other in memory
///
/// ```
/// use openssl::pkey::PKey;
/// use openssl::ssl::{Ssl, SslAcceptor, SslConnector, SslMethod};
/// use openssl::x509::X509;
/// use tlshake::bundled::{CA_PEM, SERVER_KEY, SERVER_PEM};
/// use tlshake::MemoryHandshake;
/// use tlshake::HandshakeOutcome;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut server_ctx = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
/// let cert = X509::from_pem(SERVER_PEM.as_bytes())?;
/// let key = PKey::private_key_from_pem(SERVER_KEY.as_bytes())?;
/// server_ctx.set_certificate(&cert)?;
/// server_ctx.set_private_key(&key)?;
/// let server_ctx = server_ctx.build();
/// let mut client_ctx = SslConnector::builder(SslMethod::tls_client())?;
/// client_ctx.cert_store_mut().add_cert(X509::from_pem(CA_PEM.as_bytes())?)?;
/// let client_ctx = client_ctx.build();
///
/// let mut client = MemoryHandshake::client(client_ctx.configure()?.into_ssl("localhost")?)?;
/// let mut server = MemoryHandshake::server(Ssl::new(server_ctx.context())?)?;
///
/// // Step each end, then carry its output to the other, until both are done.
/// let (mut client_done, mut server_done) = (false, false);
/// let mut wire = Vec::new();
/// for _round in 0..10 {
///     for (end, done) in [(&mut client, &mut client_done), (&mut server, &mut server_done)] {
///         if !*done {
///             match end.step() {
///                 HandshakeOutcome::Done => *done = true,
///                 HandshakeOutcome::Want(_) => {}
///                 failed => return Err(failed.to_string().into()),
///             }
///         }
///     }
///     wire.clear();
///     client.take(&mut wire);
///     server.feed(&wire);
///     wire.clear();
///     server.take(&mut wire);
///     client.feed(&wire);
///     if client_done && server_done {
///         break;
///     }
/// }
/// assert!(client_done && server_done);
///
/// // Application data goes through the same buffers.
/// let mut client = client.into_session();
/// let mut server = server.into_session();
/// client.write_plaintext(b"ping")?;
/// wire.clear();
/// client.take(&mut wire);
/// server.feed(&wire);
/// let mut buf = [0u8; 16];
/// let n = server.read_plaintext(&mut buf)?;
/// assert_eq!(&buf[..n], b"ping");
/// assert_eq!(client.session().protocol, "TLSv1.3");
/// # Ok(()) }
/// ```
///
/// # Over a Unix socket the caller owns
///
/// The transport is the caller's business: here the client's bytes cross a
/// [`UnixStream`](std::os::unix::net::UnixStream) pair, and the server at the other end is an
/// ordinary socket [`Handshake`].
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use openssl::pkey::PKey;
/// use openssl::ssl::{Ssl, SslAcceptor, SslConnector, SslMethod};
/// use openssl::x509::X509;
/// use tlshake::bundled::{CA_PEM, SERVER_KEY, SERVER_PEM};
/// use tlshake::MemoryHandshake;
/// use tlshake::{Handshake, HandshakeOutcome, Want};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut server_ctx = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
/// let cert = X509::from_pem(SERVER_PEM.as_bytes())?;
/// let key = PKey::private_key_from_pem(SERVER_KEY.as_bytes())?;
/// server_ctx.set_certificate(&cert)?;
/// server_ctx.set_private_key(&key)?;
/// let server_ctx = server_ctx.build();
/// let mut client_ctx = SslConnector::builder(SslMethod::tls_client())?;
/// client_ctx.cert_store_mut().add_cert(X509::from_pem(CA_PEM.as_bytes())?)?;
/// let client_ctx = client_ctx.build();
///
/// let (mut socket, server_end) = UnixStream::pair()?;
/// let server_ssl = Ssl::new(server_ctx.context())?;
/// let server = std::thread::spawn(move || -> Result<(), String> {
///     let mut tls = Handshake::server(server_ssl, server_end)
///         .and_then(Handshake::finish)
///         .map_err(|e| e.to_string())?;
///     tls.write_all(b"hello from the server").map_err(|e| e.to_string())
/// });
///
/// let mut client = MemoryHandshake::client(client_ctx.configure()?.into_ssl("localhost")?)?;
/// let mut out = Vec::new();
/// let mut buf = [0u8; 4096];
/// loop {
///     let outcome = client.step();
///     // Send what the step produced before waiting for the peer.
///     out.clear();
///     client.take(&mut out);
///     socket.write_all(&out)?;
///     match outcome {
///         HandshakeOutcome::Done => break,
///         HandshakeOutcome::Want(Want::Read) => match socket.read(&mut buf)? {
///             0 => client.feed_eof(),
///             n => client.feed(&buf[..n]),
///         },
///         other => return Err(other.to_string().into()),
///     }
/// }
///
/// let mut session = client.into_session();
/// let mut plain = [0u8; 64];
/// let n = loop {
///     match session.read_plaintext(&mut plain) {
///         Ok(n) => break n,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
///             let n = socket.read(&mut buf)?;
///             if n == 0 {
///                 session.feed_eof();
///             }
///             session.feed(&buf[..n]);
///         }
///         Err(e) => return Err(e.into()),
///     }
/// };
/// assert_eq!(&plain[..n], b"hello from the server");
/// server.join().map_err(|_| "server thread panicked")??;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MemoryHandshake {
    handshake: Handshake<MemoryPipe>,
}

/// A handshake over a [`MemoryPipe`] made elsewhere, e.g. by
/// [`ClientConfig::handshake`](crate::client::ClientConfig::handshake).
impl From<Handshake<MemoryPipe>> for MemoryHandshake {
    fn from(handshake: Handshake<MemoryPipe>) -> MemoryHandshake {
        MemoryHandshake { handshake }
    }
}

impl MemoryHandshake {
    /// A client handshake ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/))
    /// with the `Ssl` of the caller's context. The first [`step`](Self::step) writes the
    /// ClientHello.
    pub fn client(ssl: Ssl) -> Result<MemoryHandshake, HandshakeError> {
        MemoryHandshake::new(ssl, Role::Client)
    }

    /// A server handshake ([`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)).
    /// Feed it the client's first flight, then [`step`](Self::step).
    pub fn server(ssl: Ssl) -> Result<MemoryHandshake, HandshakeError> {
        MemoryHandshake::new(ssl, Role::Server)
    }

    /// A handshake in `role`.
    pub fn new(ssl: Ssl, role: Role) -> Result<MemoryHandshake, HandshakeError> {
        Ok(MemoryHandshake {
            handshake: Handshake::new(ssl, MemoryPipe::new(), role)?,
        })
    }

    /// Appends bytes that arrived from the peer; the next [`step`](Self::step) reads them.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.pipe_mut().feed(bytes);
    }

    /// Records that the peer closed the connection; a step that needs more bytes then fails
    /// with an unexpected-EOF error instead of returning [`Want::Read`](crate::Want::Read).
    pub fn feed_eof(&mut self) {
        self.pipe_mut().feed_eof();
    }

    /// Moves the bytes this end produced (to be sent to the peer) to the end of `out`; returns
    /// how many. Call it after every step, before waiting for the peer.
    pub fn take(&mut self, out: &mut Vec<u8>) -> usize {
        self.pipe_mut().take_output(out)
    }

    /// Bytes produced and not yet taken.
    pub fn pending_output(&self) -> usize {
        self.handshake.transport().get_ref().pending_output()
    }

    /// Calls the handshake function once
    /// ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/) for a client,
    /// [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/) for a server) and says
    /// what happened.
    ///
    /// [`Want::Read`](crate::Want::Read) means the handshake needs more bytes from the peer: take the pending
    /// output, send it, feed what comes back, and step again. [`Want::Write`](crate::Want::Write) does not occur,
    /// since writes to memory always succeed. No clock is read.
    #[must_use = "the outcome says what to do next: move bytes, or stop"]
    #[doc(alias = "SSL_do_handshake")]
    pub fn step(&mut self) -> HandshakeOutcome {
        self.handshake.step()
    }

    /// Which side this end plays.
    pub fn role(&self) -> Role {
        self.handshake.role()
    }

    /// The OpenSSL connection object.
    pub fn ssl(&self) -> &SslRef {
        self.handshake.ssl()
    }

    /// The underlying [`Handshake`] (counters, traffic record).
    pub fn handshake(&self) -> &Handshake<MemoryPipe> {
        &self.handshake
    }

    /// The underlying [`Handshake`], mutably (to set the nodelay policy, ...).
    pub fn handshake_mut(&mut self) -> &mut Handshake<MemoryPipe> {
        &mut self.handshake
    }

    /// Wraps up a completed handshake into a session for application data. Call it after
    /// [`HandshakeOutcome::Done`]; called earlier, the session's first read or write continues
    /// the handshake. Output not taken yet stays pending in the session.
    pub fn into_session(self) -> MemorySession {
        MemorySession {
            stream: self.handshake.into_stream(),
        }
    }

    fn pipe_mut(&mut self) -> &mut MemoryPipe {
        self.handshake.transport_mut().get_mut()
    }
}

/// An established TLS connection over memory buffers: application data in and out
/// ([`SSL_write(3)`](https://docs.openssl.org/3.0/man3/SSL_write/) /
/// [`SSL_read(3)`](https://docs.openssl.org/3.0/man3/SSL_read/)), with the caller carrying the
/// encrypted bytes.
#[derive(Debug)]
pub struct MemorySession {
    stream: TlsStream<MemoryPipe>,
}

impl MemorySession {
    /// Encrypts `data` into records; take them with [`take`](Self::take). Returns how many
    /// plaintext bytes were consumed (all of them, since memory writes never block).
    pub fn write_plaintext(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < data.len() {
            match self.stream.write(&data[written..])? {
                0 => break,
                n => written += n,
            }
        }
        Ok(written)
    }

    /// Decrypts fed records into `buf`. Fails with [`io::ErrorKind::WouldBlock`] when a whole
    /// record has not been fed yet; returns `Ok(0)` once the peer's close_notify (or, after
    /// [`feed_eof`](Self::feed_eof), the end of the stream) was read.
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }

    /// Appends encrypted bytes that arrived from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.stream.get_mut().feed(bytes);
    }

    /// Records that the peer closed the connection.
    pub fn feed_eof(&mut self) {
        self.stream.get_mut().feed_eof();
    }

    /// Moves the encrypted bytes to send to the end of `out`; returns how many.
    pub fn take(&mut self, out: &mut Vec<u8>) -> usize {
        self.stream.get_mut().take_output(out)
    }

    /// Encrypted bytes produced and not yet taken.
    pub fn pending_output(&self) -> usize {
        self.stream.get_ref().pending_output()
    }

    /// The facts of the session (protocol, cipher, ALPN, peer certificate, ...), the same as a
    /// socket [`TlsStream::session`] reports.
    pub fn session(&self) -> SessionInfo {
        self.stream.session()
    }

    /// Sends close_notify ([`SSL_shutdown(3)`](https://docs.openssl.org/3.0/man3/SSL_shutdown/));
    /// take the alert with [`take`](Self::take). Returns `true` once the peer's close_notify
    /// was received too. Calling it again before the peer's alert was fed fails with
    /// [`io::ErrorKind::WouldBlock`].
    pub fn shutdown(&mut self) -> io::Result<bool> {
        self.stream.shutdown()
    }

    /// The underlying stream (OpenSSL object, counters, traffic record).
    pub fn stream(&self) -> &TlsStream<MemoryPipe> {
        &self.stream
    }
}
