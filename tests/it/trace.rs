//! `--trace` and `ClientConfigBuilder::trace`: the handshake timeline against `openssl
//! s_server`, under TLS 1.3 and 1.2, for a handshake that succeeds and ones that fail.

use crate::common;
use crate::real_servers;

use common::openssl_line::{line, Line};

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
    // The server's middlebox-compatibility ChangeCipherSpec (RFC 8446, D.4): the record
    // layer of OpenSSL 3.2 and later reports it to the message callback, 3.0's drops it
    // unreported.
    let server_ccs: &[(&str, &str)] = match line() {
        Line::V3_0 => &[],
        Line::V3_5 | Line::V3_6 | Line::V4_0 => &[("received", "ChangeCipherSpec")],
    };
    let expected: Vec<(&str, &str)> = [("sent", "ClientHello"), ("received", "ServerHello")]
        .iter()
        .chain(server_ccs)
        .chain(&[
            ("received", "EncryptedExtensions"),
            ("received", "Certificate"),
            ("received", "CertificateVerify"),
            ("received", "Finished"),
            ("sent", "ChangeCipherSpec"),
            ("sent", "Finished"),
        ])
        .copied()
        .collect();
    let flight: Vec<(&str, &str)> = msgs
        .iter()
        .take(expected.len())
        .map(|(d, m, _)| (d.as_str(), m.as_str()))
        .collect();
    assert_eq!(flight, expected, "{msgs:?}");
    let hello = find(&msgs, "sent", "ClientHello");
    // OpenSSL 3.5 and later offer the post-quantum hybrid first, with a key share for it.
    let (first_group, key_shares) = match line() {
        Line::V3_0 => ("x25519", "key shares: x25519"),
        Line::V3_5 | Line::V3_6 | Line::V4_0 => {
            ("X25519MLKEM768", "key shares: X25519MLKEM768, x25519")
        }
    };
    let facts: Vec<&str> = hello.split("; ").collect();
    let groups = facts
        .iter()
        .find_map(|f| f.strip_prefix("groups offered: "))
        .unwrap_or_else(|| panic!("{hello}"));
    assert_eq!(groups.split(", ").next(), Some(first_group), "{hello}");
    assert!(facts.contains(&key_shares), "{hello}");
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

/// The ClientHello names every group and signature scheme the linked OpenSSL offers by
/// default, none left as a number (4.0 adds the ML-KEM hybrids with curveSM2, ML-DSA and
/// the brainpool TLS 1.3 schemes), and the ServerHello names the group its s_server chose:
/// each release's lists, pinned.
#[test]
fn the_client_hello_names_every_group_and_scheme_offered() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .expect("s_server");
    let msgs = messages(&connect(&server, &[]));
    let hello = find(&msgs, "sent", "ClientHello");
    assert!(!hello.contains("0x"), "a codepoint without a name: {hello}");
    let fact = |name: &str| {
        hello
            .split("; ")
            .find_map(|f| f.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in {hello}"))
            .to_string()
    };
    const CLASSIC_SCHEMES: &str = "ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, \
        ecdsa_secp521r1_sha512, ed25519, ed448, rsa_pss_pss_sha256, rsa_pss_pss_sha384, \
        rsa_pss_pss_sha512, rsa_pss_rsae_sha256, rsa_pss_rsae_sha384, rsa_pss_rsae_sha512, \
        rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha512, ecdsa_sha224, rsa_pkcs1_sha224, \
        dsa_sha224, dsa_sha256, dsa_sha384, dsa_sha512";
    // 3.5 adds ML-DSA and the brainpool TLS 1.3 schemes in front of 3.0's; 4.0 adds SM2.
    let pq_schemes = format!(
        "mldsa65, mldsa87, mldsa44, ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, \
         ecdsa_secp521r1_sha512, ed25519, ed448, ecdsa_brainpoolP256r1tls13_sha256, \
         ecdsa_brainpoolP384r1tls13_sha384, ecdsa_brainpoolP512r1tls13_sha512, {}",
        CLASSIC_SCHEMES
            .strip_prefix(
                "ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, ecdsa_secp521r1_sha512, \
                 ed25519, ed448, "
            )
            .unwrap_or_default()
    );
    let running = tlshake::library::running();
    let (groups, shares, schemes, chosen) = match running.line().as_str() {
        "3.0" => (
            "x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048, ffdhe3072, ffdhe4096, \
             ffdhe6144, ffdhe8192",
            "x25519",
            CLASSIC_SCHEMES.to_string(),
            "x25519",
        ),
        "3.5" | "3.6" => (
            "X25519MLKEM768, x25519, secp256r1, x448, secp384r1, secp521r1, ffdhe2048, \
             ffdhe3072",
            "X25519MLKEM768, x25519",
            pq_schemes,
            "X25519MLKEM768",
        ),
        "4.0" => (
            "X25519MLKEM768, SecP256r1MLKEM768, curveSM2MLKEM768, x25519, secp256r1, x448, \
             secp384r1, secp521r1, curveSM2, ffdhe2048, ffdhe3072",
            "X25519MLKEM768, x25519",
            format!("{pq_schemes}, sm2sig_sm3"),
            "X25519MLKEM768",
        ),
        other => panic!("no pinned ClientHello for OpenSSL {other}: {hello}"),
    };
    assert_eq!(fact("groups offered: "), groups, "{running}");
    assert_eq!(fact("key shares: "), shares, "{running}");
    assert_eq!(fact("signature algorithms offered: "), schemes, "{running}");
    assert!(
        find(&msgs, "received", "ServerHello").contains(&format!("group chosen: {chosen}")),
        "{msgs:?}"
    );
}
