//! How a handshake that did not complete is described: the [`HandshakeError`] of a failed or
//! shut-down step (the return value, `SSL_get_error`, the queue, the verify result, errno
//! and the hint diagnosed from them), and those of a runner's timeout, failed wait or
//! callback want.

use std::io::{Read, Write};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslRef};
use openssl::x509::{X509StoreContext, X509StoreContextRef, X509};

use crate::diagnose::{self, Evidence, PeerCertFacts};
use crate::error::{
    ErrorInner, ErrorKind, HandshakeError, HandshakeFunction, OpensslError, VerifyResult,
};
use crate::error_queue::entries_of;
use crate::hint::Hint;
use crate::outcome::{Role, SslErrorCode, Want};
use crate::sys;
use crate::version::ProtocolVersion;

use super::Handshake;

impl<S: Read + Write> Handshake<S> {
    pub(super) fn error_for(&mut self, ret: i32, code: SslErrorCode) -> HandshakeError {
        let mut queue = std::mem::take(&mut self.carried);
        queue.extend(drain_error_queue());
        let io = self.stream.get_mut().take_error();
        // No certificate, no verification: OpenSSL's result is still X509_V_OK then.
        // A failed verification also says that a certificate arrived (libssl keeps none).
        let ssl = self.stream.ssl();
        let result = crate::session::verify_result(ssl);
        let verify = (peer_cert_facts(ssl).is_some() || !result.is_ok()).then_some(result);
        let kind = classify(ret, code, &queue, verify.as_ref(), io.is_some());
        let retransmissions = sys::dtls::retransmissions(ssl);
        let (min, max) = sys::proto_version_range(&mut self.stream);
        let transport = self.stream.get_ref();
        let bytes_received = transport.bytes_received();
        let ssl = self.stream.ssl();
        // The name the `Ssl` checks, read back from it: what a name-mismatch hint quotes.
        let expected_host = sys::verified_host(ssl);
        let ech = crate::ech::EchInfo::attempted(ssl);
        let diagnosed = diagnose::diagnose(Evidence {
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
            ech: ech.as_ref(),
            certificate_requested: certificate_requested(ssl),
            has_own_certificate: ssl.certificate().is_some(),
        });
        // OpenSSL gave up resending one DTLS flight: the datagram timeout (its elapsed time
        // is stamped by the runner).
        let hint = match (kind, retransmissions) {
            (ErrorKind::Timeout, Some(retransmissions)) => Some(Hint::DatagramTimeout {
                role: self.role,
                elapsed: Duration::ZERO,
                retransmissions,
                bytes_received,
            }),
            _ => diagnosed,
        };
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
            ech,
            retransmissions,
        })
    }

    /// The error of a handshake still waiting for `waiting_for` at its deadline, `now`
    /// (`Timeout`).
    pub(crate) fn timeout_error(&self, waiting_for: Want, now: Instant) -> HandshakeError {
        let elapsed = self.elapsed(now);
        let bytes_received = self.stream.get_ref().bytes_received();
        let hint = match sys::dtls::retransmissions(self.ssl()) {
            Some(retransmissions) => Hint::DatagramTimeout {
                role: self.role,
                elapsed: elapsed.unwrap_or_default(),
                retransmissions,
                bytes_received,
            },
            None => Hint::Timeout {
                role: self.role,
                waiting_for: Some(waiting_for),
                elapsed: elapsed.unwrap_or_default(),
                bytes_received,
            },
        };
        self.waiting_error(ErrorKind::Timeout, waiting_for, None, Some(hint), elapsed)
    }

    /// The error of a handshake whose wait itself failed (`Wait`).
    pub(crate) fn wait_error(&self, waiting_for: Want, io: std::io::Error) -> HandshakeError {
        self.waiting_error(ErrorKind::Wait, waiting_for, Some(io), None, None)
    }

    /// The error of a runner that cannot wait for a callback-driven want, ended at `now`
    /// (`Callback`).
    pub(crate) fn callback_error(&self, want: Want, now: Instant) -> HandshakeError {
        self.waiting_error(ErrorKind::Callback, want, None, None, self.elapsed(now))
    }

    fn waiting_error(
        &self,
        kind: ErrorKind,
        waiting_for: Want,
        io: Option<std::io::Error>,
        hint: Option<Hint>,
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
            ech: crate::ech::EchInfo::attempted(self.stream.ssl()),
            retransmissions: sys::dtls::retransmissions(self.stream.ssl()),
        })
    }
}

/// Whether the server of a client `ssl` asked for a certificate: noted by a
/// [`ClientConfig`](crate::client::ClientConfig)'s cert callback, or seen in the CA names a
/// CertificateRequest carried ([`SSL_get_client_CA_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_client_CA_list/),
/// which a client reads as the names the server sent) for an `Ssl` of another context.
fn certificate_requested(ssl: &SslRef) -> bool {
    crate::client::certificate_was_requested(ssl) || sys::server_sent_ca_names(ssl)
}

fn classify(
    ret: i32,
    code: SslErrorCode,
    queue: &[OpensslError],
    verify: Option<&VerifyResult>,
    has_io_error: bool,
) -> ErrorKind {
    const SSL_R_CERTIFICATE_VERIFY_FAILED: i32 = 134;
    // DTLS: a flight's timer expired more than DTLS1_TMO_ALERT_COUNT times.
    const SSL_R_READ_TIMEOUT_EXPIRED: i32 = 312;
    let eof_in_queue = queue
        .iter()
        .any(|e| e.reason_code == diagnose::SSL_R_UNEXPECTED_EOF_WHILE_READING);
    if queue
        .iter()
        .any(|e| e.reason_code == SSL_R_CERTIFICATE_VERIFY_FAILED)
        && verify.is_some_and(|v| !v.is_ok())
    {
        return ErrorKind::CertificateVerification;
    }
    if queue
        .iter()
        .any(|e| e.reason_code == SSL_R_READ_TIMEOUT_EXPIRED)
    {
        return ErrorKind::Timeout;
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

pub(super) fn setup_error(
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
        ech: None,
        retransmissions: None,
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
