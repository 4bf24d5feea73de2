//! tlshake's client against `openssl s_server -ech_key`, with `openssl s_client` run against
//! the same server as the reference: the same verdict, the same inner and outer names, the
//! same retry configurations, for an accepted ECH, a stale configuration, GREASE, a server
//! that cannot decrypt and sends no retry configuration, and a server without ECH. The
//! server's `-www` page says what s_server saw.

use std::io::{Read, Write};
use std::time::Duration;

use tlshake::client::{self, ClientConfig, ConnectError, TlsConnection};
use tlshake::ech::{EchConfigList, EchInfo, EchStatus};
use tlshake::{ErrorKind, Hint};

use super::{ech_key, ech_key_arg, s_client, s_server, SClientEch, PUBLIC_NAME};
use crate::common;

/// A client for `localhost` trusting the test CA, with `ech` (the list as given).
fn config(ech: Option<&[u8]>, grease: bool) -> ClientConfig {
    let mut b = ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .peer_name("localhost")
        .ech_grease(grease);
    if let Some(list) = ech {
        b = b.ech_config_list(list);
    }
    b.build().expect("client config")
}

fn connect(port: u16, config: &ClientConfig) -> Result<TlsConnection, ConnectError> {
    let url = format!("tls://127.0.0.1:{port}").parse().expect("URL");
    client::connect(&url, config)
}

/// `GET /` on the connection: s_server's `-www` page, whose ECH line says what it saw.
fn page(mut conn: TlsConnection) -> String {
    let _ = conn
        .stream
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)));
    conn.stream
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut page = Vec::new();
    let _ = conn.stream.read_to_end(&mut page);
    String::from_utf8_lossy(&page).into_owned()
}

/// The ECH line of s_server's page (after `<h1>OpenSSL with ECH</h1>`, `<h2>`).
fn page_ech_line(page: &str) -> String {
    page.lines()
        .skip_while(|l| !l.contains("OpenSSL with ECH"))
        .nth(2)
        .unwrap_or_default()
        .to_string()
}

fn names(info: &EchInfo) -> (Option<&str>, Option<&str>) {
    (info.inner_name.as_deref(), info.outer_name.as_deref())
}

#[test]
fn ech_client_is_accepted_by_s_server_with_the_names_s_client_sees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    let server = s_server("localhost", "server", &ech_key_arg(&key));
    // The list as the PEM file, as base64 text and as wire bytes: the same handshake.
    let pem = std::fs::read(&key.path).expect("key file");
    for given in [
        pem,
        key.list.to_base64().into_bytes(),
        key.list.as_bytes().to_vec(),
    ] {
        let conn = connect(server.port(), &config(Some(&given), false)).expect("ECH handshake");
        let session = conn.session();
        assert_eq!(session.ech.status, EchStatus::Accepted);
        assert_eq!(session.ech.code, 1);
        assert_eq!(names(&session.ech), (Some("localhost"), Some(PUBLIC_NAME)));
        assert_eq!(session.ech.retry_configs, None);
        // The certificate is the inner name's: s_server chose it by the decrypted SNI.
        let cert = session.peer_certificate.as_ref().expect("certificate");
        assert_eq!(common::subject_cn(cert), "localhost");
        assert_eq!(
            page_ech_line(&page(conn)),
            format!("ECH success: outer sni: {PUBLIC_NAME}, inner sni: localhost")
        );
    }
    let b64 = key.list.to_base64();
    let (seen, text) = s_client(server.addr(), &["-ech_config_list", &b64]);
    assert_eq!(
        seen,
        SClientEch {
            status: Some("success: 1".into()),
            inner: Some("localhost".into()),
            outer: Some(PUBLIC_NAME.into()),
            done: true,
            subject: Some("CN=localhost".into()),
            ..SClientEch::default()
        },
        "{text}"
    );
}

