//! Store directories with junk beside the certificates (unreadable, truncated and binary
//! files, a FIFO, dangling links, a locked subdirectory): the certificate chosen by name or
//! fingerprint is served, by the library and by `tlshake serve`, even a self-signed one marked
//! `CA:TRUE`; every junk entry is skipped with its reason; a choice that fails names the file
//! and its cause; and `serve` starts on 2,000 certificates plus junk well under a second.

use crate::certstore::gen::{self, Issued};
use crate::common;
use crate::common::openssl_line::{line, Line};
use crate::server_support::{established, start};

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::cli::{stderr_of, tlshake, wait_bounded};
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use tlshake::certstore::{CertStore, CertStoreError, CertSummary, FileSkipReason, SkippedFile};
use tlshake::harness::OpensslClient;
use tlshake::server::ServerConfig;

/// Writes one entry of each kind of junk into `dir`.
fn add_junk(dir: &Path) {
    // Binary: bytes that are neither PEM nor DER.
    let binary: Vec<u8> = (0..2048u32).map(|i| (i * 7 + 3) as u8).collect();
    gen::write(dir, "binary.pem", &binary);
    gen::write(dir, "empty.crt", b"");
    // A certificate cut in the middle of its base64.
    let whole = gen::cert_pem(&[&gen::root("Truncated").cert]);
    gen::write(dir, "truncated.pem", &whole[..whole.len() / 2]);
    nix::unistd::mkfifo(
        &dir.join("fifo.pem"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
    std::os::unix::fs::symlink("nowhere.pem", dir.join("dangling.pem")).expect("symlink");
    // A link to itself cannot be opened, even by root (ELOOP).
    std::os::unix::fs::symlink("loop.crt", dir.join("loop.crt")).expect("symlink");
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    gen::write(dir, "notes.txt", b"renew in March\n");
}

/// What the store says of each junk entry, by file name, in file name order.
fn junk_reasons() -> Vec<(&'static str, String)> {
    vec![
        ("binary.pem", "CertificateParse".into()),
        ("dangling.pem", "DanglingLink -> nowhere.pem".into()),
        ("empty.crt", "CertificateParse".into()),
        ("fifo.pem", "NotRegularFile FIFO".into()),
        ("locked", "Directory".into()),
        ("loop.crt", "Read os error 40".into()),
        ("notes.txt", "OtherFileName".into()),
        ("truncated.pem", "TruncatedPem CERTIFICATE".into()),
    ]
}

/// The junk entries that are certificate files the store could not read.
fn unreadable_junk() -> Vec<&'static str> {
    let not_files = ["locked", "notes.txt"];
    junk_reasons()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !not_files.contains(name))
        .collect()
}

fn reason_of(file: &SkippedFile) -> String {
    match &file.reason {
        FileSkipReason::Directory => "Directory".into(),
        FileSkipReason::OtherFileName => "OtherFileName".into(),
        FileSkipReason::Failed(error) => match error {
            CertStoreError::CertificateParse { .. } => "CertificateParse".into(),
            CertStoreError::DanglingLink { target, .. } => {
                format!("DanglingLink -> {}", target.display())
            }
            CertStoreError::NotRegularFile { kind, .. } => format!("NotRegularFile {kind}"),
            CertStoreError::Read { source, .. } => {
                format!("Read os error {}", source.raw_os_error().unwrap_or(-1))
            }
            CertStoreError::TruncatedPem { label, .. } => format!("TruncatedPem {label}"),
            other => format!("unexpected {other:?}"),
        },
        other => format!("unexpected {other:?}"),
    }
}

fn skipped(store: &CertStore, dir: &Path) -> Vec<(String, String)> {
    store
        .skipped_files()
        .iter()
        .map(|file| {
            let name = file.path.strip_prefix(dir).expect("in the store");
            (name.display().to_string(), reason_of(file))
        })
        .collect()
}

fn expected_skipped() -> Vec<(String, String)> {
    junk_reasons()
        .into_iter()
        .map(|(name, reason)| (name.to_owned(), reason))
        .collect()
}

