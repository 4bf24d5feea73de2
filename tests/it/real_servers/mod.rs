//! Real servers from Debian packages, run in the foreground on a free loopback port with
//! their own configuration in a fresh directory, and stopped by the PID the test holds.
//!
//! A missing server binary is a failure, not a skip: the full test script
//! (`./scripts/test.sh`) installs every one of them.

// Shared by several test crates; each uses a part.

use std::fs;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How long a server may take to become ready (databases get more).
pub const READY: Duration = Duration::from_secs(10);

/// A system user a server runs as.
#[derive(Debug, Clone, Copy)]
pub struct User {
    /// Its user ID.
    pub uid: u32,
    /// Its primary group ID.
    pub gid: u32,
}

/// Looks `name` up in /etc/passwd; panics when it is missing (the package creates it).
pub fn user(name: &str) -> User {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| User {
                uid: f[2].parse().expect("uid"),
                gid: f[3].parse().expect("gid"),
            })
        })
        .next()
        .unwrap_or_else(|| panic!("no user {name:?}: install its package (./scripts/test.sh)"))
}

/// Panics unless `path` is an executable file: the server is not installed.
pub fn require(path: &str, package: &str) -> PathBuf {
    let found = if path.contains('/') {
        Some(PathBuf::from(path)).filter(|p| p.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(path))
                .find(|p| p.is_file())
        })
    };
    found.unwrap_or_else(|| {
        panic!("{path} not found: install the Debian package {package} (./scripts/test.sh does)")
    })
}

/// A fresh directory, 0755 so that service users can traverse it, removed on drop.
pub fn test_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// The test certificates copied into `dir` for `owner`: (leaf, key 0600, CA).
pub fn install_certs(dir: &Path, owner: User) -> (PathBuf, PathBuf, PathBuf) {
    let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs");
    let mut out = Vec::new();
    for (from, to, mode) in [
        ("server.pem", "server.pem", 0o644),
        ("server.key", "server.key", 0o600),
        ("ca.pem", "ca.pem", 0o644),
    ] {
        let path = dir.join(to);
        fs::copy(certs.join(from), &path).expect("copy certificate");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        chown(&path, Some(owner.uid), Some(owner.gid)).expect("chown");
        out.push(path);
    }
    (out[0].clone(), out[1].clone(), out[2].clone())
}

/// Chowns `path` and everything under it.
pub fn chown_tree(path: &Path, owner: User) {
    chown(path, Some(owner.uid), Some(owner.gid)).expect("chown");
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("read_dir") {
            chown_tree(&entry.expect("dir entry").path(), owner);
        }
    }
}

/// A free port in 20000-29999 (below the ephemeral range), checked by binding it.
pub fn free_port() -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().wrapping_mul(2_654_435_761);
    (0..10_000u32)
        .map(|i| 20_000 + ((seed.wrapping_add(i.wrapping_mul(7_919))) % 10_000) as u16)
        .find(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port in 20000-29999")
}

/// A server process in its own process group, its output in a log file.
#[derive(Debug)]
pub struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` (stdin /dev/null, stdout and stderr to `{dir}/NAME.out`) as `user`.
    pub fn spawn(name: &'static str, mut cmd: Command, dir: &Path, as_user: Option<User>) -> Self {
        let log = dir.join(format!("{name}.out"));
        let out = fs::File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .current_dir(dir)
            .process_group(0);
        if let Some(u) = as_user {
            cmd.uid(u.uid).gid(u.gid);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        Daemon { name, child, log }
    }

    /// The last lines of the server's output and of `extra` logs, for failure messages.
    pub fn tail(&self, extra: &[&Path]) -> String {
        let mut text = String::new();
        for path in std::iter::once(self.log.as_path()).chain(extra.iter().copied()) {
            let body = fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = body.lines().collect();
            let from = lines.len().saturating_sub(20);
            text.push_str(&format!(
                "--- {}\n{}\n",
                path.display(),
                lines[from..].join("\n")
            ));
        }
        text
    }

    /// Waits until `port` on 127.0.0.1 accepts and, when `greets` is given, until the first
    /// bytes the server sends satisfy it; fails at once when the server exits and at
    /// `deadline` otherwise.
    pub fn wait_ready(
        &mut self,
        port: u16,
        wait: Duration,
        greets: Option<fn(&[u8]) -> bool>,
        logs: &[&Path],
    ) {
        let deadline = Instant::now() + wait;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.tail(logs)
                );
            }
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                let Some(check) = greets else { return };
                let got = read_some(&mut stream, deadline);
                assert!(
                    check(&got),
                    "{} greeted with {:?}: a configuration error\n{}",
                    self.name,
                    String::from_utf8_lossy(&got),
                    self.tail(logs)
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready on port {port} within {wait:?}\n{}",
                self.name,
                self.tail(logs)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Reads what the server sends first, until a line end or the deadline.
fn read_some(stream: &mut TcpStream, deadline: Instant) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return got;
        }
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.contains(&b'\n') || got.len() >= 5 {
                    return got;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return got,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let group = Pid::from_raw(self.child.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to its end, killing it at `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("output"),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!(
                    "{cmd:?} still running after {limit:?}:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// What `openssl s_client -starttls PROTO` made of the server: the protocol version it
/// negotiated (`"TLSv1.3"`), or its whole output when it did not connect.
pub fn s_client(port: u16, proto: &str, extra: &[&str], ca: &Path) -> Result<String, String> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-brief",
        "-verify_return_error",
        "-starttls",
        proto,
    ])
    .arg("-connect")
    .arg(format!("127.0.0.1:{port}"))
    .arg("-CAfile")
    .arg(ca)
    .args(extra);
    let out = run_bounded(cmd, Duration::from_secs(20));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Protocol version: "))
        .map(|v| v.trim().to_string())
        .ok_or(text)
}

/// What `tlshake connect --starttls PROTO --json` made of the server: its JSON report.
pub fn tlshake(port: u16, proto: &str, extra: &[&str], ca: &Path) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.arg("connect")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .args(["--starttls", proto, "--json", "--cafile"])
        .arg(ca)
        .args(extra);
    let out = run_bounded(cmd, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
