//! The command line: `tlshake connect --ech-config` against `s_server -ech_key` (report,
//! JSON, trace), and `tlshake serve --ech-key` against `s_client -ech_config_list` (the
//! event line and its JSON).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::{ech_key, ech_key_arg, s_client, s_server, PUBLIC_NAME};
use crate::common;
use crate::real_servers::run_bounded;

/// `tlshake connect tls://127.0.0.1:PORT --servername localhost --cafile ca.pem` with
/// `args`: its exit code and stdout.
fn connect(port: u16, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args([
        "connect",
        &format!("tls://127.0.0.1:{port}"),
        "--servername",
        "localhost",
        "--cafile",
    ])
    .arg(common::cert("ca.pem"))
    .args(args);
    let out = run_bounded(cmd, Duration::from_secs(20));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn ech_connect_reports_the_status_and_both_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    let server = s_server("localhost", "server", &ech_key_arg(&key));
    let file = key.path.to_str().expect("path");
    let (code, out) = connect(server.port(), &["--ech-config", file, "--json", "--trace"]);
    assert_eq!(code, Some(0), "{out}");
    let report: Value = serde_json::from_str(&out).expect("one JSON report");
    assert_eq!(
        report["ech"],
        json!({
            "status": "accepted",
            "code": 1,
            "inner": "localhost",
            "outer": PUBLIC_NAME,
            "retry_configs": null,
            "retry_public_names": [],
        })
    );
    let trace = report["trace"].as_array().expect("trace");
    let facts = |message: &str| -> Vec<String> {
        trace
            .iter()
            .find(|e| e["message"] == message)
            .and_then(|e| e["facts"].as_array())
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let hello = facts("ClientHello");
    assert!(hello.contains(&format!("SNI: {PUBLIC_NAME}")), "{hello:?}");
    let id = key.list.configs()[0].config_id;
    let outer = format!("ECH: outer, config id 0x{id:02x}, HKDF-SHA256/AES-128-GCM, ");
    assert!(hello.iter().any(|f| f.starts_with(&outer)), "{hello:?}");
    assert!(!hello.iter().any(|f| f.contains("localhost")), "{hello:?}");
    assert_eq!(
        facts("EncryptedExtensions"),
        ["ECH accepted, inner name localhost"]
    );

    let (code, text) = connect(server.port(), &["--ech-config", file]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "\n  ECH:         accepted (inner localhost, outer {PUBLIC_NAME})\n"
        )),
        "{text}"
    );
}

#[test]
fn ech_connect_with_a_stale_config_names_the_flag_and_the_retry_configs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stale, current) = (ech_key(dir.path(), "stale"), ech_key(dir.path(), "current"));
    let server = s_server("localhost", "server", &ech_key_arg(&current));
    let (code, out) = connect(
        server.port(),
        &["--ech-config", &stale.list.to_base64(), "--json"],
    );
    assert_eq!(code, Some(1), "{out}");
    let report: Value = serde_json::from_str(&out).expect("one JSON report");
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["ech"]["status"], "rejected");
    assert_eq!(report["ech"]["code"], -105);
    let retry = current.list.to_base64();
    assert_eq!(report["ech"]["retry_configs"], retry.as_str());
    assert_eq!(report["error"]["advice"], json!(["--ech-config"]));
    let hint = report["error"]["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains(&format!("retry with them (--ech-config {retry})")),
        "{hint}"
    );
    // What the hint says works.
    let (code, out) = connect(server.port(), &["--ech-config", &retry, "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let report: Value = serde_json::from_str(&out).expect("one JSON report");
    assert_eq!(report["ech"]["status"], "accepted");
}

#[test]
fn ech_serve_reports_the_accepted_ech_and_the_inner_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tlshake"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
        ])
        .args(["--max-connections", "1", "--json", "--cert"])
        .arg(common::cert("other-host.pem"))
        .arg("--key")
        .arg(common::cert("other-host.key"))
        .arg("--ech-key")
        .arg(&key.path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tlshake serve");
    // Lines from a thread, so that every wait for one has a deadline.
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = serve.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait = Duration::from_secs(20);
    let first = lines.recv_timeout(wait).expect("the listening line");
    let addr: std::net::SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    let (seen, text) = s_client(addr, &["-ech_config_list", &key.list.to_base64()]);
    assert_eq!(seen.status.as_deref(), Some("success: 1"), "{text}");
    assert_eq!(seen.inner.as_deref(), Some("localhost"), "{text}");
    assert_eq!(seen.outer.as_deref(), Some(PUBLIC_NAME), "{text}");
    // The event line is written when the handshake ends; the server exits after it.
    let event = lines.recv_timeout(wait);
    let _ = serve.kill();
    let _ = serve.wait();
    let event: Value =
        serde_json::from_str(&event.expect("the event line")).expect("one JSON event");
    assert_eq!(event["outcome"], "done");
    assert_eq!(event["sni"], "localhost");
    assert_eq!(
        event["ech"],
        json!({
            "status": "accepted",
            "code": 1,
            "inner": "localhost",
            "outer": PUBLIC_NAME,
            "retry_configs": null,
            "retry_public_names": [],
        })
    );
}

#[test]
fn ech_connect_outer_sni_and_alpn_show_only_in_the_outer_hello() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ech_key(dir.path(), "a");
    let mut extra = ech_key_arg(&key);
    extra.extend(["-alpn".into(), "h2".into()]);
    let server = s_server("localhost", "server", &extra);
    let file = key.path.to_str().expect("path");
    let args = [
        "--ech-config",
        file,
        "--alpn",
        "h2",
        "--ech-outer-alpn",
        "http/1.1",
        "--ech-outer-sni",
        "cover.example",
        "--json",
        "--trace",
    ];
    let (code, out) = connect(server.port(), &args);
    assert_eq!(code, Some(0), "{out}");
    let report: Value = serde_json::from_str(&out).expect("one JSON report");
    assert_eq!(report["alpn"], "h2", "the inner ALPN is the one negotiated");
    assert_eq!(report["ech"]["status"], "accepted");
    assert_eq!(report["ech"]["inner"], "localhost");
    assert_eq!(report["ech"]["outer"], "cover.example");
    let hello = &report["trace"][0];
    assert_eq!(hello["message"], "ClientHello");
    let facts: Vec<&str> = hello["facts"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(facts.contains(&"SNI: cover.example"), "{facts:?}");
    assert!(facts.contains(&"ALPN offered: http/1.1"), "{facts:?}");
    assert!(!facts.iter().any(|f| f.contains("h2")), "{facts:?}");
}
