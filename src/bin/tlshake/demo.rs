//! `tlshake demo`: a self-contained tour on loopback, with the certificates embedded in the
//! binary. Every section checks what it shows; the exit code says whether all behaved.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext};
use openssl::x509::X509;
use tlshake::client::{self, ClientConfig, ConnectError, ConnectOptions};
use tlshake::fingerprint::{DigestKind, Fingerprint};
use tlshake::server::{ServerConfig, TlsListener};
use tlshake::starttls::StarttlsProtocol;
use tlshake::url::TransportUrl;
use tlshake::{bundled, ErrorKind, Handshake, Hint, NodelayPolicy};

use crate::report::{percentile, Outcome};
use crate::serve::bundled_certificate;

/// Per-connection limit of every peer thread of the demo.
const PEER_TIMEOUT: Duration = Duration::from_secs(5);
/// Request and response size of the Nagle section.
const NAGLE_BYTES: usize = 100;
/// Connections per Nagle measurement.
const NAGLE_ROUNDS: usize = 20;

type SectionResult = Result<String, String>;
/// One section of the demo: it gets the shared server context.
type Section = Box<dyn Fn(&SslContext) -> SectionResult>;

/// Runs the demo.
pub(crate) fn run() -> Outcome {
    let started = Instant::now();
    let ctx = match server_context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("tlshake demo: cannot build the server context: {e}");
            return Outcome::Failed;
        }
    };
    #[allow(unused_mut)]
    let mut sections: Vec<(&str, Section)> = vec![
        ("blocking handshake", Box::new(blocking)),
        (
            "nonblocking handshake (readiness loop)",
            Box::new(nonblocking),
        ),
        ("memory BIOs (sans-IO, no socket)", Box::new(memory_bios)),
        ("STARTTLS (SMTP dialogue, then TLS)", Box::new(starttls)),
        (
            "resumed reconnection (session ticket)",
            Box::new(resumed_reconnection),
        ),
        ("handshake timeline (--trace)", Box::new(timeline)),
        (
            "server certificate chosen by hash",
            Box::new(|_: &SslContext| by_hash()),
        ),
        ("failure: wrong host name", Box::new(wrong_name)),
        ("failure: untrusted CA", Box::new(untrusted_ca)),
        (
            "failure: plaintext peer",
            Box::new(|_: &SslContext| plaintext_peer()),
        ),
        (
            "failure: peer stalls past a 300 ms deadline",
            Box::new(|_: &SslContext| stall()),
        ),
        ("Nagle and the first response", Box::new(nagle)),
    ];
    // Built with the feature `tokio`: the async runner beside the blocking ones.
    #[cfg(feature = "tokio")]
    sections.insert(
        3,
        (
            "async handshake and STARTTLS (tokio)",
            Box::new(tokio_runner),
        ),
    );
    let mut failed = Vec::new();
    for (i, (title, section)) in sections.iter().enumerate() {
        println!("== {}. {title}", i + 1);
        match section(&ctx) {
            Ok(text) => {
                for line in text.lines() {
                    println!("   {line}");
                }
                println!("   -> as expected");
            }
            Err(text) => {
                for line in text.lines() {
                    println!("   {line}");
                }
                println!("   -> NOT as expected");
                failed.push(*title);
            }
        }
        println!();
    }
    println!("demo finished in {:.2} s", started.elapsed().as_secs_f64());
    if failed.is_empty() {
        println!("every section behaved as expected");
        Outcome::Done
    } else {
        eprintln!("tlshake demo: not as expected: {}", failed.join("; "));
        Outcome::Failed
    }
}

/// A client and a server `MemoryHandshake` pumped against each other: the caller moves the
/// bytes, the same `HandshakeOutcome` comes back, and no clock or socket is involved.
fn memory_bios(ctx: &SslContext) -> SectionResult {
    use tlshake::membio::MemoryHandshake;
    let config = client_config()?;
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut client = MemoryHandshake::client(config.new_ssl("localhost").map_err(|x| e(&x))?)
        .map_err(|x| e(&x))?;
    let mut server =
        MemoryHandshake::server(Ssl::new(ctx).map_err(|x| e(&x))?).map_err(|x| e(&x))?;
    let (mut client_done, mut server_done) = (false, false);
    let (mut rounds, mut bytes) = (0, 0);
    let mut wire = Vec::new();
    while !(client_done && server_done) {
        rounds += 1;
        if rounds > 10 {
            return Err(String::from(
                "the memory handshake did not finish in 10 rounds",
            ));
        }
        let moved = turn(&mut client, &mut server, &mut client_done, &mut wire)?;
        bytes += moved + turn(&mut server, &mut client, &mut server_done, &mut wire)?;
    }
    let info = client.into_session().session();
    Ok(format!(
        "MemoryHandshake::client/server, feed() and take() by hand: {} {} in {rounds} round(s), {bytes} bytes moved",
        info.protocol, info.cipher
    ))
}

