//! Resolving, connecting, STARTTLS and the handshake, each within its deadline.

use std::io;
use std::net::{SocketAddr, SocketAddrV6, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use crate::deadline::Deadline;
use crate::handshake::Handshake;
use crate::session::SessionInfo;
use crate::starttls::{self, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};
use crate::stream::TlsStream;
use crate::url::{Host, Scheme, TransportUrl};

use super::attempts::Attempts;
use super::config::ClientConfig;
use super::error::ConnectError;

/// How long each step took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Timings {
    /// TCP connect (the address that answered; zero for [`upgrade`], whose socket came
    /// connected).
    pub connect: Duration,
    /// The STARTTLS dialogue, when one ran.
    pub starttls: Option<Duration>,
    /// The TLS handshake.
    pub handshake: Duration,
}

/// An established TLS connection and how it was made.
#[derive(Debug)]
pub struct TlsConnection {
    /// The TLS stream (blocking socket; `Read` + `Write`).
    pub stream: TlsStream<TcpStream>,
    /// The address connected.
    pub peer: SocketAddr,
    /// The addresses tried before it, in order (the last is `peer`).
    pub tried: Vec<SocketAddr>,
    /// The SNI name sent, if any.
    pub sni: Option<String>,
    /// How long each step took.
    pub timings: Timings,
    /// The STARTTLS dialogue, when one ran.
    pub starttls: Option<StarttlsTranscript>,
    /// [`ClientOptions::capture_peer_chain`](super::ClientOptions::capture_peer_chain).
    capture_peer_chain: bool,
}

impl TlsConnection {
    /// The facts of the session. The peer's chain
    /// ([`SessionInfo::peer_chain`]) is left empty when the configuration turned
    /// [`capture_peer_chain`](super::ClientOptions::capture_peer_chain) off.
    pub fn session(&self) -> SessionInfo {
        SessionInfo::read(self.stream.ssl(), self.capture_peer_chain)
    }
}

/// A plain TCP connection.
#[derive(Debug)]
pub struct TcpConnection {
    /// The socket (blocking).
    pub stream: TcpStream,
    /// The address connected.
    pub peer: SocketAddr,
    /// The addresses tried, in order.
    pub tried: Vec<SocketAddr>,
    /// How long the connect took.
    pub connect_time: Duration,
}

/// What [`open`] made of a URL.
#[derive(Debug)]
pub enum Connection {
    /// `ssl://`, `tls://`, `tlsv1.x://`.
    Tls(TlsConnection),
    /// `tcp://` or no scheme.
    Tcp(TcpConnection),
    /// `udp://`: a connected UDP socket.
    Udp {
        /// The socket.
        socket: UdpSocket,
        /// The address it is connected to.
        peer: SocketAddr,
    },
}

/// Extra choices for [`connect_with`]. Build it with [`ConnectOptions::new`] and its setters:
///
/// ```
/// use std::time::{Duration, Instant};
/// use tlshake::client::ConnectOptions;
/// use tlshake::starttls::StarttlsProtocol;
///
/// let options = ConnectOptions::new()
///     .starttls(StarttlsProtocol::Smtp)
///     .deadline(Instant::now() + Duration::from_secs(5));
/// assert!(options.deadline.is_some());
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Run this STARTTLS dialogue on the plain connection before the handshake (the URL must
    /// then be `tcp://`, or a TLS scheme whose version rules still apply).
    pub starttls: Option<StarttlsProtocol>,
    /// Options of the STARTTLS dialogue.
    pub starttls_options: StarttlsOptions,
    /// One deadline for everything (connect + STARTTLS + handshake), instead of the
    /// configuration's separate connect and handshake timeouts.
    pub deadline: Option<Instant>,
    /// Tunnel through this HTTP proxy (`host:port`) with `CONNECT` first
    /// ([`proxy::http_connect`](super::proxy::http_connect)), within the connect deadline.
    pub proxy: Option<String>,
}

impl ConnectOptions {
    /// No STARTTLS, default STARTTLS options, the configuration's own timeouts.
    #[must_use]
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// Run this STARTTLS dialogue before the handshake.
    #[must_use]
    pub fn starttls(mut self, protocol: StarttlsProtocol) -> ConnectOptions {
        self.starttls = Some(protocol);
        self
    }

    /// Options of the STARTTLS dialogue.
    #[must_use]
    pub fn starttls_options(mut self, options: StarttlsOptions) -> ConnectOptions {
        self.starttls_options = options;
        self
    }

    /// One deadline for connect, STARTTLS and handshake together.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> ConnectOptions {
        self.deadline = Some(deadline);
        self
    }

    /// Tunnel through this HTTP proxy (`host:port`) with `CONNECT` first.
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<String>) -> ConnectOptions {
        self.proxy = Some(proxy.into());
        self
    }
}