/// A store with the chosen self-signed `CA:TRUE` certificate (`chosen.pem` + `chosen.key`),
/// a leaf issued by a CA, the CA itself (no key), and the junk.
fn junk_store() -> (tempfile::TempDir, Issued) {
    let dir = tempfile::tempdir().expect("tempdir");
    let chosen = gen::root("chosen.test");
    gen::write_pair(dir.path(), "chosen", &chosen);
    let ca = gen::root("Junk Test CA");
    gen::write(dir.path(), "ca.pem", &gen::cert_pem(&[&ca.cert]));
    gen::write_pair(
        dir.path(),
        "other",
        &gen::leaf("other.test", &["other.test"], &ca),
    );
    add_junk(dir.path());
    (dir, chosen)
}

/// [`CertStore::load_dir`] in a thread, waited for at most 10 s: a store that opened the
/// FIFO for reading would block, and the test fails instead of hanging.
fn load_bounded(dir: &Path) -> CertStore {
    let (tx, rx) = mpsc::channel();
    let dir = dir.to_owned();
    thread::spawn(move || {
        let _ = tx.send(CertStore::load_dir(&dir, &[]));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the store loads within 10 s")
        .expect("the store loads")
}

/// Each level of an error's chain, outermost first.
fn chain_of(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut levels = Vec::new();
    let mut level = Some(error);
    while let Some(e) = level {
        levels.push(e.to_string());
        level = e.source();
    }
    levels
}

/// What `openssl s_client` trusting only `ca_file` saw from `addr`: the subject line and the
/// SHA-256 of the certificate it printed.
/// The `subject=` line s_client prints for a certificate named `CN=cn`: 3.0 spaces the `=`
/// (`CN = name`), 3.5 and later do not (`CN=name`).
fn subject_line(cn: &str) -> String {
    match line() {
        Line::V3_0 => format!("CN = {cn}"),
        Line::V3_5 | Line::V3_6 | Line::V4_0 => format!("CN={cn}"),
    }
}

fn s_client_sees(addr: SocketAddr, ca_file: &Path) -> (String, Vec<u8>) {
    let run = OpensslClient::builder(addr)
        .ca_file(ca_file)
        .verify_return_error()
        .spawn()
        .expect("spawn s_client")
        .wait(Duration::from_secs(10))
        .expect("s_client ends");
    assert!(run.handshake_done(), "{}", run.output());
    assert!(run.verify_ok(), "{}", run.output());
    let out = run.output();
    let subject = out
        .lines()
        .find_map(|line| line.strip_prefix("subject="))
        .unwrap_or_else(|| panic!("no subject line: {out}"))
        .trim()
        .to_owned();
    let begin = out
        .find("-----BEGIN CERTIFICATE-----")
        .expect("PEM in the output");
    let end = out[begin..]
        .find("-----END CERTIFICATE-----")
        .map(|at| begin + at + "-----END CERTIFICATE-----".len())
        .expect("end of the PEM");
    let served = X509::from_pem(&out.as_bytes()[begin..end]).expect("the served certificate");
    let digest = served.digest(MessageDigest::sha256()).expect("digest");
    (subject, digest.to_vec())
}

fn sha256_of(cert: &X509) -> Vec<u8> {
    cert.digest(MessageDigest::sha256())
        .expect("digest")
        .to_vec()
}

#[test]
fn a_store_with_junk_serves_the_chosen_self_signed_certificate() {
    let (dir, chosen) = junk_store();
    let store = load_bounded(dir.path());
    assert_eq!(skipped(&store, dir.path()), expected_skipped());
    assert_eq!(store.entries().len(), 2);
    let summary = CertSummary::from_x509(&chosen.cert).expect("summary");
    assert!(summary.is_ca && summary.self_signed, "{summary:?}");
    for found in [
        store.find_by_fingerprint(&summary.sha256),
        store.find_by_name("chosen.test"),
    ] {
        let found = found.expect("the chosen certificate");
        assert_eq!(found.summary(), &summary);
        assert_eq!(
            found.source(),
            Some(dir.path().join("chosen.pem").as_path())
        );
        assert!(found.chain().is_empty());
    }

    // Served by a listener configured with the fingerprint, as s_client sees it.
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .store_certificate_by_hash(dir.path(), summary.sha1.to_string());
    let (addr, server) = start(&config, 1);
    let (subject, digest) = s_client_sees(addr, &dir.path().join("chosen.pem"));
    established(server.join().expect("server thread"));
    assert_eq!(subject, subject_line("chosen.test"));
    assert_eq!(digest, sha256_of(&chosen.cert));
}

#[test]
fn a_choice_that_fails_names_the_file_and_its_cause() {
    let (dir, chosen) = junk_store();
    let key = gen::write(
        dir.path(),
        "chosen.key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let store = load_bounded(dir.path());
    assert_eq!(skipped(&store, dir.path()), expected_skipped());
    let sha256 = CertSummary::from_x509(&chosen.cert)
        .expect("summary")
        .sha256;
    match store.find_by_fingerprint(&sha256) {
        Err(CertStoreError::KeyParse { path, source }) => {
            assert_eq!(path, key);
            assert!(!source.entries().is_empty());
        }
        other => panic!("expected KeyParse, got {other:?}"),
    }
    // The other certificates are still there to choose.
    assert!(store.find_by_name("other.test").is_ok());

    // Through the server configuration: the whole chain, the file and OpenSSL's reason.
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .store_certificate_by_hash(dir.path(), sha256.to_string());
    let err = config.build().expect_err("the chosen key is corrupt");
    let levels = chain_of(&err);
    assert_eq!(levels.len(), 3, "{levels:#?}");
    assert_eq!(levels[0], "the server certificate could not be used");
    assert_eq!(
        levels[1],
        format!(
            "cannot read a private key from {}: expected a PEM `PRIVATE KEY` block (PKCS#8, or \
             traditional RSA/EC)",
            key.display()
        )
    );
    assert!(levels[2].contains("asn1 encoding routines"), "{levels:#?}");

    // A fingerprint nothing has: the files the certificate may be in, each with its cause.
    let err = store
        .find_by_hash_text(&"ab".repeat(32))
        .expect_err("no such certificate");
    let CertStoreError::NoFingerprintMatch { unread, .. } = &err else {
        panic!("expected NoFingerprintMatch, got {err:?}");
    };
    let names: Vec<String> = unread
        .iter()
        .map(|f| {
            f.path
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, unreadable_junk());
    let message = err.to_string();
    let looped = dir.path().join("loop.crt");
    assert!(
        message.contains(&format!(
            "\n  - cannot read {}: Too many levels of symbolic links (os error 40)",
            looped.display()
        )),
        "{message}"
    );
}

/// Spawns `tlshake serve` on 127.0.0.1, any port, with `args`; returns the child and the
/// address of its `listening on` line, read within `limit` (a thread keeps draining stdout).
fn spawn_serve(args: &[&str], limit: Duration) -> (Child, SocketAddr, Duration) {
    let start = Instant::now();
    let mut child = tlshake()
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(args)
        .spawn()
        .expect("spawn tlshake serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = match lines.recv_timeout(limit) {
        Ok(line) => line,
        Err(_) => {
            let out = wait_after_kill(child);
            panic!(
                "no `listening on` line within {limit:?}: {}",
                stderr_of(&out)
            );
        }
    };
    let took = start.elapsed();
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("first line {line:?}"));
    (child, addr, took)
}

/// Kills the child this test started and collects its output.
fn wait_after_kill(mut child: Child) -> std::process::Output {
    let _ = child.kill();
    wait_bounded(child, Duration::from_secs(10))
}

/// The `[req]` and `[v3_ca]` sections of OpenSSL's stock `openssl.cnf` (what distributions
/// ship): `req -x509` adds `v3_ca`, so a self-signed certificate comes out `CA:TRUE`. Given
/// with `-config`, so the answer does not hang on the `openssl.cnf` of the program under
/// test (the matrix builds of scripts/openssl.sh have an empty one).
const STOCK_REQ_CONFIG: &str = "\
[req]
distinguished_name = req_distinguished_name
x509_extensions = v3_ca
[req_distinguished_name]
[v3_ca]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
basicConstraints = critical,CA:true
";

/// A self-signed certificate as `openssl req -x509` makes it with the stock configuration
/// (`CA:TRUE`), written to `dir/<stem>.pem` and `dir/<stem>.key`.
fn openssl_req_x509(dir: &Path, stem: &str, cn: &str) -> X509 {
    let cert = dir.join(format!("{stem}.pem"));
    let key = dir.join(format!("{stem}.key"));
    // Beside the store, not in it: the store would list it as one more skipped file.
    let config_dir = tempfile::tempdir().expect("tempdir");
    let config = config_dir.path().join("req.cnf");
    std::fs::write(&config, STOCK_REQ_CONFIG).expect("write the req configuration");
    let run = crate::server_support::run_peer(
        {
            let mut c = Command::new("openssl");
            c.args(["req", "-config"])
                .arg(&config)
                .args(["-x509", "-newkey", "ec", "-pkeyopt"])
                .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"])
                .args(["-subj", &format!("/CN={cn}")])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert);
            c
        },
        b"",
        Duration::from_secs(10),
    );
    assert!(run.succeeded(), "{}", run.output());
    X509::from_pem(&std::fs::read(&cert).expect("read")).expect("PEM")
}

#[test]
fn serve_with_a_junk_store_serves_the_chosen_certificate_and_names_the_skipped_files() {
    let (dir, _) = junk_store();
    let chosen = openssl_req_x509(dir.path(), "req-x509", "req.test");
    let summary = CertSummary::from_x509(&chosen).expect("summary");
    assert!(
        summary.is_ca && summary.self_signed,
        "openssl req -x509 makes CA:TRUE"
    );
    let store = dir.path().display().to_string();
    let (child, addr, _) = spawn_serve(
        &[
            "--store",
            &store,
            "--cert-hash",
            &summary.sha256.to_string(),
            "--max-connections",
            "1",
        ],
        common::cli::LIMIT,
    );
    let (subject, digest) = s_client_sees(addr, &dir.path().join("req-x509.pem"));
    let out = wait_bounded(child, Duration::from_secs(10));
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(subject, subject_line("req.test"));
    assert_eq!(digest, sha256_of(&chosen));

    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tlshake: skipped: "))
        .collect();
    assert_eq!(skipped.len(), junk_reasons().len(), "{stderr}");
    for ((name, _), line) in junk_reasons().iter().zip(&skipped) {
        let path = dir.path().join(name).display().to_string();
        assert!(line.contains(&path), "{name}: {line}");
    }
    let at = |name: &str| dir.path().join(name).display().to_string();
    assert!(
        skipped.contains(
            &format!(
        "tlshake: skipped: {} is a FIFO, not a regular file: put a certificate file there, or \
         move it out of the directory",
        at("fifo.pem")
    )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(
        skipped.contains(
            &format!(
                "tlshake: skipped: cannot read {}: Too many levels of symbolic links (os error 40)",
                at("loop.crt")
            )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "tlshake: serving CN=req.test (SHA-256 {}) from {}\n",
            summary.sha256,
            at("req-x509.pem")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "tlshake: CN=req.test is self-signed (basicConstraints CA:TRUE, as `openssl req \
             -x509` makes it)"
        ),
        "{stderr}"
    );
}

#[test]
fn serve_names_the_file_and_cause_when_the_chosen_certificate_fails() {
    let (dir, chosen) = junk_store();
    let key = gen::write(
        dir.path(),
        "chosen.key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let sha1 = CertSummary::from_x509(&chosen.cert).expect("summary").sha1;
    let out = common::cli::run(&[
        "serve",
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--store",
        &dir.path().display().to_string(),
        "--cert-hash",
        &sha1.to_string(),
    ]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing listens");
    let failure = stderr
        .lines()
        .find(|l| l.starts_with("tlshake: cannot serve: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let head = format!(
        "tlshake: cannot serve: cannot read a private key from {}: expected a PEM `PRIVATE \
         KEY` block (PKCS#8, or traditional RSA/EC): error:",
        key.display()
    );
    assert!(failure.starts_with(&head), "{failure}");
    assert!(failure.contains("asn1 encoding routines"), "{failure}");
    // The junk was named too, before the failure.
    let skipped = stderr
        .lines()
        .filter(|l| l.starts_with("tlshake: skipped: "))
        .count();
    assert_eq!(skipped, junk_reasons().len(), "{stderr}");
}

/// 2,000 certificates (1,000 leaves of one CA with their key in a sibling file, 1,000
/// self-signed with the key in the same file), the CA, and the junk.
fn big_store() -> (tempfile::TempDir, PathBuf) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::pkey::PKey;
    use openssl::x509::extension::BasicConstraints;
    use openssl::x509::X509Name;

    let dir = tempfile::tempdir().expect("tempdir");
    let ca = gen::root("Big Store CA");
    gen::write(dir.path(), "ca.pem", &gen::cert_pem(&[&ca.cert]));
    let key = PKey::ec_gen("prime256v1").expect("key");
    let key_pem = gen::key_pem(&key);
    let not_before = Asn1Time::days_from_now(0).expect("time");
    let not_after = Asn1Time::days_from_now(30).expect("time");
    for i in 0..2000u32 {
        let self_signed = i % 2 == 1;
        let mut name = X509Name::builder().expect("name");
        name.append_entry_by_text("CN", &format!("host{i}.big.test"))
            .expect("CN");
        let name = name.build();
        let mut b = X509::builder().expect("builder");
        b.set_version(2).expect("version");
        let serial = BigNum::from_u32(i + 100).expect("serial");
        b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
            .expect("serial");
        b.set_subject_name(&name).expect("subject");
        b.set_issuer_name(if self_signed {
            &name
        } else {
            ca.cert.subject_name()
        })
        .expect("issuer");
        b.set_pubkey(&key).expect("pubkey");
        b.set_not_before(&not_before).expect("not before");
        b.set_not_after(&not_after).expect("not after");
        let mut constraints = BasicConstraints::new();
        if self_signed {
            constraints.critical().ca();
        }
        b.append_extension(constraints.build().expect("bc"))
            .expect("bc");
        b.sign(
            if self_signed { &key } else { &ca.key },
            MessageDigest::sha256(),
        )
        .expect("sign");
        let mut pem = b.build().to_pem().expect("PEM");
        if self_signed {
            pem.extend_from_slice(&key_pem);
        } else {
            gen::write(dir.path(), &format!("host{i}.key"), &key_pem);
        }
        gen::write(dir.path(), &format!("host{i}.pem"), &pem);
    }
    add_junk(dir.path());
    let chosen = dir.path().join("host1001.pem");
    (dir, chosen)
}

/// The goal is well under a second; the test holds `serve` to a loose 2 s deadline for its
/// `listening on` line (a loaded machine), and prints the figures it measured.
#[test]
fn serve_starts_on_a_store_of_2000_certificates_and_junk_well_under_a_second() {
    let (dir, chosen_path) = big_store();
    let chosen = X509::from_pem(&std::fs::read(&chosen_path).expect("read")).expect("PEM");
    let sha256 = CertSummary::from_x509(&chosen).expect("summary").sha256;

    // The library: every certificate is a candidate, the junk is skipped.
    let start = Instant::now();
    let store = load_bounded(dir.path());
    let loaded = start.elapsed();
    assert_eq!(store.entries().len(), 2000);
    assert_eq!(skipped(&store, dir.path()), expected_skipped());
    assert!(store.find_by_fingerprint(&sha256).is_ok());

    // `tlshake serve`: from spawn to its `listening on` line.
    let (child, addr, took) = spawn_serve(
        &[
            "--store",
            &dir.path().display().to_string(),
            "--cert-hash",
            &sha256.to_string(),
            "--max-connections",
            "1",
        ],
        Duration::from_secs(2),
    );
    eprintln!("2,000 certificates + junk: CertStore::load_dir {loaded:?}, serve up in {took:?}");
    let (subject, digest) = s_client_sees(addr, &chosen_path);
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(subject, subject_line("host1001.big.test"));
    assert_eq!(digest, sha256_of(&chosen));
}
