//! Fuzzes a memory-BIO server with arbitrary first flights: it never completes a handshake on
//! them, never panics, and a protocol failure always carries OpenSSL's reasons.
//!
//! Run with `cargo +nightly fuzz run first_flight` from the repository root.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod};
use openssl::x509::X509;
use tlshake::MemoryHandshake;
use tlshake::{bundled, ErrorKind, HandshakeOutcome};

fn context() -> &'static SslContext {
    static CTX: OnceLock<SslContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let mut b = SslContextBuilder::new(SslMethod::tls_server()).expect("context");
        let cert = X509::from_pem(bundled::SERVER_PEM.as_bytes()).expect("certificate");
        let key = PKey::private_key_from_pem(bundled::SERVER_KEY.as_bytes()).expect("key");
        b.set_certificate(&cert).expect("certificate");
        b.set_private_key(&key).expect("key");
        b.build()
    })
}

fuzz_target!(|data: &[u8]| {
    for eof in [false, true] {
        let mut server = MemoryHandshake::server(Ssl::new(context()).expect("ssl")).expect("server");
        server.feed(data);
        if eof {
            server.feed_eof();
        }
        match server.step() {
            HandshakeOutcome::Done => panic!("a server completed on arbitrary bytes"),
            HandshakeOutcome::Want(_) => assert!(!eof, "wants more after end of file"),
            HandshakeOutcome::Failed(e) | HandshakeOutcome::Shutdown(e) => {
                if e.kind() == ErrorKind::Protocol {
                    assert!(!e.queue().is_empty(), "{e:?}");
                }
            }
        }
    }
});
