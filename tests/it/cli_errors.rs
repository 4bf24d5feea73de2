//! What the `tlshake` binary prints when it fails: each failure on one line of stderr, with
//! its whole chain of causes (the file, the OS's or OpenSSL's reason), whatever the
//! subcommand. Pinned on `serve`'s start-up errors and on `bench`'s set-up.

use std::net::TcpListener;
use std::process::Output;

use crate::common;
use common::cli::{run, stderr_of};

/// The line `serve` prints when it falls back to the bundled certificate.
const BUNDLED: &str = "tlshake: using the bundled TEST certificate for localhost";

/// `tlshake serve` with `args`, refused before it listens: exit 2, nothing on stdout (no
/// `listening on` line); its stderr, line by line.
fn serve_refused(args: &[&str]) -> Vec<String> {
    let mut all = vec!["serve", "--bind", "127.0.0.1"];
    all.extend_from_slice(args);
    let out = run(&all);
    refused(&out)
}

/// Exit 2 and nothing on stdout; stderr, line by line.
fn refused(out: &Output) -> Vec<String> {
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(out));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr_of(out).lines().map(str::to_string).collect()
}

fn path(name: &str) -> String {
    common::cert(name).display().to_string()
}

#[test]
fn serve_on_a_port_in_use_says_which_address() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port to take");
    let port = taken.local_addr().expect("its address").port().to_string();
    let lines = serve_refused(&["--port", &port]);
    assert_eq!(
        lines,
        [
            BUNDLED.to_string(),
            format!(
                "tlshake: cannot serve: address 127.0.0.1:{port} is already in use: stop the \
                 other server, pick another port (0 = any free port), or keep reuse_address on \
                 to rebind over connections in TIME_WAIT"
            ),
        ]
    );
}

#[test]
fn serve_with_a_missing_certificate_file_names_it_and_the_os_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let cert = dir.path().join("missing.pem").display().to_string();
    let lines = serve_refused(&["--port", "0", "--cert", &cert, "--key", &path("server.key")]);
    assert_eq!(
        lines,
        [format!(
            "tlshake: cannot serve: the server certificate could not be used: cannot read \
             {cert}: No such file or directory (os error 2)"
        )]
    );
}

#[test]
fn serve_with_a_missing_key_file_names_it_and_the_os_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = dir.path().join("missing.key").display().to_string();
    let lines = serve_refused(&["--port", "0", "--cert", &path("server.pem"), "--key", &key]);
    assert_eq!(
        lines,
        [format!(
            "tlshake: cannot serve: the server certificate could not be used: cannot read \
             {key}: No such file or directory (os error 2)"
        )]
    );
}

#[test]
fn serve_with_a_key_that_does_not_match_names_both_files() {
    let (cert, key) = (path("server.pem"), path("other-host.key"));
    let lines = serve_refused(&["--port", "0", "--cert", &cert, "--key", &key]);
    assert_eq!(
        lines,
        [format!(
            "tlshake: cannot serve: the server certificate could not be used: the private key \
             from {key} does not belong to the certificate CN=localhost from {cert}; pair each \
             certificate with the key it was issued for"
        )]
    );
}

#[test]
fn serve_with_a_certificate_file_of_junk_gives_openssls_reasons() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "garbage\n").expect("write the junk file");
    let junk = junk.display().to_string();
    let lines = serve_refused(&["--port", "0", "--cert", &junk, "--key", &path("server.key")]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let prefix = format!(
        "tlshake: cannot serve: the server certificate could not be used: cannot parse the \
         certificate in {junk}: "
    );
    let line = &lines[0];
    let openssl = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    // OpenSSL's own words, from its error queue; their codes differ between releases.
    assert!(
        openssl.starts_with("error:") && openssl.contains("asn1 encoding routines"),
        "{line}"
    );
}

#[test]
fn serve_with_a_missing_client_ca_file_names_it_and_the_os_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = dir.path().join("clients-ca.pem").display().to_string();
    let lines = serve_refused(&["--port", "0", "--verify-client", &ca]);
    assert_eq!(
        lines,
        [
            BUNDLED.to_string(),
            format!(
                "tlshake: cannot serve: cannot read the client CA file {ca}: give a readable \
                 PEM file of the CAs that issue client certificates: No such file or directory \
                 (os error 2)"
            ),
        ]
    );
}

#[test]
fn bench_connect_with_a_missing_cafile_gives_the_os_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = dir.path().join("ca.pem").display().to_string();
    // Refused while building the client configuration: nothing is connected to.
    let out = run(&[
        "bench",
        "--connect",
        "tls://127.0.0.1:1",
        "--cafile",
        &ca,
        "--handshakes",
        "1",
    ]);
    assert_eq!(
        refused(&out),
        [format!(
            "tlshake: bench --connect: CA file {ca}: cannot be read: give a PEM file of \
             trusted CA certificates: No such file or directory (os error 2)"
        )]
    );
}
