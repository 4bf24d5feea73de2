//! `openssl s_client -ech_config_list` against tlshake's listener: what s_client prints and
//! what the server's event says agree, for an accepted ECH (whose inner name picks the
//! certificate), a stale configuration (the client gets the retry configurations), GREASE,
//! a key kept out of the retry set, and a server without ECH.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tlshake::ech::{EchKeys, EchStatus};
use tlshake::server::{CertificateSource, ServerConfig, ServerError, TlsListener};
use tlshake::{HandshakeError, Hint, SessionInfo};

use super::{ech_key, s_client, SClientEch, PUBLIC_NAME};
use crate::common;

/// A listener on 127.0.0.1 whose default certificate is the public name's and whose SNI
/// certificate for `localhost` is `certs/server.pem`, with `keys`.
fn listener(keys: EchKeys) -> TlsListener {
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(
            common::cert("other-host.pem"),
            common::cert("other-host.key"),
        )
        .sni_certificate(
            "localhost",
            CertificateSource::pem_files(common::cert("server.pem"), common::cert("server.key")),
        )
        .ech_keys(keys);
    TlsListener::bind(&crate::common::built(&config)).expect("listener")
}

/// One s_client run with `args` against `listener`, which accepts it meanwhile: what
/// s_client saw, its output, and the server's end of the connection.
fn exchange(
    mut listener: TlsListener,
    args: &[&str],
) -> (SClientEch, String, Result<SessionInfo, HandshakeError>) {
    let addr: SocketAddr = listener.local_addr();
    let server = std::thread::spawn(move || {
        match listener.accept_one(Instant::now() + Duration::from_secs(20)) {
            Ok(accepted) => Ok(accepted.session),
            Err(ServerError::Handshake { source, .. }) => Err(source),
            Err(other) => panic!("no connection ended: {other}"),
        }
    });
    let (seen, text) = s_client(addr, args);
    let end = server.join().expect("the accepting thread");
    (seen, text, end)
}

#[test]
fn ech_server_accepts_s_client_and_picks_the_certificate_by_the_inner_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    let b64 = key.list.to_base64();
    let args = ["-ech_config_list", &b64, "-verify_return_error"];
    let (seen, text, end) = exchange(listener(EchKeys::new().file(&key.path)), &args);
    assert_eq!(
        seen,
        SClientEch {
            status: Some("success: 1".into()),
            inner: Some("localhost".into()),
            outer: Some(PUBLIC_NAME.into()),
            done: true,
            // The SNI certificate: chosen by the decrypted inner name, not the outer one.
            subject: Some("CN=localhost".into()),
            ..SClientEch::default()
        },
        "{text}"
    );
    let session = end.expect("established");
    assert_eq!(
        (session.ech.status, session.ech.code),
        (EchStatus::Accepted, 1)
    );
    assert_eq!(session.ech.inner_name.as_deref(), Some("localhost"));
    assert_eq!(session.ech.outer_name.as_deref(), Some(PUBLIC_NAME));
    assert_eq!(session.sni.as_deref(), Some("localhost"));

    // The same from a key directory.
    let (seen, text, end) = exchange(listener(EchKeys::new().dir(dir.path())), &args);
    assert_eq!(seen.status.as_deref(), Some("success: 1"), "{text}");
    assert_eq!(end.map(|s| s.ech.status).ok(), Some(EchStatus::Accepted));
}

