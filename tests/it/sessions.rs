//! Sessions across connections and programs: `--sess-out` / `--sess-in` files that
//! `openssl s_client -sess_in` / `-sess_out` read and write, `--reconnect N`, and the
//! library calls behind them, against `openssl s_server`.

use crate::common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tlshake::client::{self, ClientConfig};
use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
use tlshake::session_file;

use common::cli::{json_of, run, s_server, url_of};
use tlshake::ProtocolVersion;

const LIMIT: Duration = Duration::from_secs(30);
const GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn server(version: ProtocolVersion) -> OpensslServer {
    s_server(version, ServerMode::Www)
}

fn ca() -> PathBuf {
    common::cert("ca.pem")
}

/// s_client on `server` with extra arguments; sends a GET, so that it reads the server's
/// answer (and a TLS 1.3 ticket before it) until the server closes.
fn s_client(server: &OpensslServer, args: &[&str]) -> String {
    let mut b = OpensslClient::builder(server.addr())
        .ca_file(ca())
        .verify_return_error()
        .send(GET.to_vec())
        .keep_stdin_open();
    for a in args {
        b = b.arg(*a);
    }
    let client = b.spawn().expect("spawn s_client");
    assert!(
        client.wait_for_output("HTTP/1.0 200", Duration::from_secs(10)),
        "{}",
        client.output()
    );
    client.wait(LIMIT).expect("s_client ends").output()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn tlshake_saves_and_s_client_resumes(version: ProtocolVersion) {
    let server = server(version);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    let out = run(&[
        "connect",
        &url_of(&server),
        "--cafile",
        path_str(&ca()),
        "--sess-out",
        path_str(&file),
        "--json",
    ]);
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done", "{j}");
    assert_eq!(j["session_saved"], true, "{j}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("file").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let text = s_client(&server, &["-sess_in", path_str(&file)]);
    assert!(text.contains("Reused, "), "{text}");
    assert!(!text.contains("New, "), "{text}");
}

fn s_client_saves_and_tlshake_resumes(version: ProtocolVersion) {
    let server = server(version);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    let text = s_client(&server, &["-sess_out", path_str(&file)]);
    assert!(text.contains("New, "), "{text}");
    let out = run(&[
        "connect",
        &url_of(&server),
        "--cafile",
        path_str(&ca()),
        "--sess-in",
        path_str(&file),
        "--json",
    ]);
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done", "{j}");
    assert_eq!(j["resumed"], true, "{j}");
    assert_eq!(j["protocol"], version.openssl_name(), "{j}");
}

#[test]
fn tls13_session_from_tlshake_resumes_in_s_client() {
    tlshake_saves_and_s_client_resumes(ProtocolVersion::Tls1_3);
}

#[test]
fn tls12_session_from_tlshake_resumes_in_s_client() {
    tlshake_saves_and_s_client_resumes(ProtocolVersion::Tls1_2);
}

#[test]
fn tls13_session_from_s_client_resumes_in_tlshake() {
    s_client_saves_and_tlshake_resumes(ProtocolVersion::Tls1_3);
}

#[test]
fn tls12_session_from_s_client_resumes_in_tlshake() {
    s_client_saves_and_tlshake_resumes(ProtocolVersion::Tls1_2);
}

#[test]
fn a_session_of_another_server_is_offered_and_not_resumed() {
    let (first, second) = (
        server(ProtocolVersion::Tls1_3),
        server(ProtocolVersion::Tls1_3),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    s_client(&first, &["-sess_out", path_str(&file)]);
    let out = run(&[
        "connect",
        &url_of(&second),
        "--cafile",
        path_str(&ca()),
        "--sess-in",
        path_str(&file),
        "--json",
    ]);
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done", "{j}");
    assert_eq!(j["resumed"], false, "{j}");
}

#[test]
fn reconnect_reports_resumed_for_each_attempt() {
    for version in [ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2] {
        let server = server(version);
        let out = run(&[
            "connect",
            &url_of(&server),
            "--cafile",
            path_str(&ca()),
            "--reconnect",
            "3",
            "--json",
        ]);
        let j = json_of(&out);
        assert_eq!(j["outcome"], "done", "{j}");
        assert_eq!(j["resumed"], false, "{j}");
        let attempts = j["reconnects"].as_array().expect("reconnects");
        assert_eq!(attempts.len(), 3, "{j}");
        for (i, a) in attempts.iter().enumerate() {
            assert_eq!(a["attempt"], i + 1, "{j}");
            assert_eq!(a["resumed"], true, "{version:?}: {j}");
            assert_eq!(a["protocol"], version.openssl_name(), "{j}");
            assert!(a["error"].is_null(), "{j}");
        }
        let text = run(&[
            "connect",
            &url_of(&server),
            "--cafile",
            path_str(&ca()),
            "--reconnect",
            "2",
        ]);
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("  reconnect 1: resumed, "), "{text}");
        assert!(text.contains("  reconnect 2: resumed, "), "{text}");
    }
}

#[test]
fn reconnect_to_a_server_without_resumption_reports_new_sessions() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .mode(ServerMode::Www)
        .arg("-num_tickets")
        .arg("0")
        .spawn()
        .expect("spawn openssl s_server");
    let out = run(&[
        "connect",
        &url_of(&server),
        "--cafile",
        path_str(&ca()),
        "--reconnect",
        "1",
        "--json",
    ]);
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done", "{j}");
    // No ticket came within the wait, and none was offered.
    assert_eq!(j["session_saved"], false, "{j}");
    let attempts = j["reconnects"].as_array().expect("reconnects");
    assert!(
        attempts
            .iter()
            .all(|a| a["resumed"] == false && a["error"].is_null()),
        "{j}"
    );
}

#[test]
fn a_file_that_is_not_a_session_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    std::fs::write(
        &file,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let out = run(&[
        "connect",
        "tls://127.0.0.1:9",
        "--sess-in",
        path_str(&file),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let j = json_of(&out);
    assert!(
        j["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("BEGIN SSL SESSION PARAMETERS")),
        "{j}"
    );
}

#[test]
fn library_saves_a_tls13_session_to_a_file_and_another_config_resumes_it() {
    let server = server(ProtocolVersion::Tls1_3);
    let config = || {
        ClientConfig::builder()
            .ca_file(ca())
            .resume_sessions(true)
            .build()
            .expect("config")
    };
    let first = config();
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = client::upgrade(
        tcp,
        "localhost",
        &first,
        &tlshake::client::ConnectOptions::new().deadline(deadline),
    )
    .expect("handshake")
    .stream;
    assert!(
        first.saved_session("localhost").is_none(),
        "no ticket read yet"
    );
    let session = client::wait_for_session(&mut stream, deadline)
        .expect("wait")
        .expect("a TLS 1.3 ticket");
    assert!(
        first.saved_session("localhost").is_some(),
        "the config kept the ticket"
    );
    stream.shutdown().expect("close_notify");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    session_file::write_session(&file, &session).expect("write");
    let read = session_file::read_session(&file).expect("read");
    assert_eq!(read.id(), session.id());

    let second = config();
    second.import_session("localhost", &read).expect("import");
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    let stream = client::upgrade(
        tcp,
        "localhost",
        &second,
        &tlshake::client::ConnectOptions::new().deadline(deadline),
    )
    .expect("handshake")
    .stream;
    assert!(stream.session().resumed);
}

/// A session belongs to the context whose connection made it: `save_session` refuses one
/// from another configuration, and `import_session` keeps a copy decoded from the session's
/// DER form, never the other context's object itself; that copy resumes.
#[test]
fn another_contexts_session_is_refused_or_copied() {
    let server = server(ProtocolVersion::Tls1_3);
    let config = || {
        ClientConfig::builder()
            .ca_file(ca())
            .resume_sessions(true)
            .build()
            .expect("config")
    };
    let (first, second) = (config(), config());
    let deadline = Instant::now() + Duration::from_secs(10);
    let connect = |config: &ClientConfig| {
        let tcp = TcpStream::connect(server.addr()).expect("connect");
        client::upgrade(
            tcp,
            "localhost",
            config,
            &tlshake::client::ConnectOptions::new().deadline(deadline),
        )
        .expect("handshake")
        .stream
    };
    let mut stream = connect(&first);
    let session = client::wait_for_session(&mut stream, deadline)
        .expect("wait")
        .expect("a TLS 1.3 ticket");
    assert!(
        first.save_session("localhost", stream.ssl()),
        "its own context"
    );
    assert!(
        !second.save_session("localhost", stream.ssl()),
        "another context's connection"
    );
    assert!(second.saved_session("localhost").is_none());
    stream.shutdown().expect("close_notify");

    second
        .import_session("localhost", &session)
        .expect("import");
    let kept = second.saved_session("localhost").expect("imported");
    assert_eq!(kept.id(), session.id());
    assert_ne!(
        foreign_types::ForeignType::as_ptr(&kept),
        foreign_types::ForeignType::as_ptr(&session),
        "a decoded copy, not the first context's object"
    );
    assert!(connect(&second).session().resumed);
}
