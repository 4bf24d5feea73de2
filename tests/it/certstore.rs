//! Loading certificates from files and selecting them by name and fingerprint.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use tempfile::TempDir;
use tlshake::certstore::{
    check_validity, CertStore, CertStoreError, CertSummary, CertifiedKey, FileSkipReason,
    SkipReason,
};
use tlshake::fingerprint::FingerprintError;

use gen::{Issued, Validity};

/// Builds test certificates with the `openssl` crate and writes them as files.
pub(crate) mod gen {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkcs12::Pkcs12;
    use openssl::pkey::{PKey, Private};
    use openssl::stack::Stack;
    use openssl::symm::Cipher;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::{X509Name, X509};

    static SERIAL: AtomicU32 = AtomicU32::new(1);
    const DAY: i64 = 24 * 60 * 60;

    /// A certificate and its key.
    pub struct Issued {
        pub cert: X509,
        pub key: PKey<Private>,
    }

    /// Validity window, in days relative to now.
    #[derive(Clone, Copy)]
    pub struct Validity {
        pub from_days: i64,
        pub to_days: i64,
    }

    impl Validity {
        pub const CURRENT: Validity = Validity {
            from_days: -1,
            to_days: 30,
        };
        pub const EXPIRED: Validity = Validity {
            from_days: -60,
            to_days: -2,
        };
        pub const FUTURE: Validity = Validity {
            from_days: 10,
            to_days: 40,
        };
    }

    fn at(days: i64) -> Asn1Time {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Asn1Time::from_unix((now + days * DAY) as _).unwrap()
    }

    fn build(
        subject: &[(&str, &str)],
        sans: &[&str],
        is_ca: bool,
        validity: Validity,
        issuer: Option<&Issued>,
    ) -> Issued {
        let key = PKey::ec_gen("prime256v1").unwrap();
        let mut name = X509Name::builder().unwrap();
        for (field, value) in subject {
            name.append_entry_by_text(field, value).unwrap();
        }
        let name = name.build();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        let serial = BigNum::from_u32(SERIAL.fetch_add(1, Ordering::Relaxed))
            .unwrap()
            .to_asn1_integer()
            .unwrap();
        builder.set_serial_number(&serial).unwrap();
        builder.set_subject_name(&name).unwrap();
        builder
            .set_issuer_name(issuer.map_or(&name, |i| i.cert.subject_name()))
            .unwrap();
        builder.set_pubkey(&key).unwrap();
        builder.set_not_before(&at(validity.from_days)).unwrap();
        builder.set_not_after(&at(validity.to_days)).unwrap();
        let mut constraints = BasicConstraints::new();
        if is_ca {
            constraints.critical().ca();
        }
        builder
            .append_extension(constraints.build().unwrap())
            .unwrap();
        if !sans.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for entry in sans {
                if entry.parse::<std::net::IpAddr>().is_ok() {
                    san.ip(entry);
                } else {
                    san.dns(entry);
                }
            }
            let extension = san
                .build(&builder.x509v3_context(issuer.map(|i| &*i.cert), None))
                .unwrap();
            builder.append_extension(extension).unwrap();
        }
        let signer = issuer.map_or(&key, |i| &i.key);
        builder.sign(signer, MessageDigest::sha256()).unwrap();
        Issued {
            cert: builder.build(),
            key,
        }
    }

    /// A self-signed CA.
    pub fn root(cn: &str) -> Issued {
        build(&[("CN", cn)], &[], true, Validity::CURRENT, None)
    }

    /// An intermediate CA signed by `issuer`.
    pub fn intermediate(cn: &str, issuer: &Issued) -> Issued {
        build(&[("CN", cn)], &[], true, Validity::CURRENT, Some(issuer))
    }

    /// A server certificate signed by `issuer`, with `CN=cn` and the given DNS/IP SANs.
    pub fn leaf(cn: &str, sans: &[&str], issuer: &Issued) -> Issued {
        leaf_valid(cn, sans, issuer, Validity::CURRENT)
    }

    /// [`leaf`] with a chosen validity window.
    pub fn leaf_valid(cn: &str, sans: &[&str], issuer: &Issued, validity: Validity) -> Issued {
        build(
            &[("CN", cn), ("O", "tlshake tests")],
            sans,
            false,
            validity,
            Some(issuer),
        )
    }

    /// A server certificate with an arbitrary subject (possibly without CN) and no SAN.
    pub fn leaf_with_subject(subject: &[(&str, &str)], issuer: &Issued) -> Issued {
        build(subject, &[], false, Validity::CURRENT, Some(issuer))
    }

    pub fn cert_pem(certs: &[&X509]) -> Vec<u8> {
        certs.iter().flat_map(|c| c.to_pem().unwrap()).collect()
    }

    pub fn key_pem(key: &PKey<Private>) -> Vec<u8> {
        key.private_key_to_pem_pkcs8().unwrap()
    }

    pub fn encrypted_key_pem(key: &PKey<Private>, passphrase: &str) -> Vec<u8> {
        key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), passphrase.as_bytes())
            .unwrap()
    }

    /// Traditional `EC PRIVATE KEY` PEM with a `Proc-Type: 4,ENCRYPTED` header.
    pub fn traditional_encrypted_key_pem(key: &PKey<Private>, passphrase: &str) -> Vec<u8> {
        key.ec_key()
            .unwrap()
            .private_key_to_pem_passphrase(Cipher::aes_256_cbc(), passphrase.as_bytes())
            .unwrap()
    }

    pub fn pkcs12(issued: &Issued, chain: &[&X509], password: &str) -> Vec<u8> {
        let mut stack = Stack::new().unwrap();
        for cert in chain {
            stack.push((*cert).clone()).unwrap();
        }
        let mut builder = Pkcs12::builder();
        builder
            .name("tlshake test")
            .pkey(&issued.key)
            .cert(&issued.cert)
            .key_algorithm(Nid::AES_256_CBC)
            .cert_algorithm(Nid::AES_256_CBC)
            .mac_md(MessageDigest::sha256());
        if !chain.is_empty() {
            builder.ca(stack);
        }
        builder.build2(password).unwrap().to_der().unwrap()
    }

    pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes `<stem>.pem` (certificate) and `<stem>.key` (key).
    pub fn write_pair(dir: &Path, stem: &str, issued: &Issued) -> PathBuf {
        write(dir, &format!("{stem}.key"), &key_pem(&issued.key));
        write(dir, &format!("{stem}.pem"), &cert_pem(&[&issued.cert]))
    }
}