/// Opens whatever the URL names: TLS, plain TCP or UDP.
pub fn open(url: &TransportUrl, config: &ClientConfig) -> Result<Connection, ConnectError> {
    match url.scheme() {
        Scheme::Tcp => {
            let deadline = Instant::now() + config.options().connect_timeout;
            tcp_connect(url, deadline).map(Connection::Tcp)
        }
        Scheme::Udp => {
            let deadline = Instant::now() + config.options().connect_timeout;
            let addr = resolve(url, deadline)?.into_iter().next().ok_or_else(|| {
                ConnectError::Connect {
                    authority: url.authority(),
                    attempts: Vec::new(),
                }
            })?;
            let local: SocketAddr = if addr.is_ipv6() {
                "[::]:0".parse().map_err(|_| unreachable_addr())?
            } else {
                "0.0.0.0:0".parse().map_err(|_| unreachable_addr())?
            };
            let io = |during| move |source| ConnectError::Io { during, source };
            let socket = UdpSocket::bind(local).map_err(io("binding a UDP socket"))?;
            socket
                .connect(addr)
                .map_err(io("connecting the UDP socket"))?;
            Ok(Connection::Udp { socket, peer: addr })
        }
        _ => connect(url, config).map(Connection::Tls),
    }
}

fn unreachable_addr() -> ConnectError {
    ConnectError::Io {
        during: "parsing a wildcard address",
        source: io::Error::other("invalid wildcard address"),
    }
}

/// Connects to a TLS URL and completes the handshake.
pub fn connect(url: &TransportUrl, config: &ClientConfig) -> Result<TlsConnection, ConnectError> {
    connect_with(url, config, &ConnectOptions::default())
}

/// Connects, optionally runs a STARTTLS dialogue, and completes the handshake.
///
/// Refusals come first and cost no I/O: `sslv2://`/`sslv3://`, `udp://`, a `tlsv1.0://` or
/// `tlsv1.1://` without the legacy opt-out. A `tcp://` URL needs `options.starttls`.
pub fn connect_with(
    url: &TransportUrl,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection, ConnectError> {
    let scheme = refuse_scheme(url, options)?;
    let host = ssl_host(url.host());
    let ssl = config.new_ssl_pinned(&host, scheme.pinned_version())?;

    let o = config.options();
    let start = Instant::now();
    let connect_deadline = options.deadline.unwrap_or(start + o.connect_timeout);
    let tcp = match &options.proxy {
        Some(proxy) => super::proxy::http_connect(proxy, &url.authority(), connect_deadline)?,
        None => tcp_connect(url, connect_deadline)?,
    };
    let peer = tcp.peer;
    let stream = tcp.stream;
    let connect_time = tcp.connect_time;
    let handshake_deadline = options
        .deadline
        .unwrap_or_else(|| Instant::now() + o.handshake_timeout);

    let plan = Secure {
        peer,
        connect_time: Some(connect_time),
        starttls: options.starttls,
        starttls_options: &options.starttls_options,
        host: &host,
        deadline: Deadline::at(handshake_deadline),
    };
    let secured = starttls_then_handshake(stream, ssl, config, &plan)?;
    let Secured {
        stream,
        sni,
        starttls: transcript,
        starttls_time,
        handshake_time,
    } = secured;
    Ok(TlsConnection {
        stream,
        peer,
        tried: tcp.tried,
        sni,
        timings: Timings {
            connect: connect_time,
            starttls: starttls_time,
            handshake: handshake_time,
        },
        starttls: transcript,
        capture_peer_chain: config.options().capture_peer_chain,
    })
}

/// Secures the connected plain socket `stream` for `host` (SNI and the certificate check,
/// [`ClientConfig::new_ssl`]): the STARTTLS dialogue first when `options.starttls` names one
/// (what `openssl s_client -starttls PROTO` does), then the TLS handshake, as
/// [`connect_with`] does after its TCP connect, with the same options and errors. The
/// dialogue and the handshake share one deadline: `options.deadline`, or the configuration's
/// handshake timeout from now. `options.proxy` cannot apply to a socket connected already
/// and is refused.
///
/// A server that refuses STARTTLS (SMTP 454, no STARTTLS in the EHLO reply, ...) gives
/// [`ConnectError::Starttls`] carrying the server's own reply; bytes the server sent beyond
/// its go-ahead are refused
/// ([`StarttlsError::InjectedBytes`](crate::starttls::StarttlsError::InjectedBytes)), never
/// handed to TLS. `client::upgrade_async` (feature `tokio`) is the tokio form, with the same
/// arguments.
///
/// ```no_run
/// use std::net::TcpStream;
/// use tlshake::client::{self, ClientConfig, ConnectOptions};
/// use tlshake::starttls::StarttlsProtocol;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::builder().build()?;
/// let tcp = TcpStream::connect("mail.example.com:25")?;
/// let options = ConnectOptions::new().starttls(StarttlsProtocol::Smtp);
/// let tls = client::upgrade(tcp, "mail.example.com", &config, &options)?;
/// println!("{}", tls.stream.protocol());
/// # Ok(()) }
/// ```
pub fn upgrade(
    stream: TcpStream,
    host: &str,
    config: &ClientConfig,
    options: &ConnectOptions,
) -> Result<TlsConnection, ConnectError> {
    if options.proxy.is_some() {
        return Err(ConnectError::Io {
            during: "upgrading a connected socket",
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a proxy cannot apply to a socket that is connected already",
            ),
        });
    }
    let peer = stream.peer_addr().map_err(|source| ConnectError::Io {
        during: "reading the peer address",
        source,
    })?;
    let ssl = config.new_ssl(host)?;
    let deadline = options
        .deadline
        .unwrap_or_else(|| Instant::now() + config.options().handshake_timeout);
    let plan = Secure {
        peer,
        connect_time: None,
        starttls: options.starttls,
        starttls_options: &options.starttls_options,
        host,
        deadline: Deadline::at(deadline),
    };
    let Secured {
        stream,
        sni,
        starttls,
        starttls_time,
        handshake_time,
    } = starttls_then_handshake(stream, ssl, config, &plan)?;
    Ok(TlsConnection {
        stream,
        peer,
        tried: vec![peer],
        sni,
        timings: Timings {
            connect: Duration::ZERO,
            starttls: starttls_time,
            handshake: handshake_time,
        },
        starttls,
        capture_peer_chain: config.options().capture_peer_chain,
    })
}

