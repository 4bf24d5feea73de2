//! [`Handshake`]: one TLS handshake, stepped by hand or driven to completion.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslRef, SslStream};

use crate::error::{HandshakeError, HandshakeFunction, OpensslError};
use crate::nodelay::NodelayPolicy;
use crate::outcome::{HandshakeOutcome, Role, SslErrorCode, Want};
use crate::stream::TlsStream;
use crate::sys;
use crate::transport::Transport;

use super::failure::setup_error;

/// Counters a handshake keeps: how often it had to wait, and how long it took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeStats {
    /// Steps that returned `SSL_ERROR_WANT_READ`.
    pub want_read: u32,
    /// Steps that returned `SSL_ERROR_WANT_WRITE`.
    pub want_write: u32,
    /// Steps that returned another `SSL_ERROR_WANT_*`.
    pub want_other: u32,
    /// Calls of the handshake function in all.
    pub steps: u32,
    /// Wall time from the first step to the end, when a driver ([`Handshake::drive`],
    /// [`Handshake::finish`]) measured it. The sans-IO [`Handshake::step`] reads no clock.
    pub duration: Option<Duration>,
    /// DTLS: expiries of the retransmission timer, each of which sent the last flight
    /// again (counted by the timer callback, [`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/));
    /// 0 for TLS.
    pub retransmissions: u32,
}

/// One TLS handshake over a transport `S`: a socket, or anything `Read + Write`.
///
/// * [`step`](Self::step) calls the handshake function once and returns the
///   [`HandshakeOutcome`]; the caller waits and calls again on [`HandshakeOutcome::Want`].
/// * [`drive`](Self::drive) does that loop for a nonblocking socket, with a deadline:
///   on `Want::Read` it waits until the socket is readable, on `Want::Write` until it is
///   writable, and stops with a timeout error at the deadline.
/// * [`finish`](Self::finish) is the same loop with no deadline (for blocking sockets too).
///
/// The `Ssl` comes from the caller's `SslContext`; build the context once and reuse it.
///
/// ```no_run
/// use std::net::TcpStream;
/// use std::time::{Duration, Instant};
/// use openssl::ssl::{SslConnector, SslMethod};
/// use tlshake::{Handshake, HandshakeError};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = SslConnector::builder(SslMethod::tls_client())?.build();
/// let ssl = connector.configure()?.into_ssl("example.com")?;
/// let tcp = TcpStream::connect("example.com:443")?;
/// tcp.set_nonblocking(true)?;
/// let deadline = Instant::now() + Duration::from_secs(5);
/// match Handshake::client(ssl, tcp)?.drive(deadline) {
///     Ok(tls) => println!("{} {}", tls.protocol(), tls.cipher()),
///     Err(e) if e.is_timeout() => eprintln!("timed out: {e}"),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Handshake<S> {
    pub(super) stream: SslStream<Transport<S>>,
    pub(super) role: Role,
    pub(super) function: HandshakeFunction,
    pub(super) last_ret: i32,
    pub(super) stats: HandshakeStats,
    pub(super) nodelay: NodelayPolicy,
    pub(super) nodelay_before: Option<bool>,
    /// When a runner began it ([`begin`](Self::begin)), by the runner's clock.
    pub(super) started: Option<Instant>,
    /// OpenSSL's errors from a call outside a step (a failed `DTLSv1_handle_timeout`), kept
    /// for the error of the step that reports the failure.
    pub(super) carried: Vec<OpensslError>,
}

impl<S: Read + Write> Handshake<S> {
    /// Prepares a handshake in `role` over `transport`
    /// ([`SSL_set_connect_state(3)`](https://docs.openssl.org/3.0/man3/SSL_set_connect_state/)
    /// or `SSL_set_accept_state`, then `SSL_set_bio`). No I/O happens yet.
    #[doc(alias = "SSL_set_connect_state")]
    #[doc(alias = "SSL_set_accept_state")]
    #[doc(alias = "SSL_set_bio")]
    pub fn new(mut ssl: Ssl, transport: S, role: Role) -> Result<Handshake<S>, HandshakeError> {
        let function = match role {
            Role::Client => {
                ssl.set_connect_state();
                HandshakeFunction::Connect
            }
            Role::Server => {
                ssl.set_accept_state();
                HandshakeFunction::Accept
            }
        };
        let stream = SslStream::new(ssl, Transport::new(transport))
            .map_err(|stack| setup_error(role, function, stack))?;
        Ok(Handshake {
            stream,
            role,
            function,
            last_ret: 0,
            stats: HandshakeStats::default(),
            nodelay: NodelayPolicy::default(),
            nodelay_before: None,
            started: None,
            carried: Vec::new(),
        })
    }

    /// A client handshake ([`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/)).
    #[doc(alias = "SSL_connect")]
    pub fn client(ssl: Ssl, transport: S) -> Result<Handshake<S>, HandshakeError> {
        Handshake::new(ssl, transport, Role::Client)
    }

    /// A server handshake ([`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/)).
    #[doc(alias = "SSL_accept")]
    pub fn server(ssl: Ssl, transport: S) -> Result<Handshake<S>, HandshakeError> {
        Handshake::new(ssl, transport, Role::Server)
    }

    /// Steps with [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/)
    /// instead of `SSL_connect` / `SSL_accept` (same result; the role was set already).
    pub fn use_do_handshake(mut self) -> Self {
        self.function = HandshakeFunction::DoHandshake;
        self
    }

    /// Sets the [`NodelayPolicy`] the drivers apply (default: [`NodelayPolicy::Always`]).
    pub fn set_nodelay_policy(&mut self, policy: NodelayPolicy) {
        self.nodelay = policy;
    }

