//! Runs each program of `examples/` against a real `openssl s_server` or `s_client` and pins
//! what it prints. Every wait is bounded by a deadline.
use crate::common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::cert;
use common::cli::wait_bounded;
use openssl::x509::X509;
use tlshake::fingerprint::{DigestKind, Fingerprint};
use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
use tlshake::ProtocolVersion;

const LIMIT: Duration = Duration::from_secs(30);

/// The example binary, built (once per test run) by `cargo build --examples`, which is a
/// no-op after `cargo test` has built them.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // The variables cargo sets for a test process are not in a shell's environment;
        // build scripts that watch them (ring's watches CARGO_MANIFEST_DIR and OUT_DIR) would rebuild.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_str())
            {
                build.env_remove(name);
            }
        }
        build.args(["build", "--examples", "--quiet"]);
        // The examples that need the tokio runner (hyper_get) are built when this test is.
        #[cfg(feature = "tokio")]
        build.args(["--features", "tokio"]);
        let child = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cargo");
        let out = wait_bounded(child, Duration::from_secs(600));
        assert!(out.status.success(), "cargo build --examples: {out:?}");
    });
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/examples-HASH -> target/debug/examples/NAME
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    dir.join("examples").join(name)
}

fn run(name: &str, args: &[&str]) -> Output {
    let child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the example");
    wait_bounded(child, LIMIT)
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(name: &str) -> String {
    cert(name).display().to_string()
}

fn s_server(mode: ServerMode) -> OpensslServer {
    OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .mode(mode)
        .spawn()
        .expect("s_server")
}

#[test]
fn blocking_client_prints_the_protocol_and_the_reply() {
    let server = s_server(ServerMode::Www);
    let out = run(
        "blocking_client",
        &[&server.addr().to_string(), &path("ca.pem"), "localhost"],
    );
    assert_eq!(
        stdout(&out),
        "established TLSv1.3 with localhost\nreply: HTTP/1.0 200 ok\n"
    );
}

#[test]
fn blocking_client_fails_on_a_name_mismatch_with_the_whole_story() {
    let server = s_server(ServerMode::Www);
    let out = run(
        "blocking_client",
        &[&server.addr().to_string(), &path("ca.pem"), "wrong.example"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate verify failed"), "{err}");
    assert!(err.contains("\n  hint: "), "{err}");
}

#[test]
fn url_client_negotiates_alpn_with_a_client_certificate() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .ca_file(cert("ca.pem"))
        .verify_client(true)
        .alpn("http/1.1")
        .spawn()
        .expect("s_server");
    let url = format!("tls://localhost:{}", server.port());
    let out = run(
        "url_client",
        &[
            &url,
            &path("ca.pem"),
            &path("client.pem"),
            &path("client.key"),
        ],
    );
    assert_eq!(
        stdout(&out),
        format!(
            "established TLSv1.3 with {url}\nalpn: http/1.1\nserver certificate verified: true\n"
        )
    );
    // s_server prints the certificate the client sent.
    assert!(
        server.wait_for_output("-----END CERTIFICATE-----", Duration::from_secs(5)),
        "s_server saw no client certificate: {}",
        server.output()
    );
    assert_eq!(
        common::certificate_after(&server.output(), "Client certificate"),
        Some(common::certificate_file("client.pem")),
        "{}",
        server.output()
    );
}

#[test]
fn server_by_fingerprint_serves_the_chosen_certificate_to_s_client() {
    let store = tempfile::tempdir().expect("tempdir");
    for name in [
        "server.pem",
        "server.key",
        "other-host.pem",
        "other-host.key",
    ] {
        std::fs::copy(cert(name), store.path().join(name)).expect("copy");
    }
    let pem = std::fs::read(cert("server.pem")).expect("read");
    let wanted = X509::from_pem(&pem).expect("pem");
    let hash = Fingerprint::of(&wanted, DigestKind::Sha256)
        .expect("digest")
        .to_string();
    let mut child = Command::new(example("server_by_fingerprint"))
        .args([store.path().to_str().expect("utf-8 path"), &hash])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the example");

    // Its stdout, line by line, through a channel read with a deadline.
    let (tx, lines) = mpsc::channel();
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + LIMIT;
    let next = |what: &str| {
        let left = deadline.saturating_duration_since(Instant::now());
        lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} line before the deadline"))
    };
    assert_eq!(
        next("serving"),
        format!("serving the certificate with SHA-256 {hash}")
    );
    let listening = next("listening");
    let addr: SocketAddr = listening
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{listening}"));

    let client = OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .servername("localhost")
        .verify_return_error()
        .keep_stdin_open()
        .spawn()
        .expect("s_client");
    // s_client exits once its stdin closes: read the greeting first.
    let greeted = client.wait_for_output("hello from tlshake", LIMIT);
    let run = client.wait(LIMIT).expect("s_client ends");
    assert!(greeted, "{}", run.stdout);
    assert!(
        run.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        run.stdout
    );
    assert_eq!(next("accepted"), "accepted a TLSv1.3 client");
    let out = wait_bounded(child, LIMIT);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn sansio_pair_handshakes_in_memory_and_over_a_socket() {
    let server = s_server(ServerMode::Plain);
    let addr = server.addr().to_string();
    let out = run(
        "sansio_pair",
        &[
            &path("ca.pem"),
            &path("server.pem"),
            &path("server.key"),
            &addr,
        ],
    );
    assert_eq!(
        stdout(&out),
        format!("memory pair: TLSv1.3\nover TCP with {addr}: TLSv1.3\n")
    );
}

#[test]
fn many_in_flight_completes_every_handshake() {
    let server = s_server(ServerMode::Plain);
    let out = run(
        "many_in_flight",
        &[&server.addr().to_string(), &path("ca.pem"), "8"],
    );
    assert_eq!(
        stdout(&out),
        "8 handshakes in flight\n8 established, 0 failed\n"
    );
}

/// `hyper_get` against `tlshake serve --reply http` (the binary): hyper's HTTP/1.1 client
/// over the tokio runner's stream gets the status line and the page describing the session.
#[cfg(feature = "tokio")]
#[test]
fn hyper_get_fetches_the_session_page_from_tlshake_serve() {
    let mut serve = common::cli::tlshake()
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--reply",
            "http",
            "--max-connections",
            "1",
        ])
        .spawn()
        .expect("spawn tlshake serve");
    // The first line of its stdout, read in a thread, awaited with a deadline.
    let mut out = serve.stdout.take().expect("piped stdout");
    let (tx, first) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(&mut out);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = first.recv_timeout(LIMIT).unwrap_or_default();
    let Some(addr) = line
        .trim_end()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse::<SocketAddr>().ok())
    else {
        let _ = serve.kill();
        let _ = serve.wait();
        panic!("tlshake serve's first line: {line:?}");
    };
    let url = format!("tls://localhost:{}", addr.port());
    let got = run("hyper_get", &[&url, &path("ca.pem")]);
    let served = wait_bounded(serve, LIMIT);
    assert!(served.status.success(), "tlshake serve: {served:?}");
    let text = stdout(&got);
    let (status, body) = text.split_once('\n').expect("a status line");
    assert_eq!(status, "HTTP/1.1 200 OK");
    // OpenSSL 3.5 and newer lead with the post-quantum hybrid at both ends.
    let group = if tlshake::library::running() >= tlshake::library::OpensslVersion::new(3, 5, 0) {
        "X25519MLKEM768 (post-quantum)"
    } else {
        "x25519"
    };
    assert_eq!(
        body,
        format!(
            "protocol: TLSv1.3\n\
         cipher: TLS_AES_256_GCM_SHA384\n\
         group: {group}\n\
         alpn: none\n\
         sni: localhost\n\
         resumed: no\n\
         client certificate: none\n\
         verify: no certificate\n\
         ech: not_attempted\n"
        )
    );
}