fn tempdir() -> TempDir {
    TempDir::new().unwrap()
}

fn load(dir: &Path) -> CertStore {
    CertStore::load_dir(dir, &[]).unwrap()
}

/// A directory with a CA, `www.example.com` (+ `example.com`, 127.0.0.1) and `*.wild.test`.
fn standard_store() -> (TempDir, Issued, Issued) {
    let dir = tempdir();
    let ca = gen::root("tlshake Test CA");
    let www = gen::leaf(
        "www.example.com",
        &["www.example.com", "example.com", "127.0.0.1"],
        &ca,
    );
    let wild = gen::leaf("*.wild.test", &["*.wild.test"], &ca);
    gen::write(dir.path(), "ca.pem", &gen::cert_pem(&[&ca.cert]));
    gen::write_pair(dir.path(), "www", &www);
    gen::write_pair(dir.path(), "wild", &wild);
    gen::write(dir.path(), "README.txt", b"not a certificate");
    (dir, www, wild)
}

fn subject_of(found: Result<&CertifiedKey, CertStoreError>) -> String {
    found.unwrap().summary().subject.clone()
}

#[test]
fn finds_by_exact_name() {
    let (dir, www, _) = standard_store();
    let store = load(dir.path());
    assert_eq!(store.entries().len(), 2);
    let found = store.find_by_name("www.example.com").unwrap();
    assert_eq!(found.cert().to_der().unwrap(), www.cert.to_der().unwrap());
    assert_eq!(found.source(), Some(dir.path().join("www.pem").as_path()));
    assert!(found.key().public_eq(&www.key));
    assert_eq!(
        subject_of(store.find_by_name("example.com")),
        "CN=www.example.com, O=tlshake tests"
    );
}

