//! Sans-IO handshakes: a `MemoryHandshake` reads no socket and no clock; the caller feeds it
//! the peer's bytes and takes the bytes to send. First a client and a server in one process,
//! then, given an address, the same client over a TCP socket this program owns.
//!
//! ```text
//! cargo run --example sansio_pair -- certs/ca.pem certs/server.pem certs/server.key
//! cargo run --example sansio_pair -- certs/ca.pem certs/server.pem certs/server.key 127.0.0.1:4433
//! ```
use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContextBuilder, SslFiletype, SslMethod};
use tlshake::client::ClientConfig;
use tlshake::MemoryHandshake;
use tlshake::{HandshakeOutcome, Want};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ca, cert, key, rest @ ..] = args.as_slice() else {
        return Err("usage: sansio_pair CA CERT KEY [ADDR]".into());
    };
    let config = ClientConfig::builder().ca_file(ca).build()?;

    // 1. A pair in memory: step each end and hand its output to the other.
    let mut server_ctx = SslContextBuilder::new(SslMethod::tls_server())?;
    server_ctx.set_certificate_chain_file(cert)?;
    server_ctx.set_private_key_file(key, SslFiletype::PEM)?;
    let server_ctx = server_ctx.build();
    let mut client = MemoryHandshake::client(config.new_ssl("localhost")?)?;
    let mut server = MemoryHandshake::server(Ssl::new(&server_ctx)?)?;
    let (mut client_done, mut server_done) = (false, false);
    let mut wire = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(client_done && server_done) {
        if Instant::now() > deadline {
            return Err("the memory pair did not finish".into());
        }
        client_done |= finished(client.step())?;
        wire.clear();
        client.take(&mut wire);
        server.feed(&wire);
        server_done |= finished(server.step())?;
        wire.clear();
        server.take(&mut wire);
        client.feed(&wire);
    }
    let session = client.into_session().session();
    println!("memory pair: {}", session.protocol);

    // 2. The same client over a socket: the bytes go where this program sends them.
    if let Some(addr) = rest.first() {
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut client = MemoryHandshake::client(config.new_ssl("localhost")?)?;
        let mut buf = [0u8; 16384];
        loop {
            if Instant::now() > deadline {
                return Err("the handshake over TCP did not finish".into());
            }
            let outcome = client.step();
            wire.clear();
            client.take(&mut wire);
            tcp.write_all(&wire)?;
            match outcome {
                HandshakeOutcome::Done => break,
                HandshakeOutcome::Want(Want::Read) => match tcp.read(&mut buf)? {
                    0 => client.feed_eof(),
                    n => client.feed(&buf[..n]),
                },
                HandshakeOutcome::Want(_) => {}
                HandshakeOutcome::Failed(e) | HandshakeOutcome::Shutdown(e) => {
                    return Err(format!("{e:#}").into())
                }
            }
        }
        let session = client.into_session().session();
        println!("over TCP with {addr}: {}", session.protocol);
    }
    Ok(())
}

/// True when the handshake completed; an error when it failed.
fn finished(outcome: HandshakeOutcome) -> Result<bool, Box<dyn Error>> {
    match outcome {
        HandshakeOutcome::Done => Ok(true),
        HandshakeOutcome::Want(_) => Ok(false),
        HandshakeOutcome::Failed(e) | HandshakeOutcome::Shutdown(e) => Err(format!("{e:#}").into()),
    }
}
