//! [`Handshake`]: one TLS handshake, stepped by hand or driven to completion.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use std::sync::{Mutex, OnceLock};

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslRef, SslStream};
use openssl::x509::{X509StoreContext, X509StoreContextRef, X509};

use crate::diagnose::{self, Evidence, PeerCertFacts};
use crate::error::{
    ErrorInner, ErrorKind, HandshakeError, HandshakeFunction, OpensslError, VerifyResult,
};
use crate::error_queue::entries_of;
use crate::nodelay::NodelayPolicy;
use crate::outcome::{HandshakeOutcome, Role, SslErrorCode, Want};
use crate::stream::TlsStream;
use crate::sys;
use crate::transport::Transport;
use crate::version::ProtocolVersion;

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
    stream: SslStream<Transport<S>>,
    role: Role,
    function: HandshakeFunction,
    last_ret: i32,
    stats: HandshakeStats,
    nodelay: NodelayPolicy,
    nodelay_before: Option<bool>,
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
        if ret == 0 {
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

    fn error_for(&mut self, ret: i32, code: SslErrorCode) -> HandshakeError {
        let queue = drain_error_queue();
        let io = self.stream.get_mut().take_error();
        // No certificate, no verification: OpenSSL's result is still X509_V_OK then.
        // A failed verification also says that a certificate arrived (libssl keeps none).
        let ssl = self.stream.ssl();
        let result = crate::session::verify_result(ssl);
        let verify = (peer_cert_facts(ssl).is_some() || !result.is_ok()).then_some(result);
        let kind = classify(ret, code, &queue, verify.as_ref(), io.is_some());
        let (min, max) = sys::proto_version_range(&mut self.stream);
        let transport = self.stream.get_ref();
        let bytes_received = transport.bytes_received();
        let ssl = self.stream.ssl();
        // The name the `Ssl` checks, read back from it: what a name-mismatch hint quotes.
        let expected_host = sys::verified_host(ssl);
        let hint = diagnose::diagnose(Evidence {
            role: Some(self.role),
            kind: Some(kind),
            queue: &queue,
            verify: verify.as_ref(),
            peer_bytes: transport.peer_prefix(),
            bytes_received,
            expected_host: expected_host.as_deref(),
            peer_cert: peer_cert_facts(ssl),
            our_min: version_of_raw(min),
            our_max: version_of_raw(max),
            io_kind: io.as_ref().map(std::io::Error::kind),
            pin_mismatch: crate::client::pin_mismatch(ssl),
        });
        let peer_bytes = transport.shown_prefix().to_vec();
        let peer_certificate = peer_leaf(ssl);
        HandshakeError::from_inner(ErrorInner {
            kind,
            role: self.role,
            function: self.function,
            ret,
            ssl_error: code,
            queue: queue.into(),
            verify,
            io,
            peer_bytes,
            bytes_received,
            hint,
            waiting_for: None,
            elapsed: None,
            peer_certificate,
        })
    }

    /// The error of a handshake that stopped while waiting: at its deadline (`Timeout`) or
    /// because the wait itself failed (`Wait`).
    pub(crate) fn timeout_error(&self, waiting_for: Want, elapsed: Duration) -> HandshakeError {
        let bytes_received = self.stream.get_ref().bytes_received();
        let hint = crate::hint::Hint::Timeout {
            waiting_for: Some(waiting_for),
            elapsed,
            bytes_received,
        };
        self.waiting_error(
            ErrorKind::Timeout,
            waiting_for,
            None,
            Some(hint),
            Some(elapsed),
        )
    }

    pub(crate) fn wait_error(&self, waiting_for: Want, io: std::io::Error) -> HandshakeError {
        self.waiting_error(ErrorKind::Wait, waiting_for, Some(io), None, None)
    }

    /// The error of a driver that cannot wait for a callback-driven want.
    pub(crate) fn callback_error(&self, want: Want, elapsed: Duration) -> HandshakeError {
        self.waiting_error(ErrorKind::Callback, want, None, None, Some(elapsed))
    }

    fn waiting_error(
        &self,
        kind: ErrorKind,
        waiting_for: Want,
        io: Option<std::io::Error>,
        hint: Option<crate::hint::Hint>,
        elapsed: Option<Duration>,
    ) -> HandshakeError {
        let transport = self.stream.get_ref();
        HandshakeError::from_inner(ErrorInner {
            kind,
            role: self.role,
            function: self.function,
            ret: self.last_ret,
            ssl_error: waiting_for.code(),
            queue: Default::default(),
            verify: None,
            io,
            peer_bytes: transport.shown_prefix().to_vec(),
            bytes_received: transport.bytes_received(),
            hint,
            waiting_for: Some(waiting_for),
            elapsed,
            peer_certificate: peer_leaf(self.stream.ssl()),
        })
    }
}

