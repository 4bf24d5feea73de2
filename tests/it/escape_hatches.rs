//! Every wrapper gives its parts back: `ssl_mut()`, `get_mut()` and `into_ssl_stream()`.
use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use common::*;
use openssl::ssl::Ssl;
use tlshake::client::ClientConfig;
use tlshake::Handshake;

#[test]
fn a_finished_session_goes_on_as_an_openssl_ssl_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        tcp.set_nonblocking(true).expect("nonblocking");
        let ctx = server_ctx("server.pem", "server.key").build();
        let ssl = Ssl::new(&ctx).expect("ssl");
        let mut tls = Handshake::server(ssl, tcp)
            .expect("server")
            .drive(deadline(5.0))
            .expect("server handshake");
        let tcp = tls.get_mut();
        tcp.set_nonblocking(false).expect("blocking");
        tcp.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).expect("read");
        tls.write_all(&buf).expect("echo");
    });

    let config = ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .expect("config");
    let ssl = config.new_ssl("localhost").expect("ssl");
    let mut tls = Handshake::client(ssl, tcp(addr))
        .expect("client")
        .drive(deadline(5.0))
        .expect("client handshake");

    // ssl_mut: state set through it is read back through ssl().
    let index = Ssl::new_ex_index::<u32>().expect("index");
    tls.ssl_mut().set_ex_data(index, 7);
    assert_eq!(tls.ssl().ex_data(index), Some(&7));

    // get_mut reaches the socket; into_ssl_stream hands the session on.
    tls.get_mut().set_nonblocking(false).expect("blocking");
    tls.get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut stream: openssl::ssl::SslStream<_> = tls.into_ssl_stream();
    assert_eq!(stream.ssl().ex_data(index), Some(&7));
    stream.write_all(b"ping").expect("write");
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).expect("read the echo");
    assert_eq!(&buf, b"ping");
    assert!(
        stream.get_ref().bytes_received() > 0,
        "the traffic record went along"
    );
    server.join().expect("server thread");
}
