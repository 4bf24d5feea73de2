//! `openssl s_server` as a test peer.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ChildStdin;
use std::time::{Duration, Instant};

use super::process::{Capture, Process};
use super::{default_program, version_flag, HarnessError};
use crate::bundled::CertsDir;
use crate::ProtocolVersion;

/// How long [`ServerBuilder::spawn`] waits for the `ACCEPT` line unless told otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Ports tried when the `openssl` program cannot report the port it was given by the kernel.
const BIND_ATTEMPTS: u32 = 5;

/// What `s_server` does with a connection once the handshake is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerMode {
    /// No mode flag: data from the client is printed on s_server's stdout (see
    /// [`OpensslServer::output`]). s_server's stdin stays open, so it keeps serving.
    #[default]
    Plain,
    /// `-rev`: sends back every line received, reversed (`hello` comes back as `olleh`).
    Rev,
    /// `-www`: answers `GET /` with an HTTP/1.0 status page.
    Www,
}

/// Options for an [`OpensslServer`]; start it with [`ServerBuilder::spawn`].
///
/// Defaults: the bundled `server.pem` and `server.key` ([`crate::bundled`], written to a
/// [`CertsDir`] that lives as long as the server), listening on `127.0.0.1` on a port
/// chosen by the kernel, [`ServerMode::Plain`], every protocol version OpenSSL enables.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until spawn() is called"]
pub struct ServerBuilder {
    program: OsString,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    chain: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    verify_client: Option<bool>,
    version: Option<ProtocolVersion>,
    no_tls1_3: bool,
    ipv6: bool,
    mode: ServerMode,
    alpn: Option<String>,
    args: Vec<OsString>,
    ready_timeout: Duration,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            program: default_program(),
            cert: None,
            key: None,
            chain: None,
            ca_file: None,
            verify_client: None,
            version: None,
            no_tls1_3: false,
            ipv6: false,
            mode: ServerMode::Plain,
            alpn: None,
            args: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }
}

