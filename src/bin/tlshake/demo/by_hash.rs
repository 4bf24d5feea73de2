//! A server certificate chosen from a store directory by its SHA-256 fingerprint.

use std::path::PathBuf;
use std::thread;
use std::time::Instant;

use crate::bundled;
use openssl::x509::X509;
use tlshake::client;
use tlshake::fingerprint::{DigestKind, Fingerprint};
use tlshake::server::{ServerConfig, TlsListener};

use super::setup::{client_config, url, SectionResult, PEER_TIMEOUT};

/// A temporary directory removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn by_hash() -> SectionResult {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "tlshake-demo-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )));
    std::fs::create_dir_all(&dir.0)?;
    let files = [
        ("server.pem", bundled::SERVER_PEM),
        ("server.key", bundled::SERVER_KEY),
        ("other-host.pem", bundled::OTHER_HOST_PEM),
        ("other-host.key", bundled::OTHER_HOST_KEY),
    ];
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text)?;
    }
    let wanted = X509::from_pem(bundled::SERVER_PEM.as_bytes())?;
    let hash = Fingerprint::of(&wanted, DigestKind::Sha256)?;
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .store_certificate_by_hash(&dir.0, hash.to_string())
        .build()?;
    let mut listener = TlsListener::bind(&config)?;
    let addr = listener.local_addr();
    let server = thread::spawn(move || listener.accept_one(Instant::now() + PEER_TIMEOUT).is_ok());
    let conn = client::connect(&url(addr)?, &client_config()?)?;
    let got = conn
        .session()
        .peer_certificate
        .and_then(|c| Fingerprint::of(&c, DigestKind::Sha256).ok());
    let accepted = server.join().unwrap_or(false);
    let text = format!(
        "store of 2 certificates, picked by SHA-256 {}\nthe client received {}",
        hash,
        got.as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no certificate".into())
    );
    if accepted && got.as_ref() == Some(&hash) {
        Ok(text)
    } else {
        Err(text.into())
    }
}
