//! Security defaults of `tlshake serve`, checked from outside: with `openssl s_client` probes
//! (always), and with `sslyze` (when `TLSHAKE_PYTHON` names a Python with sslyze installed,
//! as scripts/test.sh arranges). Both the ECDSA and the RSA test certificate are scanned:
//! with an RSA key, static-RSA key exchange (no forward secrecy) would otherwise be offered.
//!
//! The local `openssl` is built without SSL 3 (`s_client -ssl3` does not exist); sslyze's
//! own legacy client probes SSL 2.0 and 3.0.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlshake::bundled;

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
            .arg(bundled::cert_path("server-rsa.pem"))
            .arg("--key")
            .arg(bundled::cert_path("server-rsa.key"));
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

/// Runs `openssl s_client` against `addr` with `args`, `stdin` written (then kept open
/// `hold`), killed after 10 s. Returns (handshake completed, output).
fn s_client(addr: SocketAddr, args: &[&str], stdin: &[u8], hold: Duration) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", "localhost"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    std::thread::sleep(hold);
    drop(input);
    let limit = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // s_client prints a cipher of "(NONE)" / "0000" when no handshake completed.
    let done = text.contains("New, TLSv1") && !text.contains("Cipher is (NONE)");
    (done, text)
}

#[test]
fn static_rsa_key_exchange_is_refused_with_an_rsa_certificate() {
    let server = serve(true);
    let no = Duration::ZERO;
    let (ok, out) = s_client(server.addr, &["-tls1_2", "-cipher", "AES128-SHA"], b"", no);
    assert!(!ok, "static RSA key exchange accepted:\n{out}");
    // The control: ECDHE with AES-GCM is accepted.
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"];
    let (ok, out) = s_client(server.addr, &args, b"", no);
    assert!(ok, "{out}");
    // CBC, even with ECDHE, only with the opt-out (tlshake serve --allow-cbc).
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"];
    let (ok, out) = s_client(server.addr, &args, b"", no);
    assert!(!ok, "CBC accepted by default:\n{out}");
}

#[test]
fn openssl_probes_find_only_modern_settings() {
    let no = Duration::ZERO;
    for rsa in [false, true] {
        let server = serve(rsa);
        let a = server.addr;
        // The defaults complete TLS 1.3 and 1.2, without compression.
        let (ok, out) = s_client(a, &["-tls1_3"], b"", no);
        assert!(ok, "{out}");
        let (ok, out) = s_client(a, &["-tls1_2"], b"", no);
        assert!(ok, "{out}");
        assert!(out.contains("Compression: NONE"), "{out}");
        // TLS 1.0 and 1.1 are off (the client lowers its own security level to offer them).
        for v in ["-tls1", "-tls1_1"] {
            let (ok, out) = s_client(a, &[v, "-cipher", "DEFAULT@SECLEVEL=0"], b"", no);
            assert!(!ok, "rsa={rsa} {v} accepted:\n{out}");
        }
        // No NULL, anonymous, EXPORT, RC4, DES, 3DES or static-RSA suite is chosen.
        for c in ["eNULL", "aNULL", "EXPORT", "RC4", "DES", "3DES", "kRSA"] {
            let spec = format!("{c}@SECLEVEL=0");
            let (ok, out) = s_client(a, &["-tls1_2", "-cipher", &spec], b"", no);
            assert!(!ok, "rsa={rsa} {c} accepted:\n{out}");
        }
        // Client-initiated renegotiation (s_client's `R` command) is refused.
        let (ok, out) = s_client(a, &["-tls1_2"], b"R\n", Duration::from_millis(500));
        assert!(ok, "{out}");
        assert!(out.contains("RENEGOTIATING"), "{out}");
        assert!(
            out.contains("no renegotiation") || out.contains("alert"),
            "renegotiation was not refused:\n{out}"
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
