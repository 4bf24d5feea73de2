//! A child `openssl` process whose stdout and stderr are captured as they arrive.
//!
//! Two reader threads copy the pipes into a shared buffer and signal a condition variable, so
//! callers wait for a line (or for the process to close its output) without polling. Dropping a
//! [`Process`] kills and reaps the child and joins the readers: no zombies, no open pipes.

use std::ffi::OsString;
use std::io::{self, Read};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::HarnessError;

/// How long to wait for the exit status once the child has closed its output.
const REAP_GRACE: Duration = Duration::from_secs(2);
/// Pause between two `try_wait` calls while a closing child becomes reapable.
const REAP_POLL: Duration = Duration::from_millis(2);

/// Everything the child has written so far.
#[derive(Debug, Default)]
pub(super) struct Capture {
    /// Bytes from stdout.
    pub(super) stdout: Vec<u8>,
    /// Bytes from stderr.
    pub(super) stderr: Vec<u8>,
    /// Bytes from both, in the order the reader threads received them.
    pub(super) combined: Vec<u8>,
    /// Pipes not yet at end of file (2, then 1, then 0 once the child closed both).
    pub(super) open_streams: u8,
}

#[derive(Debug, Default)]
struct Shared {
    capture: Mutex<Capture>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Capture> {
        self.capture.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// A running `openssl` child process with captured output.
#[derive(Debug)]
pub(super) struct Process {
    child: Child,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Process {
    /// Starts `program` with `args`, stdin piped (returned to the caller), stdout and stderr
    /// captured.
    pub(super) fn spawn(
        program: &OsString,
        args: &[OsString],
    ) -> Result<(Process, ChildStdin), HarnessError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| HarnessError::Spawn {
                program: program.clone(),
                source,
            })?;
        let shared = Arc::new(Shared::default());
        shared.lock().open_streams = 2;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let mut process = Process {
            child,
            shared,
            readers: Vec::with_capacity(2),
            status: None,
        };
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            return Err(HarnessError::Io(io::Error::other(
                "the openssl child process was started without its pipes",
            )));
        };
        // On error `process` is dropped here, which kills and reaps the child.
        process.read_into(Stream::Stdout, stdout)?;
        process.read_into(Stream::Stderr, stderr)?;
        Ok((process, stdin))
    }

    fn read_into(
        &mut self,
        stream: Stream,
        mut pipe: impl Read + Send + 'static,
    ) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        let reader = thread::Builder::new()
            .name(format!("openssl-{stream:?}").to_ascii_lowercase())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    let n = match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let chunk = buf.get(..n).unwrap_or_default();
                    let mut capture = shared.lock();
                    match stream {
                        Stream::Stdout => capture.stdout.extend_from_slice(chunk),
                        Stream::Stderr => capture.stderr.extend_from_slice(chunk),
                    }
                    capture.combined.extend_from_slice(chunk);
                    drop(capture);
                    shared.changed.notify_all();
                }
                shared.lock().open_streams -= 1;
                shared.changed.notify_all();
            });
        match reader {
            Ok(handle) => {
                self.readers.push(handle);
                Ok(())
            }
            Err(e) => {
                // The pipe went with the closure; count it as closed so waits still end.
                self.shared.lock().open_streams -= 1;
                Err(e)
            }
        }
    }

    /// The operating system's id of the child.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `done` holds for the captured output or `deadline` passes; returns whether
    /// `done` held. Wakes up on every chunk of output, never on a timer.
    pub(super) fn wait_until(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&Capture) -> bool,
    ) -> bool {
        let mut capture = self.shared.lock();
        loop {
            if done(&capture) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            capture = self
                .shared
                .changed
                .wait_timeout(capture, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Calls `f` with the output captured so far.
    pub(super) fn with_capture<T>(&self, f: impl FnOnce(&Capture) -> T) -> T {
        f(&self.shared.lock())
    }

    /// Stdout and stderr together, in arrival order, decoded lossily as UTF-8.
    pub(super) fn output(&self) -> String {
        self.with_capture(|c| String::from_utf8_lossy(&c.combined).into_owned())
    }

    /// Waits until the child has closed its output, then for its exit status, until
    /// `deadline`. Returns `None` if it is still running at the deadline.
    pub(super) fn wait_exit(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        if !self.wait_until(deadline, |c| c.open_streams == 0) {
            return Ok(None);
        }
        // Output closed: the child is exiting. Reaping it is a matter of moments.
        let reap_deadline = deadline.max(Instant::now() + REAP_GRACE);
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.status = Some(status);
                return Ok(Some(status));
            }
            let now = Instant::now();
            if now >= reap_deadline {
                return Ok(None);
            }
            thread::sleep(REAP_POLL.min(reap_deadline - now));
        }
    }

    /// Kills the child if it still runs, reaps it and joins the reader threads. Returns the
    /// exit status, if one could be collected.
    pub(super) fn kill_and_reap(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = match self.child.try_wait() {
                Ok(Some(status)) => Some(status),
                _ => {
                    // SIGKILL cannot be caught; `wait` returns as soon as the kernel is done.
                    let _ = self.child.kill();
                    self.child.wait().ok()
                }
            };
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}