/// The TLS handshake on a connected plain socket, within `deadline`.
fn handshake_on(
    stream: TcpStream,
    config: &ClientConfig,
    ssl: openssl::ssl::Ssl,
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

/// The host as OpenSSL wants it: a DNS name, or the IP address text (no brackets, no zone).
/// What [`starttls_then_handshake`] does on a connected plain socket.
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
    /// The host name given to [`ClientConfig::new_ssl`].
    pub host: &'a str,
    /// The one deadline of the dialogue and the handshake.
    pub deadline: Deadline,
}

/// A socket after [`starttls_then_handshake`].
#[derive(Debug)]
pub struct Secured {
    /// The established TLS stream (blocking again).
    pub stream: TlsStream<TcpStream>,
    /// The SNI name sent, if any.
    pub sni: Option<String>,
    /// The STARTTLS dialogue, if one ran.
    pub starttls: Option<StarttlsTranscript>,
    /// How long it took.
    pub starttls_time: Option<Duration>,
    /// How long the handshake took.
    pub handshake_time: Duration,
}

/// The STARTTLS dialogue (when `plan.starttls` names one), then the TLS handshake with
/// `ssl` (from [`ClientConfig::new_ssl`]), both by `plan.deadline`: the one place the two
/// follow each other, for [`connect_with`] and [`upgrade`].
///
/// The dialogue's reads and writes get the time left as their socket timeout
/// ([`negotiate_with_deadline`](crate::starttls::negotiate_with_deadline)); the handshake
/// waits with `select(2)` / `poll(2)` ([`Handshake::drive`]) for the time left.
pub fn starttls_then_handshake(
    mut stream: TcpStream,
    ssl: openssl::ssl::Ssl,
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
        .map_err(|source| ConnectError::Starttls {
            peer: plan.peer,
            connect_time: plan.connect_time,
            source,
        })?;
        starttls_time = Some(t0.elapsed());
        transcript = Some(t);
    }
    let sni = ssl
        .servername(openssl::ssl::NameType::HOST_NAME)
        .map(str::to_string);
    let t0 = Instant::now();
    let handshake_deadline = deadline.unwrap_or_else(|| t0 + config.options().handshake_timeout);
    let result = handshake_on(stream, config, ssl, handshake_deadline);
    let handshake_time = t0.elapsed();
    let stream = result.map_err(|source| ConnectError::Handshake {
        peer: plan.peer,
        connect_time: plan.connect_time,
        starttls_time,
        sni: sni.clone(),
        source,
    })?;
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

