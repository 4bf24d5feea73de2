//! Security defaults of `tlshake serve`, checked from outside: with `openssl s_client` probes
//! (always), and with `sslyze` (when `TLSHAKE_PYTHON` names a Python with sslyze installed,
//! as scripts/test.sh arranges). Both the ECDSA and the RSA test certificate are scanned:
//! with an RSA key, static-RSA key exchange (no forward secrecy) would otherwise be offered.
//!
//! The local `openssl` is built without SSL 3 (`s_client -ssl3` does not exist); sslyze's
//! own legacy client probes SSL 2.0 and 3.0.

use crate::common;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod raw_hello;
use raw_hello::{offer, Answer, HANDSHAKE_FAILURE, PROTOCOL_VERSION};

/// A running `tlshake serve`, killed and reaped on drop.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(rsa: bool) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args(["serve", "--bind", "127.0.0.1", "--port", "0"]);
    if rsa {
        cmd.arg("--cert")
            .arg(common::cert("server-rsa.pem"))
            .arg("--key")
            .arg(common::cert("server-rsa.key"));
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tlshake serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    Served { child, addr }
}

/// Runs `openssl s_client` against `addr` with `args` and an empty stdin, for at most 10 s.
/// Returns (handshake completed, output).
fn s_client(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", "localhost"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(out) => out.expect("s_client output"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("openssl s_client {args:?} did not end within 10 s");
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // s_client prints a cipher of "(NONE)" / "0000" when no handshake completed.
    let done = text.contains("New, TLSv1") && !text.contains("Cipher is (NONE)");
    (done, text)
}

/// Asks for a renegotiation (s_client's `R` command) on a TLS 1.2 connection and returns the
/// first alert the server sent, as `s_client -msg` names it (e.g. "warning no_renegotiation").
/// Waits for s_client's own lines, not for a fixed time: `R` is typed once the handshake is
/// reported, and the answer is awaited for at most 10 s.
fn renegotiation_answer(addr: SocketAddr) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", "localhost", "-tls1_2", "-msg"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run openssl s_client");
    let mut input = child.stdin.take().expect("stdin");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let next_line = |seen: &mut Vec<String>| -> Option<String> {
        let left = deadline.checked_duration_since(Instant::now())?;
        let line = lines.recv_timeout(left).ok()?;
        seen.push(line.clone());
        Some(line)
    };
    // The session summary ends the handshake's report.
    while let Some(line) = next_line(&mut seen) {
        if line.trim_start().starts_with("Verify return code") {
            break;
        }
    }
    input.write_all(b"R\n").expect("type R");
    let mut answer = None;
    while let Some(line) = next_line(&mut seen) {
        if let Some(at) = line.find("<<< TLS 1.2, Alert [length 0002], ") {
            answer = Some(line[at + 34..].trim().to_string());
            break;
        }
    }
    drop(input);
    let _ = child.kill();
    let _ = child.wait();
    answer.unwrap_or_else(|| {
        panic!(
            "no alert from the server within 10 s of asking to renegotiate:\n{}",
            seen.join("\n")
        )
    })
}

/// TLS 1.2 suites by name, with their IANA numbers.
const ECDHE_ECDSA_AES128_GCM: u16 = 0xc02b;
const ECDHE_RSA_AES128_GCM: u16 = 0xc02f;

/// What no server of ours may choose, each offered alone with its suite numbers.
const REFUSED_SUITES: &[(&str, &[u16])] = &[
    ("eNULL", &[0x0002, 0x003b, 0xc006, 0xc010]),
    ("aNULL", &[0x0034, 0x00a6, 0xc018, 0xc019]),
    ("EXPORT", &[0x0003, 0x0006, 0x0008, 0x0014]),
    ("RC4", &[0x0004, 0x0005, 0xc007, 0xc011]),
    ("DES", &[0x0009, 0x0015]),
    ("3DES", &[0x000a, 0x0016, 0xc008, 0xc012]),
    ("kRSA", &[0x002f, 0x0035, 0x009c, 0x009d]),
    // Forward-secret, but CBC: only with the named opt-out (`--allow-cbc`).
    (
        "ECDHE CBC",
        &[
            0xc009, 0xc00a, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028,
        ],
    ),
];

#[test]
fn static_rsa_key_exchange_is_refused_with_an_rsa_certificate() {
    let server = serve(true);
    let (ok, out) = s_client(server.addr, &["-tls1_2", "-cipher", "AES128-GCM-SHA256"]);
    assert!(!ok, "static RSA key exchange accepted:\n{out}");
    assert!(out.contains("handshake failure"), "{out}");
    // The control: the same cipher with ECDHE is accepted.
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"];
    let (ok, out) = s_client(server.addr, &args);
    assert!(ok, "{out}");
    // CBC, even with ECDHE, only with the opt-out (tlshake serve --allow-cbc).
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"];
    let (ok, out) = s_client(server.addr, &args);
    assert!(!ok, "CBC accepted by default:\n{out}");
}