#[test]
fn ech_client_with_a_stale_config_fails_with_the_retry_configs_and_succeeds_with_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stale, current) = (ech_key(dir.path(), "stale"), ech_key(dir.path(), "current"));
    let server = s_server("localhost", "server", &ech_key_arg(&current));
    let err = connect(server.port(), &config(Some(stale.list.as_bytes()), false))
        .expect_err("a rejected ECH never completes");
    let e = err.handshake_error().expect("a handshake error");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert_eq!(e.reasons(), ["ech required"]);
    let ech = e.ech().expect("ECH facts");
    assert_eq!((ech.status, ech.code), (EchStatus::Rejected, -105));
    assert_eq!(names(ech), (Some("localhost"), Some(PUBLIC_NAME)));
    let retry = ech
        .retry_config_list()
        .expect("retry configs")
        .expect("usable");
    assert_eq!(retry, current.list, "the server's current configuration");
    // The outer handshake was with the public name, and its certificate verified.
    let cert = e
        .peer_certificate()
        .expect("the outer server's certificate");
    assert_eq!(common::subject_cn(&cert.to_owned()), PUBLIC_NAME);
    assert_eq!(
        e.hint(),
        Some(&Hint::EchRejected {
            outer_name: Some(PUBLIC_NAME.into()),
            retry_configs: Some(current.list.clone()),
            outer_verified: true,
        })
    );
    let hint = e.hint().map(ToString::to_string).unwrap_or_default();
    assert!(
        hint.contains(&format!(
            "retry with them (ClientConfigBuilder::ech_config_list {})",
            current.list.to_base64()
        )),
        "{hint}"
    );

    let (seen, text) = s_client(
        server.addr(),
        &["-ech_config_list", &stale.list.to_base64()],
    );
    assert_eq!(
        seen.status.as_deref(),
        Some("failed+retry-configs: -105"),
        "{text}"
    );
    assert_eq!(seen.retry_count, Some(retry.configs().len()), "{text}");
    assert_eq!(seen.retry_public_names, retry.public_names(), "{text}");
    assert!(!seen.done, "{text}");

    // What the hint advises: the retry configurations work.
    let conn = connect(server.port(), &config(Some(retry.as_bytes()), false)).expect("retry");
    let session = conn.session();
    assert_eq!(session.ech.status, EchStatus::Accepted);
    assert_eq!(names(&session.ech), (Some("localhost"), Some(PUBLIC_NAME)));
}

#[test]
fn ech_grease_to_servers_with_and_without_ech_matches_s_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    // A server with ECH answers GREASE with its configuration.
    let server = s_server("localhost", "server", &ech_key_arg(&key));
    let conn = connect(server.port(), &config(None, true)).expect("GREASE handshake");
    let ech = conn.session().ech;
    assert_eq!((ech.status, ech.code), (EchStatus::Grease, 3));
    assert_eq!(
        ech.retry_config_list()
            .map(|r| r.map(|l| l.configs().to_vec())),
        Some(Ok(key.list.configs().to_vec()))
    );
    assert_eq!(
        page_ech_line(&page(conn)),
        "ECH attempt we interpret as GREASE"
    );
    let (seen, text) = s_client(server.addr(), &["-ech_grease"]);
    assert_eq!(
        seen.status.as_deref(),
        Some("GREASE+retry-configs: 3"),
        "{text}"
    );
    assert!(seen.done, "{text}");
    drop(server);

    // A server without ECH ignores it.
    let plain = s_server("localhost", "server", &[]);
    let conn = connect(plain.port(), &config(None, true)).expect("GREASE handshake");
    let ech = conn.session().ech;
    assert_eq!(
        (ech.status, ech.code, ech.retry_configs.as_ref()),
        (EchStatus::Grease, 2, None)
    );
    assert_eq!(page_ech_line(&page(conn)), "ECH not configured");
    let (seen, text) = s_client(plain.addr(), &["-ech_grease"]);
    assert_eq!(seen.status.as_deref(), Some("GREASE: 2"), "{text}");
}

