//! Real OpenSSL peers for tests: `openssl s_server` and `openssl s_client` as child processes.
//!
//! This is how you test your own TLS code (built on tlshake or not) against the reference
//! implementation rather than against itself: start an [`OpensslServer`] and connect your
//! client to [`OpensslServer::addr`], or listen with your server and point an
//! [`OpensslClient`] at it, then read what OpenSSL saw from the [`ClientRun`].
//!
//! Nothing here sleeps and hopes. [`ServerBuilder::spawn`] returns once s_server has printed
//! its `ACCEPT` line (so it listens), on a port the kernel chose; waits wake up as output
//! arrives and are bounded by timeouts; dropping a peer kills and reaps its process.
//!
//! The certificates default to the bundled test ones ([`crate::bundled`]); the `openssl`
//! program is `$TLSHAKE_OPENSSL` if set, else `openssl` from `PATH`. Enable the `harness`
//! feature to use this module, usually as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! tlshake = { version = "0.1", features = ["harness"] }
//! ```
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
//! use tlshake::bundled::CertsDir;
//! use tlshake::ProtocolVersion;
//!
//! # fn main() -> Result<(), tlshake::harness::HarnessError> {
//! // A TLS 1.3 echo server (it sends lines back reversed), listening before spawn returns.
//! let server = OpensslServer::builder()
//!     .version(ProtocolVersion::Tls1_3)
//!     .mode(ServerMode::Rev)
//!     .spawn()?;
//! // ... connect the client under test to server.addr() ...
//!
//! // And the other way round: an s_client that verifies the server against the test CA.
//! let certs = CertsDir::write().expect("bundled certificates written");
//! let run = OpensslClient::builder(server.addr())
//!     .servername("localhost")
//!     .ca_file(certs.path("ca.pem"))
//!     .verify_return_error()
//!     .spawn()?
//!     .wait(Duration::from_secs(10))?;
//! assert!(run.verify_ok());
//! assert_eq!(run.protocol().as_deref(), Some("TLSv1.3"));
//! # Ok(())
//! # }
//! ```

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use crate::ProtocolVersion;

mod client;
mod process;
mod report;
mod server;
pub mod verify_param;

pub use client::{ClientBuilder, OpensslClient};
pub use report::ClientRun;
pub use server::{OpensslServer, ServerBuilder, ServerMode, DEFAULT_READY_TIMEOUT};

/// The environment variable that names the `openssl` program to run.
pub const OPENSSL_PROGRAM_ENV: &str = "TLSHAKE_OPENSSL";

/// Why an OpenSSL peer could not be started or did not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The `openssl` program could not be started (usually: it is not installed).
    Spawn {
        /// The program that was run.
        program: OsString,
        /// The error from starting it.
        #[source]
        source: io::Error,
    },
    /// The bundled certificate and key could not be written to a temporary directory for
    /// s_server to read ([`crate::bundled::CertsDir::write`]).
    BundledFiles(#[source] io::Error),
    /// s_server kept running but did not print its `ACCEPT` line in time; it was killed.
    NotReady {
        /// How long it was given.
        waited: Duration,
        /// What it printed, stdout and stderr together.
        output: String,
    },
    /// s_server exited before it listened: a bad option, a missing or unreadable file, a key
    /// that does not match the certificate, an address that is in use.
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// What it printed, stdout and stderr together.
        output: String,
    },
    /// s_client did not exit in time; it was killed.
    Timeout {
        /// How long it was given.
        waited: Duration,
        /// What it printed, stdout and stderr together.
        output: String,
    },
    /// An I/O error while managing the child process (starting a thread, reading its status).
    Io(#[from] io::Error),
}
impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Spawn { program, source, .. } => write!(f, "could not run {program:?} ({kind}): install the openssl command-line tool \
         (e.g. `apt-get install openssl`), or set {OPENSSL_PROGRAM_ENV} to its path", kind = source.kind())?,
            HarnessError::BundledFiles(_) => write!(f, "could not write the bundled certificate and key to the temporary directory; check that it is writable (TMPDIR)")?,
            HarnessError::NotReady { waited, output, .. } => write!(f, "openssl s_server did not start listening within {waited:?}; it was killed. Raise the \
         ready timeout if the machine is slow. Its output:\n{output}")?,
            HarnessError::Exited { status, output, .. } => write!(f, "openssl s_server exited ({status}) before it started listening; check the options and \
         files given to it. Its output:\n{output}")?,
            HarnessError::Timeout { waited, output, .. } => write!(f, "openssl s_client did not exit within {waited:?}; it was killed. Is the peer answering? \
         Its output:\n{output}")?,
            HarnessError::Io(io) => write!(f, "I/O error while managing an openssl process ({kind})", kind = io.kind())?,
        }
        crate::error::write_causes(self, f)
    }
}

/// `$TLSHAKE_OPENSSL`, or `openssl`.
fn default_program() -> OsString {
    std::env::var_os(OPENSSL_PROGRAM_ENV).unwrap_or_else(|| "openssl".into())
}

/// The s_server / s_client flag that enables only `version`.
fn version_flag(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::Ssl2 => "-ssl2",
        ProtocolVersion::Ssl3 => "-ssl3",
        ProtocolVersion::Tls1_0 => "-tls1",
        ProtocolVersion::Tls1_1 => "-tls1_1",
        ProtocolVersion::Tls1_2 => "-tls1_2",
        ProtocolVersion::Tls1_3 => "-tls1_3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn spawn_error_says_what_to_install_and_keeps_its_source() {
        let err = HarnessError::Spawn {
            program: "openssl".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        let text = err.to_string();
        assert!(
            text.contains("install the openssl command-line tool"),
            "{text}"
        );
        assert!(text.contains(OPENSSL_PROGRAM_ENV), "{text}");
        let source = err.source().and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::NotFound));
    }

    #[test]
    fn version_flags() {
        let flags = ProtocolVersion::ALL.map(version_flag);
        assert_eq!(
            flags,
            ["-ssl2", "-ssl3", "-tls1", "-tls1_1", "-tls1_2", "-tls1_3"]
        );
    }
}
