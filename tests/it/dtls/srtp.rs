//! DTLS-SRTP: the `use_srtp` profile negotiated with `openssl s_server -use_srtp` and with
//! the [`DtlsListener`], and [`SrtpKeys`] equal to the keying material OpenSSL's own program
//! exports (`-keymatexport EXTRACTOR-dtls_srtp`) and to the listener's.

use std::thread;
use std::time::{Duration, Instant};

use tlshake::client::ClientConfig;
use tlshake::dtls::{self, DtlsError, DtlsListener, DtlsOptions, SrtpKeys};
use tlshake::harness::OpensslServer;
use tlshake::server::ServerEvent;
use tlshake::Role;

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(crate::common::cert("ca.pem"))
        .build()
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn srtp_keys_are_the_keying_material_s_server_exports() {
    let server = OpensslServer::builder()
        .cert(crate::common::cert("server.pem"))
        .key(crate::common::cert("server.key"))
        .arg("-dtls1_2")
        .arg("-listen")
        .arg("-use_srtp")
        .arg("SRTP_AES128_CM_SHA1_80")
        .arg("-keymatexport")
        .arg("EXTRACTOR-dtls_srtp")
        .arg("-keymatexportlen")
        .arg("60")
        .spawn()
        .unwrap();
    let url = format!("dtls://127.0.0.1:{}", server.port())
        .parse()
        .unwrap();
    let options = DtlsOptions::new().srtp_profiles("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
    let conn = dtls::connect(&url, &config(), &options).unwrap();
    let keys = SrtpKeys::export(conn.stream.ssl()).unwrap();
    assert_eq!(keys.profile(), "SRTP_AES128_CM_SHA1_80");
    assert_eq!(keys.profile_id(), 1);
    assert_eq!(
        (keys.client_key().len(), keys.client_salt().len()),
        (16, 14)
    );
    let ours = [
        keys.client_key(),
        keys.server_key(),
        keys.client_salt(),
        keys.server_salt(),
    ]
    .concat();
    assert!(
        server.wait_for_output("Keying material: ", Duration::from_secs(10)),
        "{}",
        server.output()
    );
    let output = server.output();
    let theirs = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Keying material: "))
        .unwrap();
    assert_eq!(hex(&ours), theirs.trim());
    assert_eq!(
        keys.local(Role::Client),
        (keys.client_key(), keys.client_salt())
    );
    assert_eq!(
        keys.remote(Role::Client),
        (keys.server_key(), keys.server_salt())
    );
    // The keys stay out of Debug.
    let debug = format!("{keys:?}");
    assert!(!debug.contains(&hex(keys.client_key())), "{debug}");
}

#[test]
fn both_ends_of_tlshake_derive_the_same_srtp_keys() {
    let server_config = super::loopback_server().build().unwrap();
    let server_options =
        DtlsOptions::new().srtp_profiles("SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM");
    let mut listener = DtlsListener::bind(&server_config, server_options).unwrap();
    let addr = listener.local_addr();
    let server = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        match listener.next_event(Some(deadline)).unwrap() {
            Some(ServerEvent::Established(a)) => SrtpKeys::export(a.stream.ssl()).unwrap(),
            other => panic!("{other:?}"),
        }
    });
    let url = format!("dtls://127.0.0.1:{}", addr.port()).parse().unwrap();
    let options = DtlsOptions::new().srtp_profiles("SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM");
    let conn = dtls::connect(&url, &config(), &options).unwrap();
    let ours = SrtpKeys::export(conn.stream.ssl()).unwrap();
    let theirs = server.join().unwrap();
    // The server's preference wins.
    assert_eq!(ours.profile(), "SRTP_AEAD_AES_256_GCM");
    assert_eq!(
        (ours.client_key().len(), ours.client_salt().len()),
        (32, 12)
    );
    assert!(ours == theirs, "the two ends derived different keys");
}

#[test]
fn srtp_keys_without_srtp_are_refused() {
    let server = OpensslServer::builder()
        .cert(crate::common::cert("server.pem"))
        .key(crate::common::cert("server.key"))
        .arg("-dtls1_2")
        .arg("-listen")
        .spawn()
        .unwrap();
    let url = format!("dtls://127.0.0.1:{}", server.port())
        .parse()
        .unwrap();
    let options = DtlsOptions::new().srtp_profiles("SRTP_AES128_CM_SHA1_80");
    let conn = dtls::connect(&url, &config(), &options).unwrap();
    let err = SrtpKeys::export(conn.stream.ssl()).unwrap_err();
    assert!(matches!(err, DtlsError::SrtpNotNegotiated), "{err}");
    assert!(
        err.to_string().contains("DtlsOptions::srtp_profiles"),
        "{err}"
    );
}
