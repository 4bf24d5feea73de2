//! `openssl s_client` as a test peer.

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::process::Process;
use super::report::ClientRun;
use super::{default_program, version_flag, HarnessError};
use crate::ProtocolVersion;

/// Which server name s_client sends (SNI).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ServerName {
    /// s_client's default: the host of `-connect`.
    Default,
    /// `-servername NAME`.
    Name(String),
    /// `-noservername`.
    Omitted,
}

/// Options for an [`OpensslClient`]; start it with [`ClientBuilder::spawn`].
///
/// s_client always runs with `-state` (its handshake progress, which [`ClientRun`] reads) and
/// `-nocommands` (so the bytes given to [`send`](ClientBuilder::send) are sent as they are, never
/// taken as commands such as `Q` or `R`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until spawn() is called"]
pub struct ClientBuilder {
    program: OsString,
    addr: SocketAddr,
    servername: ServerName,
    ca_file: Option<PathBuf>,
    verify_return_error: bool,
    verify_hostname: Option<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    version: Option<ProtocolVersion>,
    alpn: Option<String>,
    brief: bool,
    send: Vec<u8>,
    keep_stdin_open: bool,
    args: Vec<OsString>,
}

impl ClientBuilder {
    fn new(addr: SocketAddr) -> Self {
        ClientBuilder {
            program: default_program(),
            addr,
            servername: ServerName::Default,
            ca_file: None,
            verify_return_error: false,
            verify_hostname: None,
            cert: None,
            key: None,
            version: None,
            alpn: None,
            brief: false,
            send: Vec::new(),
            keep_stdin_open: false,
            args: Vec::new(),
        }
    }

    /// The `openssl` program to run; the default is `$TLSHAKE_OPENSSL`, or `openssl` from `PATH`.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// Sends `name` as the server name, SNI (`-servername`).
    pub fn servername(mut self, name: &str) -> Self {
        self.servername = ServerName::Name(name.to_string());
        self
    }

    /// Sends no server name at all (`-noservername`).
    pub fn no_servername(mut self) -> Self {
        self.servername = ServerName::Omitted;
        self
    }

    /// Trusted CAs for verifying the server (`-CAfile`), PEM.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Fails the handshake when the server's certificate does not verify
    /// (`-verify_return_error`); without it s_client reports the error and carries on.
    pub fn verify_return_error(mut self) -> Self {
        self.verify_return_error = true;
        self
    }

    /// Checks that the server's certificate is valid for `name` (`-verify_hostname`).
    pub fn verify_hostname(mut self, name: &str) -> Self {
        self.verify_hostname = Some(name.to_string());
        self
    }

    /// Client certificate (`-cert`), PEM.
    pub fn cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert = Some(path.into());
        self
    }

    /// Private key of the client certificate (`-key`), PEM.
    pub fn key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }

    /// Offers only `version` (`-tls1_2`, `-tls1_3`, ...).
    pub fn version(mut self, version: ProtocolVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Protocols offered for ALPN (`-alpn`), comma-separated.
    pub fn alpn(mut self, protocols: &str) -> Self {
        self.alpn = Some(protocols.to_string());
        self
    }

    /// Runs s_client with `-brief`: a short summary on stderr instead of the full report.
    /// [`ClientRun`]'s helpers read both forms; the brief one has no ALPN line.
    pub fn brief(mut self) -> Self {
        self.brief = true;
        self
    }

    /// Bytes written to s_client's stdin as soon as it starts. s_client reads them once the
    /// handshake is done and sends them to the server.
    ///
    /// After the bytes, stdin is closed, and s_client exits once it has sent them (it prints
    /// `DONE`): that may be before the server's answer arrives. To read an answer, add
    /// [`keep_stdin_open`](ClientBuilder::keep_stdin_open), wait for the answer with
    /// [`OpensslClient::wait_for_output`], then call [`OpensslClient::wait`].
    pub fn send(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.send = bytes.into();
        self
    }

    /// Keeps s_client's stdin open after the bytes to [`send`](ClientBuilder::send), so it
    /// stays connected until [`OpensslClient::close_stdin`] or [`OpensslClient::wait`].
    pub fn keep_stdin_open(mut self) -> Self {
        self.keep_stdin_open = true;
        self
    }

    /// One more argument passed to s_client as is, after all the others.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["s_client".into(), "-connect".into()];
        args.push(self.addr.to_string().into());
        args.extend(["-state".into(), "-nocommands".into()]);
        match &self.servername {
            ServerName::Default => {}
            ServerName::Name(name) => args.extend(["-servername".into(), name.into()]),
            ServerName::Omitted => args.push("-noservername".into()),
        }
        if let Some(ca) = &self.ca_file {
            args.extend(["-CAfile".into(), ca.clone().into_os_string()]);
        }
        if self.verify_return_error {
            args.push("-verify_return_error".into());
        }
        if let Some(name) = &self.verify_hostname {
            args.extend(["-verify_hostname".into(), name.into()]);
        }
        if let Some(cert) = &self.cert {
            args.extend(["-cert".into(), cert.clone().into_os_string()]);
        }
        if let Some(key) = &self.key {
            args.extend(["-key".into(), key.clone().into_os_string()]);
        }
        if let Some(version) = self.version {
            args.push(version_flag(version).into());
        }
        if let Some(alpn) = &self.alpn {
            args.extend(["-alpn".into(), alpn.into()]);
        }
        if self.brief {
            args.push("-brief".into());
        }
        args.extend(self.args.iter().cloned());
        args
    }

    /// Starts s_client. It connects and handshakes on its own; collect the result with
    /// [`OpensslClient::wait`].
    ///
    /// # Errors
    /// [`HarnessError::Spawn`] if the program cannot be run, [`HarnessError::Io`] if a thread
    /// cannot be started.
    pub fn spawn(&self) -> Result<OpensslClient, HarnessError> {
        let (process, mut stdin) = Process::spawn(&self.program, &self.args())?;
        let (close, closed) = mpsc::channel::<()>();
        let bytes = self.send.clone();
        let keep_open = self.keep_stdin_open;
        // A thread, because s_client reads stdin only after the handshake: a large `send`
        // must not block the caller. It ends with a write error if s_client dies first.
        let writer = thread::Builder::new()
            .name("openssl-stdin".into())
            .spawn(move || {
                if !bytes.is_empty() {
                    let _ = stdin.write_all(&bytes).and_then(|()| stdin.flush());
                }
                if keep_open {
                    // Returns once the sender is dropped: close_stdin, wait or drop.
                    let _ = closed.recv();
                }
                drop(stdin);
            })?;
        Ok(OpensslClient {
            process,
            close_stdin: Some(close),
            writer: Some(writer),
        })
    }
}