/// One side's move in the memory pump: step unless done, then hand its output to the peer.
fn turn(
    me: &mut tlshake::membio::MemoryHandshake,
    peer: &mut tlshake::membio::MemoryHandshake,
    done: &mut bool,
    wire: &mut Vec<u8>,
) -> Result<usize, String> {
    if !*done {
        match me.step() {
            tlshake::HandshakeOutcome::Done => *done = true,
            tlshake::HandshakeOutcome::Want(_) => {}
            other => return Err(format!("{other}")),
        }
    }
    wire.clear();
    let n = me.take(wire);
    peer.feed(wire);
    Ok(n)
}

fn server_context() -> Result<SslContext, String> {
    let key = bundled_certificate()?;
    ServerConfig::builder()
        .certificate(key)
        .build_context()
        .map_err(|e| crate::report::chain(&e))
}

fn client_config() -> Result<ClientConfig, String> {
    ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .build()
        .map_err(|e| crate::report::chain(&e))
}

/// Binds 127.0.0.1 on a free port and runs `handler` on each of the next `count`
/// connections, in a thread. The thread is not joined: it ends with the process.
fn peer<F>(count: usize, handler: F) -> Result<SocketAddr, String>
where
    F: Fn(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| crate::report::chain(&e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::report::chain(&e))?;
    thread::spawn(move || {
        for _ in 0..count {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(PEER_TIMEOUT));
            handler(stream);
        }
    });
    Ok(addr)
}

/// A TLS server peer: handshake with `policy`, then answer `NAGLE_BYTES`-byte requests.
fn tls_peer(ctx: &SslContext, count: usize, policy: NodelayPolicy) -> Result<SocketAddr, String> {
    let ctx = ctx.clone();
    peer(count, move |tcp| {
        let _ = tcp.set_nonblocking(true);
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        let Ok(mut hs) = Handshake::server(ssl, tcp) else {
            return;
        };
        hs.set_nodelay_policy(policy);
        let Ok(mut tls) = hs.drive(Instant::now() + PEER_TIMEOUT) else {
            return;
        };
        let _ = tls.get_ref().set_nonblocking(false);
        let mut buf = [0u8; NAGLE_BYTES];
        while tls.read_exact(&mut buf).is_ok() {
            if tls.write_all(&buf).is_err() {
                break;
            }
        }
    })
}

fn url(addr: SocketAddr) -> Result<TransportUrl, String> {
    format!("tls://{addr}").parse().map_err(|e| format!("{e}"))
}

fn blocking(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = client_config()?;
    let tcp = TcpStream::connect(addr).map_err(|e| crate::report::chain(&e))?;
    let _ = tcp.set_read_timeout(Some(PEER_TIMEOUT));
    let ssl = config
        .new_ssl("127.0.0.1")
        .map_err(|e| crate::report::chain(&e))?;
    let hs = Handshake::client(ssl, tcp).map_err(|e| crate::report::chain(&e))?;
    let t0 = Instant::now();
    let tls = hs.finish().map_err(|e| crate::report::chain(&e))?;
    let s = tls.session();
    let stats = tls.stats();
    let text = format!(
        "Handshake::client(ssl, blocking TcpStream).finish(): each SSL_connect call blocks\n\
         {} {} in {:.2} ms, {} step(s), WANT_READ {}, WANT_WRITE {}, verify: {}",
        s.protocol,
        s.cipher,
        t0.elapsed().as_secs_f64() * 1e3,
        stats.steps,
        stats.want_read,
        stats.want_write,
        s.verify
            .as_ref()
            .map_or("no certificate", |v| v.message.as_str())
    );
    if s.verify.as_ref().is_some_and(|v| v.is_ok()) && stats.want_read == 0 {
        Ok(text)
    } else {
        Err(text)
    }
}

fn nonblocking(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let conn =
        client::connect(&url(addr)?, &client_config()?).map_err(|e| crate::report::chain(&e))?;
    let s = conn.session();
    let stats = conn.stream.stats();
    let text = format!(
        "client::connect drives SSL_connect on a nonblocking socket, waiting for readiness\n\
         {} {}: {} step(s), WANT_READ {}, WANT_WRITE {}, handshake {:.2} ms",
        s.protocol,
        s.cipher,
        stats.steps,
        stats.want_read,
        stats.want_write,
        conn.timings.handshake.as_secs_f64() * 1e3
    );
    if s.verify.as_ref().is_some_and(|v| v.is_ok()) && stats.steps >= 1 {
        Ok(text)
    } else {
        Err(text)
    }
}