/// The URL's scheme, or the refusal that costs no I/O: `sslv2://`/`sslv3://` and legacy
/// versions without the opt-out, `udp://`, and `tcp://` without `options.starttls`. The
/// blocking and the async connect both begin with it.
pub(super) fn refuse_scheme(
    url: &TransportUrl,
    options: &ConnectOptions,
) -> Result<Scheme, ConnectError> {
    let scheme = url.scheme();
    if let Some(reason) = scheme.refusal_reason() {
        return Err(ConnectError::SchemeRefused {
            scheme: scheme.as_str(),
            reason,
        });
    }
    match scheme {
        Scheme::Udp => Err(ConnectError::TlsOverUdp),
        Scheme::Tcp if options.starttls.is_none() => Err(ConnectError::NotTls {
            url: url.to_string(),
            authority: url.authority(),
        }),
        _ => Ok(scheme),
    }
}

pub(super) fn ssl_host(host: &Host) -> String {
    match host {
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6 { addr, .. } => addr.to_string(),
        Host::Name(n) => n.trim_end_matches('.').to_string(),
    }
}

pub(super) fn resolve(
    url: &TransportUrl,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let port = url.port();
    match url.host() {
        Host::Ipv4(a) => Ok(vec![SocketAddr::from((*a, port))]),
        Host::Ipv6 { addr, zone } => {
            let scope = match zone {
                Some(z) => z
                    .parse::<u32>()
                    .ok()
                    .or_else(|| nix::net::if_::if_nametoindex(z.as_str()).ok())
                    .ok_or_else(|| ConnectError::Resolve {
                        host: url.host().to_string(),
                        source: io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("no network interface named {z:?}"),
                        ),
                    })?,
                None => 0,
            };
            Ok(vec![SocketAddr::V6(SocketAddrV6::new(
                *addr, port, 0, scope,
            ))])
        }
        Host::Name(name) => resolve_name(name, port, deadline),
    }
}

/// Resolves a host name with the system resolver
/// ([`getaddrinfo(3)`](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html)), giving up
/// at `deadline`.
///
/// `getaddrinfo` blocks for as long as the resolver configuration says (with the glibc
/// defaults, 5 s per attempt and server, twice) and cannot be cancelled, so it runs on a
/// thread of its own and the caller waits for its answer only until the deadline. When the
/// deadline passes first, the thread is left to finish on its own and its answer is dropped.
///
/// Why a thread rather than the alternatives: `getaddrinfo_a(3)` is glibc-only, needs raw FFI
/// and notifies by signal or by a thread of its own anyway; a resolver crate would speak DNS
/// itself and so ignore what the system resolver honours (`/etc/hosts`, `nsswitch.conf`,
/// mDNS, ...), and names would resolve differently from `openssl s_client`, which uses
/// `getaddrinfo`. The thread keeps exactly the system's answers and costs one short-lived
/// thread per connection by name.
fn resolve_name(name: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ConnectError> {
    let start = Instant::now();
    let timeout = |start: Instant| ConnectError::ResolveTimeout {
        host: name.to_string(),
        elapsed: start.elapsed(),
    };
    if start >= deadline {
        return Err(timeout(start));
    }
    // The resolver may not know the absolute form `localhost.`; it names the same host.
    let query = name.trim_end_matches('.').to_string();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("tlshake-resolve".into())
        .spawn(move || {
            let answer = (query.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            // The receiver is gone when the deadline passed: nobody wants the answer.
            let _ = tx.send(answer);
        });
    if let Err(source) = spawned {
        return Err(ConnectError::Io {
            during: "starting the name resolution thread",
            source,
        });
    }
    let left = Deadline::at(deadline).remaining().unwrap_or_default();
    match rx.recv_timeout(left) {
        Ok(answer) => answer.map_err(|source| ConnectError::Resolve {
            host: name.to_string(),
            source,
        }),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(timeout(start)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ConnectError::Resolve {
            host: name.to_string(),
            source: io::Error::other("the name resolution thread ended without an answer"),
        }),
    }
}

/// Resolves the URL's host and connects to each address in turn until one answers, within
/// `deadline` (name resolution included). The socket is left blocking.
///
/// A peer that accepts the connection and resets it at once makes
/// [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html) fail with
/// `ECONNRESET` when the reset arrives before the connect is seen to complete, and makes the
/// first read or write fail when it arrives after. Both are the same event, a connection
/// accepted and then reset, so the first case is reported as
/// [`ConnectError::ResetAfterAccept`] (no other address is tried: one answered), and callers
/// classify it with the failed handshake of the second case.
pub fn tcp_connect(url: &TransportUrl, deadline: Instant) -> Result<TcpConnection, ConnectError> {
    let start = Instant::now();
    let addrs = resolve(url, deadline)?;
    let mut attempts = Attempts::new(url, addrs, start, deadline);
    loop {
        let (addr, left) = attempts.next()?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                let (tried, connect_time) = attempts.connected();
                return Ok(TcpConnection {
                    stream,
                    peer: addr,
                    tried,
                    connect_time,
                });
            }
            Err(e) => attempts.failed(addr, e)?,
        }
    }
}