#[test]
fn finds_by_name_case_insensitively() {
    let (dir, _, _) = standard_store();
    let store = load(dir.path());
    assert_eq!(
        store
            .find_by_name("WWW.Example.COM")
            .unwrap()
            .summary()
            .common_name
            .as_deref(),
        Some("www.example.com")
    );
    assert_eq!(
        store
            .find_by_name("A.WILD.TEST")
            .unwrap()
            .summary()
            .common_name
            .as_deref(),
        Some("*.wild.test")
    );
}

#[test]
fn finds_by_ip_address_san() {
    let (dir, _, _) = standard_store();
    let store = load(dir.path());
    let found = store.find_by_name("127.0.0.1").unwrap();
    assert_eq!(
        found.summary().ip_addresses,
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    );
}

#[test]
fn wildcard_matches_one_label_only() {
    let (dir, _, wild) = standard_store();
    let store = load(dir.path());
    let found = store.find_by_name("a.wild.test").unwrap();
    assert_eq!(found.cert().to_der().unwrap(), wild.cert.to_der().unwrap());
    assert!(store.find_by_name("*.wild.test").is_ok());
    for name in ["wild.test", "a.b.wild.test"] {
        match store.find_by_name(name) {
            Err(CertStoreError::NoNameMatch { name: asked, .. }) => assert_eq!(asked, name),
            other => panic!("{name}: expected NoNameMatch, got {other:?}"),
        }
    }
}

#[test]
fn no_name_match_lists_the_names_available() {
    let (dir, _, _) = standard_store();
    let store = load(dir.path());
    let err = store.find_by_name("mail.example.org").unwrap_err();
    match &err {
        CertStoreError::NoNameMatch {
            name,
            available,
            unusable,
            unread,
            ..
        } => {
            assert_eq!(name, "mail.example.org");
            assert_eq!(
                available,
                &["*.wild.test", "www.example.com", "example.com", "127.0.0.1"]
            );
            assert!(unusable.is_empty());
            assert!(unread.is_empty(), "README.txt is no certificate file");
        }
        other => panic!("expected NoNameMatch, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "no certificate in the store matches \"mail.example.org\"; names available: \
         *.wild.test, www.example.com, example.com, 127.0.0.1"
    );
}

#[test]
fn ambiguous_names_list_both_fingerprints() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let first = gen::leaf("dup.test", &["dup.test"], &ca);
    let second = gen::leaf("dup.test", &["dup.test", "other.test"], &ca);
    gen::write_pair(dir.path(), "first", &first);
    gen::write_pair(dir.path(), "second", &second);
    let store = load(dir.path());
    let err = store.find_by_name("DUP.test").unwrap_err();
    let CertStoreError::Ambiguous { name, candidates } = &err else {
        panic!("expected Ambiguous, got {err:?}");
    };
    assert_eq!(name, "DUP.test");
    assert_eq!(candidates.len(), 2);
    let first_summary = CertSummary::from_x509(&first.cert).unwrap();
    let second_summary = CertSummary::from_x509(&second.cert).unwrap();
    assert_eq!(candidates[0].sha1, first_summary.sha1);
    assert_eq!(candidates[1].sha256, second_summary.sha256);
    assert_eq!(candidates[0].path, Some(dir.path().join("first.pem")));
    let message = err.to_string();
    assert!(message.starts_with("2 certificates match \"DUP.test\"; select one by fingerprint"));
    for summary in [&first_summary, &second_summary] {
        assert!(message.contains(&summary.sha1.to_string()), "{message}");
        assert!(message.contains(&summary.sha256.to_string()), "{message}");
        assert!(message.contains(&summary.not_after), "{message}");
    }
    // The unique name of the second one still selects it.
    assert_eq!(
        store.find_by_name("other.test").unwrap().summary().sha256,
        second_summary.sha256
    );
}

#[test]
fn same_certificate_in_two_files_is_not_ambiguous() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("twice.test", &["twice.test"], &ca);
    gen::write_pair(dir.path(), "twice", &leaf);
    gen::write(dir.path(), "twice.p12", &gen::pkcs12(&leaf, &[], "pw"));
    let store = CertStore::load_dir(dir.path(), &["pw"]).unwrap();
    assert_eq!(store.entries().len(), 2);
    assert_eq!(
        store.find_by_name("twice.test").unwrap().source(),
        Some(dir.path().join("twice.p12").as_path())
    );
}

