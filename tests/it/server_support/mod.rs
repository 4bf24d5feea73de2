//! Helpers of the server tests: a listener on loopback, a thread that collects its events,
//! and real peers (`openssl s_client`, `gnutls-cli`, `curl`) run with a time limit.

use crate::common;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tlshake::server::{Accepted, ServerConfig, ServerEvent, TlsListener};

/// How long any peer process may run.
pub const PEER_LIMIT: Duration = Duration::from_secs(15);

/// `certs/<name>`.
pub fn cert(name: &str) -> PathBuf {
    common::cert(name)
}

/// A configuration on 127.0.0.1, any port, with `certs/server.pem`.
pub fn base_config() -> tlshake::server::ServerConfigBuilder {
    ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(cert("server.pem"), cert("server.key"))
}

/// Runs the listener in a thread until it reported `count` events or `limit` passed; each
/// established connection is given to `on_established` first. Returns the events.
pub fn serve<F>(
    mut listener: TlsListener,
    count: usize,
    limit: Duration,
    mut on_established: F,
) -> JoinHandle<Vec<ServerEvent>>
where
    F: FnMut(&mut Accepted) + Send + 'static,
{
    thread::spawn(move || {
        let deadline = Instant::now() + limit;
        let mut events = Vec::new();
        while events.len() < count {
            match listener.next_event(Some(deadline)) {
                Ok(Some(mut event)) => {
                    if let ServerEvent::Established(accepted) = &mut event {
                        on_established(accepted);
                    }
                    events.push(event);
                }
                Ok(None) => break,
                Err(e) => panic!("listener failed: {e}"),
            }
        }
        events
    })
}

/// Binds `config` and serves `count` events in a thread (15 s at most).
pub fn start(
    config: &tlshake::server::ServerConfigBuilder,
    count: usize,
) -> (SocketAddr, JoinHandle<Vec<ServerEvent>>) {
    let listener = TlsListener::bind(&crate::common::built(config)).expect("bind");
    let addr = listener.local_addr();
    (addr, serve(listener, count, PEER_LIMIT, |_| {}))
}

/// What a peer process did.
#[derive(Debug)]
pub struct PeerRun {
    /// Its exit status (`None`: killed at the time limit).
    pub status: Option<ExitStatus>,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl PeerRun {
    /// Standard output and error together.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// True when it exited with status 0.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The certificate s_client printed under `Server certificate` (the leaf the server
    /// sent): see [`common::certificate_after`].
    pub fn server_certificate(&self) -> openssl::x509::X509 {
        common::certificate_after(&self.stdout, "Server certificate")
            .unwrap_or_else(|| panic!("no server certificate in the output:\n{}", self.output()))
    }
}

/// Runs `command` with `stdin` written then closed, kills it at `limit`, always reaps it.
pub fn run_peer(mut command: Command, stdin: &[u8], limit: Duration) -> PeerRun {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn the peer");
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
        // Dropping closes stdin: the peer ends the session after the handshake.
    }
    let status = wait_with_limit(&mut child, limit);
    PeerRun {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// `openssl s_client` against `addr`, trusting `certs/ca.pem`, checking the certificate, with
/// SNI `localhost` unless `args` has its own `-servername`; stdin is closed at once.
pub fn s_client(addr: SocketAddr, args: &[&str]) -> PeerRun {
    let mut command = Command::new("openssl");
    command
        .arg("s_client")
        .arg("-connect")
        .arg(addr.to_string())
        .arg("-CAfile")
        .arg(cert("ca.pem"))
        .arg("-verify_return_error");
    if !args.contains(&"-servername") && !args.contains(&"-noservername") {
        command.args(["-servername", "localhost"]);
    }
    command.args(args);
    run_peer(command, b"", PEER_LIMIT)
}

/// True when `program` is on the PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .is_ok_and(|s| s.success())
}

/// The single event of kind Established, or a panic listing what came instead.
pub fn established(events: Vec<ServerEvent>) -> Accepted {
    let names: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    for event in events {
        if let ServerEvent::Established(accepted) = event {
            return accepted;
        }
    }
    panic!("no established connection; events: {names:#?}");
}

/// The handshake error of the single failed event, or a panic listing what came instead.
pub fn failure(events: Vec<ServerEvent>) -> tlshake::HandshakeError {
    let names: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    for event in events {
        if let ServerEvent::Failed { error, .. } = event {
            return error;
        }
    }
    panic!("no failed handshake; events: {names:#?}");
}