/// The failure of an ECH the server does not accept and answers with no retry
/// configuration: status `Failed` (0), the hint without retry configurations, and s_client's
/// `tried but failed: 0`.
fn assert_failed_without_retry_configs(
    port: u16,
    addr: std::net::SocketAddr,
    list: &EchConfigList,
) {
    let err = connect(port, &config(Some(list.as_bytes()), false)).expect_err("no fallback");
    let e = err.handshake_error().expect("a handshake error");
    assert_eq!(e.reasons(), ["ech required"]);
    let ech = e.ech().expect("ECH facts");
    assert_eq!(
        (ech.status, ech.code, ech.retry_configs.as_ref()),
        (EchStatus::Failed, 0, None)
    );
    assert_eq!(names(ech), (Some("localhost"), Some(PUBLIC_NAME)));
    assert_eq!(
        e.hint(),
        Some(&Hint::EchRejected {
            outer_name: Some(PUBLIC_NAME.into()),
            retry_configs: None,
            outer_verified: true,
        })
    );
    let (seen, text) = s_client(addr, &["-ech_config_list", &list.to_base64()]);
    assert_eq!(
        seen.status.as_deref(),
        Some("tried but failed: 0"),
        "{text}"
    );
    assert_eq!(seen.retry_count, None, "{text}");
    assert!(!seen.done, "{text}");
}

#[test]
fn ech_client_whose_config_the_server_cannot_decrypt_gets_no_retry_configs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = ech_key(dir.path(), "ours");
    let keys = dir.path().join("noretry");
    std::fs::create_dir(&keys).expect("mkdir");
    let _theirs = ech_key(&keys, "theirs");
    // The server decrypts with its key but sends no configuration back (-ech_noretry_dir).
    let server = s_server(
        "localhost",
        "server",
        &["-ech_noretry_dir".into(), keys.into_os_string()],
    );
    assert_failed_without_retry_configs(server.port(), server.addr(), &ours.list);
}

#[test]
fn ech_client_against_a_server_without_ech_fails_rather_than_sending_the_name_in_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = ech_key(dir.path(), "ours");
    let server = s_server("localhost", "server", &[]);
    assert_failed_without_retry_configs(server.port(), server.addr(), &ours.list);
}

#[test]
fn ech_rejection_never_lets_the_outer_names_certificate_vouch_for_the_inner_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ours, current) = (ech_key(dir.path(), "ours"), ech_key(dir.path(), "current"));
    // One configuration (one verification cache) for both servers.
    let config = config(Some(ours.list.as_bytes()), false);
    // A server with another key: the public name's certificate verifies for the outer name.
    let rejecting = s_server("localhost", "server", &ech_key_arg(&current));
    let err = connect(rejecting.port(), &config).expect_err("rejected");
    let e = err.handshake_error().expect("a handshake error");
    assert_eq!(e.ech().map(|i| i.code), Some(-105));
    assert_eq!(e.verify().map(|v| v.code), Some(0));
    // A server that accepts our ECH but shows the public name's certificate for the inner
    // name: the same chain, now checked against the inner name, fails.
    let accepting = tlshake::harness::OpensslServer::builder()
        .cert(common::cert("other-host.pem"))
        .key(common::cert("other-host.key"))
        .arg("-ech_key")
        .arg(&ours.path)
        .spawn()
        .expect("s_server");
    let err = connect(accepting.port(), &config).expect_err("the name does not match");
    let e = err.handshake_error().expect("a handshake error");
    assert_eq!(e.kind(), ErrorKind::CertificateVerification);
    assert_eq!(e.verify().map(|v| v.code), Some(62));
    // Accepted, but the certificate is bad: SSL_ECH_STATUS_BAD_NAME.
    assert_eq!(
        e.ech().map(|i| (i.status, i.code)),
        Some((EchStatus::Accepted, -102))
    );
    assert!(
        matches!(e.hint(), Some(Hint::NameMismatch { expected: Some(n), .. }) if n == "localhost"),
        "{:?}",
        e.hint()
    );
    assert_eq!(config.verify_cache_stats().0, 0, "no cache hit");
}