#[test]
fn finds_by_sha1_thumbprint_with_spaces() {
    let (dir, www, _) = standard_store();
    let store = load(dir.path());
    let hex = CertSummary::from_x509(&www.cert).unwrap().sha1.to_hex();
    let spaced: Vec<&str> = (0..hex.len()).step_by(2).map(|i| &hex[i..i + 2]).collect();
    let text = format!("\u{200e}{}", spaced.join(" "));
    let found = store.find_by_hash_text(&text).unwrap();
    assert_eq!(found.cert().to_der().unwrap(), www.cert.to_der().unwrap());
}

#[test]
fn finds_by_sha256_with_colons() {
    let (dir, _, wild) = standard_store();
    let store = load(dir.path());
    let sha256 = CertSummary::from_x509(&wild.cert).unwrap().sha256;
    let text = sha256.to_string().to_lowercase();
    assert!(text.contains(':'));
    let found = store.find_by_hash_text(&text).unwrap();
    assert_eq!(found.summary().sha256, sha256);
    let found = store.find_by_fingerprint(&sha256).unwrap();
    assert_eq!(found.cert().to_der().unwrap(), wild.cert.to_der().unwrap());
}

#[test]
fn no_fingerprint_match_lists_what_is_available() {
    let (dir, www, _) = standard_store();
    let store = load(dir.path());
    let unknown = "00".repeat(32);
    let err = store.find_by_hash_text(&unknown).unwrap_err();
    let CertStoreError::NoFingerprintMatch {
        given, available, ..
    } = &err
    else {
        panic!("expected NoFingerprintMatch, got {err:?}");
    };
    assert_eq!(given.to_hex(), unknown);
    assert_eq!(available.len(), 2);
    let www_sha256 = CertSummary::from_x509(&www.cert).unwrap().sha256;
    assert!(available.iter().any(|c| c.sha256 == www_sha256));
    let message = err.to_string();
    assert!(message.starts_with("no certificate in the store has the SHA-256 fingerprint 00:00:"));
    assert!(message.contains(&www_sha256.to_string()), "{message}");
}

#[test]
fn bad_hash_text_points_at_the_character() {
    let (dir, _, _) = standard_store();
    let store = load(dir.path());
    let err = store.find_by_hash_text("9d a4 x4").unwrap_err();
    match &err {
        CertStoreError::BadFingerprint(FingerprintError::InvalidCharacter {
            position,
            character,
            ..
        }) => {
            assert_eq!((*position, *character), (6, 'x'));
        }
        other => panic!("expected BadFingerprint, got {other:?}"),
    }
    assert!(err.to_string().contains("at position 6"), "{err}");
}