/// A running `openssl s_client`.
///
/// Dropping it kills and reaps the process.
#[derive(Debug)]
pub struct OpensslClient {
    process: Process,
    close_stdin: Option<Sender<()>>,
    writer: Option<JoinHandle<()>>,
}

impl OpensslClient {
    /// A builder for an s_client that connects to `addr`.
    pub fn builder(addr: SocketAddr) -> ClientBuilder {
        ClientBuilder::new(addr)
    }

    /// The process id of s_client.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Everything s_client wrote so far, stdout and stderr together, in arrival order.
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// Waits until s_client's output contains `needle`, at most `timeout`; returns whether it
    /// does. Wakes up as output arrives, not on a timer.
    ///
    /// stderr (`-state` progress, errors) arrives at once; stdout is buffered by s_client and
    /// flushed after the handshake report and after each piece of data from the server.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let needle = needle.as_bytes();
        self.process.wait_until(Instant::now() + timeout, |c| {
            needle.is_empty() || c.combined.windows(needle.len()).any(|w| w == needle)
        })
    }

    /// Closes s_client's stdin (once the bytes to send are written). s_client then sends a
    /// close_notify, prints `DONE` and exits.
    pub fn close_stdin(&mut self) {
        self.close_stdin = None;
    }

    /// Closes stdin (see [`close_stdin`](OpensslClient::close_stdin)) and waits at most
    /// `timeout` for s_client to exit.
    ///
    /// # Errors
    /// [`HarnessError::Timeout`] if s_client still runs after `timeout`; it is killed, and the
    /// error carries its output. [`HarnessError::Io`] if its status cannot be read.
    pub fn wait(mut self, timeout: Duration) -> Result<ClientRun, HarnessError> {
        self.close_stdin();
        let status = self.process.wait_exit(Instant::now() + timeout)?;
        self.finish();
        let Some(status) = status else {
            return Err(HarnessError::Timeout {
                waited: timeout,
                output: self.process.output(),
            });
        };
        let (stdout, stderr) = self.process.with_capture(|c| {
            (
                String::from_utf8_lossy(&c.stdout).into_owned(),
                String::from_utf8_lossy(&c.stderr).into_owned(),
            )
        });
        Ok(ClientRun {
            status,
            stdout,
            stderr,
        })
    }

    /// Kills (if still running) and reaps s_client, then ends the stdin writer thread.
    fn finish(&mut self) {
        self.process.kill_and_reap();
        self.close_stdin = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Drop for OpensslClient {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_follow_the_options() {
        let builder = OpensslClient::builder("127.0.0.1:4433".parse().unwrap())
            .servername("localhost")
            .ca_file("ca.pem")
            .verify_return_error()
            .verify_hostname("localhost")
            .cert("c.pem")
            .key("k.pem")
            .version(ProtocolVersion::Tls1_3)
            .alpn("h2,http/1.1")
            .brief()
            .arg("-showcerts");
        let expected = [
            "s_client",
            "-connect",
            "127.0.0.1:4433",
            "-state",
            "-nocommands",
            "-servername",
            "localhost",
            "-CAfile",
            "ca.pem",
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-cert",
            "c.pem",
            "-key",
            "k.pem",
            "-tls1_3",
            "-alpn",
            "h2,http/1.1",
            "-brief",
            "-showcerts",
        ];
        assert_eq!(builder.args(), expected.map(OsString::from));
    }

    #[test]
    fn ipv6_address_and_no_servername() {
        let args = OpensslClient::builder("[::1]:8443".parse().unwrap())
            .no_servername()
            .args();
        let expected = [
            "s_client",
            "-connect",
            "[::1]:8443",
            "-state",
            "-nocommands",
            "-noservername",
        ];
        assert_eq!(args, expected.map(OsString::from));
    }
}