/// One handshake with every message recorded: what `--trace` prints.
fn timeline(ctx: &SslContext) -> SectionResult {
    let ctx = ctx.clone();
    let addr = peer(1, move |tcp| {
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        if let Ok(Ok(mut tls)) = Handshake::server(ssl, tcp).map(|hs| hs.finish()) {
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink);
        }
    })?;
    let sink = tlshake::trace::TraceSink::new();
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .trace(sink.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let options = ConnectOptions::new().deadline(Instant::now() + PEER_TIMEOUT);
    let mut conn =
        client::connect_with(&url(addr)?, &config, &options).map_err(|e| e.to_string())?;
    let _ = conn.stream.shutdown();
    let events = sink.take();
    if !events.iter().any(|e| e.message == "CertificateVerify") {
        return Err(format!("no CertificateVerify in {} messages", events.len()));
    }
    Ok(crate::trace::to_text(&events).trim_end().to_string())
}

/// Two connections to one server: the second offers the session ticket the first got
/// (under TLS 1.3 it arrives after the handshake, so the client waits for it) and resumes.
fn resumed_reconnection(ctx: &SslContext) -> SectionResult {
    let ctx = ctx.clone();
    let addr = peer(2, move |tcp| {
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        if let Ok(Ok(mut tls)) = Handshake::server(ssl, tcp).map(|hs| hs.finish()) {
            // Until the client's close_notify.
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink);
            let _ = tls.shutdown();
        }
    })?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .resume_sessions(true)
        .build()
        .map_err(|e| e.to_string())?;
    let url = url(addr)?;
    let mut lines = Vec::new();
    for attempt in 1..=2 {
        let deadline = Instant::now() + PEER_TIMEOUT;
        let options = ConnectOptions::new().deadline(deadline);
        let mut conn = client::connect_with(&url, &config, &options).map_err(|e| e.to_string())?;
        let s = conn.session();
        let ticket = client::wait_for_session(&mut conn.stream, deadline)
            .map_err(|e| e.to_string())?
            .is_some();
        let _ = conn.stream.shutdown();
        lines.push(format!(
            "connection {attempt}: {}, {}, handshake {:.2} ms, ticket for the next: {}",
            if s.resumed { "resumed" } else { "new session" },
            s.protocol,
            conn.timings.handshake.as_secs_f64() * 1e3,
            if ticket { "yes" } else { "no" }
        ));
        if attempt == 2 && !s.resumed {
            return Err(format!(
                "the second connection was not resumed\n{}",
                lines.join("\n")
            ));
        }
    }
    lines.push("(tlshake connect URL --reconnect N; --sess-out/--sess-in FILE as s_client)".into());
    Ok(lines.join("\n"))
}

/// A one-connection SMTP server: greeting, EHLO, STARTTLS, then the TLS handshake.
fn smtp_peer(ctx: &SslContext) -> Result<SocketAddr, String> {
    let ctx = ctx.clone();
    peer(1, move |tcp| {
        let Ok(read_half) = tcp.try_clone() else {
            return;
        };
        let mut lines = BufReader::new(read_half);
        let mut w = &tcp;
        let mut line = String::new();
        let _ = w.write_all(b"220 demo ESMTP\r\n");
        let _ = lines.read_line(&mut line);
        let _ = w.write_all(b"250-demo greets you\r\n250 STARTTLS\r\n");
        line.clear();
        let _ = lines.read_line(&mut line);
        if !line.to_ascii_uppercase().starts_with("STARTTLS") {
            let _ = w.write_all(b"502 command not recognised\r\n");
            return;
        }
        let _ = w.write_all(b"220 ready to start TLS\r\n");
        let Ok(ssl) = Ssl::new(&ctx) else { return };
        if let Ok(hs) = Handshake::server(ssl, tcp) {
            let _ = hs.finish();
        }
    })
}

