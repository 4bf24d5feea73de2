//! Key logs: the NSS key log lines OpenSSL hands the callback, written by the client and the
//! server configurations, `--keylog` and `SSLKEYLOGFILE`; and the proof that they work: a
//! loopback capture (tcpdump) that tshark decrypts with the file, showing the application
//! data in the clear.

use crate::common;
use crate::real_servers;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use real_servers::{require, run_bounded, Daemon};
use tlshake::client::{self, ClientConfig};
use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
use tlshake::ProtocolVersion;

fn labels(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).expect("key log");
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "{l}");
            assert_eq!(f[1].len(), 64, "client random: {l}");
            assert!(
                f[1].bytes()
                    .chain(f[2].bytes())
                    .all(|b| b.is_ascii_hexdigit()),
                "{l}"
            );
            f[0].to_string()
        })
        .collect()
}

fn library_client_logs(version: ProtocolVersion) -> BTreeSet<String> {
    let server = OpensslServer::builder()
        .version(version)
        .mode(ServerMode::Www)
        .spawn()
        .expect("s_server");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.log");
    let config = ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .key_log(&path)
        .build()
        .expect("config");
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = client::upgrade(
        tcp,
        "localhost",
        &config,
        &tlshake::client::ConnectOptions::new().deadline(deadline),
    )
    .expect("handshake")
    .stream;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
    let mut page = Vec::new();
    let _ = stream.read_to_end(&mut page);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&path).expect("file").permissions());
    assert_eq!(mode & 0o777, 0o600);
    labels(&path)
}

#[test]
fn client_key_log_has_the_tls13_secrets() {
    let got = library_client_logs(ProtocolVersion::Tls1_3);
    let want: BTreeSet<String> = [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(got, want);
}

#[test]
fn client_key_log_has_the_tls12_master_secret() {
    let got = library_client_logs(ProtocolVersion::Tls1_2);
    assert_eq!(got, BTreeSet::from(["CLIENT_RANDOM".to_string()]));
}

#[test]
fn an_unopenable_key_log_is_refused_by_both_configs() {
    let path = Path::new("/nonexistent-dir/keys.log");
    let err = ClientConfig::builder()
        .key_log(path)
        .build()
        .expect_err("refused");
    assert!(matches!(err, client::ConfigError::KeyLog { .. }), "{err:?}");
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(
        source.as_deref(),
        Some("cannot open the key log file /nonexistent-dir/keys.log")
    );
    let server = tlshake::server::ServerConfig::builder()
        .certificate(tlshake::server::CertificateSource::pem_files(
            common::cert("server.pem"),
            common::cert("server.key"),
        ))
        .key_log(path)
        .build()
        .map(|c| c.context().clone());
    assert!(
        matches!(
            server,
            Err(tlshake::server::ServerConfigError::KeyLog { .. })
        ),
        "{server:?}"
    );
}

#[test]
fn cli_writes_sslkeylogfile_and_prefers_the_flag() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .spawn()
        .expect("s_server");
    let dir = tempfile::tempdir().expect("tempdir");
    let (env_file, flag_file) = (dir.path().join("env.log"), dir.path().join("flag.log"));
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
        cmd.args([
            "connect",
            &format!("tls://127.0.0.1:{}", server.port()),
            "--cafile",
        ])
        .arg(common::cert("ca.pem"))
        .args(extra)
        .env("SSLKEYLOGFILE", &env_file);
        let out = run_bounded(cmd, Duration::from_secs(20));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[]);
    assert_eq!(labels(&env_file).len(), 5);
    run(&["--keylog", flag_file.to_str().expect("path")]);
    assert_eq!(labels(&flag_file).len(), 5);
    assert_eq!(
        fs::read_to_string(&env_file)
            .expect("env log")
            .lines()
            .count(),
        5,
        "appended to the flag's file only"
    );
}

// ---- decrypting a capture with tshark ------------------------------------------------------