#[test]
fn key_mismatch_is_refused() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let one = gen::leaf("one.test", &[], &ca);
    let two = gen::leaf("two.test", &[], &ca);
    let cert = gen::write(dir.path(), "one.pem", &gen::cert_pem(&[&one.cert]));
    let key = gen::write(dir.path(), "one.key", &gen::key_pem(&two.key));
    let err = CertifiedKey::from_pem_files(&cert, &key, None).unwrap_err();
    match &err {
        CertStoreError::KeyMismatch {
            cert: c,
            key: k,
            subject,
        } => {
            assert_eq!(c.as_deref(), Some(cert.as_path()));
            assert_eq!(k.as_deref(), Some(key.as_path()));
            assert_eq!(subject, "CN=one.test, O=tlshake tests");
        }
        other => panic!("expected KeyMismatch, got {other:?}"),
    }
    assert!(err
        .to_string()
        .contains("does not belong to the certificate"));
    // The directory loads; choosing that certificate is refused, naming the files.
    assert!(matches!(
        load(dir.path()).find_by_name("one.test"),
        Err(CertStoreError::KeyMismatch { cert: Some(c), key: Some(k), .. })
            if c == cert && k == key
    ));
    let err = CertifiedKey::from_parts(one.cert.clone(), vec![], two.key.clone()).unwrap_err();
    assert!(
        matches!(
            &err,
            CertStoreError::KeyMismatch {
                cert: None,
                key: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn expired_certificate_is_refused_unless_allowed() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let old = gen::leaf_valid("old.test", &["old.test"], &ca, Validity::EXPIRED);
    gen::write_pair(dir.path(), "old", &old);
    let mut store = load(dir.path());
    let err = store.find_by_name("old.test").unwrap_err();
    let CertStoreError::Expired {
        subject,
        not_before,
        not_after,
        ..
    } = &err
    else {
        panic!("expected Expired, got {err:?}");
    };
    let summary = CertSummary::from_x509(&old.cert).unwrap();
    assert_eq!(subject, "CN=old.test, O=tlshake tests");
    assert_eq!(not_before, &summary.not_before);
    assert_eq!(not_after, &summary.not_after);
    let message = err.to_string();
    assert!(message.contains("allow_invalid_dates"), "{message}");
    assert!(message.contains(&summary.not_after), "{message}");
    // The same refusal by fingerprint.
    assert!(matches!(
        store.find_by_fingerprint(&summary.sha256),
        Err(CertStoreError::Expired { .. })
    ));

    store.set_allow_invalid_dates(true);
    assert!(store.allows_invalid_dates());
    assert_eq!(
        store.find_by_name("old.test").unwrap().summary().sha256,
        summary.sha256
    );
}

#[test]
fn check_validity_reports_expired_and_not_yet_valid() {
    let ca = gen::root("CA");
    let old = gen::leaf_valid("old.test", &[], &ca, Validity::EXPIRED);
    let future = gen::leaf_valid("future.test", &[], &ca, Validity::FUTURE);
    let current = gen::leaf("now.test", &[], &ca);
    assert!(matches!(
        check_validity(&old.cert, false),
        Err(CertStoreError::Expired { .. })
    ));
    let err = check_validity(&future.cert, false).unwrap_err();
    assert!(matches!(err, CertStoreError::NotYetValid { .. }), "{err:?}");
    assert!(err.to_string().contains("allow_invalid_dates"));
    assert!(check_validity(&current.cert, false).is_ok());
    assert!(check_validity(&old.cert, true).is_ok());
    assert!(check_validity(&future.cert, true).is_ok());
}

#[test]
fn valid_renewal_wins_over_expired_certificate() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let old = gen::leaf_valid("site.test", &["site.test"], &ca, Validity::EXPIRED);
    let new = gen::leaf("site.test", &["site.test"], &ca);
    gen::write_pair(dir.path(), "a-old", &old);
    gen::write_pair(dir.path(), "b-new", &new);
    let mut store = load(dir.path());
    let found = store.find_by_name("site.test").unwrap();
    assert_eq!(found.cert().to_der().unwrap(), new.cert.to_der().unwrap());
    store.set_allow_invalid_dates(true);
    assert!(matches!(
        store.find_by_name("site.test"),
        Err(CertStoreError::Ambiguous { .. })
    ));
}

#[test]
fn pkcs12_loads_with_the_right_password_only() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let inter = gen::intermediate("Intermediate", &ca);
    let leaf = gen::leaf("p12.test", &["p12.test"], &inter);
    let path = gen::write(
        dir.path(),
        "server.pfx",
        &gen::pkcs12(&leaf, &[&inter.cert], "s3cret"),
    );

    let loaded = CertifiedKey::from_pkcs12(&path, "s3cret").unwrap();
    assert_eq!(loaded.summary().common_name.as_deref(), Some("p12.test"));
    assert_eq!(loaded.chain().len(), 1);
    assert!(loaded.key().public_eq(&leaf.key));

    let err = CertifiedKey::from_pkcs12(&path, "wrong").unwrap_err();
    assert!(
        matches!(&err, CertStoreError::Pkcs12Password { path: p } if p == &path),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("wrong password for PKCS#12 file"));
    assert!(matches!(
        CertifiedKey::from_pkcs12(&path, "with\0nul"),
        Err(CertStoreError::Pkcs12Password { .. })
    ));

    // The directory loads without it, and says why.
    let store = CertStore::load_dir(dir.path(), &["nope", "also nope"]).unwrap();
    assert_eq!(store.skipped_files().len(), 1);
    assert!(matches!(
        store.skipped_files()[0].error(),
        Some(CertStoreError::Pkcs12Password { path: p }) if p == &path
    ));
    match store.find_by_name("p12.test") {
        Err(CertStoreError::NoNameMatch { unread, .. }) => {
            assert_eq!(unread.len(), 1);
            assert_eq!(unread[0].path, path);
        }
        other => panic!("expected NoNameMatch, got {other:?}"),
    }
    let store = CertStore::load_dir(dir.path(), &["nope", "s3cret"]).unwrap();
    assert!(store.find_by_name("p12.test").is_ok());
}

