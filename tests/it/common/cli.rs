//! Running the `tlshake` binary from a test: bounded in time, output read while it runs.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;
use tlshake::harness::{OpensslServer, ServerMode};
use tlshake::ProtocolVersion;

/// How long one run of the binary may take.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The binary under test, with stdin closed and stdout/stderr captured.
pub fn tlshake() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Waits for `child` to exit, for at most `limit`, then kills it and fails the test. Its
/// stdout and stderr are read while it runs, so a child that writes a lot never blocks on a
/// full pipe; the exit is awaited in a thread, not polled.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
        thread::spawn(move || {
            let mut all = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut all);
            }
            all
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let (tx, exited) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let (status, overstayed) = match exited.recv_timeout(limit) {
        Ok(status) => (status.expect("wait for the child"), false),
        Err(_) => {
            // Not reaped yet (the waiter has not returned), so the pid is still the child's.
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let status = exited.recv().expect("waiter").expect("reap the child");
            (status, true)
        }
    };
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    assert!(!overstayed, "tlshake ran past {limit:?}: {out:?}");
    out
}

/// Runs `c`, bounded by [`LIMIT`].
pub fn run_cmd(mut c: Command) -> Output {
    wait_bounded(c.spawn().expect("spawn tlshake"), LIMIT)
}

/// Runs tlshake with `args`, bounded by [`LIMIT`].
pub fn run(args: &[&str]) -> Output {
    let mut c = tlshake();
    c.args(args);
    run_cmd(c)
}

/// Standard output as exactly one JSON value.
pub fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The bundled test CA's path, as a command-line argument.
pub fn ca() -> String {
    super::cert("ca.pem").display().to_string()
}

/// An `openssl s_server` that accepts only `version`, serving in `mode`, with the bundled
/// `localhost` certificate.
pub fn s_server(version: ProtocolVersion, mode: ServerMode) -> OpensslServer {
    OpensslServer::builder()
        .version(version)
        .mode(mode)
        .spawn()
        .expect("spawn openssl s_server")
}

/// The `tls://127.0.0.1:PORT` URL of `server`.
pub fn url_of(server: &OpensslServer) -> String {
    format!("tls://127.0.0.1:{}", server.port())
}

/// Whether `s` is `bytes` bytes written as upper-case hex pairs joined by colons
/// (`AB:01:…`), as OpenSSL prints fingerprints and serial numbers.
pub fn is_colon_hex(s: &str, bytes: usize) -> bool {
    s.len() == bytes * 3 - 1
        && s.split(':').all(|b| {
            b.len() == 2
                && b.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        })
}