impl<S: Read + Write + AsFd> Handshake<S> {
    /// Drives the handshake on a **nonblocking** socket until it is done, fails, or `deadline`
    /// passes.
    ///
    /// The loop, step by step:
    /// 1. apply the [`NodelayPolicy`];
    /// 2. call the handshake function ([`step`](Self::step));
    /// 3. on `Want::Read`, wait until the socket is readable; on `Want::Write`, until it is
    ///    writable (select below `FD_SETSIZE`, poll above; `EINTR` retried with the time
    ///    left); then go to 2;
    /// 4. at the deadline, return an [`ErrorKind::Timeout`] error; the wait never runs past it.
    ///
    /// On a blocking socket the loop also works, but a blocked read cannot be cut at the
    /// deadline: set the socket nonblocking first.
    pub fn drive(self, deadline: Instant) -> Result<TlsStream<S>, HandshakeError> {
        self.run(Some(deadline))
    }

    /// Runs the handshake to the end with no deadline (blocking or nonblocking socket).
    pub fn finish(self) -> Result<TlsStream<S>, HandshakeError> {
        self.run(None)
    }

    fn run(self, deadline: Option<Instant>) -> Result<TlsStream<S>, HandshakeError> {
        crate::run::blocking::drive(self, deadline.into())
    }

    /// Applies the [`NodelayPolicy`] before the first step, remembering the socket's setting.
    /// A transport that is not TCP (a Unix socket) has no `TCP_NODELAY`: nothing happens.
    pub(crate) fn begin_nodelay(&mut self) {
        self.nodelay_before = self
            .nodelay
            .before_handshake(self.stream.get_ref().get_ref())
            .ok()
            .flatten();
    }

    /// Wraps up a handshake that returned `Done`: the after-handshake part of the
    /// [`NodelayPolicy`], the duration a driver measured, and the stream.
    pub(crate) fn established(mut self, duration: Option<Duration>) -> TlsStream<S> {
        let _ = self
            .nodelay
            .after_handshake(self.stream.get_ref().get_ref());
        self.stats.duration = duration;
        TlsStream::new(self.stream, self.stats, self.nodelay_before)
    }
}

fn classify(
    ret: i32,
    code: SslErrorCode,
    queue: &[OpensslError],
    verify: Option<&VerifyResult>,
    has_io_error: bool,
) -> ErrorKind {
    const SSL_R_CERTIFICATE_VERIFY_FAILED: i32 = 134;
    let eof_in_queue = cfg!(ossl300)
        && queue
            .iter()
            .any(|e| e.reason_code == diagnose::SSL_R_UNEXPECTED_EOF_WHILE_READING);
    if queue
        .iter()
        .any(|e| e.reason_code == SSL_R_CERTIFICATE_VERIFY_FAILED)
        && verify.is_some_and(|v| !v.is_ok())
    {
        return ErrorKind::CertificateVerification;
    }
    match code {
        SslErrorCode::ZeroReturn => ErrorKind::ZeroReturn,
        _ if eof_in_queue => ErrorKind::UnexpectedEof,
        SslErrorCode::Syscall if has_io_error => ErrorKind::Io,
        // OpenSSL 1.1.1 reports an EOF as SSL_ERROR_SYSCALL with nothing queued.
        SslErrorCode::Syscall if queue.is_empty() => ErrorKind::UnexpectedEof,
        _ if ret == 0 => ErrorKind::Shutdown,
        _ => ErrorKind::Protocol,
    }
}

