//! Key logs for Wireshark: the secrets of each TLS connection, written as OpenSSL derives
//! them, in the [NSS key log format](https://udn.realityripple.com/docs/Mozilla/Projects/NSS/Key_Log_Format)
//! (`CLIENT_RANDOM ...` for TLS 1.2, `CLIENT_HANDSHAKE_TRAFFIC_SECRET ...` and the other
//! labels of RFC 8446 for TLS 1.3), through
//! [`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/).
//! Wireshark and tshark decrypt a capture with it (`-o tls.keylog_file:FILE`), as they do
//! with the file that curl, Firefox and rustls write where `SSLKEYLOGFILE` points.
//!
//! # The file holds secrets
//!
//! Anyone who can read a key log can decrypt every connection it covers, and a recorded
//! capture of them, at any later time: it defeats forward secrecy. Use it only to debug,
//! keep it out of production, and delete it afterwards. [`KeyLog::open`] creates it readable
//! by its owner only (mode 0600) and appends, as other programs sharing `SSLKEYLOGFILE` do.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use openssl::ssl::SslContextBuilder;

/// An open key log file, shared by every connection of the configurations given it.
#[derive(Debug, Clone)]
pub(crate) struct KeyLog {
    file: Arc<Mutex<File>>,
}

/// The key log file could not be opened.
#[derive(Debug, thiserror::Error)]
pub struct KeyLogError {
    /// The file.
    pub path: PathBuf,
    /// The error from the file system.
    #[source]
    pub source: io::Error,
}
impl fmt::Display for KeyLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let KeyLogError { path, .. } = self;
        write!(f, "cannot open the key log file {}", path.display())?;
        crate::error::write_causes(self, f)
    }
}

impl KeyLog {
    /// Opens `path` for appending, creating it with mode 0600 (an existing file keeps its
    /// mode). See the [module docs](self): the file holds secrets.
    pub(crate) fn open(path: impl AsRef<Path>) -> Result<KeyLog, KeyLogError> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| KeyLogError {
                path: path.clone(),
                source,
            })?;
        Ok(KeyLog {
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// Makes every connection of the context write its secrets here
    /// ([`SSL_CTX_set_keylog_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_keylog_callback/)).
    /// Each line is written whole and flushed at once, so a capture tool can read the file
    /// while connections run; a failed write is dropped (a handshake does not fail for it).
    pub(crate) fn install(&self, builder: &mut SslContextBuilder) {
        let file = Arc::clone(&self.file);
        builder.set_keylog_callback(move |_ssl, line| {
            if let Ok(mut f) = file.lock() {
                let mut record = Vec::with_capacity(line.len() + 1);
                record.extend_from_slice(line.as_bytes());
                record.push(b'\n');
                let _ = f.write_all(&record).and_then(|()| f.flush());
            }
        });
    }
}