#[test]
fn not_pkcs12_is_a_parse_error() {
    let dir = tempdir();
    let path = gen::write(dir.path(), "junk.p12", b"this is not DER");
    assert!(matches!(
        CertifiedKey::from_pkcs12(&path, "x"),
        Err(CertStoreError::Pkcs12Parse { .. })
    ));
}

#[test]
fn unreadable_directory_is_reported() {
    let dir = tempdir();
    let missing = dir.path().join("does-not-exist");
    let err = CertStore::load_dir(&missing, &[]).unwrap_err();
    match &err {
        CertStoreError::Unreadable { path, source } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
    assert!(err.to_string().contains("does-not-exist"));

    let file = gen::write(dir.path(), "plain-file", b"x");
    assert!(matches!(
        CertStore::load_dir(&file, &[]),
        Err(CertStoreError::Unreadable { .. })
    ));
}

#[test]
fn certificate_without_key_is_skipped_but_named() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let lonely = gen::leaf("lonely.test", &["lonely.test"], &ca);
    let other = gen::leaf("other.test", &["other.test"], &ca);
    gen::write(dir.path(), "lonely.crt", &gen::cert_pem(&[&lonely.cert]));
    gen::write_pair(dir.path(), "other", &other);
    let store = load(dir.path());
    assert_eq!(store.entries().len(), 1);
    assert_eq!(store.skipped().len(), 1);
    assert_eq!(store.skipped()[0].reason, SkipReason::NoPrivateKey);
    assert_eq!(store.skipped()[0].path, dir.path().join("lonely.crt"));

    let err = store.find_by_name("lonely.test").unwrap_err();
    match &err {
        CertStoreError::NoNameMatch {
            available,
            unusable,
            ..
        } => {
            assert_eq!(available, &["other.test"]);
            assert_eq!(unusable.len(), 1);
            assert_eq!(unusable[0].reason, SkipReason::NoPrivateKey);
        }
        other => panic!("expected NoNameMatch, got {other:?}"),
    }
    assert!(
        err.to_string().contains("was found but has no private key"),
        "{err}"
    );

    let sha1 = CertSummary::from_x509(&lonely.cert).unwrap().sha1;
    match store.find_by_fingerprint(&sha1) {
        Err(CertStoreError::NoFingerprintMatch { unusable, .. }) => assert_eq!(unusable.len(), 1),
        other => panic!("expected NoFingerprintMatch, got {other:?}"),
    }
}

