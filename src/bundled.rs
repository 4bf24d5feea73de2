//! The test certificates and keys of `certs/`, built into the crate.
//!
//! **These are TEST certificates whose private keys are public** (they are committed to the
//! repository): never trust `CA_PEM`, or any certificate here, in production. They exist so
//! that tests, examples and `tlshake demo` can run a TLS handshake without setting up a PKI.
//!
//! `certs/README.md` describes each file (names, key type, validity, issuer) and
//! `certs/generate.sh` makes them again. The constants hold the PEM text; [`CertsDir`] writes
//! them to a private temporary directory for tools that want a path (such as
//! `openssl s_server -cert`). The module is compiled with the `test-certs` feature (which
//! `cli` and `harness` enable); a library build without it carries none of these keys.
//!
//! ```
//! use openssl::x509::X509;
//! use tlshake::bundled;
//!
//! let ca = X509::from_pem(bundled::CA_PEM.as_bytes()).unwrap();
//! let cn = ca.subject_name().entries().next().unwrap().data();
//! assert_eq!(cn.to_string().unwrap(), "tlshake Test Root CA");
//!
//! let files = bundled::CertsDir::write()?;
//! assert!(files.path("server.pem").is_file());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Test root CA (ECDSA P-256, CN `tlshake Test Root CA`): the trust anchor of the tests.
pub const CA_PEM: &str = include_str!("../certs/ca.pem");
/// Private key of [`CA_PEM`], for tests that sign certificates of their own.
pub const CA_KEY: &str = include_str!("../certs/ca.key");

/// Server certificate for `localhost`, `127.0.0.1` and `::1` (ECDSA P-256), signed by the root.
pub const SERVER_PEM: &str = include_str!("../certs/server.pem");
/// Private key of [`SERVER_PEM`].
pub const SERVER_KEY: &str = include_str!("../certs/server.key");

/// RSA-2048 twin of [`SERVER_PEM`] (same names, same issuer).
pub const SERVER_RSA_PEM: &str = include_str!("../certs/server-rsa.pem");
/// Private key of [`SERVER_RSA_PEM`].
pub const SERVER_RSA_KEY: &str = include_str!("../certs/server-rsa.key");

/// Client certificate (ECDSA P-256, CN `tlshake test client`, EKU clientAuth), signed by the root.
pub const CLIENT_PEM: &str = include_str!("../certs/client.pem");
/// Private key of [`CLIENT_PEM`].
pub const CLIENT_KEY: &str = include_str!("../certs/client.key");
/// [`CLIENT_KEY`] encrypted with the passphrase [`PASSPHRASE`] (PKCS#8, AES-256-CBC).
pub const CLIENT_ENCRYPTED_KEY: &str = include_str!("../certs/client-encrypted.key");

/// Passphrase of [`CLIENT_ENCRYPTED_KEY`] and password of [`SERVER_P12`].
pub const PASSPHRASE: &str = "tlshake";

/// PKCS#12 bundle of [`SERVER_PEM`], [`SERVER_KEY`] and [`CA_PEM`], password [`PASSPHRASE`].
pub const SERVER_P12: &[u8] = include_bytes!("../certs/server.p12");

/// Like [`SERVER_PEM`] but valid only from 2020-01-01 to 2020-01-02: expired.
pub const EXPIRED_PEM: &str = include_str!("../certs/expired.pem");
/// Private key of [`EXPIRED_PEM`].
pub const EXPIRED_KEY: &str = include_str!("../certs/expired.key");

/// Like [`SERVER_PEM`] but valid only from 2099-01-01: not valid yet.
pub const NOT_YET_VALID_PEM: &str = include_str!("../certs/not-yet-valid.pem");
/// Private key of [`NOT_YET_VALID_PEM`].
pub const NOT_YET_VALID_KEY: &str = include_str!("../certs/not-yet-valid.key");

/// Certificate for `other.example` only, signed by the root: for host-name mismatch tests.
pub const OTHER_HOST_PEM: &str = include_str!("../certs/other-host.pem");
/// Private key of [`OTHER_HOST_PEM`].
pub const OTHER_HOST_KEY: &str = include_str!("../certs/other-host.key");

/// Certificate for `*.tlshake.test`, signed by the root: for wildcard matching tests.
pub const WILDCARD_PEM: &str = include_str!("../certs/wildcard.pem");
/// Private key of [`WILDCARD_PEM`].
pub const WILDCARD_KEY: &str = include_str!("../certs/wildcard.key");

