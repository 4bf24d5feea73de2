//! The demo's peers on loopback: a plain TCP peer that runs a handler, a TLS server and a
//! one-connection SMTP server with STARTTLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

use openssl::ssl::{Ssl, SslContext};
use tlshake::{Handshake, NodelayPolicy};

use super::setup::{NAGLE_BYTES, PEER_TIMEOUT};
use crate::report::AnyError;

/// Binds 127.0.0.1 on a free port and runs `handler` on each of the next `count`
/// connections, in a thread. The thread is not joined: it ends with the process.
pub(super) fn peer<F>(count: usize, handler: F) -> Result<SocketAddr, AnyError>
where
    F: Fn(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
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
pub(super) fn tls_peer(
    ctx: &SslContext,
    count: usize,
    policy: NodelayPolicy,
) -> Result<SocketAddr, AnyError> {
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

/// A one-connection SMTP server: greeting, EHLO, STARTTLS, then the TLS handshake.
pub(super) fn smtp_peer(ctx: &SslContext) -> Result<SocketAddr, AnyError> {
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
