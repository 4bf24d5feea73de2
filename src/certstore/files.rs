//! Reading certificates, private keys and PKCS#12 archives from files.

use std::cell::Cell;
use std::fs;
use std::path::Path;

use openssl::base64;
use openssl::error::ErrorStack;
use openssl::pkcs12::{ParsedPkcs12_2, Pkcs12};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::pem::{is_pem, pem_blocks, PemBlock};
use super::CertStoreError;

/// `ERR_LIB_PKCS12` and `PKCS12_R_MAC_VERIFY_FAILURE` from OpenSSL's headers.
const ERR_LIB_PKCS12: i32 = 35;
const PKCS12_R_MAC_VERIFY_FAILURE: i32 = 113;

/// The whole file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, CertStoreError> {
    fs::read(path).map_err(|source| CertStoreError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The largest file a store reads: far more than a certificate, its chain and its key.
pub(crate) const STORE_FILE_LIMIT: u64 = 1 << 20;

/// A file of a store directory, read only if it is a regular file of at most
/// [`STORE_FILE_LIMIT`] bytes ([`regular_file::read`](crate::regular_file::read)).
pub(crate) fn read_store_file(path: &Path) -> Result<Vec<u8>, CertStoreError> {
    use crate::regular_file::{self, RegularFileError};
    regular_file::read(path, Some(STORE_FILE_LIMIT)).map_err(|e| match e {
        RegularFileError::Io(source) => CertStoreError::Read {
            path: path.to_owned(),
            source,
        },
        RegularFileError::NotRegular(kind) => CertStoreError::NotRegularFile {
            path: path.to_owned(),
            kind,
        },
        RegularFileError::TooLarge { size } => CertStoreError::TooLarge {
            path: path.to_owned(),
            size,
            limit: STORE_FILE_LIMIT,
        },
    })
}

/// What a directory entry that is not a regular file is, in words.
pub(crate) fn file_kind(kind: &fs::FileType) -> &'static str {
    crate::regular_file::kind(kind)
}

/// The certificates of a PEM file (leaf first, as written) or of a DER file (one certificate).
/// An empty vector means a PEM file without certificate blocks.
pub(crate) fn parse_certificates(path: &Path, bytes: &[u8]) -> Result<Vec<X509>, CertStoreError> {
    let parse_error = |source: ErrorStack| CertStoreError::CertificateParse {
        path: path.to_owned(),
        source: source.into(),
    };
    if !is_pem(bytes) {
        return X509::from_der(bytes)
            .map(|cert| vec![cert])
            .map_err(parse_error);
    }
    certificates_in_blocks(path, &pem_blocks(&String::from_utf8_lossy(bytes)))
}

/// The certificates of PEM blocks, in order; other blocks are left out.
pub(crate) fn certificates_in_blocks(
    path: &Path,
    blocks: &[PemBlock],
) -> Result<Vec<X509>, CertStoreError> {
    let parse_error = |source: ErrorStack| CertStoreError::CertificateParse {
        path: path.to_owned(),
        source: source.into(),
    };
    blocks
        .iter()
        .filter(|block| block.is_certificate())
        .map(|block| {
            let der = base64::decode_block(&block.base64).map_err(parse_error)?;
            X509::from_der(&der).map_err(parse_error)
        })
        .collect()
}

/// The certificates of a file that must hold at least one.
pub(crate) fn load_certificates(path: &Path) -> Result<Vec<X509>, CertStoreError> {
    let certs = parse_certificates(path, &read(path)?)?;
    if certs.is_empty() {
        return Err(CertStoreError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key in the PEM text, decrypted with `passphrase` if it is encrypted
/// ([PEM_read_bio_PrivateKey(3)](https://docs.openssl.org/3.0/man3/PEM_read_bio_PrivateKey/)).
///
/// The passphrase callback never prompts: without a passphrase an encrypted key fails with
/// [`CertStoreError::KeyPassphrase`].
pub(crate) fn parse_private_key(
    path: &Path,
    bytes: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<PKey<Private>, CertStoreError> {
    let blocks = pem_blocks(&String::from_utf8_lossy(bytes));
    let Some(block) = blocks.iter().find(|block| block.is_private_key()) else {
        return Err(CertStoreError::NoPrivateKey {
            path: path.to_owned(),
        });
    };
    let asked = Cell::new(false);
    let result = PKey::private_key_from_pem_callback(block.text.as_bytes(), |buffer| {
        asked.set(true);
        match passphrase {
            Some(pass) => match buffer.get_mut(..pass.len()) {
                Some(target) => {
                    target.copy_from_slice(pass);
                    Ok(pass.len())
                }
                None => Err(ErrorStack::get()),
            },
            None => Err(ErrorStack::get()),
        }
    });
    match result {
        Ok(key) => Ok(key),
        Err(_) if asked.get() || block.label == "ENCRYPTED PRIVATE KEY" || block.has_headers => {
            Err(CertStoreError::KeyPassphrase {
                path: path.to_owned(),
                passphrase_given: passphrase.is_some(),
            })
        }
        Err(source) => Err(CertStoreError::KeyParse {
            path: path.to_owned(),
            source: source.into(),
        }),
    }
}

/// [`parse_private_key`] trying each passphrase in turn (or none, if the list is empty).
pub(crate) fn parse_private_key_with(
    path: &Path,
    bytes: &[u8],
    passphrases: &[&str],
) -> Result<PKey<Private>, CertStoreError> {
    if passphrases.is_empty() {
        return parse_private_key(path, bytes, None);
    }
    for passphrase in passphrases {
        match parse_private_key(path, bytes, Some(passphrase.as_bytes())) {
            Err(CertStoreError::KeyPassphrase { .. }) => continue,
            other => return other,
        }
    }
    Err(CertStoreError::KeyPassphrase {
        path: path.to_owned(),
        passphrase_given: true,
    })
}

/// Opens a PKCS#12 archive with the first password that verifies its MAC
/// ([PKCS12_parse(3)](https://docs.openssl.org/3.0/man3/PKCS12_parse/)).
pub(crate) fn open_pkcs12(
    path: &Path,
    bytes: &[u8],
    passwords: &[&str],
) -> Result<ParsedPkcs12_2, CertStoreError> {
    let parse_error = |source: ErrorStack| CertStoreError::Pkcs12Parse {
        path: path.to_owned(),
        source: source.into(),
    };
    let archive = Pkcs12::from_der(bytes).map_err(parse_error)?;
    // A password cannot contain NUL (OpenSSL takes a C string), so such a password is wrong.
    for password in passwords.iter().filter(|password| !password.contains('\0')) {
        match archive.parse2(password) {
            Ok(parsed) => return Ok(parsed),
            Err(errors) if is_mac_failure(&errors) => continue,
            Err(errors) => return Err(parse_error(errors)),
        }
    }
    Err(CertStoreError::Pkcs12Password {
        path: path.to_owned(),
    })
}

fn is_mac_failure(errors: &ErrorStack) -> bool {
    errors.errors().iter().any(|error| {
        (error.library_code() == ERR_LIB_PKCS12
            && error.reason_code() == PKCS12_R_MAC_VERIFY_FAILURE)
            || error.reason() == Some("mac verify failure")
    })
}