/// Intermediate CA (`pathlen:0`) signed by the root.
pub const INTERMEDIATE_CA_PEM: &str = include_str!("../certs/intermediate-ca.pem");
/// Leaf for `localhost`, `127.0.0.1` and `::1` signed by the intermediate (leaf only).
pub const SERVER_VIA_INTERMEDIATE_PEM: &str = include_str!("../certs/server-via-intermediate.pem");
/// [`SERVER_VIA_INTERMEDIATE_PEM`] followed by [`INTERMEDIATE_CA_PEM`].
pub const SERVER_VIA_INTERMEDIATE_CHAIN_PEM: &str =
    include_str!("../certs/server-via-intermediate-chain.pem");
/// Private key of [`SERVER_VIA_INTERMEDIATE_PEM`].
pub const SERVER_VIA_INTERMEDIATE_KEY: &str = include_str!("../certs/server-via-intermediate.key");

/// Self-signed leaf (not a CA) for `localhost`, `127.0.0.1` and `::1`.
pub const SELF_SIGNED_PEM: &str = include_str!("../certs/self-signed.pem");
/// Private key of [`SELF_SIGNED_PEM`].
pub const SELF_SIGNED_KEY: &str = include_str!("../certs/self-signed.key");

/// A second root (CN `tlshake Rogue CA`) that the tests do not trust.
pub const ROGUE_CA_PEM: &str = include_str!("../certs/rogue-ca.pem");
/// Leaf for `localhost`, `127.0.0.1` and `::1` signed by [`ROGUE_CA_PEM`]: unknown issuer.
pub const ROGUE_SERVER_PEM: &str = include_str!("../certs/rogue-server.pem");
/// Private key of [`ROGUE_SERVER_PEM`].
pub const ROGUE_SERVER_KEY: &str = include_str!("../certs/rogue-server.key");

/// Every bundled file: its name in `certs/` and its contents.
pub const FILES: &[(&str, &[u8])] = &[
    ("ca.pem", CA_PEM.as_bytes()),
    ("ca.key", CA_KEY.as_bytes()),
    ("server.pem", SERVER_PEM.as_bytes()),
    ("server.key", SERVER_KEY.as_bytes()),
    ("server-rsa.pem", SERVER_RSA_PEM.as_bytes()),
    ("server-rsa.key", SERVER_RSA_KEY.as_bytes()),
    ("client.pem", CLIENT_PEM.as_bytes()),
    ("client.key", CLIENT_KEY.as_bytes()),
    ("client-encrypted.key", CLIENT_ENCRYPTED_KEY.as_bytes()),
    ("server.p12", SERVER_P12),
    ("expired.pem", EXPIRED_PEM.as_bytes()),
    ("expired.key", EXPIRED_KEY.as_bytes()),
    ("not-yet-valid.pem", NOT_YET_VALID_PEM.as_bytes()),
    ("not-yet-valid.key", NOT_YET_VALID_KEY.as_bytes()),
    ("other-host.pem", OTHER_HOST_PEM.as_bytes()),
    ("other-host.key", OTHER_HOST_KEY.as_bytes()),
    ("wildcard.pem", WILDCARD_PEM.as_bytes()),
    ("wildcard.key", WILDCARD_KEY.as_bytes()),
    ("intermediate-ca.pem", INTERMEDIATE_CA_PEM.as_bytes()),
    (
        "server-via-intermediate.pem",
        SERVER_VIA_INTERMEDIATE_PEM.as_bytes(),
    ),
    (
        "server-via-intermediate.key",
        SERVER_VIA_INTERMEDIATE_KEY.as_bytes(),
    ),
    ("self-signed.pem", SELF_SIGNED_PEM.as_bytes()),
    ("self-signed.key", SELF_SIGNED_KEY.as_bytes()),
    ("rogue-ca.pem", ROGUE_CA_PEM.as_bytes()),
    ("rogue-server.pem", ROGUE_SERVER_PEM.as_bytes()),
    ("rogue-server.key", ROGUE_SERVER_KEY.as_bytes()),
];

/// The bundled files ([`FILES`]) written to a fresh directory of this user's temporary
/// directory, readable by this user only, removed with everything in it when dropped.
///
/// For programs that take paths, such as `openssl s_server -cert server.pem`.
#[derive(Debug)]
pub struct CertsDir {
    dir: PathBuf,
}

