//! `--trace` and `ClientConfigBuilder::trace`: the handshake timeline against `openssl
//! s_server`, under TLS 1.3 and 1.2, for a handshake that succeeds and ones that fail.

use crate::common;
use crate::real_servers;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tlshake::client::{self, ClientConfig};
use tlshake::harness::{OpensslServer, ServerMode};
use tlshake::trace::{Direction, TraceSink};
use tlshake::ProtocolVersion;

fn connect(server: &OpensslServer, extra: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args([
        "connect",
        &format!("tls://127.0.0.1:{}", server.port()),
        "--json",
        "--trace",
    ])
    .arg("--cafile")
    .arg(common::cert("ca.pem"))
    .args(extra);
    let out = real_servers::run_bounded(cmd, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// (direction, message, facts joined) of each traced message.
fn messages(j: &Value) -> Vec<(String, String, String)> {
    let trace = j["trace"]
        .as_array()
        .unwrap_or_else(|| panic!("no trace: {j}"));
    let mut last = 0.0;
    trace
        .iter()
        .map(|m| {
            let ms = m["ms"].as_f64().expect("ms");
            assert!(ms >= last, "times go forward: {j}");
            last = ms;
            assert!(m["size"].as_u64().is_some_and(|s| s > 0), "{m}");
            let facts: Vec<&str> = m["facts"]
                .as_array()
                .expect("facts")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (
                m["direction"].as_str().unwrap_or_default().to_string(),
                m["message"].as_str().unwrap_or_default().to_string(),
                facts.join("; "),
            )
        })
        .collect()
}

fn find<'a>(msgs: &'a [(String, String, String)], dir: &str, name: &str) -> &'a str {
    msgs.iter()
        .find(|(d, m, _)| d == dir && m == name)
        .map(|(_, _, f)| f.as_str())
        .unwrap_or_else(|| panic!("no {dir} {name} in {msgs:?}"))
}

#[test]
fn tls13_timeline_has_every_message_and_its_facts() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .mode(ServerMode::Www)
        .alpn("h2")
        .spawn()
        .expect("s_server");
    let j = connect(&server, &["--alpn", "h2", "--reconnect", "1"]);
    assert_eq!(j["outcome"], "done", "{j}");
    let msgs = messages(&j);
    let names: Vec<&str> = msgs.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(
        &names[..6],
        [
            "ClientHello",
            "ServerHello",
            "EncryptedExtensions",
            "Certificate",
            "CertificateVerify",
            "Finished"
        ],
        "{msgs:?}"
    );
    let hello = find(&msgs, "sent", "ClientHello");
    assert!(hello.contains("groups offered: x25519"), "{hello}");
    assert!(hello.contains("ALPN offered: h2"), "{hello}");
    assert!(find(&msgs, "received", "ServerHello").contains("version: TLSv1.3"));
    assert!(find(&msgs, "received", "ServerHello").contains("group chosen: "));
    assert_eq!(find(&msgs, "received", "EncryptedExtensions"), "ALPN: h2");
    assert_eq!(
        find(&msgs, "received", "Certificate"),
        "subjects: CN=localhost"
    );
    assert_eq!(
        find(&msgs, "received", "CertificateVerify"),
        "signature: ecdsa_secp256r1_sha256"
    );
    find(&msgs, "sent", "Finished");
    // Resumption is on (--reconnect), so the ticket is read before the close.
    assert!(find(&msgs, "received", "NewSessionTicket").starts_with("lifetime "));
    assert_eq!(find(&msgs, "sent", "Alert"), "warning close_notify");
}

#[test]
fn tls12_timeline_shows_the_key_exchange() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .mode(ServerMode::Www)
        .spawn()
        .expect("s_server");
    let msgs = messages(&connect(&server, &[]));
    let kx = find(&msgs, "received", "ServerKeyExchange");
    assert!(kx.starts_with("group chosen: "), "{kx}");
    assert!(kx.contains("signature: ecdsa_secp256r1_sha256"), "{kx}");
    find(&msgs, "received", "ServerHelloDone");
    find(&msgs, "sent", "ClientKeyExchange");
    find(&msgs, "sent", "ChangeCipherSpec");
}

#[test]
fn a_failed_handshake_shows_how_far_it_got() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .expect("s_server");
    let j = connect(&server, &["--servername", "wrong.example"]);
    assert_eq!(j["outcome"], "failed", "{j}");
    let msgs = messages(&j);
    assert!(find(&msgs, "sent", "ClientHello").contains("SNI: wrong.example"));
    find(&msgs, "received", "Certificate");
    assert_eq!(
        msgs.last()
            .map(|(d, m, f)| (d.as_str(), m.as_str(), f.as_str())),
        Some(("sent", "Alert", "fatal bad_certificate")),
        "{msgs:?}"
    );
}

#[test]
fn the_servers_alert_is_decoded() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .spawn()
        .expect("s_server");
    let j = connect(&server, &["--min-proto", "tls1.3"]);
    assert_eq!(j["outcome"], "failed", "{j}");
    let msgs = messages(&j);
    assert_eq!(find(&msgs, "received", "Alert"), "fatal protocol_version");
    assert!(j["trace"].as_array().is_some_and(|t| t.len() == 2), "{j}");
}

#[test]
fn library_sink_collects_each_connection() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .mode(ServerMode::Www)
        .spawn()
        .expect("s_server");
    let sink = TraceSink::new();
    let config = ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .trace(sink.clone())
        .build()
        .expect("config");
    for _ in 0..2 {
        let tcp = TcpStream::connect(server.addr()).expect("connect");
        let deadline = Instant::now() + Duration::from_secs(10);
        client::upgrade(
            tcp,
            "localhost",
            &config,
            &tlshake::client::ConnectOptions::new().deadline(deadline),
        )
        .expect("handshake");
        let events = sink.take();
        assert_eq!(
            events.first().map(|e| (e.direction, e.message)),
            Some((Direction::Sent, "ClientHello"))
        );
        assert_eq!(
            events.last().map(|e| (e.direction, e.message)),
            Some((Direction::Sent, "Finished"))
        );
        assert!(sink.take().is_empty());
    }
}

#[test]
fn no_trace_without_the_flag() {
    let server = OpensslServer::builder().spawn().expect("s_server");
    let out = Command::new(env!("CARGO_BIN_EXE_tlshake"))
        .args([
            "connect",
            &format!("tls://127.0.0.1:{}", server.port()),
            "--json",
            "--cafile",
        ])
        .arg(common::cert("ca.pem"))
        .output()
        .expect("tlshake");
    let j: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(j["trace"].is_null(), "{j}");
}
