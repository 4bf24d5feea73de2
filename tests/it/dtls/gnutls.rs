//! GnuTLS's DTLS peers: `gnutls-serv --udp` (started, ready when it says it listens,
//! killed and reaped on drop) and `gnutls-cli --udp` (run to its end within a limit).

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::server_support::{cert, have, run_peer, PeerRun, PEER_LIMIT};

/// How long gnutls-serv may take to say it listens.
const READY: Duration = Duration::from_secs(10);

pub(crate) fn require() {
    assert!(
        have("gnutls-serv") && have("gnutls-cli"),
        "gnutls-serv and gnutls-cli are not installed: install the Debian package gnutls-bin \
         (scripts/test.sh does)"
    );
}

/// A running `gnutls-serv --udp` on 127.0.0.1 (and ::), on a free port.
pub(crate) struct GnutlsServ {
    child: Child,
    pub(crate) port: u16,
    output: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl GnutlsServ {
    /// Starts gnutls-serv with `cert`/`key` from certs/ and `extra` arguments; ready once it
    /// printed the line saying it listens on the port, within 10 s.
    pub(crate) fn start(cert_name: &str, key_name: &str, extra: &[&str]) -> GnutlsServ {
        require();
        // gnutls-serv does not say which port `-p 0` got: take one the kernel just handed
        // out for UDP, and try another if gnutls-serv cannot bind it.
        for _ in 0..3 {
            let port = UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .expect("a free UDP port")
                .port();
            let mut child = Command::new("gnutls-serv")
                .arg("--udp")
                .args(["-p", &port.to_string()])
                .arg("--x509certfile")
                .arg(cert(cert_name))
                .arg("--x509keyfile")
                .arg(cert(key_name))
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn gnutls-serv");
            let (tx, output) = mpsc::channel();
            for pipe in [
                child
                    .stdout
                    .take()
                    .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
                child
                    .stderr
                    .take()
                    .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            ]
            .into_iter()
            .flatten()
            {
                let tx = tx.clone();
                thread::spawn(move || {
                    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
            }
            let mut server = GnutlsServ {
                child,
                port,
                output,
                seen: Vec::new(),
            };
            if server.wait_for(&format!("port {port}...done"), READY) {
                return server;
            }
        }
        panic!("gnutls-serv did not start listening");
    }

    /// Waits until a line containing `needle` was printed, for at most `limit`.
    pub(crate) fn wait_for(&mut self, needle: &str, limit: Duration) -> bool {
        if self.seen.iter().any(|l| l.contains(needle)) {
            return true;
        }
        let deadline = Instant::now() + limit;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }
}

impl Drop for GnutlsServ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `gnutls-cli --udp` to 127.0.0.1:`port` trusting certs/ca.pem, checking the name
/// `localhost`, writing `stdin` and closing it, with `extra` arguments.
pub(crate) fn gnutls_cli(port: u16, stdin: &[u8], extra: &[&str]) -> PeerRun {
    require();
    let mut command = Command::new("gnutls-cli");
    command
        .arg("--udp")
        .args(["-p", &port.to_string()])
        .arg("--x509cafile")
        .arg(cert("ca.pem"))
        .args(["--verify-hostname", "localhost"])
        .args(extra)
        .arg("127.0.0.1");
    run_peer(command, stdin, PEER_LIMIT)
}