/// tcpdump on the loopback for `port`, writing `pcap`, ready once it says it listens.
pub(crate) fn capture(dir: &Path, port: u16) -> Daemon {
    require("tcpdump", "tcpdump");
    let mut cmd = Command::new("tcpdump");
    cmd.args(["-i", "lo", "--immediate-mode", "-U", "-n", "-w"])
        .arg(dir.join("cap.pcap"))
        .arg(format!("tcp port {port}"));
    let daemon = Daemon::spawn("tcpdump", cmd, dir, None);
    let log = dir.join("tcpdump.out");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("listening on")
        {
            return daemon;
        }
        assert!(
            Instant::now() < deadline,
            "tcpdump did not start:\n{}",
            daemon.tail(&[])
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the capture holds both FINs of the connection (it is complete), then stops
/// tcpdump.
pub(crate) fn finish(capture: Daemon, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while fins(&dir.join("cap.pcap")) < 2 {
        assert!(
            Instant::now() < deadline,
            "the capture has no end of connection:\n{}",
            capture.tail(&[])
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(capture);
}

/// The TCP segments with FIN in a pcap file of Ethernet frames with IPv4.
fn fins(pcap: &Path) -> usize {
    let bytes = fs::read(pcap).unwrap_or_default();
    let mut pos = 24;
    let mut count = 0;
    while let Some(header) = bytes.get(pos..pos + 16) {
        let len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let Some(frame) = bytes.get(pos + 16..pos + 16 + len) else {
            break;
        };
        let ihl = usize::from(frame.get(14).copied().unwrap_or(0) & 0x0f) * 4;
        let flags = frame.get(14 + ihl + 13).copied().unwrap_or(0);
        if frame.get(14 + 9) == Some(&6) && flags & 0x01 != 0 {
            count += 1;
        }
        pos += 16 + len;
    }
    count
}

/// The TLS streams of the capture as tshark decrypts them with `keylog` (or without).
fn decrypted(dir: &Path, keylog: Option<&Path>) -> String {
    require("tshark", "tshark");
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(dir.join("cap.pcap"));
    if let Some(k) = keylog {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    cmd.args(["-q", "-z", "follow,tls,ascii,0"]);
    let out = run_bounded(cmd, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs tcpdump and tshark (and root); run by ./scripts/test.sh"]
fn tshark_decrypts_a_tlshake_client_capture_with_its_key_log() {
    let dir = real_servers::test_dir();
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .mode(ServerMode::Www)
        .spawn()
        .expect("s_server");
    let port = server.port();
    let keylog = dir.path().join("keys.log");
    let tcpdump = capture(dir.path(), port);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args(["connect", &format!("tls://127.0.0.1:{port}"), "--cafile"])
        .arg(common::cert("ca.pem"))
        .arg("--keylog")
        .arg(&keylog)
        .args(["--send", "GET /marker-client-7f3a HTTP/1.0\r\n\r\n"]);
    let out = run_bounded(cmd, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    finish(tcpdump, dir.path());
    let clear = decrypted(dir.path(), Some(&keylog));
    assert!(
        clear.contains("GET /marker-client-7f3a HTTP/1.0"),
        "{clear}"
    );
    assert!(clear.contains("HTTP/1.0 200 ok"), "{clear}");
    let without = decrypted(dir.path(), None);
    assert!(
        !without.contains("marker-client-7f3a"),
        "plaintext without the key log: {without}"
    );
}

#[test]
#[ignore = "needs tcpdump and tshark (and root); run by ./scripts/test.sh"]
fn tshark_decrypts_a_tlshake_server_capture_with_its_key_log() {
    let dir = real_servers::test_dir();
    let port = real_servers::free_port();
    let keylog = dir.path().join("keys.log");
    let tcpdump = capture(dir.path(), port);
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tlshake"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--max-connections",
            "1",
        ])
        .arg("--cert")
        .arg(common::cert("server.pem"))
        .arg("--key")
        .arg(common::cert("server.key"))
        .arg("--keylog")
        .arg(&keylog)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tlshake serve");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("listening line");
    assert!(first.contains("listening on"), "{first}");
    let client = OpensslClient::builder(([127, 0, 0, 1], port).into())
        .ca_file(common::cert("ca.pem"))
        .send(b"marker-server-51c9\n".to_vec())
        .keep_stdin_open()
        .spawn()
        .expect("s_client");
    assert!(
        client.wait_for_output("marker-server-51c9", Duration::from_secs(10)),
        "{}",
        client.output()
    );
    client.wait(Duration::from_secs(10)).expect("s_client ends");
    let deadline = Instant::now() + Duration::from_secs(10);
    while serve.try_wait().expect("serve").is_none() {
        assert!(
            Instant::now() < deadline,
            "tlshake serve did not exit after one connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    finish(tcpdump, dir.path());
    let clear = decrypted(dir.path(), Some(&keylog));
    assert!(clear.contains("marker-server-51c9"), "{clear}");
    assert!(!decrypted(dir.path(), None).contains("marker-server-51c9"));
}
