//! The command line: `tlshake connect dtls://...` with the TLS report and JSON, and
//! `tlshake serve --dtls` against `openssl s_client -dtls1_2` and `gnutls-cli --udp`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Child;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;
use tlshake::harness::OpensslServer;

use super::gnutls::gnutls_cli;
use super::timer::BlackHole;
use crate::common::cert;
use crate::common::cli::{json_of, run, tlshake, wait_bounded};

fn ca() -> String {
    cert("ca.pem").to_str().unwrap().to_string()
}

fn s_server() -> OpensslServer {
    OpensslServer::builder()
        .cert(cert("server.pem"))
        .key(cert("server.key"))
        .arg("-dtls1_2")
        .arg("-listen")
        .spawn()
        .expect("s_server -dtls1_2")
}

#[test]
fn connect_reports_a_dtls_handshake_as_a_tls_one() {
    let server = s_server();
    let url = format!("dtls://127.0.0.1:{}", server.port());
    let out = run(&["connect", &url, "--cafile", &ca(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["outcome"], "done", "{v}");
    assert_eq!(v["protocol"], "DTLSv1.2", "{v}");
    assert_eq!(v["retransmissions"], 0, "{v}");
    assert_eq!(v["verify"]["ok"], true, "{v}");
    assert_eq!(v["peer"], format!("127.0.0.1:{}", server.port()), "{v}");
    assert_eq!(v["srtp_profile"], Value::Null, "{v}");
    // The same facts as text, on a server started the same way.
    let server = s_server();
    let url = format!("dtls://127.0.0.1:{}", server.port());
    let out = run(&["connect", &url, "--cafile", &ca()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!(
            "done: {url} with 127.0.0.1:{}, DTLSv1.2, ",
            server.port()
        )),
        "{text}"
    );
    assert!(text.contains("  retransmitted: 0 flights\n"), "{text}");
    assert!(text.contains("  verify:      0 (ok)\n"), "{text}");
}

#[test]
fn connect_negotiates_srtp_with_s_server() {
    let server = OpensslServer::builder()
        .cert(cert("server.pem"))
        .key(cert("server.key"))
        .arg("-dtls1_2")
        .arg("-listen")
        .arg("-use_srtp")
        .arg("SRTP_AES128_CM_SHA1_80")
        .spawn()
        .expect("s_server -use_srtp");
    let url = format!("dtls://127.0.0.1:{}", server.port());
    let out = run(&[
        "connect",
        &url,
        "--cafile",
        &ca(),
        "--srtp",
        "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
        "--mtu",
        "1400",
        "--json",
    ]);
    let v = json_of(&out);
    assert_eq!(v["outcome"], "done", "{v}");
    assert_eq!(v["srtp_profile"], "SRTP_AES128_CM_SHA1_80", "{v}");
}

#[test]
fn connect_to_a_silent_port_times_out_with_its_retransmissions() {
    let hole = BlackHole::new();
    let url = format!("dtls://127.0.0.1:{}", hole.addr().port());
    let out = run(&[
        "connect",
        &url,
        "--cafile",
        &ca(),
        "--timeout",
        "1",
        "--dtls-timer",
        "0.1",
        "--dtls-timer-max",
        "0.2",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let v = json_of(&out);
    assert_eq!(v["outcome"], "timeout", "{v}");
    assert_eq!(v["error"]["kind"], "timeout", "{v}");
    let n = v["retransmissions"].as_u64().expect("a count");
    // One ClientHello, then one per expiry.
    assert_eq!(hole.drain().len() as u64, 1 + n, "{v}");
    let hint = v["error"]["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains(&format!("after {n} retransmission")),
        "{hint}"
    );
}

#[test]
fn dtls_flags_are_checked_and_named() {
    let out = run(&["connect", "dtls://127.0.0.1:9", "--mtu", "100"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--mtu 100 is too small: give 208 bytes or more"),
        "{err}"
    );
    let out = run(&["connect", "dtls://127.0.0.1:9", "--dtls-timer", "0.001"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--dtls-timer 0.001 is too short"), "{err}");
    let out = run(&["connect", "dtls://127.0.0.1:9", "--srtp", "SRTP_NONSENSE"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--srtp \"SRTP_NONSENSE\""), "{err}");
    let out = run(&["connect", "tls://127.0.0.1:9", "--mtu", "1400"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--mtu needs a dtls:// URL"), "{err}");
    let out = run(&["connect", "dtls://127.0.0.1:9", "--proxy", "127.0.0.1:8080"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--proxy cannot be used with dtls://"), "{err}");
    let out = run(&["serve", "--port", "0", "--mtu", "1400"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--mtu: needs --dtls"), "{err}");
}

/// `tlshake serve --dtls` on 127.0.0.1 with `extra` flags, and its stdout line by line.
fn serve(extra: &[&str]) -> (Child, SocketAddr, mpsc::Receiver<String>) {
    let mut child = tlshake()
        .args(["serve", "--dtls", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--cert", cert("server.pem").to_str().unwrap()])
        .args(["--key", cert("server.key").to_str().unwrap()])
        .args(extra)
        .spawn()
        .expect("spawn tlshake serve --dtls");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no first line from tlshake serve --dtls");
        });
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("first line {first:?}"));
    (child, addr, lines)
}

#[test]
fn s_client_completes_against_serve_dtls_reported_in_json() {
    let (child, addr, lines) = serve(&["--json", "--max-connections", "1"]);
    let client = super::dtls_s_client(addr, b"echo this\n");
    let event = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("an event line");
    let v: Value = serde_json::from_str(&event).expect("one JSON line");
    assert_eq!(v["outcome"], "done", "{v}");
    assert_eq!(v["protocol"], "DTLSv1.2", "{v}");
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0));
    super::ends_verified(client);
}

#[test]
fn s_client_gets_the_echo_of_serve_dtls() {
    let (mut child, addr, lines) = serve(&[]);
    let client = super::dtls_s_client(addr, b"echo this\n");
    let event = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("an event line");
    // serve's line names the group too; DTLS 1.2 has no hybrid group on any release, so
    // it is x25519 where TLS 1.3 from 3.5 on would pick X25519MLKEM768.
    assert!(
        event.ends_with("established DTLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256, group x25519"),
        "{event}"
    );
    // s_client prints what it receives, and nothing of what it sends.
    assert!(
        client.wait_for_output("echo this", Duration::from_secs(10)),
        "{}",
        client.output()
    );
    super::ends_verified(client);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
#[ignore = "needs gnutls-bin; run by scripts/test.sh"]
fn gnutls_cli_completes_against_serve_dtls() {
    let (child, addr, lines) = serve(&["--json", "--max-connections", "1"]);
    let run = gnutls_cli(addr.port(), b"", &[]);
    let event = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("an event line");
    let v: Value = serde_json::from_str(&event).expect("one JSON line");
    assert_eq!(v["outcome"], "done", "{v}");
    assert_eq!(v["protocol"], "DTLSv1.2", "{v}");
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        run.output().contains("Handshake was completed"),
        "{}",
        run.output()
    );
}

#[test]
fn bench_dtls_compares_with_the_plain_crate() {
    let out = run(&["bench", "--dtls", "--handshakes", "20", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json_of(&out);
    assert_eq!(v["config"]["proto"], "dtls1.2", "{v}");
    for side in ["tlshake", "openssl_crate"] {
        assert_eq!(v[side]["handshakes"], 20, "{v}");
        assert_eq!(v[side]["failures"], 0, "{v}");
    }
    assert!(v["ratio"].as_f64().is_some_and(|r| r > 0.0), "{v}");
    let out = run(&["bench", "--dtls", "--proto", "tls1.2"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