    /// The [`NodelayPolicy`] the drivers apply.
    pub fn nodelay_policy(&self) -> NodelayPolicy {
        self.nodelay
    }

    /// Which side this end plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The raw return value of the last call of the handshake function (0 before the first).
    pub fn last_return(&self) -> i32 {
        self.last_ret
    }

    /// The counters so far.
    pub fn stats(&self) -> HandshakeStats {
        self.stats
    }

    /// DTLS: how many times the retransmission timer expired and the last flight was sent
    /// again so far (counted by the timer callback of
    /// [`DtlsOptions`](crate::dtls::DtlsOptions),
    /// [`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)).
    /// `None` for TLS, and for a DTLS handshake not made by
    /// [`dtls::handshake`](crate::dtls::handshake).
    pub fn retransmissions(&self) -> Option<u32> {
        sys::dtls::retransmissions(self.ssl())
    }

    /// The OpenSSL connection object.
    pub fn ssl(&self) -> &SslRef {
        self.stream.ssl()
    }

    /// The transport and its traffic record.
    pub fn transport(&self) -> &Transport<S> {
        self.stream.get_ref()
    }

    /// The OpenSSL connection object, mutably (ex_data, a new `SSL_CTX` from a ClientHello
    /// callback, ...).
    pub fn ssl_mut(&mut self) -> &mut SslRef {
        crate::sys::ssl_mut(&mut self.stream)
    }

    /// The transport, mutably (for memory transports: feed and take bytes).
    pub fn transport_mut(&mut self) -> &mut Transport<S> {
        self.stream.get_mut()
    }

    /// The `SslStream`, for the crate's own calls that must not unseal the connection
    /// (`DTLSv1_handle_timeout`, `DTLSv1_listen`).
    pub(crate) fn stream_mut(&mut self) -> &mut SslStream<Transport<S>> {
        &mut self.stream
    }

    /// Keeps `errors`, drained from the queue after a call outside a step, for the next
    /// error this handshake reports.
    pub(crate) fn carry_errors(&mut self, errors: Vec<OpensslError>) {
        self.carried.extend(errors);
    }

    /// Calls the handshake function once and says what happened.
    ///
    /// The thread's OpenSSL error queue is cleared before the call and drained after it, so
    /// one handshake's errors never leak into another call. No clock is read.
    #[must_use = "the outcome says what to do next: wait for read or write, or stop"]
    #[doc(alias = "SSL_connect")]
    #[doc(alias = "SSL_accept")]
    #[doc(alias = "SSL_do_handshake")]
    pub fn step(&mut self) -> HandshakeOutcome {
        sys::clear_error_queue();
        let ret = match self.function {
            HandshakeFunction::Connect => sys::ssl_connect(&mut self.stream),
            HandshakeFunction::Accept => sys::ssl_accept(&mut self.stream),
            HandshakeFunction::DoHandshake => sys::ssl_do_handshake(&mut self.stream),
        };
        self.last_ret = ret;
        self.stats.steps += 1;
        if ret == 1 {
            sys::clear_error_queue();
            self.stream.get_mut().handshake_done();
            return HandshakeOutcome::Done;
        }
        let code = SslErrorCode::from_raw(sys::ssl_get_error(&mut self.stream, ret));
        if ret < 0 {
            if let Some(want) = code.want() {
                sys::clear_error_queue();
                match want {
                    Want::Read => self.stats.want_read += 1,
                    Want::Write => self.stats.want_write += 1,
                    _ => self.stats.want_other += 1,
                }
                return HandshakeOutcome::Want(want);
            }
        }
        let error = self.error_for(ret, code);
        // The peer's close_notify in place of a handshake message comes as -1 with
        // SSL_ERROR_ZERO_RETURN (OpenSSL 3): a shutdown too, as a return value of 0 is.
        if ret == 0 || error.is_controlled_shutdown() {
            HandshakeOutcome::Shutdown(error)
        } else {
            HandshakeOutcome::Failed(error)
        }
    }

    /// Wraps up a completed handshake into a stream. Call after [`HandshakeOutcome::Done`];
    /// calling it earlier gives a stream whose first read or write continues the handshake.
    pub fn into_stream(self) -> TlsStream<S> {
        TlsStream::new(self.stream, self.stats, None)
    }

    /// When a runner began the handshake ([`begin`](Self::begin)), by the runner's clock.
    pub(crate) fn started(&self) -> Option<Instant> {
        self.started
    }

    /// The time from the runner's start to `now` (`None`: no runner began it).
    pub(crate) fn elapsed(&self, now: Instant) -> Option<Duration> {
        self.started.map(|t| now.saturating_duration_since(t))
    }
}

impl<S: Read + Write + AsFd> Handshake<S> {
    /// What every runner does before the first step: applies the [`NodelayPolicy`],
    /// remembering the socket's setting (a transport that is not TCP, a Unix socket, has no
    /// `TCP_NODELAY`: nothing happens), and records `now` as the start that every error's
    /// elapsed time and the stream's duration count from.
    pub(crate) fn begin(&mut self, now: Instant) {
        self.nodelay_before = self
            .nodelay
            .before_handshake(self.stream.get_ref().get_ref())
            .ok()
            .flatten();
        self.started = Some(now);
    }

    /// Wraps up a handshake that returned `Done` at `now`: the after-handshake part of the
    /// [`NodelayPolicy`], the duration since [`begin`](Self::begin), and the stream.
    pub(crate) fn established(mut self, now: Instant) -> TlsStream<S> {
        let _ = self
            .nodelay
            .after_handshake(self.stream.get_ref().get_ref());
        self.stats.duration = self.elapsed(now);
        self.stats.retransmissions = sys::dtls::retransmissions(self.ssl()).unwrap_or(0);
        TlsStream::new(self.stream, self.stats, self.nodelay_before)
    }
}
