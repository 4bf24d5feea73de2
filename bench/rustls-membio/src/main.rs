//! rustls with aws-lc-rs at its defaults (X25519MLKEM768 first) doing what
//! `cargo bench --bench membio` measures for tlshake: full TLS 1.3 handshakes, both ends in
//! one thread over memory buffers, the bundled P-256 certificate verified against the test
//! CA, no tickets, no resumption. Prints handshakes/s, CPU µs per handshake (this thread's
//! run time from /proc/thread-self/schedstat) and the group negotiated.
//!
//!   cargo run --release --manifest-path bench/rustls-membio/Cargo.toml -- [HANDSHAKES] [CERTS_DIR]

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

type Failure = Box<dyn std::error::Error>;

/// Nanoseconds this thread has run (the first field of /proc/thread-self/schedstat).
fn thread_cpu_ns() -> Result<u64, Failure> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let first = text.split_whitespace().next().ok_or("empty schedstat")?;
    Ok(first.parse()?)
}

fn configs(certs: &str) -> Result<(Arc<ClientConfig>, Arc<ServerConfig>), Failure> {
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(format!("{certs}/ca.pem"))? {
        roots.add(ca?)?;
    }
    let mut client = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.resumption = Resumption::disabled();
    let chain = CertificateDer::pem_file_iter(format!("{certs}/server.pem"))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(format!("{certs}/server.key"))?;
    let mut server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    server.send_tls13_tickets = 0;
    server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok((Arc::new(client), Arc::new(server)))
}

/// Moves what `from` has to send into `to`.
fn pass(from: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<usize>, buf: &mut Vec<u8>) {
    buf.clear();
    while let Ok(n) = from(buf) {
        if n == 0 {
            break;
        }
    }
}

/// One full handshake, both ends here; the group the client negotiated.
fn handshake(
    client_config: &Arc<ClientConfig>,
    server_config: &Arc<ServerConfig>,
    buf: &mut Vec<u8>,
) -> Result<String, Failure> {
    let name = ServerName::try_from("localhost")?;
    let mut client = ClientConnection::new(client_config.clone(), name)?;
    let mut server = ServerConnection::new(server_config.clone())?;
    while client.is_handshaking() || server.is_handshaking() {
        pass(&mut |w| client.write_tls(w), buf);
        let mut from_client: &[u8] = buf;
        while !from_client.is_empty() {
            server.read_tls(&mut from_client)?;
            server.process_new_packets()?;
        }
        pass(&mut |w| server.write_tls(w), buf);
        let mut from_server: &[u8] = buf;
        while !from_server.is_empty() {
            client.read_tls(&mut from_server)?;
            client.process_new_packets()?;
        }
    }
    // One byte each way, as the tlshake bench does.
    client.writer().write_all(b"x")?;
    pass(&mut |w| client.write_tls(w), buf);
    let mut from_client: &[u8] = buf;
    while !from_client.is_empty() {
        server.read_tls(&mut from_client)?;
        server.process_new_packets()?;
    }
    let mut byte = [0u8; 1];
    server.reader().read_exact(&mut byte)?;
    let group = client
        .negotiated_key_exchange_group()
        .map_or_else(|| "none".to_string(), |g| format!("{:?}", g.name()));
    Ok(group)
}

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let count: u32 = args.next().map_or(Ok(2000), |a| a.parse())?;
    let certs = args.next().unwrap_or_else(|| "certs".to_string());
    let (client_config, server_config) = configs(&certs)?;
    let mut buf = Vec::with_capacity(16 * 1024);
    // Warm up (page faults, the first allocation of each size).
    let group = handshake(&client_config, &server_config, &mut buf)?;
    let (wall, cpu) = (Instant::now(), thread_cpu_ns()?);
    for _ in 0..count {
        handshake(&client_config, &server_config, &mut buf)?;
    }
    let cpu_us = (thread_cpu_ns()? - cpu) as f64 / 1000.0 / f64::from(count);
    let rate = f64::from(count) / wall.elapsed().as_secs_f64();
    println!(
        "rustls (aws-lc-rs), group {group}: {count} handshakes, {rate:.0}/s, \
         CPU {cpu_us:.0} us per handshake (both ends)"
    );
    Ok(())
}