fn starttls(ctx: &SslContext) -> SectionResult {
    let addr = smtp_peer(ctx)?;
    let url: TransportUrl = format!("tcp://{addr}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let options = ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .deadline(Instant::now() + PEER_TIMEOUT);
    let conn = client::connect_with(&url, &client_config()?, &options)
        .map_err(|e| crate::report::chain(&e))?;
    let s = conn.session();
    Ok(format!(
        "220 greeting, EHLO, 250-STARTTLS, STARTTLS, 220, then the TLS handshake\n\
         dialogue {:.2} ms, handshake {:.2} ms: {} {}",
        conn.timings.starttls.unwrap_or_default().as_secs_f64() * 1e3,
        conn.timings.handshake.as_secs_f64() * 1e3,
        s.protocol,
        s.cipher
    ))
}

/// `client::connect_async` and `connect_async_with` + STARTTLS on a current-thread tokio
/// runtime: the same step function and dialogues, waited on tokio's reactor.
#[cfg(feature = "tokio")]
fn tokio_runner(ctx: &SslContext) -> SectionResult {
    let tls_addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let smtp_addr = smtp_peer(ctx)?;
    let config = client_config()?;
    let smtp_url: TransportUrl = format!("tcp://{smtp_addr}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let options = ConnectOptions::new()
        .starttls(StarttlsProtocol::Smtp)
        .deadline(Instant::now() + PEER_TIMEOUT);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::report::chain(&e))?;
    let (tls, smtp) = runtime.block_on(async {
        let tls = client::connect_async(&url(tls_addr)?, &config)
            .await
            .map_err(|e| crate::report::chain(&e))?;
        let smtp = client::connect_async_with(&smtp_url, &config, &options)
            .await
            .map_err(|e| crate::report::chain(&e))?;
        Ok::<_, String>((tls, smtp))
    })?;
    let s = tls.session();
    let stats = tls.stream.get_ref().stats();
    let go_ahead = smtp
        .starttls
        .as_ref()
        .map_or(String::new(), |t| t.go_ahead.clone());
    let text = format!(
        "client::connect_async: SSL_connect stepped on tokio's reactor, one deadline\n\
         {} {}: {} step(s), WANT_READ {}, handshake {:.2} ms, verify: {}\n\
         connect_async_with + STARTTLS: the same SMTP dialogue, go-ahead {go_ahead:?}, then {}",
        s.protocol,
        s.cipher,
        stats.steps,
        stats.want_read,
        tls.timings.handshake.as_secs_f64() * 1e3,
        s.verify
            .as_ref()
            .map_or("no certificate", |v| v.message.as_str()),
        smtp.session().protocol
    );
    let verified = s.verify.as_ref().is_some_and(|v| v.is_ok());
    if verified && stats.steps >= 1 && go_ahead.starts_with("220") {
        Ok(text)
    } else {
        Err(text)
    }
}

/// A temporary directory removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn by_hash() -> SectionResult {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "tlshake-demo-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )));
    std::fs::create_dir_all(&dir.0).map_err(|e| crate::report::chain(&e))?;
    let files = [
        ("server.pem", bundled::SERVER_PEM),
        ("server.key", bundled::SERVER_KEY),
        ("other-host.pem", bundled::OTHER_HOST_PEM),
        ("other-host.key", bundled::OTHER_HOST_KEY),
    ];
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text).map_err(|e| crate::report::chain(&e))?;
    }
    let wanted =
        X509::from_pem(bundled::SERVER_PEM.as_bytes()).map_err(|e| crate::report::chain(&e))?;
    let hash =
        Fingerprint::of(&wanted, DigestKind::Sha256).map_err(|e| crate::report::chain(&e))?;
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .store_certificate_by_hash(&dir.0, hash.to_string());
    let mut listener = TlsListener::bind(&config).map_err(|e| crate::report::chain(&e))?;
    let addr = listener.local_addr();
    let server = thread::spawn(move || listener.accept_one(Instant::now() + PEER_TIMEOUT).is_ok());
    let conn =
        client::connect(&url(addr)?, &client_config()?).map_err(|e| crate::report::chain(&e))?;
    let got = conn
        .session()
        .peer_certificate
        .and_then(|c| Fingerprint::of(&c, DigestKind::Sha256).ok());
    let accepted = server.join().unwrap_or(false);
    let text = format!(
        "store of 2 certificates, picked by SHA-256 {}\nthe client received {}",
        hash,
        got.as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no certificate".into())
    );
    if accepted && got.as_ref() == Some(&hash) {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Describes a failed connection and checks it is a handshake error of `kind` with a hint
/// matching `hint_ok`.
fn expect_failure(
    result: Result<client::TlsConnection, ConnectError>,
    kind: ErrorKind,
    hint_ok: fn(&Hint) -> bool,
) -> SectionResult {
    let e = match result {
        Ok(_) => return Err(String::from("the handshake succeeded")),
        Err(e) => e,
    };
    let Some(h) = e.handshake_error() else {
        return Err(format!(
            "failed before the handshake: {}",
            crate::report::chain(&e)
        ));
    };
    let text = format!(
        "kind {}, {} (ret {}), reasons: {}\nerror (with its hint): {h:#}",
        h.kind().name(),
        h.ssl_error().name(),
        h.ret(),
        h.reasons().join("; "),
    );
    if h.kind() == kind && h.hint().is_some_and(hint_ok) {
        Ok(text)
    } else {
        Err(text)
    }
}

fn wrong_name(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("wrong.example")
        .build()
        .map_err(|e| crate::report::chain(&e))?;
    expect_failure(
        client::connect(&url(addr)?, &config),
        ErrorKind::CertificateVerification,
        |h| matches!(h, Hint::NameMismatch { .. }),
    )
}

fn untrusted_ca(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::ROGUE_CA_PEM.as_bytes())
        .build()
        .map_err(|e| crate::report::chain(&e))?;
    expect_failure(
        client::connect(&url(addr)?, &config),
        ErrorKind::CertificateVerification,
        |h| matches!(h, Hint::UnknownIssuer { .. } | Hint::SelfSigned { .. }),
    )
}

