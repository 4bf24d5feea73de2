//! STARTTLS then the handshake on a connected plain socket, within one deadline: the one
//! place the two follow each other ([`starttls_then_handshake`](crate::client::starttls_then_handshake)).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslRef};

use crate::deadline::Deadline;
use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::starttls::{self, StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};
use crate::stream::TlsStream;

use super::config::ClientConfig;
use super::connect_options::ConnectOptions;
use super::connection::{Timings, TlsConnection};
use super::error::ConnectError;

/// What [`starttls_then_handshake`](crate::client::starttls_then_handshake) does on a connected plain socket.
#[derive(Debug, Clone, Copy)]
pub struct Secure<'a> {
    /// The address connected (for the errors).
    pub peer: SocketAddr,
    /// How long the TCP connect took, when the caller measured it (for the errors).
    pub connect_time: Option<Duration>,
    /// The STARTTLS dialogue to run first, if any.
    pub starttls: Option<StarttlsProtocol>,
    /// Its options.
    pub starttls_options: &'a StarttlsOptions,
    /// The host name given to [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl).
    pub host: &'a str,
    /// The one deadline of the dialogue and the handshake.
    pub deadline: Deadline,
}

impl<'a> Secure<'a> {
    /// The plan of [`connect_with`](crate::client::connect_with) and [`upgrade`](crate::client::upgrade) (and their tokio forms) once the socket
    /// is connected: `options`' STARTTLS dialogue, and one deadline for the dialogue and the
    /// handshake, `options.deadline` or the configuration's handshake timeout from now.
    pub(super) fn after_connect(
        peer: SocketAddr,
        connect_time: Option<Duration>,
        host: &'a str,
        config: &ClientConfig,
        options: &'a ConnectOptions,
    ) -> Secure<'a> {
        let deadline = options
            .deadline
            .unwrap_or_else(|| Instant::now() + config.options().handshake_timeout);
        Secure {
            peer,
            connect_time,
            starttls: options.starttls,
            starttls_options: &options.starttls_options,
            host,
            deadline: Deadline::at(deadline),
        }
    }

    /// The error of a failed STARTTLS dialogue.
    pub(super) fn starttls_error(&self) -> impl FnOnce(StarttlsError) -> ConnectError + '_ {
        move |source| ConnectError::Starttls {
            peer: self.peer,
            connect_time: self.connect_time,
            source,
        }
    }

    /// The error of a failed handshake, after the dialogue's `starttls_time`, with `sni`.
    pub(super) fn handshake_error<'s>(
        &'s self,
        starttls_time: Option<Duration>,
        sni: &'s Option<String>,
    ) -> impl Fn(HandshakeError) -> ConnectError + 's {
        move |source| ConnectError::Handshake {
            peer: self.peer,
            connect_time: self.connect_time,
            starttls_time,
            sni: sni.clone(),
            source,
        }
    }
}

/// A socket after [`starttls_then_handshake`](crate::client::starttls_then_handshake) (a blocking [`TlsStream`]) or its tokio form
/// (an `AsyncTlsStream`).
#[derive(Debug)]
pub struct Secured<S = TlsStream<TcpStream>> {
    /// The established TLS stream (from [`starttls_then_handshake`](crate::client::starttls_then_handshake), blocking again).
    pub stream: S,
    /// The SNI name sent, if any.
    pub sni: Option<String>,
    /// The STARTTLS dialogue, if one ran.
    pub starttls: Option<StarttlsTranscript>,
    /// How long it took.
    pub starttls_time: Option<Duration>,
    /// How long the handshake took.
    pub handshake_time: Duration,
}

impl<S> Secured<S> {
    /// The connection `plan` made, with the addresses `tried` on the way.
    pub(super) fn into_connection(
        self,
        plan: &Secure<'_>,
        tried: Vec<SocketAddr>,
        config: &ClientConfig,
    ) -> TlsConnection<S> {
        TlsConnection {
            stream: self.stream,
            peer: plan.peer,
            tried,
            sni: self.sni,
            timings: Timings {
                connect: plan.connect_time.unwrap_or(Duration::ZERO),
                starttls: self.starttls_time,
                handshake: self.handshake_time,
            },
            starttls: self.starttls,
            capture_peer_chain: config.options().capture_peer_chain,
        }
    }
}

/// The SNI name `ssl` will send, if any.
pub(crate) fn sni_of(ssl: &SslRef) -> Option<String> {
    ssl.servername(openssl::ssl::NameType::HOST_NAME)
        .map(str::to_string)
}

/// The STARTTLS dialogue (when `plan.starttls` names one), then the TLS handshake with
/// `ssl` (from [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl)), both by `plan.deadline`: the one place the two
/// follow each other, for [`connect_with`](crate::client::connect_with) and [`upgrade`](crate::client::upgrade).
///
/// The dialogue's reads and writes get the time left as their socket timeout
/// ([`negotiate_with_deadline`](crate::starttls::negotiate_with_deadline)); the handshake
/// waits with `select(2)` / `poll(2)` ([`Handshake::drive`]) for the time left.
pub fn starttls_then_handshake(
    mut stream: TcpStream,
    ssl: Ssl,
    config: &ClientConfig,
    plan: &Secure<'_>,
) -> Result<Secured, ConnectError> {
    let deadline = plan.deadline.instant();
    let mut transcript = None;
    let mut starttls_time = None;
    if let Some(protocol) = plan.starttls {
        let t0 = Instant::now();
        let options = dialogue_options(plan.starttls_options, plan.host);
        let t = starttls::negotiate_with_deadline(
            &mut stream,
            protocol,
            &options,
            deadline.unwrap_or_else(|| t0 + config.options().handshake_timeout),
        )
        .map_err(plan.starttls_error())?;
        starttls_time = Some(t0.elapsed());
        transcript = Some(t);
    }
    let sni = sni_of(&ssl);
    let t0 = Instant::now();
    let handshake_deadline = deadline.unwrap_or_else(|| t0 + config.options().handshake_timeout);
    let result = handshake_on(stream, config, ssl, handshake_deadline);
    let handshake_time = t0.elapsed();
    let stream = result.map_err(plan.handshake_error(starttls_time, &sni))?;
    Ok(Secured {
        stream,
        sni,
        starttls: transcript,
        starttls_time,
        handshake_time,
    })
}

/// The dialogue's options as `openssl s_client -xmpphost` has them: the XMPP domain is the
/// host connected to unless given.
pub(super) fn dialogue_options<'a>(
    options: &'a StarttlsOptions,
    host: &str,
) -> std::borrow::Cow<'a, StarttlsOptions> {
    match options.xmpp_host {
        Some(_) => std::borrow::Cow::Borrowed(options),
        None => std::borrow::Cow::Owned(options.clone().with_xmpp_host(host)),
    }
}

/// The TLS handshake on a connected plain socket, within `deadline`.
fn handshake_on(
    stream: TcpStream,
    config: &ClientConfig,
    ssl: Ssl,
    deadline: Instant,
) -> Result<TlsStream<TcpStream>, crate::HandshakeError> {
    // A socket whose mode cannot be changed still handshakes; the deadline then holds only
    // between reads.
    let _ = stream.set_nonblocking(true);
    let mut hs = Handshake::client(ssl, stream)?;
    hs.set_nodelay_policy(config.options().nodelay);
    let tls = hs.drive(deadline)?;
    let _ = tls.get_ref().set_nonblocking(false);
    Ok(tls)
}
