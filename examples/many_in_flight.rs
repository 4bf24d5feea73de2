//! Many handshakes in flight from one thread: `MultiDriver` watches every socket in one epoll
//! set, each handshake with its own deadline, and reports each as it ends.
//!
//! ```text
//! openssl s_server -accept 4433 -cert certs/server.pem -key certs/server.key
//! cargo run --example many_in_flight -- 127.0.0.1:4433 certs/ca.pem 20
//! ```
use std::error::Error;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tlshake::client::ClientConfig;
use tlshake::{Completed, MultiDriver};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:4433".into());
    let ca = args.next().unwrap_or_else(|| "certs/ca.pem".into());
    let count: usize = args.next().as_deref().unwrap_or("20").parse()?;

    let config = ClientConfig::builder().ca_file(ca).build()?;
    let mut driver = MultiDriver::new()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    for _ in 0..count {
        let tcp = TcpStream::connect(&addr)?;
        tcp.set_nonblocking(true)?;
        let handshake = config.handshake("localhost", tcp)?;
        driver.add(handshake, deadline).map_err(|e| e.to_string())?;
    }
    println!("{count} handshakes in flight");

    let (mut done, mut failed) = (0, 0);
    while let Some(event) = driver.next_completed(deadline + Duration::from_secs(1))? {
        match event.result {
            // Dropping the stream closes the connection.
            Completed::Done(_tls) => done += 1,
            other => {
                failed += 1;
                eprintln!("{}: {}", event.token, other.name());
            }
        }
    }
    println!("{done} established, {failed} failed");
    Ok(())
}
