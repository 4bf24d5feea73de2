//! Each error's `Display` is one line and this level only; the cause is in `source()`. A
//! chain printer (the way anyhow and eyre print `{:#}` and `{:?}`) then shows each fact once.

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::thread;
use std::time::{Duration, Instant};

use tlshake::client::{self, ClientConfig, ConfigError, ConnectError};
use tlshake::url::TransportUrl;

/// `outer: inner: innermost`, walking `source()` as anyhow does.
fn chain(e: &(dyn Error + 'static)) -> String {
    let mut levels = vec![e.to_string()];
    let mut next = e.source();
    while let Some(e) = next {
        levels.push(e.to_string());
        next = e.source();
    }
    for level in &levels {
        assert!(!level.contains('\n'), "a level spans lines: {level:?}");
    }
    levels.join(": ")
}

fn once(haystack: &str, needle: &str) {
    assert_eq!(
        haystack.matches(needle).count(),
        1,
        "{needle:?} must appear exactly once in {haystack:?}"
    );
}

/// A TCP server that runs `serve` on its first connection, with a deadline on its reads.
fn one_shot(serve: fn(std::net::TcpStream)) -> TransportUrl {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            serve(s);
        }
    });
    format!("tls://{addr}").parse().expect("url")
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .verify_peer(false)
        .handshake_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("config")
}

fn connect_error(url: &TransportUrl) -> ConnectError {
    let started = Instant::now();
    let e = match client::connect(url, &config()) {
        Ok(_) => panic!("the handshake with a non-TLS peer succeeded"),
        Err(e) => e,
    };
    assert!(started.elapsed() < Duration::from_secs(10), "not bounded");
    e
}

#[test]
fn a_plaintext_peer_names_the_queue_reason_and_the_hint_once() {
    let url = one_shot(|mut s| {
        let _ = s.write_all(b"220 mail.example ESMTP ready\r\n");
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
    });
    let e = connect_error(&url);
    let h = e.handshake_error().expect("a handshake error");
    let reason = h
        .reasons()
        .first()
        .map(|r| r.to_string())
        .expect("a queue reason");
    let hint = h.hint().expect("a hint").to_string();
    let text = chain(&e);
    once(&text, &reason);
    once(&text, &hint);
    // The whole story in one string: the reason and the hint, once each.
    let whole = format!("{h:#}");
    once(&whole, &reason);
    once(&whole, &hint);
    assert_eq!(h.hint().map(ToString::to_string), Some(hint));
}

#[test]
fn a_reset_names_the_io_error_once() {
    let url = one_shot(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let _ =
            nix::sys::socket::setsockopt(&s.as_fd(), nix::sys::socket::sockopt::Linger, &linger);
    });
    let e = connect_error(&url);
    let text = chain(&e);
    let io = match &e {
        ConnectError::Handshake { source, .. } => source.io_error().map(ToString::to_string),
        ConnectError::ResetAfterAccept { source, .. } => Some(source.to_string()),
        other => panic!("unexpected {other:?}"),
    }
    .expect("an I/O error");
    assert!(io.contains("reset"), "{io}");
    once(&text, &io);
}

#[test]
fn an_openssl_refusal_names_the_error_stack_once() {
    let e = ClientConfig::builder()
        .ciphers("NO-SUCH-CIPHER")
        .build()
        .expect_err("a cipher list without a cipher is refused");
    let stack = match &e {
        ConfigError::Ciphers { source, .. } => source.to_string(),
        other => panic!("unexpected {other:?}"),
    };
    let text = chain(&e);
    once(&text, "selects no usable cipher");
    if !stack.is_empty() {
        once(&text, &stack);
    }
}

#[test]
fn an_unreadable_certificate_names_the_io_error_once() {
    let e = ClientConfig::builder()
        .certificate_files(
            "/nonexistent/tlshake/client.pem",
            "/nonexistent/tlshake/client.key",
        )
        .build()
        .expect_err("a missing file is refused");
    let text = chain(&e);
    once(&text, "/nonexistent/tlshake/client.pem");
    once(&text, "No such file or directory");
}

/// The entries of OpenSSL's queue for one failed call, as the `openssl` crate drains them.
fn openssl_reasons(stack: &openssl::error::ErrorStack) -> Vec<(u64, String)> {
    stack
        .errors()
        .iter()
        .map(|e| {
            // `c_ulong`: u64 here, u32 on some targets.
            #[allow(clippy::unnecessary_cast)]
            let code = e.code() as u64;
            (
                code,
                e.reason().map_or_else(|| e.to_string(), str::to_string),
            )
        })
        .collect()
}

fn ours(queue: &tlshake::ErrorQueue) -> Vec<(u64, String)> {
    queue
        .entries()
        .iter()
        .map(|e| (e.code, e.reason_or_text().to_string()))
        .collect()
}

/// A configuration error carries OpenSSL's queue in the crate's own form, entry for entry:
/// what OpenSSL put there, nothing added and nothing lost, on the client and the server side.
#[test]
fn a_config_error_carries_exactly_the_openssl_queue() {
    let mut ctx =
        openssl::ssl::SslContextBuilder::new(openssl::ssl::SslMethod::tls_client()).unwrap();
    let expected = openssl_reasons(&ctx.set_cipher_list("NO-SUCH-CIPHER").unwrap_err());
    assert!(!expected.is_empty());
    let e = ClientConfig::builder()
        .ciphers("NO-SUCH-CIPHER")
        .build()
        .expect_err("an unknown cipher is refused");
    let ConfigError::Ciphers { source, .. } = &e else {
        panic!("unexpected {e:?}");
    };
    assert_eq!(ours(source), expected);
    let text = chain(&e);
    once(&text, &source.to_string());

    let bad = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    let expected = openssl_reasons(&openssl::x509::X509::stack_from_pem(bad).unwrap_err());
    assert!(!expected.is_empty());
    let path = std::env::temp_dir().join(format!("tlshake-bad-ca-{}.pem", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let e = tlshake::server::ServerConfig::builder()
        .certificate_files(
            crate::common::cert("server.pem"),
            crate::common::cert("server.key"),
        )
        .client_auth(tlshake::server::ClientAuth::Required {
            ca_file: path.clone(),
        })
        .build()
        .map(|c| c.context().clone())
        .expect_err("a broken PEM block is no CA certificate");
    let _ = std::fs::remove_file(&path);
    let tlshake::server::ServerConfigError::ClientCa {
        source: Some(source),
        ..
    } = &e
    else {
        panic!("unexpected {e:?}");
    };
    assert_eq!(ours(source), expected);
}

/// A key OpenSSL cannot read: the message names the file and what was expected, the queue
/// comes once, from `source()`.
#[test]
fn an_unreadable_key_names_the_openssl_queue_once() {
    let path = std::env::temp_dir().join(format!("tlshake-bad-key-{}.pem", std::process::id()));
    std::fs::write(
        &path,
        b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let e = tlshake::certstore::CertifiedKey::from_pem_files(
        &crate::common::cert("server.pem"),
        &path,
        None,
    )
    .expect_err("a broken key is refused");
    let _ = std::fs::remove_file(&path);
    let tlshake::certstore::CertStoreError::KeyParse { source, .. } = &e else {
        panic!("unexpected {e:?}");
    };
    assert!(!source.is_empty(), "{e:?}");
    let text = chain(&e);
    once(&text, "cannot read a private key");
    once(&text, &source.to_string());
}
