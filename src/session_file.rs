//! Sessions in files: the PEM `SSL_SESSION` format of `openssl s_client -sess_out` and
//! `-sess_in`, so that a session saved by one program resumes in the other.
//!
//! A session file holds the session's master secret (TLS 1.2) or resumption secret (TLS
//! 1.3): whoever reads it can decrypt the resumed connections made with it, and resume them
//! as this client. [`write_session`] creates it readable by its owner only (mode 0600); keep
//! it like a private key.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::{SslSession, SslSessionRef};

use crate::error_queue::ErrorQueue;

/// Why a session file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionFileError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The error from the file system.
        #[source]
        source: io::Error,
    },
    /// The file is not a PEM `SSL SESSION PARAMETERS` block OpenSSL can decode.
    Invalid {
        /// The file.
        path: PathBuf,
        /// OpenSSL's errors, when OpenSSL rejected the content (`None`: no PEM block).
        #[source]
        source: Option<ErrorQueue>,
    },
    /// OpenSSL could not encode the session.
    Encode {
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// The error from the file system.
        #[source]
        source: io::Error,
    },
}
impl fmt::Display for SessionFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionFileError::Read { path, .. } => {
                write!(f, "cannot read the session file {}", path.display())?
            }
            SessionFileError::Invalid { path, .. } => write!(
                f,
                "{} is not a PEM TLS session (BEGIN SSL SESSION PARAMETERS)",
                path.display()
            )?,
            SessionFileError::Encode { .. } => write!(f, "cannot encode the TLS session as PEM")?,
            SessionFileError::Write { path, .. } => {
                write!(f, "cannot write the session file {}", path.display())?
            }
        }
        crate::error::write_causes(self, f)
    }
}

/// Reads a session that `openssl s_client -sess_out` (or [`write_session`]) saved: the
/// format of [`PEM_read_bio_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/PEM_read_bio_PrivateKey/),
/// decoded with [`d2i_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/d2i_SSL_SESSION/).
/// Offer it with [`ClientConfig::import_session`](crate::client::ClientConfig::import_session).
pub fn read_session(path: impl AsRef<Path>) -> Result<SslSession, SessionFileError> {
    let path = path.as_ref();
    let pem = fs::read(path).map_err(|source| SessionFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |source: Option<ErrorQueue>| SessionFileError::Invalid {
        path: path.to_owned(),
        source,
    };
    let rejected = |stack: ErrorStack| invalid(Some(stack.into()));
    // No PEM block: nothing of OpenSSL's failed, so there is no queue to report.
    let der = pem_body(&pem).ok_or_else(|| invalid(None))?;
    let der = openssl::base64::decode_block(&der).map_err(rejected)?;
    SslSession::from_der(&der).map_err(rejected)
}

const BEGIN: &str = "-----BEGIN SSL SESSION PARAMETERS-----";
const END: &str = "-----END SSL SESSION PARAMETERS-----";

/// The base64 text between the first BEGIN and END lines (text around them is ignored, as
/// OpenSSL's PEM reader does).
fn pem_body(pem: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(pem).ok()?;
    let mut lines = text.lines().map(str::trim);
    lines.by_ref().find(|l| *l == BEGIN)?;
    let mut body = String::new();
    for line in lines {
        if line == END {
            return Some(body);
        }
        body.push_str(line);
    }
    None
}

/// PEM armour around DER, 64 base64 characters a line, as `PEM_write_bio_SSL_SESSION`.
fn to_pem(der: &[u8]) -> Vec<u8> {
    let b64 = openssl::base64::encode_block(der);
    let mut out = format!("{BEGIN}\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out.into_bytes()
}

/// Writes `session` as PEM, the format `openssl s_client -sess_in` reads
/// ([`PEM_write_bio_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/PEM_read_bio_PrivateKey/)
/// around [`i2d_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/d2i_SSL_SESSION/)).
/// A new file gets mode 0600; an existing one is truncated and keeps its mode. The file holds
/// the session's secrets (see the [module docs](self)).
pub fn write_session(
    path: impl AsRef<Path>,
    session: &SslSessionRef,
) -> Result<(), SessionFileError> {
    let path = path.as_ref();
    let der = session
        .to_der()
        .map_err(|source| SessionFileError::Encode {
            source: source.into(),
        })?;
    let pem = to_pem(&der);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(&pem)?;
        file.flush()
    };
    write().map_err(|source| SessionFileError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_the_path() {
        let dir = std::env::temp_dir().join(format!("tlshake-sess-{}", std::process::id()));
        fs::write(&dir, b"not a session").unwrap();
        let Err(err) = read_session(&dir) else {
            panic!("read a session from garbage")
        };
        assert!(matches!(err, SessionFileError::Invalid { .. }), "{err:?}");
        assert!(
            err.to_string().contains("BEGIN SSL SESSION PARAMETERS"),
            "{err}"
        );
        fs::remove_file(&dir).unwrap();
        let Err(err) = read_session(&dir) else {
            panic!("read a session from garbage")
        };
        assert!(matches!(err, SessionFileError::Read { .. }), "{err:?}");
    }
}