#[test]
fn ca_certificates_are_not_candidates_but_complete_chains() {
    let dir = tempdir();
    let root = gen::root("Root CA");
    let inter = gen::intermediate("Intermediate CA", &root);
    let leaf = gen::leaf("chained.test", &["chained.test"], &inter);
    gen::write(dir.path(), "root.pem", &gen::cert_pem(&[&root.cert]));
    gen::write(dir.path(), "inter.pem", &gen::cert_pem(&[&inter.cert]));
    // A CA issued by another, with its key next to it, is still not served.
    gen::write_pair(dir.path(), "inter-with-key", &inter);
    // A self-signed one with its key is (below).
    let signing = gen::root("Signing CA");
    gen::write_pair(dir.path(), "signing-ca", &signing);
    gen::write_pair(dir.path(), "chained", &leaf);
    let store = load(dir.path());

    assert_eq!(store.entries().len(), 2);
    assert_eq!(store.authorities().len(), 4);
    let found = store.find_by_name("chained.test").unwrap();
    assert_eq!(found.chain().len(), 1, "root is not sent, intermediate is");
    assert_eq!(
        found.chain()[0].to_der().unwrap(),
        inter.cert.to_der().unwrap()
    );
    match store.find_by_name("Root CA") {
        Err(CertStoreError::NoNameMatch { unusable, .. }) => {
            assert_eq!(unusable.len(), 1);
            assert_eq!(unusable[0].reason, SkipReason::CertificateAuthority);
            assert!(unusable[0].summary.is_ca);
        }
        other => panic!("Root CA: expected NoNameMatch, got {other:?}"),
    }
    match store.find_by_name("Intermediate CA") {
        Err(CertStoreError::NoNameMatch { unusable, .. }) => {
            assert_eq!(unusable.len(), 2, "inter.pem and inter-with-key.pem");
            assert!(unusable
                .iter()
                .all(|u| u.reason == SkipReason::CertificateAuthority && !u.summary.self_signed));
        }
        other => panic!("Intermediate CA: expected NoNameMatch, got {other:?}"),
    }
    let chosen = store.find_by_name("Signing CA").unwrap();
    assert_eq!(
        chosen.cert().to_der().unwrap(),
        signing.cert.to_der().unwrap()
    );
    assert!(chosen.summary().is_ca && chosen.summary().self_signed);
    assert!(chosen.chain().is_empty());
}

#[test]
fn pem_files_with_chain_and_key_in_one_file() {
    let dir = tempdir();
    let root = gen::root("Root");
    let inter = gen::intermediate("Inter", &root);
    let leaf = gen::leaf("bundle.test", &["bundle.test"], &inter);
    let mut bundle = gen::cert_pem(&[&leaf.cert, &inter.cert]);
    bundle.extend(gen::key_pem(&leaf.key));
    let path = gen::write(dir.path(), "bundle.pem", &bundle);

    let loaded = CertifiedKey::from_pem_files(&path, &path, None).unwrap();
    assert_eq!(loaded.chain().len(), 1);
    assert_eq!(loaded.summary().issuer, "CN=Inter");

    let store = load(dir.path());
    assert_eq!(store.find_by_name("bundle.test").unwrap().chain().len(), 1);
}

#[test]
fn der_certificate_with_sibling_key() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("der.test", &["der.test"], &ca);
    gen::write(dir.path(), "der.crt", &leaf.cert.to_der().unwrap());
    gen::write(dir.path(), "der.key", &gen::key_pem(&leaf.key));
    let store = load(dir.path());
    assert_eq!(
        store.find_by_name("der.test").unwrap().source(),
        Some(dir.path().join("der.crt").as_path())
    );
}

#[test]
fn encrypted_key_needs_its_passphrase() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("locked.test", &["locked.test"], &ca);
    let cert = gen::write(dir.path(), "locked.pem", &gen::cert_pem(&[&leaf.cert]));
    let key = gen::write(
        dir.path(),
        "locked.key",
        &gen::encrypted_key_pem(&leaf.key, "open sesame"),
    );

    let loaded = CertifiedKey::from_pem_files(&cert, &key, Some(b"open sesame")).unwrap();
    assert!(loaded.key().public_eq(&leaf.key));

    let err = CertifiedKey::from_pem_files(&cert, &key, None).unwrap_err();
    assert!(
        matches!(&err, CertStoreError::KeyPassphrase { path, passphrase_given: false } if path == &key),
        "{err:?}"
    );
    assert!(err.to_string().contains("no passphrase was given"));
    let err = CertifiedKey::from_pem_files(&cert, &key, Some(b"wrong")).unwrap_err();
    assert!(
        matches!(
            &err,
            CertStoreError::KeyPassphrase {
                passphrase_given: true,
                ..
            }
        ),
        "{err:?}"
    );

    assert!(matches!(
        load(dir.path()).find_by_name("locked.test"),
        Err(CertStoreError::KeyPassphrase {
            passphrase_given: false,
            path,
        }) if path == key
    ));
    let store = CertStore::load_dir(dir.path(), &["wrong", "open sesame"]).unwrap();
    assert!(store.find_by_name("locked.test").is_ok());
}

