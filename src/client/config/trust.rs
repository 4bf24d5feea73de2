//! The trusted CAs of a client: a CA file (a regular file only, each repeated certificate
//! decoded once), a hashed directory, or PEM text, in the verify store and the chain store.

use std::path::Path;

use openssl::error::ErrorStack;
use openssl::ssl::SslContextBuilder;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

use super::{ClientOptions, ConfigError};

pub(super) fn load_trust(b: &mut SslContextBuilder, o: &ClientOptions) -> Result<(), ConfigError> {
    if o.ca_file.is_none() && o.ca_dir.is_none() && o.ca_pem.is_none() {
        b.set_default_verify_paths()?;
        return Ok(());
    }
    // Each source is read and parsed once; both stores get the same certificates (adding
    // one only takes a reference).
    let mut trusted = Vec::new();
    if let Some(path) = &o.ca_file {
        let pem = read_ca_file(path)?;
        trusted.extend(
            parse_pem_certs(&pem).map_err(|source| ConfigError::CaFileInvalid {
                path: path.clone(),
                source: source.into(),
            })?,
        );
    }
    if let Some(pem) = &o.ca_pem {
        trusted.extend(parse_pem_certs(pem)?);
    }
    let mut store = X509StoreBuilder::new()?;
    for cert in &trusted {
        store.add_cert(cert.clone())?;
    }
    if let Some(dir) = &o.ca_dir {
        if !dir.is_dir() {
            return Err(ConfigError::CaDirInvalid { path: dir.clone() });
        }
        store
            .add_lookup(openssl::x509::store::X509Lookup::hash_dir())?
            .add_dir(&path_str(dir), openssl::ssl::SslFiletype::PEM)?;
    }
    b.set_verify_cert_store(store.build())?;
    // The verify store is separate from the chain-building store; also set the main one.
    let mut main = X509StoreBuilder::new()?;
    for cert in trusted {
        main.add_cert(cert)?;
    }
    b.set_cert_store(main.build());
    Ok(())
}

/// Reads a CA file, refusing anything but a regular file (after symbolic links) before
/// reading a byte: a FIFO or a character device would block the read for as long as no one
/// writes to it, outside any deadline.
///
/// The file is opened with `O_NONBLOCK` (which makes [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html)
/// of a FIFO return at once) and checked with
/// [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html) on the open descriptor, so
/// the check and the read concern the same file.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    use crate::regular_file::{self, RegularFileError};
    regular_file::read(path, None).map_err(|e| match e {
        RegularFileError::Io(source) => ConfigError::CaFileUnreadable {
            path: path.to_path_buf(),
            source,
        },
        RegularFileError::NotRegular(kind) => ConfigError::CaFileNotRegular {
            path: path.to_path_buf(),
            kind,
        },
        // No limit was given: a file past u64::MAX bytes.
        RegularFileError::TooLarge { size } => ConfigError::CaFileUnreadable {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::FileTooLarge, format!("{size} bytes")),
        },
    })
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The certificates of a PEM CA bundle, each repeated block decoded once
/// ([`without_repeated_certificates`](crate::certstore::pem::without_repeated_certificates)):
/// the time to load a bundle grows with its distinct certificates, not with its size.
fn parse_pem_certs(pem: &[u8]) -> Result<Vec<X509>, ErrorStack> {
    let pem = crate::certstore::pem::without_repeated_certificates(pem);
    let pem = pem.as_ref();
    let certs = X509::stack_from_pem(pem)?;
    if certs.is_empty() {
        // stack_from_pem returns an empty list for a file with no PEM block.
        X509::from_pem(pem)?;
    }
    Ok(certs)
}