/// Drains this thread's OpenSSL error queue, oldest entry first
/// ([`ERR_get_error(3)`](https://docs.openssl.org/3.0/man3/ERR_get_error/)).
pub(crate) fn drain_error_queue() -> Vec<OpensslError> {
    entries_of(&openssl::error::ErrorStack::get())
}

fn setup_error(
    role: Role,
    function: HandshakeFunction,
    stack: openssl::error::ErrorStack,
) -> HandshakeError {
    HandshakeError::from_inner(ErrorInner {
        kind: ErrorKind::Setup,
        role,
        function,
        ret: -1,
        ssl_error: SslErrorCode::Ssl,
        queue: entries_of(&stack).into(),
        verify: None,
        io: None,
        peer_bytes: Vec::new(),
        bytes_received: 0,
        hint: None,
        waiting_for: None,
        elapsed: None,
        peer_certificate: None,
    })
}

/// Names a raw protocol version number (`TLS1_2_VERSION` = 0x0303); 0 and unknown values
/// give `None`.
pub(crate) fn version_of_raw(raw: i32) -> Option<ProtocolVersion> {
    u16::try_from(raw).ok().and_then(ProtocolVersion::from_wire)
}

/// The peer's certificate: `SSL_get1_peer_certificate`; when the handshake stopped before
/// OpenSSL recorded it (a failed verification), the first of the chain received
/// (`SSL_get_peer_cert_chain`); on a server, which drops a client certificate that failed
/// verification, the one the verify callback kept (see `remember_rejected_leaf`).
fn peer_leaf(ssl: &SslRef) -> Option<X509> {
    if let Some(cert) = ssl.peer_certificate() {
        return Some(cert);
    }
    if let Some(cert) = ssl.peer_cert_chain().and_then(|c| c.iter().next()) {
        return Some(cert.to_owned());
    }
    let slot = ssl.ex_data(rejected_leaf_index().ok()?)?;
    let leaf = slot.0.lock().ok()?;
    leaf.clone()
}

fn peer_cert_facts(ssl: &SslRef) -> Option<PeerCertFacts> {
    peer_leaf(ssl).map(|cert| crate::session::cert_facts(&cert))
}

/// The peer's leaf certificate when its verification failed, for the hint to quote.
#[derive(Debug, Default)]
pub(crate) struct RejectedLeaf(Mutex<Option<X509>>);

fn rejected_leaf_index() -> Result<Index<Ssl, RejectedLeaf>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, RejectedLeaf>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<RejectedLeaf>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Gives `ssl` the slot that [`remember_rejected_leaf`] fills.
pub(crate) fn add_rejected_leaf_slot(ssl: &mut SslRef) -> Result<(), ErrorStack> {
    ssl.set_ex_data(rejected_leaf_index()?, RejectedLeaf::default());
    Ok(())
}

/// Called from a verify callback with a failed check: keeps the leaf being verified in the
/// connection's slot, when it has one.
pub(crate) fn remember_rejected_leaf(ctx: &X509StoreContextRef) {
    let (Ok(ssl_idx), Ok(slot_idx)) = (X509StoreContext::ssl_idx(), rejected_leaf_index()) else {
        return;
    };
    let Some(slot) = ctx.ex_data(ssl_idx).and_then(|ssl| ssl.ex_data(slot_idx)) else {
        return;
    };
    let leaf = ctx
        .chain()
        .and_then(|chain| chain.iter().next())
        .or_else(|| ctx.current_cert().filter(|_| ctx.error_depth() == 0));
    if let (Some(leaf), Ok(mut kept)) = (leaf, slot.0.lock()) {
        if kept.is_none() {
            *kept = Some(leaf.to_owned());
        }
    }
}