#[test]
fn traditional_encrypted_key_needs_its_passphrase() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("legacy.test", &[], &ca);
    let cert = gen::write(dir.path(), "legacy.pem", &gen::cert_pem(&[&leaf.cert]));
    let key = gen::write(
        dir.path(),
        "legacy.key",
        &gen::traditional_encrypted_key_pem(&leaf.key, "pw"),
    );
    assert!(fs::read_to_string(&key)
        .unwrap()
        .contains("Proc-Type: 4,ENCRYPTED"));
    assert!(CertifiedKey::from_pem_files(&cert, &key, Some(b"pw")).is_ok());
    assert!(matches!(
        CertifiedKey::from_pem_files(&cert, &key, None),
        Err(CertStoreError::KeyPassphrase {
            passphrase_given: false,
            ..
        })
    ));
    assert!(matches!(
        CertifiedKey::from_pem_files(&cert, &key, Some(b"nope")),
        Err(CertStoreError::KeyPassphrase {
            passphrase_given: true,
            ..
        })
    ));
}

#[test]
fn corrupt_unencrypted_key_is_a_parse_error() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("corrupt.test", &[], &ca);
    let cert = gen::write(dir.path(), "corrupt.pem", &gen::cert_pem(&[&leaf.cert]));
    let key = gen::write(
        dir.path(),
        "corrupt.key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let err = CertifiedKey::from_pem_files(&cert, &key, None).unwrap_err();
    assert!(
        matches!(&err, CertStoreError::KeyParse { path, .. } if path == &key),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn wrong_file_kinds_get_their_own_errors() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("x.test", &[], &ca);
    let cert = gen::write(dir.path(), "x.pem", &gen::cert_pem(&[&leaf.cert]));
    let key = gen::write(dir.path(), "x.key", &gen::key_pem(&leaf.key));
    assert!(matches!(
        CertifiedKey::from_pem_files(&key, &key, None),
        Err(CertStoreError::NoCertificate { .. })
    ));
    assert!(matches!(
        CertifiedKey::from_pem_files(&cert, &cert, None),
        Err(CertStoreError::NoPrivateKey { .. })
    ));
    let missing = dir.path().join("missing.pem");
    assert!(matches!(
        CertifiedKey::from_pem_files(&missing, &key, None),
        Err(CertStoreError::Read { path, .. }) if path == missing
    ));
    let garbage = gen::write(
        dir.path(),
        "garbage.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    assert!(matches!(
        CertifiedKey::from_pem_files(&garbage, &key, None),
        Err(CertStoreError::CertificateParse { .. })
    ));
}

#[test]
fn key_only_pem_and_standalone_key_files_are_ignored() {
    let dir = tempdir();
    let ca = gen::root("CA");
    let leaf = gen::leaf("k.test", &["k.test"], &ca);
    gen::write(dir.path(), "privkey.pem", &gen::key_pem(&leaf.key));
    gen::write(dir.path(), "orphan.key", &gen::key_pem(&leaf.key));
    fs::create_dir(dir.path().join("subdir.pem")).unwrap();
    let store = load(dir.path());
    assert_eq!(store.entries().len(), 0);
    assert!(store.skipped().is_empty());
    let skipped: Vec<_> = store.skipped_files().iter().map(|f| &f.reason).collect();
    assert!(
        matches!(skipped.as_slice(), [FileSkipReason::Directory]),
        "{skipped:?}"
    );
    let err = store.find_by_name("k.test").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the store holds no usable certificate"),
        "{err}"
    );
}

#[test]
fn summary_of_certificate_without_cn_or_san() {
    let ca = gen::root("CA");
    let bare = gen::leaf_with_subject(&[("O", "No Name, Inc."), ("C", "FR")], &ca);
    let summary = CertSummary::from_x509(&bare.cert).unwrap();
    assert_eq!(summary.subject, "O=No Name\\, Inc., C=FR");
    assert_eq!(summary.issuer, "CN=CA");
    assert_eq!(summary.common_name, None);
    assert!(summary.dns_names.is_empty());
    assert!(summary.ip_addresses.is_empty());
    assert!(!summary.is_ca);
    assert!(summary.not_after.ends_with(" GMT"), "{}", summary.not_after);
    assert!(summary.names().is_empty());
    assert!(summary.sha1.matches(&bare.cert));
    assert!(summary.sha256.matches(&bare.cert));
}
