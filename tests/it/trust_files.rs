//! CA files given to the client configuration: read and parsed once, and refused at once
//! when they are not regular files.

use crate::common;

use std::time::{Duration, Instant};

use tlshake::client::{ClientConfig, ConfigError};
use tlshake::harness::OpensslServer;
use tlshake::url::TransportUrl;
use tlshake::ProtocolVersion;

/// Bytes this thread has read through `read(2)` and its kin so far (`rchar` of
/// `/proc/thread-self/io`): other test threads do not count.
fn bytes_read_by_this_thread() -> u64 {
    let io = std::fs::read_to_string("/proc/thread-self/io").expect("/proc/thread-self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rchar")
}

#[test]
fn a_large_ca_file_is_read_once_and_still_trusted() {
    let one = std::fs::read(common::cert("ca.pem")).expect("ca.pem");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big-ca.pem");
    let big: Vec<u8> = one.iter().copied().cycle().take(one.len() * 2000).collect();
    std::fs::write(&path, &big).expect("write");
    let size = big.len() as u64;

    let before = bytes_read_by_this_thread();
    let config = ClientConfig::builder()
        .ca_file(&path)
        .build()
        .expect("config");
    let read = bytes_read_by_this_thread() - before;
    assert!(
        read >= size && read < size + size / 2,
        "read {read} bytes for a CA file of {size}"
    );

    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .expect("s_server");
    let url: TransportUrl = format!("tls://localhost:{}", server.port())
        .parse()
        .expect("url");
    let conn = tlshake::client::connect(&url, &config).expect("handshake with the big CA file");
    assert!(conn.session().verify.as_ref().is_some_and(|v| v.is_ok()));
}

#[test]
fn a_fifo_ca_file_is_refused_before_any_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("ca.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let start = Instant::now();
    let err = ClientConfig::builder()
        .ca_file(&fifo)
        .build()
        .expect_err("a FIFO is not a CA file");
    assert!(start.elapsed() < Duration::from_secs(2));
    match &err {
        ConfigError::CaFileNotRegular { path, kind } => {
            assert_eq!(path, &fifo);
            assert_eq!(*kind, "FIFO");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "CA file {} is a FIFO, not a regular file: give a PEM file of trusted CA certificates",
            fifo.display()
        )
    );
}

#[test]
fn a_directory_as_ca_file_is_refused_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = ClientConfig::builder()
        .ca_file(dir.path())
        .build()
        .expect_err("a directory is not a CA file");
    assert!(
        matches!(
            err,
            ConfigError::CaFileNotRegular {
                kind: "directory",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A 20 MB CA file of one certificate repeated ~36,000 times: each repeat used to be decoded
/// by OpenSSL (about 200 µs each, 8 s in all, far past `--timeout 2`); repeats are now
/// dropped before decoding, so `connect` ends inside its one deadline, trusted.
#[test]
fn a_20_mb_ca_file_of_one_certificate_repeated_connects_inside_the_deadline() {
    use common::cli::{run, s_server, stderr_of, url_of};
    use tlshake::harness::ServerMode;

    let one = std::fs::read(common::cert("ca.pem")).expect("ca.pem");
    let copies = (20 << 20) / one.len() + 1;
    let mut big = Vec::with_capacity(one.len() * copies);
    for _ in 0..copies {
        big.extend_from_slice(&one);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big-ca.pem");
    std::fs::write(&path, &big).expect("write");
    assert!(big.len() >= 20 << 20 && copies > 33_000, "{copies} copies");

    let server = s_server(ProtocolVersion::Tls1_3, ServerMode::Plain);
    let deadline = Duration::from_secs(2);
    let start = Instant::now();
    let out = run(&[
        "connect",
        &url_of(&server),
        "--servername",
        "localhost",
        "--cafile",
        &path.display().to_string(),
        "--timeout",
        "2",
        "--json",
    ]);
    let took = start.elapsed();
    assert!(took < deadline, "connect took {took:?} with --timeout 2");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = common::cli::json_of(&out);
    assert_eq!(j["outcome"], "done");
    assert_eq!(j["verify"]["ok"], true, "{j}");
    assert_eq!(j["verify"]["code"], 0, "{j}");
}