fn plaintext_peer() -> SectionResult {
    let addr = peer(1, |mut tcp| {
        let _ = tcp.write_all(b"220 demo ESMTP\r\n");
        let mut buf = [0u8; 1024];
        while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    })?;
    expect_failure(
        client::connect(&url(addr)?, &client_config()?),
        ErrorKind::Protocol,
        |h| matches!(h, Hint::PlaintextPeer { .. }),
    )
}

fn stall() -> SectionResult {
    let addr = peer(1, |mut tcp| {
        let mut buf = [0u8; 1024];
        while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    })?;
    let options = ConnectOptions::new().deadline(Instant::now() + Duration::from_millis(300));
    let t0 = Instant::now();
    let result = client::connect_with(&url(addr)?, &client_config()?, &options);
    let waited = t0.elapsed();
    let text = expect_failure(result, ErrorKind::Timeout, |h| {
        matches!(h, Hint::Timeout { .. })
    });
    let bounded = waited < Duration::from_millis(800);
    match text {
        Ok(t) if bounded => Ok(format!(
            "{t}\nreturned after {:.0} ms",
            waited.as_secs_f64() * 1e3
        )),
        Ok(t) | Err(t) => Err(format!(
            "{t}\nreturned after {:.0} ms",
            waited.as_secs_f64() * 1e3
        )),
    }
}

/// p50 of the first-response latency, in ms, over `NAGLE_ROUNDS` fresh TLS 1.3 connections.
fn first_response_p50(ctx: &SslContext, nodelay: bool) -> Result<f64, String> {
    let policy = if nodelay {
        NodelayPolicy::Always
    } else {
        NodelayPolicy::Leave
    };
    let addr = tls_peer(ctx, NAGLE_ROUNDS, policy)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .protocols(tlshake::ProtocolSet::TLS1_3)
        .nodelay(policy)
        .build()
        .map_err(|e| crate::report::chain(&e))?;
    let url = url(addr)?;
    let mut samples = Vec::with_capacity(NAGLE_ROUNDS);
    for _ in 0..NAGLE_ROUNDS {
        let mut conn = client::connect(&url, &config).map_err(|e| crate::report::chain(&e))?;
        let _ = conn.stream.get_ref().set_read_timeout(Some(PEER_TIMEOUT));
        let request = [b'x'; NAGLE_BYTES];
        let mut response = [0u8; NAGLE_BYTES];
        let t0 = Instant::now();
        conn.stream
            .write_all(&request)
            .and_then(|()| conn.stream.read_exact(&mut response))
            .map_err(|e| format!("request/response failed: {e}"))?;
        samples.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    Ok(percentile(&samples, 50.0))
}

fn nagle(ctx: &SslContext) -> SectionResult {
    let on = first_response_p50(ctx, true)?;
    let off = first_response_p50(ctx, false)?;
    Ok(format!(
        "{NAGLE_BYTES}-byte request and response right after a TLS 1.3 handshake, \
         {NAGLE_ROUNDS} connections each\n\
         TCP_NODELAY on both ends (NodelayPolicy::Always): p50 {on:.3} ms\n\
         Nagle left on on both ends (NodelayPolicy::Leave):  p50 {off:.3} ms\n\
         {}",
        if off > on * 2.0 {
            format!(
                "Nagle costs {:.1}x on the first response",
                off / on.max(1e-3)
            )
        } else {
            String::from("no Nagle stall measured on this loopback (timing depends on the kernel)")
        }
    ))
}
