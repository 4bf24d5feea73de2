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
    // The control: the same cipher with ECDHE is accepted.
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"];
    let (ok, out) = s_client(server.addr, &args, b"", no);
    assert!(ok, "{out}");
}