#[test]
fn openssl_probes_find_only_modern_settings() {
    for rsa in [false, true] {
        let server = serve(rsa);
        let a = server.addr;
        // The defaults complete TLS 1.3 and 1.2, without compression.
        let (ok, out) = s_client(a, &["-tls1_3"]);
        assert!(ok, "{out}");
        let (ok, out) = s_client(a, &["-tls1_2"]);
        assert!(ok, "{out}");
        assert!(out.contains("Compression: NONE"), "{out}");
        // The control for the hand-built ClientHello: a modern suite is chosen.
        let modern = if rsa {
            ECDHE_RSA_AES128_GCM
        } else {
            ECDHE_ECDSA_AES128_GCM
        };
        let both = [ECDHE_ECDSA_AES128_GCM, ECDHE_RSA_AES128_GCM];
        assert_eq!(
            offer(a, 0x0303, &both),
            Answer::Hello {
                version: 0x0303,
                suite: modern
            },
            "rsa={rsa}"
        );
        // TLS 1.0 and 1.1 are refused with a protocol_version alert, even with suites the
        // server would take under TLS 1.2.
        for version in [0x0301, 0x0302] {
            assert_eq!(
                offer(
                    a,
                    version,
                    &[0xc009, 0xc013, ECDHE_ECDSA_AES128_GCM, ECDHE_RSA_AES128_GCM]
                ),
                Answer::Alert {
                    level: 2,
                    description: PROTOCOL_VERSION
                },
                "rsa={rsa} version {version:#06x}"
            );
        }
        // No NULL, anonymous, EXPORT, RC4, DES, 3DES, static-RSA or CBC suite is chosen: each
        // offered alone ends in a handshake_failure alert.
        for (name, suites) in REFUSED_SUITES {
            assert_eq!(
                offer(a, 0x0303, suites),
                Answer::Alert {
                    level: 2,
                    description: HANDSHAKE_FAILURE
                },
                "rsa={rsa} {name}"
            );
        }
        // Client-initiated renegotiation is refused with a no_renegotiation warning.
        assert_eq!(
            renegotiation_answer(a),
            "warning no_renegotiation",
            "rsa={rsa}"
        );
    }
}

/// `sslyze` against `tlshake serve`, both certificates. Needs `TLSHAKE_PYTHON` with sslyze.
#[test]
#[ignore = "needs TLSHAKE_PYTHON with sslyze (scripts/test.sh installs it)"]
fn sslyze_finds_secure_defaults() {
    let python =
        std::env::var("TLSHAKE_PYTHON").expect("TLSHAKE_PYTHON names a Python with sslyze");
    for rsa in [false, true] {
        let server = serve(rsa);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("scan.json");
        let status = Command::new(&python)
            .args(["-m", "sslyze", &server.addr.to_string()])
            .args([
                "--sslv2",
                "--sslv3",
                "--tlsv1",
                "--tlsv1_1",
                "--tlsv1_2",
                "--tlsv1_3",
            ])
            .args(["--reneg", "--compression"])
            .arg(format!("--json_out={}", json.display()))
            .stdout(Stdio::null())
            .status()
            .expect("run sslyze");
        assert!(status.success(), "sslyze failed: {status}");
        let text = std::fs::read_to_string(&json).unwrap();
        let scan: serde_json::Value = serde_json::from_str(&text).unwrap();
        let r = &scan["server_scan_results"][0]["scan_result"];
        let accepted = |key: &str| -> Vec<serde_json::Value> {
            assert_eq!(r[key]["status"], "COMPLETED", "{key}: {}", r[key]);
            r[key]["result"]["accepted_cipher_suites"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        for key in [
            "ssl_2_0_cipher_suites",
            "ssl_3_0_cipher_suites",
            "tls_1_0_cipher_suites",
            "tls_1_1_cipher_suites",
        ] {
            assert!(accepted(key).is_empty(), "rsa={rsa}: {key} accepted");
        }
        let tls12 = accepted("tls_1_2_cipher_suites");
        let tls13 = accepted("tls_1_3_cipher_suites");
        assert!(!tls12.is_empty() && !tls13.is_empty(), "rsa={rsa}");
        for suite in tls12.iter().chain(&tls13) {
            let name = suite["cipher_suite"]["name"].as_str().unwrap();
            for weak in ["NULL", "EXPORT", "RC4", "3DES", "_DES_", "anon"] {
                assert!(!name.contains(weak), "rsa={rsa}: {name}");
            }
            // Forward secrecy: every suite had an ephemeral key exchange.
            assert!(
                !suite["ephemeral_key"].is_null(),
                "rsa={rsa}: {name} has no FS"
            );
        }
        assert_eq!(
            r["tls_compression"]["result"]["supports_compression"],
            false
        );
        let reneg = &r["session_renegotiation"]["result"];
        assert_eq!(reneg["is_vulnerable_to_client_renegotiation_dos"], false);
        assert_eq!(reneg["client_renegotiations_success_count"], 0);
        eprintln!(
            "rsa={rsa}: TLS 1.2 suites {}, TLS 1.3 suites {}, SSL2/3 TLS1.0/1.1 none",
            tls12.len(),
            tls13.len()
        );
    }
}
