//! A client by URL: ALPN and a client certificate, with one deadline over name resolution,
//! connect and handshake.
//!
//! ```text
//! openssl s_server -accept 4433 -cert certs/server.pem -key certs/server.key \
//!     -CAfile certs/ca.pem -Verify 1 -alpn http/1.1
//! cargo run --example url_client -- tls://localhost:4433 certs/ca.pem \
//!     certs/client.pem certs/client.key
//! ```
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use tlshake::client::{self, ClientConfig};
use tlshake::url::TransportUrl;

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url: TransportUrl = args
        .next()
        .unwrap_or_else(|| "tls://localhost:4433".into())
        .parse()?;
    let ca = args.next().unwrap_or_else(|| "certs/ca.pem".into());
    let mut builder = ClientConfig::builder()
        .ca_file(ca)
        .alpn(["h2", "http/1.1"])
        .connect_timeout(Duration::from_secs(5))
        .handshake_timeout(Duration::from_secs(5));
    if let (Some(cert), Some(key)) = (args.next(), args.next()) {
        builder = builder.certificate_files(cert, key);
    }
    let config = builder.build()?;

    let conn = match client::connect(&url, &config) {
        Ok(conn) => conn,
        Err(e) => {
            // One line per level, as anyhow prints a chain.
            eprint!("{e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprint!(": {s}");
                source = s.source();
            }
            eprintln!();
            return Ok(ExitCode::FAILURE);
        }
    };
    let session = conn.session();
    println!("established {} with {url}", session.protocol);
    let alpn = session.alpn.as_deref().map(String::from_utf8_lossy);
    println!("alpn: {}", alpn.as_deref().unwrap_or("(none)"));
    let verified = session.verify.as_ref().is_some_and(|v| v.is_ok());
    println!("server certificate verified: {verified}");
    Ok(ExitCode::SUCCESS)
}
