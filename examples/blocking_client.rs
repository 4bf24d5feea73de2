//! A blocking client: connect a TCP socket, run the handshake on it with one deadline, then
//! send an HTTP request over the established session and print the first line of the reply.
//!
//! ```text
//! openssl s_server -accept 4433 -cert certs/server.pem -key certs/server.key -www
//! cargo run --example blocking_client -- 127.0.0.1:4433 certs/ca.pem localhost
//! ```
use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tlshake::client::ClientConfig;

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:4433".into());
    let ca = args.next().unwrap_or_else(|| "certs/ca.pem".into());
    let host = args.next().unwrap_or_else(|| "localhost".into());
    let deadline = Instant::now() + Duration::from_secs(5);

    // Verification of the certificate and of the host name is on by default.
    let config = ClientConfig::builder().ca_file(ca).build()?;
    let tcp = TcpStream::connect(&addr)?;
    // The handshake waits for readiness itself: give it a nonblocking socket.
    tcp.set_nonblocking(true)?;
    let mut tls = match config.handshake(&host, tcp)?.drive(deadline) {
        Ok(tls) => tls,
        Err(e) => {
            // `{:#}`: the whole story, with every reason and the hint.
            eprintln!("{e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("established {} with {host}", tls.protocol());

    // Application data in blocking mode, with a timeout on each read.
    tls.get_mut().set_nonblocking(false)?;
    tls.get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply.contains(&b'\n') && Instant::now() < deadline {
        match tls.read(&mut buf)? {
            0 => break,
            n => reply.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&reply);
    println!("reply: {}", text.lines().next().unwrap_or("(none)"));
    Ok(ExitCode::SUCCESS)
}
