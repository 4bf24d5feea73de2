//! The handshake itself, three ways: blocking, on a nonblocking socket with a readiness loop,
//! and between two memory BIOs with no socket at all.

use std::net::TcpStream;
use std::time::Instant;

use openssl::ssl::{Ssl, SslContext};
use tlshake::client;
use tlshake::NodelayPolicy;

use super::peers::tls_peer;
use super::setup::{client_config, url, SectionResult, PEER_TIMEOUT};
use crate::report::{AnyError, Failure};

pub(super) fn blocking(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let config = client_config()?;
    let tcp = TcpStream::connect(addr)?;
    let _ = tcp.set_read_timeout(Some(PEER_TIMEOUT));
    let hs = config.handshake("127.0.0.1", tcp)?;
    let t0 = Instant::now();
    let tls = hs.finish()?;
    let s = tls.session();
    let stats = tls.stats();
    let negotiated = crate::negotiated::Negotiated::of(&s);
    let text = format!(
        "Handshake::client(ssl, blocking TcpStream).finish(): each SSL_connect call blocks\n\
         {} {} in {:.2} ms, {} step(s), WANT_READ {}, WANT_WRITE {}, verify: {}\n\
         group {}; signature {}; server key {}",
        s.protocol,
        s.cipher,
        t0.elapsed().as_secs_f64() * 1e3,
        stats.steps,
        stats.want_read,
        stats.want_write,
        s.verify
            .as_ref()
            .map_or("no certificate", |v| v.message.as_str()),
        negotiated.group_text(),
        negotiated.signature_text(),
        negotiated.key_text(),
    );
    // OpenSSL 3.5 and newer lead with the post-quantum hybrid, and tlshake keeps their list.
    let pq_expected = tlshake::library::running() >= tlshake::library::OpensslVersion::new(3, 5, 0);
    if s.verify.as_ref().is_some_and(|v| v.is_ok())
        && stats.want_read == 0
        && s.post_quantum() == Some(pq_expected)
    {
        Ok(text)
    } else {
        Err(text.into())
    }
}

pub(super) fn nonblocking(ctx: &SslContext) -> SectionResult {
    let addr = tls_peer(ctx, 1, NodelayPolicy::Always)?;
    let conn = client::connect(&url(addr)?, &client_config()?)?;
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
        Err(text.into())
    }
}

/// A client and a server `MemoryHandshake` pumped against each other: the caller moves the
/// bytes, the same `HandshakeOutcome` comes back, and no clock or socket is involved.
pub(super) fn memory_bios(ctx: &SslContext) -> SectionResult {
    use tlshake::MemoryHandshake;
    let config = client_config()?;
    let mut client =
        MemoryHandshake::from(config.handshake("localhost", tlshake::MemoryPipe::new())?);
    let mut server = MemoryHandshake::server(Ssl::new(ctx)?)?;
    let (mut client_done, mut server_done) = (false, false);
    let (mut rounds, mut bytes) = (0, 0);
    let mut wire = Vec::new();
    while !(client_done && server_done) {
        rounds += 1;
        if rounds > 10 {
            return Err("the memory handshake did not finish in 10 rounds".into());
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
    me: &mut tlshake::MemoryHandshake,
    peer: &mut tlshake::MemoryHandshake,
    done: &mut bool,
    wire: &mut Vec<u8>,
) -> Result<usize, AnyError> {
    if !*done {
        match me.step() {
            tlshake::HandshakeOutcome::Done => *done = true,
            tlshake::HandshakeOutcome::Want(_) => {}
            tlshake::HandshakeOutcome::Shutdown(e) => {
                return Err(Failure::because("handshake shut down", e).into())
            }
            tlshake::HandshakeOutcome::Failed(e) => {
                return Err(Failure::because("handshake failed", e).into())
            }
        }
    }
    wire.clear();
    let n = me.take(wire);
    peer.feed(wire);
    Ok(n)
}
