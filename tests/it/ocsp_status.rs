//! `--status` and `ClientConfigBuilder::status_request`: the OCSP response `openssl
//! s_server -status_file` staples, decoded (good, revoked, none, a forged signature).

use crate::common;
use crate::real_servers;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use real_servers::run_bounded;
use serde_json::Value;
use tlshake::client::ocsp::{self, Stapled};
use tlshake::client::{self, ClientConfig};
use tlshake::harness::{OpensslServer, ServerMode};

/// An OCSP response for certs/server.pem, signed by `signer` (`"ca"` or `"rogue-ca"`),
/// saying `revoked` or good, written in `dir`.
fn response(dir: &Path, signer: &str, revoked: bool) -> PathBuf {
    let field = |args: &[&str]| {
        let mut cmd = Command::new("openssl");
        cmd.args(["x509", "-noout", "-in"])
            .arg(common::cert("server.pem"))
            .args(args);
        let out = run_bounded(cmd, Duration::from_secs(10));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let serial = field(&["-serial"])
        .trim_start_matches("serial=")
        .to_string();
    let subject = field(&["-subject", "-nameopt", "compat"])
        .trim_start_matches("subject=")
        .to_string();
    let line = if revoked {
        format!("R\t991231235959Z\t261101000000Z\t{serial}\tunknown\t{subject}\n")
    } else {
        format!("V\t991231235959Z\t\t{serial}\tunknown\t{subject}\n")
    };
    let index = dir.join(format!("{signer}-{revoked}.txt"));
    std::fs::write(&index, line).expect("index");
    let out_file = dir.join(format!("{signer}-{revoked}.der"));
    let mut cmd = Command::new("openssl");
    cmd.arg("ocsp")
        .arg("-index")
        .arg(&index)
        .arg("-rsigner")
        .arg(common::cert(&format!("{signer}.pem")))
        .arg("-rkey")
        .arg(common::cert(&format!("{signer}.key")))
        .arg("-CA")
        .arg(common::cert("ca.pem"))
        .arg("-issuer")
        .arg(common::cert("ca.pem"))
        .arg("-cert")
        .arg(common::cert("server.pem"))
        .args(["-ndays", "7", "-respout"])
        .arg(&out_file);
    let out = run_bounded(cmd, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "openssl ocsp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_file
}

fn server(status_file: Option<&Path>) -> OpensslServer {
    let mut b = OpensslServer::builder().mode(ServerMode::Www);
    if let Some(f) = status_file {
        b = b.arg("-status_file").arg(f);
    }
    b.spawn().expect("s_server")
}

fn connect_json(server: &OpensslServer, status: bool) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args([
        "connect",
        &format!("tls://127.0.0.1:{}", server.port()),
        "--json",
        "--cafile",
    ])
    .arg(common::cert("ca.pem"));
    if status {
        cmd.arg("--status");
    }
    let out = run_bounded(cmd, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    let j: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(j["outcome"], "done", "{j}");
    j
}

#[test]
fn a_good_stapled_status_is_reported_and_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&response(dir.path(), "ca", false)));
    let j = connect_json(&server, true);
    let o = &j["ocsp"];
    assert_eq!(o["stapled"], true, "{j}");
    assert_eq!(o["status"], "good", "{j}");
    assert_eq!(o["verified"], true, "{j}");
    assert!(
        o["this_update"]
            .as_str()
            .is_some_and(|t| t.ends_with("GMT")),
        "{j}"
    );
    assert!(o["next_update"].is_string(), "{j}");
    assert!(o["revocation_time"].is_null(), "{j}");
    // Not asked: not reported.
    assert!(connect_json(&server, false)["ocsp"].is_null());
}

#[test]
fn a_revoked_status_shows_when() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&response(dir.path(), "ca", true)));
    let o = connect_json(&server, true)["ocsp"].clone();
    assert_eq!(o["status"], "revoked", "{o}");
    assert_eq!(o["revocation_time"], "Nov  1 00:00:00 2026 GMT", "{o}");
    assert_eq!(o["verified"], true, "{o}");
}

#[test]
fn no_staple_is_reported_as_none() {
    let server = server(None);
    let j = connect_json(&server, true);
    assert_eq!(j["ocsp"], serde_json::json!({"stapled": false}), "{j}");
}

#[test]
fn a_response_signed_by_another_ca_is_not_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&response(dir.path(), "rogue-ca", false)));
    let o = connect_json(&server, true)["ocsp"].clone();
    assert_eq!(o["status"], "good", "{o}");
    assert_eq!(o["verified"], false, "{o}");
}

#[test]
fn library_reads_the_stapled_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&response(dir.path(), "ca", true)));
    let config = ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .status_request(true)
        .build()
        .expect("config");
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let stream = client::upgrade(
        tcp,
        "localhost",
        &config,
        &tlshake::client::ConnectOptions::new().deadline(deadline),
    )
    .expect("handshake")
    .stream;
    match ocsp::stapled(stream.ssl(), true) {
        Some(Stapled::Response(r)) => assert_eq!((r.status, r.verified), ("revoked", true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(ocsp::stapled(stream.ssl(), false), None);
}