impl ServerBuilder {
    /// The `openssl` program to run; the default is `$TLSHAKE_OPENSSL`, or `openssl` from `PATH`.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// The server certificate file (`-cert`), PEM.
    pub fn cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert = Some(path.into());
        self
    }

    /// The private key of the certificate (`-key`), PEM.
    pub fn key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }

    /// Intermediate certificates sent after the leaf (`-cert_chain`), PEM.
    pub fn chain(mut self, path: impl Into<PathBuf>) -> Self {
        self.chain = Some(path.into());
        self
    }

    /// Trusted CAs for verifying client certificates (`-CAfile`), PEM.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Asks the client for a certificate: `required` uses `-Verify` (the handshake fails
    /// without one), otherwise `-verify` (a certificate is requested but optional). The chain
    /// depth allowed is 10.
    pub fn verify_client(mut self, required: bool) -> Self {
        self.verify_client = Some(required);
        self
    }

    /// Accepts only `version` (`-tls1_2`, `-tls1_3`, ...). SSL 2.0 is passed as `-ssl2`, which
    /// OpenSSL refuses, so `spawn` then fails with [`HarnessError::Exited`].
    pub fn version(mut self, version: ProtocolVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Disables TLS 1.3 (`-no_tls1_3`).
    pub fn no_tls1_3(mut self) -> Self {
        self.no_tls1_3 = true;
        self
    }

    /// Listens on `[::1]` instead of `127.0.0.1`.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// What to do with connections; see [`ServerMode`].
    pub fn mode(mut self, mode: ServerMode) -> Self {
        self.mode = mode;
        self
    }

    /// Protocols offered for ALPN (`-alpn`), comma-separated: `"h2,http/1.1"`.
    pub fn alpn(mut self, protocols: &str) -> Self {
        self.alpn = Some(protocols.to_string());
        self
    }

    /// One more argument passed to s_server as is, after all the others.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// How long to wait for s_server to report that it listens (default 10 seconds).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts s_server and returns once it listens.
    ///
    /// The port is chosen by the kernel (`-accept 127.0.0.1:0`) and read back from the
    /// `ACCEPT 127.0.0.1:PORT` line that OpenSSL 3 prints. With an `openssl` that prints a bare
    /// `ACCEPT`, a free port is picked instead and s_server is restarted on another one if it
    /// cannot bind.
    ///
    /// # Errors
    /// [`HarnessError::Spawn`] if the program cannot be run, [`HarnessError::Exited`] if
    /// s_server exits first (bad option, missing file, wrong key), [`HarnessError::NotReady`] if
    /// it prints no `ACCEPT` line within the ready timeout.
    pub fn spawn(&self) -> Result<OpensslServer, HarnessError> {
        let ip = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        // The bundled certificate and key, on disk for as long as the server runs.
        let bundled = if self.cert.is_none() || self.key.is_none() {
            Some(CertsDir::write().map_err(HarnessError::BundledFiles)?)
        } else {
            None
        };
        let started = self.spawn_on(SocketAddr::new(ip, 0), bundled.as_ref())?;
        if let Some(addr) = started.reported {
            return Ok(started.into_server(addr, bundled));
        }
        // This openssl does not say which port the kernel gave it: choose one ourselves.
        drop(started);
        let mut attempt = 1;
        loop {
            let addr = free_port(ip)?;
            match self.spawn_on(addr, bundled.as_ref()) {
                Ok(started) => return Ok(started.into_server(addr, bundled)),
                Err(e) if attempt < BIND_ATTEMPTS && is_bind_failure(&e) => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn args(&self, accept: SocketAddr, bundled: Option<&CertsDir>) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["s_server".into(), "-accept".into()];
        args.push(accept.to_string().into());
        let file = |chosen: &Option<PathBuf>, default: &str| {
            chosen
                .clone()
                .or_else(|| bundled.map(|b| b.path(default)))
                .unwrap_or_else(|| PathBuf::from(default))
        };
        args.extend([
            "-cert".into(),
            file(&self.cert, "server.pem").into_os_string(),
        ]);
        args.extend([
            "-key".into(),
            file(&self.key, "server.key").into_os_string(),
        ]);
        if let Some(chain) = &self.chain {
            args.extend(["-cert_chain".into(), chain.clone().into_os_string()]);
        }
        if let Some(ca) = &self.ca_file {
            args.extend(["-CAfile".into(), ca.clone().into_os_string()]);
        }
        match self.verify_client {
            Some(true) => args.extend(["-Verify".into(), "10".into()]),
            Some(false) => args.extend(["-verify".into(), "10".into()]),
            None => {}
        }
        if let Some(version) = self.version {
            args.push(version_flag(version).into());
        }
        if self.no_tls1_3 {
            args.push("-no_tls1_3".into());
        }
        match self.mode {
            ServerMode::Plain => {}
            ServerMode::Rev => args.push("-rev".into()),
            ServerMode::Www => args.push("-www".into()),
        }
        if let Some(alpn) = &self.alpn {
            args.extend(["-alpn".into(), alpn.into()]);
        }
        args.extend(self.args.iter().cloned());
        args
    }

    fn spawn_on(
        &self,
        accept: SocketAddr,
        bundled: Option<&CertsDir>,
    ) -> Result<Started, HarnessError> {
        let (mut process, stdin) = Process::spawn(&self.program, &self.args(accept, bundled))?;
        let deadline = Instant::now() + self.ready_timeout;
        let mut accept_line = None;
        process.wait_until(deadline, |c: &Capture| {
            accept_line = parse_accept(&c.stdout);
            accept_line.is_some() || c.open_streams == 0
        });
        match accept_line {
            Some(reported) => Ok(Started {
                process,
                stdin,
                reported: reported.or(Some(accept).filter(|a| a.port() != 0)),
            }),
            None => {
                let exited = process.with_capture(|c| c.open_streams == 0);
                let status = process.kill_and_reap();
                let output = process.output();
                match status {
                    Some(status) if exited => Err(HarnessError::Exited { status, output }),
                    _ => Err(HarnessError::NotReady {
                        waited: self.ready_timeout,
                        output,
                    }),
                }
            }
        }
    }
}

/// An s_server that printed `ACCEPT`, before it becomes an [`OpensslServer`].
#[derive(Debug)]
struct Started {
    process: Process,
    stdin: ChildStdin,
    /// The address s_server listens on, when known.
    reported: Option<SocketAddr>,
}

impl Started {
    fn into_server(self, addr: SocketAddr, bundled: Option<CertsDir>) -> OpensslServer {
        OpensslServer {
            process: self.process,
            stdin: self.stdin,
            addr,
            _bundled: bundled,
        }
    }
}

/// A running `openssl s_server`, listening until dropped.
///
/// s_server serves one connection at a time: a second client waits in the listen backlog
/// until the first connection ends, so close (or drop) each connection before the next.
///
/// Dropping it kills and reaps the process. Its stdin is a pipe held open for its whole life:
/// in [`ServerMode::Plain`] s_server reads stdin and would quit at end of file.
#[derive(Debug)]
pub struct OpensslServer {
    process: Process,
    stdin: ChildStdin,
    addr: SocketAddr,
    /// The bundled certificate and key s_server reads, when no others were given. Declared
    /// after `process`, so the files outlive the process.
    _bundled: Option<CertsDir>,
}

impl OpensslServer {
    /// A builder with the defaults described on [`ServerBuilder`].
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Writes `bytes` to s_server's standard input. In [`ServerMode::Plain`] each line goes
    /// to the client, except s_server's commands, each a line of its own: `R` renegotiates
    /// and asks for a client certificate, `r` renegotiates (TLS 1.2 and older), `K` sends a
    /// KeyUpdate that asks for one back, `k` one that does not (TLS 1.3), `Q` quits. Lines
    /// written together may be read together: s_server takes a command only from a read that
    /// holds that line alone.
    ///
    /// # Errors
    /// The write's error (a broken pipe once s_server exited).
    pub fn send_stdin(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.stdin.write_all(bytes)?;
        self.stdin.flush()
    }

    /// The address s_server listens on (`127.0.0.1:PORT` or `[::1]:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port s_server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The process id of s_server.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Everything s_server wrote so far, stdout and stderr together, in arrival order.
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// Waits until s_server's output contains `needle`, at most `timeout`; returns whether it
    /// does. Wakes up as output arrives, not on a timer.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let needle = needle.as_bytes();
        self.process
            .wait_until(Instant::now() + timeout, |c| contains(&c.combined, needle))
    }
}

/// Finds s_server's `ACCEPT` line among the complete lines of `stdout`: `Some(Some(addr))` for
/// `ACCEPT 127.0.0.1:4433`, `Some(None)` for a bare `ACCEPT`, `None` if it is not there yet.
fn parse_accept(stdout: &[u8]) -> Option<Option<SocketAddr>> {
    // Only lines that ended: a half-written port number must not be read.
    let end = stdout.iter().rposition(|&b| b == b'\n')?;
    let complete = String::from_utf8_lossy(stdout.get(..end)?);
    complete.lines().find_map(|line| {
        let line = line.trim_end();
        if line == "ACCEPT" {
            Some(None)
        } else {
            line.strip_prefix("ACCEPT ")
                .map(|rest| rest.trim().parse::<SocketAddr>().ok())
        }
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn free_port(ip: IpAddr) -> Result<SocketAddr, HarnessError> {
    Ok(TcpListener::bind(SocketAddr::new(ip, 0))?.local_addr()?)
}

fn is_bind_failure(e: &HarnessError) -> bool {
    matches!(e, HarnessError::Exited { output, .. } if output.contains("bind") || output.contains("in use"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_line_with_and_without_address() {
        let v4 = b"Using default temp DH parameters\nACCEPT 127.0.0.1:37979\n";
        assert_eq!(
            parse_accept(v4),
            Some(Some("127.0.0.1:37979".parse().unwrap()))
        );
        let v6 = b"ACCEPT [::1]:34529\n";
        assert_eq!(parse_accept(v6), Some(Some("[::1]:34529".parse().unwrap())));
        assert_eq!(parse_accept(b"ACCEPT\n"), Some(None));
    }

    #[test]
    fn accept_line_must_be_complete() {
        assert_eq!(parse_accept(b"ACCEPT 127.0.0.1:379"), None);
        assert_eq!(parse_accept(b"Using default temp DH parameters\n"), None);
        assert_eq!(parse_accept(b""), None);
    }

    #[test]
    fn arguments_follow_the_options() {
        let builder = OpensslServer::builder()
            .program("openssl")
            .cert("c.pem")
            .key("k.pem")
            .chain("chain.pem")
            .ca_file("ca.pem")
            .verify_client(true)
            .version(ProtocolVersion::Tls1_2)
            .no_tls1_3()
            .mode(ServerMode::Rev)
            .alpn("h2")
            .arg("-quiet");
        let args = builder.args("[::1]:0".parse().unwrap(), None);
        let expected = [
            "s_server",
            "-accept",
            "[::1]:0",
            "-cert",
            "c.pem",
            "-key",
            "k.pem",
            "-cert_chain",
            "chain.pem",
            "-CAfile",
            "ca.pem",
            "-Verify",
            "10",
            "-tls1_2",
            "-no_tls1_3",
            "-rev",
            "-alpn",
            "h2",
            "-quiet",
        ];
        assert_eq!(args, expected.map(OsString::from));
    }
}
