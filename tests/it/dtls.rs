//! DTLS on the same engine: tlshake's client against `openssl s_server -dtls1_2` and
//! `gnutls-serv --udp`, `openssl s_client -dtls1_2` and `gnutls-cli --udp` against the
//! [`DtlsListener`], the retransmission timer through a lossy relay, junk datagrams and a
//! flood of cookieless ClientHellos.

mod cli;
mod gnutls;
mod junk;
mod peers;
mod policy;
mod relay;
mod srtp;
mod sweep;
mod timer;

use std::net::SocketAddr;
use std::time::Duration;

use tlshake::harness::OpensslClient;
use tlshake::server::{ServerConfig, ServerConfigBuilder};

use crate::common::cert;

/// The server of most of these tests: 127.0.0.1, a port the kernel picks, the test
/// certificate; each test adds its own settings.
fn loopback_server() -> ServerConfigBuilder {
    ServerConfig::builder()
        .address("127.0.0.1")
        .port(0)
        .certificate_files(cert("server.pem"), cert("server.key"))
}

/// `openssl s_client -dtls1_2` to `addr`, verifying the chain against the test CA, with
/// `send` written to it and its stdin kept open until [`ends_verified`].
fn dtls_s_client(addr: SocketAddr, send: &[u8]) -> OpensslClient {
    OpensslClient::builder(addr)
        .arg("-dtls1_2")
        .ca_file(cert("ca.pem"))
        .verify_return_error()
        .send(send.to_vec())
        .keep_stdin_open()
        .spawn()
        .expect("spawn s_client -dtls1_2")
}

/// Closes the stdin of a [`dtls_s_client`] and checks that it ended with the chain verified.
fn ends_verified(mut client: OpensslClient) {
    client.close_stdin();
    let run = client
        .wait(Duration::from_secs(10))
        .expect("s_client -dtls1_2 ends");
    assert!(
        run.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        run.stdout
    );
}