#[test]
fn ech_server_with_another_key_sends_its_retry_configs_to_a_stale_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stale, current) = (ech_key(dir.path(), "stale"), ech_key(dir.path(), "current"));
    let (seen, text, end) = exchange(
        listener(EchKeys::new().file(&current.path)),
        &["-ech_config_list", &stale.list.to_base64()],
    );
    assert_eq!(
        seen.status.as_deref(),
        Some("failed+retry-configs: -105"),
        "{text}"
    );
    assert_eq!(seen.retry_count, Some(1), "{text}");
    assert_eq!(seen.retry_public_names, [PUBLIC_NAME], "{text}");
    // The configuration s_client printed is the current key's: its config id.
    let id = format!(
        "[fe0d,{:02x},{PUBLIC_NAME},",
        current.list.configs()[0].config_id
    );
    assert!(text.contains(&id), "{id} in {text}");
    let e = end.expect_err("the client stops with ech_required");
    let ech = e.ech().expect("ECH facts on the server");
    // The server cannot tell a configuration it lacks the key of from GREASE.
    assert_eq!((ech.status, ech.code), (EchStatus::Grease, 2));
    assert_eq!(e.hint(), Some(&Hint::EchRequiredByClient));
}

#[test]
fn ech_server_keys_outside_the_retry_set_decrypt_but_are_not_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, current) = (ech_key(dir.path(), "old"), ech_key(dir.path(), "current"));
    let stale = ech_key(dir.path(), "stale");
    let keys = || EchKeys::new().file(&current.path).file_no_retry(&old.path);
    // A client holding the old key's configuration is still served.
    let (seen, text, end) = exchange(
        listener(keys()),
        &["-ech_config_list", &old.list.to_base64()],
    );
    assert_eq!(seen.status.as_deref(), Some("success: 1"), "{text}");
    assert_eq!(end.map(|s| s.ech.status).ok(), Some(EchStatus::Accepted));
    // A stale client gets the retry set only: the current key's configuration.
    let (seen, text, _) = exchange(
        listener(keys()),
        &["-ech_config_list", &stale.list.to_base64()],
    );
    assert_eq!(
        seen.status.as_deref(),
        Some("failed+retry-configs: -105"),
        "{text}"
    );
    assert_eq!(seen.retry_count, Some(1), "{text}");
    let id = format!("[fe0d,{:02x},", current.list.configs()[0].config_id);
    assert!(text.contains(&id), "{id} in {text}");
    // GREASE completes, with the name in clear, as without ECH.
    let (seen, text, end) = exchange(listener(keys()), &["-ech_grease"]);
    assert_eq!(
        seen.status.as_deref(),
        Some("GREASE+retry-configs: 3"),
        "{text}"
    );
    let session = end.expect("GREASE completes");
    assert_eq!(
        (session.ech.status, session.ech.code),
        (EchStatus::Grease, 2)
    );
    assert_eq!(session.ech.inner_name, None);
    assert_eq!(
        session.sni.as_deref(),
        Some("localhost"),
        "GREASE leaves SNI in clear"
    );
}

#[test]
fn ech_server_that_cannot_decrypt_sends_no_retry_configs_from_a_no_retry_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ours, theirs) = (ech_key(dir.path(), "ours"), ech_key(dir.path(), "theirs"));
    let (seen, text, end) = exchange(
        listener(EchKeys::new().file_no_retry(&theirs.path)),
        &["-ech_config_list", &ours.list.to_base64()],
    );
    assert_eq!(
        seen.status.as_deref(),
        Some("tried but failed: 0"),
        "{text}"
    );
    assert_eq!(seen.retry_count, None, "{text}");
    let e = end.expect_err("the client stops with ech_required");
    assert_eq!(
        e.ech().map(|i| (i.status, i.code)),
        Some((EchStatus::Grease, 2))
    );
    assert_eq!(e.hint(), Some(&Hint::EchRequiredByClient));
}

#[test]
fn ech_server_without_ech_keys_is_refused_by_an_ech_client() {
    let (seen, text, end) = exchange(
        listener(EchKeys::new()),
        &["-ech_config_list", super::LIST_B64],
    );
    assert_eq!(
        seen.status.as_deref(),
        Some("tried but failed: 0"),
        "{text}"
    );
    assert_eq!(seen.subject.as_deref(), Some("CN=other.example"), "{text}");
    let e = end.expect_err("the client stops with ech_required");
    assert!(e.ech().is_none(), "{:?}", e.ech());
    assert_eq!(e.hint(), Some(&Hint::EchRequiredByClient));
}