impl CertsDir {
    /// Writes every file of [`FILES`] to a new directory under [`std::env::temp_dir`].
    ///
    /// # Errors
    /// The I/O error of creating the directory or writing a file; nothing is left behind.
    pub fn write() -> io::Result<CertsDir> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tlshake-certs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        // From here on, dropping `files` removes what was written.
        let files = CertsDir { dir };
        for (name, contents) in FILES {
            std::fs::write(files.dir.join(name), contents)?;
        }
        Ok(files)
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `file_name` in [`CertsDir::dir`], such as `path("server.pem")`; not
    /// checked against [`FILES`].
    pub fn path(&self, file_name: &str) -> PathBuf {
        self.dir.join(file_name)
    }
}

impl Drop for CertsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::nid::Nid;
    use openssl::pkcs12::Pkcs12;
    use openssl::pkey::PKey;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509StoreContext, X509VerifyResult, X509};

    /// Every certificate with the key that must belong to it.
    const PAIRS: [(&str, &str, &str); 12] = [
        ("ca", CA_PEM, CA_KEY),
        ("server", SERVER_PEM, SERVER_KEY),
        ("server-rsa", SERVER_RSA_PEM, SERVER_RSA_KEY),
        ("client", CLIENT_PEM, CLIENT_KEY),
        ("expired", EXPIRED_PEM, EXPIRED_KEY),
        ("not-yet-valid", NOT_YET_VALID_PEM, NOT_YET_VALID_KEY),
        ("other-host", OTHER_HOST_PEM, OTHER_HOST_KEY),
        ("wildcard", WILDCARD_PEM, WILDCARD_KEY),
        (
            "server-via-intermediate",
            SERVER_VIA_INTERMEDIATE_PEM,
            SERVER_VIA_INTERMEDIATE_KEY,
        ),
        (
            "server-via-intermediate-chain",
            SERVER_VIA_INTERMEDIATE_CHAIN_PEM,
            SERVER_VIA_INTERMEDIATE_KEY,
        ),
        ("self-signed", SELF_SIGNED_PEM, SELF_SIGNED_KEY),
        ("rogue-server", ROGUE_SERVER_PEM, ROGUE_SERVER_KEY),
    ];

    fn cert(pem: &str) -> X509 {
        X509::from_pem(pem.as_bytes()).unwrap()
    }

    fn common_name(x: &X509) -> String {
        let entry = x.subject_name().entries_by_nid(Nid::COMMONNAME).next();
        entry.unwrap().data().to_string().unwrap()
    }

    #[test]
    fn every_key_matches_its_certificate() {
        for (name, pem, key) in PAIRS {
            let public = cert(pem).public_key().unwrap();
            let private = PKey::private_key_from_pem(key.as_bytes()).unwrap();
            assert!(public.public_eq(&private), "{name}: key does not match");
        }
        // The check can fail: a key that belongs to another certificate does not match.
        let other = PKey::private_key_from_pem(ROGUE_SERVER_KEY.as_bytes()).unwrap();
        assert!(!cert(SERVER_PEM).public_key().unwrap().public_eq(&other));
    }

    #[test]
    fn key_types_are_as_documented() {
        for (name, _, key) in PAIRS {
            let private = PKey::private_key_from_pem(key.as_bytes()).unwrap();
            if name == "server-rsa" {
                assert_eq!(private.rsa().unwrap().size() * 8, 2048, "{name}");
            } else {
                let ec = private.ec_key().unwrap();
                assert_eq!(
                    ec.group().curve_name(),
                    Some(Nid::X9_62_PRIME256V1),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn subjects_are_as_documented() {
        assert_eq!(common_name(&cert(CA_PEM)), "tlshake Test Root CA");
        assert_eq!(common_name(&cert(ROGUE_CA_PEM)), "tlshake Rogue CA");
        assert_eq!(common_name(&cert(CLIENT_PEM)), "tlshake test client");
        assert_eq!(common_name(&cert(OTHER_HOST_PEM)), "other.example");
        assert_eq!(common_name(&cert(WILDCARD_PEM)), "*.tlshake.test");
        assert_eq!(common_name(&cert(SERVER_PEM)), "localhost");
        let sans = cert(SERVER_PEM).subject_alt_names().unwrap();
        let dns: Vec<_> = sans.iter().filter_map(|n| n.dnsname()).collect();
        let ips: Vec<_> = sans.iter().filter_map(|n| n.ipaddress()).collect();
        assert_eq!(dns, ["localhost"]);
        let v6_loopback = std::net::Ipv6Addr::LOCALHOST.octets();
        assert_eq!(ips, [&[127, 0, 0, 1][..], &v6_loopback[..]]);
    }

    #[test]
    fn chain_file_is_leaf_then_intermediate() {
        let chain = X509::stack_from_pem(SERVER_VIA_INTERMEDIATE_CHAIN_PEM.as_bytes()).unwrap();
        assert_eq!(chain.len(), 2);
        let leaf = cert(SERVER_VIA_INTERMEDIATE_PEM);
        let intermediate = cert(INTERMEDIATE_CA_PEM);
        assert_eq!(chain[0].to_der().unwrap(), leaf.to_der().unwrap());
        assert_eq!(chain[1].to_der().unwrap(), intermediate.to_der().unwrap());
    }

    /// Verifies `leaf` (with `untrusted` intermediates) against the root, at the current time.
    fn verify(leaf: &str, untrusted: &[&str]) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(cert(CA_PEM)).unwrap();
        let store = store.build();
        let mut chain = Stack::new().unwrap();
        for pem in untrusted {
            chain.push(cert(pem)).unwrap();
        }
        let mut ctx = X509StoreContext::new().unwrap();
        ctx.init(&store, &cert(leaf), &chain, |c| {
            c.verify_cert()?;
            Ok(c.error())
        })
        .unwrap()
    }

    #[test]
    fn verification_against_the_root() {
        for pem in [
            SERVER_PEM,
            SERVER_RSA_PEM,
            CLIENT_PEM,
            OTHER_HOST_PEM,
            WILDCARD_PEM,
        ] {
            assert_eq!(verify(pem, &[]), X509VerifyResult::OK);
        }
        assert_eq!(
            verify(SERVER_VIA_INTERMEDIATE_PEM, &[INTERMEDIATE_CA_PEM]),
            X509VerifyResult::OK
        );
        // X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID
        assert_eq!(verify(EXPIRED_PEM, &[]).as_raw(), 10);
        assert_eq!(verify(NOT_YET_VALID_PEM, &[]).as_raw(), 9);
        // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        assert_eq!(verify(SELF_SIGNED_PEM, &[]).as_raw(), 18);
        // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        assert_eq!(verify(ROGUE_SERVER_PEM, &[]).as_raw(), 20);
        assert_eq!(verify(SERVER_VIA_INTERMEDIATE_PEM, &[]).as_raw(), 20);
    }

    #[test]
    fn encrypted_key_and_pkcs12_open_with_the_passphrase() {
        let key = PKey::private_key_from_pem_passphrase(
            CLIENT_ENCRYPTED_KEY.as_bytes(),
            PASSPHRASE.as_bytes(),
        )
        .unwrap();
        let plain = PKey::private_key_from_pem(CLIENT_KEY.as_bytes()).unwrap();
        assert!(key.public_eq(&plain));
        assert!(
            PKey::private_key_from_pem_passphrase(CLIENT_ENCRYPTED_KEY.as_bytes(), b"wrong")
                .is_err()
        );

        let p12 = Pkcs12::from_der(SERVER_P12)
            .unwrap()
            .parse2(PASSPHRASE)
            .unwrap();
        let leaf = p12.cert.unwrap();
        assert_eq!(leaf.to_der().unwrap(), cert(SERVER_PEM).to_der().unwrap());
        assert!(leaf.public_key().unwrap().public_eq(&p12.pkey.unwrap()));
        let ca = p12.ca.unwrap();
        assert_eq!(ca.len(), 1);
        assert_eq!(ca[0].to_der().unwrap(), cert(CA_PEM).to_der().unwrap());
    }

    #[test]
    fn written_files_are_the_source_tree_s_and_go_away_on_drop() {
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs");
        let files = CertsDir::write().unwrap();
        for (name, contents) in FILES {
            let written = std::fs::read(files.path(name)).unwrap();
            assert_eq!(&written, contents, "{name}");
            assert_eq!(std::fs::read(source.join(name)).unwrap(), written, "{name}");
        }
        let dir = files.dir().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(files);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}
