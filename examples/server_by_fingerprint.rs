//! A server that picks its certificate from a directory by SHA-256 fingerprint, accepts one
//! connection, greets it and closes it.
//!
//! ```text
//! cargo run --example server_by_fingerprint -- DIR "9D:A4:84:..."
//! openssl s_client -connect 127.0.0.1:PORT -CAfile certs/ca.pem -servername localhost
//! ```
use std::error::Error;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tlshake::server::{ServerConfig, TlsListener};

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(hash)) = (args.next(), args.next()) else {
        eprintln!("usage: server_by_fingerprint DIR SHA256");
        return Ok(ExitCode::from(2));
    };
    // Port 0: the system picks a free port.
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .store_certificate_by_hash(&dir, hash.clone());
    let mut listener = TlsListener::bind(&config.clone().build().expect("server configuration"))?;
    println!("serving the certificate with SHA-256 {hash}");
    println!("listening on {}", listener.local_addr());
    std::io::stdout().flush()?;

    let mut accepted = match listener.accept_one(Instant::now() + Duration::from_secs(10)) {
        Ok(accepted) => accepted,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("accepted a {} client", accepted.session.protocol);
    accepted.stream.get_mut().set_nonblocking(false)?;
    accepted.stream.write_all(b"hello from tlshake\n")?;
    // close_notify, then the socket closes when the stream is dropped.
    let _ = accepted.stream.shutdown();
    Ok(ExitCode::SUCCESS)
}
