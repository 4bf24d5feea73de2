//! The `tlshake` binary, run as a child process: flags, JSON output and exit codes.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use common::cli::{
    ca, is_colon_hex, json_of, run, s_server, stderr_of, tlshake, url_of, wait_bounded,
};
use tlshake::harness::{OpensslServer, ServerMode};
use tlshake::ProtocolVersion;

#[test]
fn connect_json_reports_a_tls13_handshake() {
    let server = s_server(ProtocolVersion::Tls1_3, ServerMode::Plain);
    let url = url_of(&server);
    let out = run(&["connect", &url, "--cafile", &ca(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done");
    assert_eq!(j["url"], url.as_str());
    assert_eq!(j["peer"], format!("127.0.0.1:{}", server.port()).as_str());
    assert_eq!(j["protocol"], "TLSv1.3");
    assert!(
        j["cipher"].as_str().is_some_and(|c| c.starts_with("TLS_")),
        "{j}"
    );
    assert_eq!(j["verify"]["ok"], true);
    assert_eq!(j["verify"]["code"], 0);
    assert_eq!(j["resumed"], false);
    let sha = j["peer_certificate"]["sha256"].as_str().unwrap_or_default();
    assert!(is_colon_hex(sha, 32), "{sha}");
    let sha1 = j["peer_certificate"]["sha1"].as_str().unwrap_or_default();
    assert!(is_colon_hex(sha1, 20), "{sha1}");
    assert!(j["peer_certificate"]["san"]
        .as_array()
        .is_some_and(|a| a.iter().any(|n| n == "localhost")));
    assert!(j["retries"]["want_read"].is_u64(), "{j}");
    assert!(j["retries"]["want_write"].is_u64());
    assert!(j["timings_ms"]["handshake"].is_f64());
    assert!(j["timings_ms"]["starttls"].is_null());
    assert!(j["error"].is_null());
    assert!(j["response"].is_null());
}

#[test]
fn connect_human_output_names_protocol_and_verify() {
    let server = s_server(ProtocolVersion::Tls1_3, ServerMode::Plain);
    let url = format!("tls://localhost:{}", server.port());
    let out = run(&["connect", &url, "--cafile", &ca()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("done: ") && first.contains("TLSv1.3"),
        "{text}"
    );
    assert!(text.contains("verify:      0 (ok)"), "{text}");
}

#[test]
fn connect_wrong_servername_fails_with_a_hint_naming_the_names() {
    let server = s_server(ProtocolVersion::Tls1_3, ServerMode::Plain);
    let url = url_of(&server);
    let out = run(&[
        "connect",
        &url,
        "--cafile",
        &ca(),
        "--servername",
        "wrong.example",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "failed");
    assert_eq!(j["error"]["ssl_error"], "SSL_ERROR_SSL");
    assert_eq!(j["verify"]["ok"], false);
    let hint = j["error"]["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("wrong.example") && hint.contains("localhost"),
        "{hint}"
    );
}

#[test]
fn connect_to_a_silent_peer_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let holder = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 1024];
        // Holds the connection until the client goes away.
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let url = format!("tls://{addr}");
    let start = Instant::now();
    let out = run(&["connect", &url, "--timeout", "0.5", "--json"]);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "timeout");
    holder.join().expect("holder thread");
}

#[test]
fn connect_refused_exits_5() {
    let addr: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let out = run(&[
        "connect",
        &format!("tls://{addr}"),
        "--json",
        "--timeout",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "connect_failed");
    assert!(
        j["error"]["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("refused")),
        "{j}"
    );
}

#[test]
fn bad_url_exits_2_with_the_parsers_message() {
    let out = run(&["connect", "tls://[::1:443"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("bad URL"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flag_value_exits_2() {
    let out = run(&["connect", "tls://127.0.0.1:1", "--min-proto", "tls9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("tls9") && err.contains("tls1.3"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_cafile_exits_2() {
    let out = run(&[
        "connect",
        "tls://127.0.0.1:1",
        "--cafile",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn connect_send_gets_the_reply() {
    let server = s_server(ProtocolVersion::Tls1_3, ServerMode::Rev);
    let url = url_of(&server);
    let out = run(&[
        "connect",
        &url,
        "--cafile",
        &ca(),
        "--send",
        "hello\n",
        "--timeout",
        "3",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert!(
        j["response"].as_str().is_some_and(|r| r.contains("olleh")),
        "{j}"
    );
}

#[test]
fn connect_over_ipv6_loopback() {
    let server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_3)
        .ipv6()
        .spawn()
        .expect("spawn openssl s_server on ::1");
    let url = format!("tls://[::1]:{}", server.port());
    let out = run(&["connect", &url, "--cafile", &ca(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["peer"], format!("[::1]:{}", server.port()).as_str());
    assert_eq!(j["verify"]["ok"], true);
}

#[test]
fn version_names_openssl() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(env!("CARGO_PKG_VERSION")) && text.contains("OpenSSL"),
        "{text}"
    );
}

/// The child's first stdout line (bounded in time), and the rest of its stdout once it
/// closes, read by a thread so that the child never writes into a closed pipe.
fn first_line_and_rest(child: &mut Child) -> (String, std::sync::mpsc::Receiver<String>) {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let (rest_tx, rest_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = stdout.read(&mut byte) {
            if byte[0] == b'\n' {
                break;
            }
            line.push(byte[0]);
        }
        let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
        let mut rest = Vec::new();
        let _ = stdout.read_to_end(&mut rest);
        let _ = rest_tx.send(String::from_utf8_lossy(&rest).into_owned());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(line) => (line, rest_rx),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no first line from tlshake serve");
        }
    }
}

/// `tlshake serve` with `args` after `--port 0 --max-connections 1`, one s_client
/// handshake against it (verified), and what serve printed after `listening on`.
fn serve_one_handshake(args: &[&str]) -> String {
    use tlshake::harness::OpensslClient;
    let mut child = tlshake()
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--max-connections",
            "1",
        ])
        .args(args)
        .spawn()
        .expect("spawn tlshake serve");
    let (line, rest) = first_line_and_rest(&mut child);
    let addr: SocketAddr = line
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("first line {line:?}")
        });
    assert_ne!(addr.port(), 0);
    let run = OpensslClient::builder(addr)
        .servername("localhost")
        .ca_file(common::cert("ca.pem"))
        .verify_return_error()
        .spawn()
        .expect("spawn s_client")
        .wait(Duration::from_secs(10))
        .expect("s_client ends");
    assert!(run.handshake_done(), "{}", run.output());
    assert!(run.verify_ok(), "{}", run.output());
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("bundled TEST certificate"));
    rest.recv_timeout(Duration::from_secs(10))
        .expect("the rest of serve's stdout")
}

#[test]
fn serve_reports_listening_first_and_exits_after_max_connections() {
    let rest = serve_one_handshake(&["--json"]);
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 1, "{rest}");
    let event: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(event["outcome"], "done", "{rest}");
    assert_eq!(event["sni"], "localhost", "{rest}");
}

#[test]
fn serve_quiet_prints_no_line_per_connection() {
    assert_eq!(serve_one_handshake(&["--quiet"]), "");
    let out = run(&["serve", "--port", "0", "--quiet", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--json"), "{}", stderr_of(&out));
}

/// Whether `tlshake connect --sess-out` got a session (a TLS 1.3 ticket) from a
/// `tlshake serve` started with `args`.
fn connect_saves_a_session_from_serve(args: &[&str]) -> bool {
    let mut child = tlshake()
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--max-connections", "1"])
        .args(args)
        .spawn()
        .expect("spawn tlshake serve");
    let (line, _rest) = first_line_and_rest(&mut child);
    let Some(addr) = line.strip_prefix("listening on ").map(str::to_owned) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("first line {line:?}");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("session.pem");
    let out = run(&[
        "connect",
        &format!("tls://{addr}"),
        "--cafile",
        &common::cert("ca.pem").display().to_string(),
        "--servername",
        "localhost",
        "--sess-out",
        &file.display().to_string(),
        "--json",
    ]);
    let served = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(served.status.code(), Some(0), "{}", stderr_of(&served));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "done", "{j}");
    assert_eq!(j["protocol"], "TLSv1.3", "{j}");
    assert_eq!(file.exists(), j["session_saved"] == true, "{j}");
    j["session_saved"] == true
}

#[test]
fn serve_no_tickets_gives_no_session_to_resume() {
    assert!(connect_saves_a_session_from_serve(&[]));
    assert!(!connect_saves_a_session_from_serve(&["--no-tickets"]));
}

#[test]
fn serve_with_an_unknown_cert_hash_exits_2() {
    let out = run(&[
        "serve",
        "--port",
        "0",
        "--store",
        &common::certs_dir().display().to_string(),
        "--cert-hash",
        &"ab".repeat(20),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(out.stdout.is_empty(), "nothing listens");
    assert!(!stderr_of(&out).contains("panicked"));
}

#[test]
fn demo_runs_every_section_and_exits_0() {
    let start = Instant::now();
    let out = run(&["demo"]);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for section in [
        "blocking handshake",
        "nonblocking handshake",
        "memory BIOs",
        "STARTTLS",
        "resumed reconnection",
        "connection 2: resumed, ",
        "handshake timeline",
        "< CertificateVerify",
        "chosen by hash",
        "wrong host name",
        "untrusted CA",
        "plaintext peer",
        "stalls past a 300 ms deadline",
        "Nagle",
    ] {
        assert!(
            text.contains(section),
            "missing section {section:?}:\n{text}"
        );
    }
    assert!(!text.contains("NOT as expected"), "{text}");
    assert!(text.contains("every section behaved as expected"));
    // Built with the feature `tokio`, the demo runs the async runner as well.
    if cfg!(feature = "tokio") {
        assert!(
            text.contains("async handshake and STARTTLS (tokio)"),
            "{text}"
        );
        assert!(
            text.contains(
                "the same SMTP dialogue, go-ahead \"220 ready to start TLS\", then TLSv1.3"
            ),
            "{text}"
        );
    }
}

#[test]
fn bench_json_has_both_implementations_and_a_ratio() {
    let out = run(&["bench", "--handshakes", "50", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["config"]["handshakes"], 50);
    assert_eq!(j["config"]["proto"], "tls1.3");
    for side in ["tlshake", "openssl_crate"] {
        assert_eq!(j[side]["handshakes"], 50, "{j}");
        assert_eq!(j[side]["failures"], 0, "{j}");
        let rate = j[side]["handshakes_per_s"].as_f64().expect("rate");
        let p50_s = j[side]["p50_ms"].as_f64().expect("p50") / 1000.0;
        assert!(rate > 0.0 && p50_s > 0.0, "{j}");
        // One handshake at a time: half of them took at least p50, so the run took at least
        // n/2 * p50 and the rate is at most 2 / p50. A latency or a rate counted in the wrong
        // unit, or over the wrong span, breaks this.
        assert!(
            rate * p50_s <= 2.0,
            "{side}: {rate}/s with p50 {p50_s} s: {j}"
        );
        assert!(j[side]["cpu_us_per_handshake"]
            .as_f64()
            .is_some_and(|v| v > 0.0));
    }
    let ratio = j["ratio"].as_f64().expect("ratio");
    let rates = |side: &str| j[side]["handshakes_per_s"].as_f64().expect("rate");
    let expected = rates("tlshake") / rates("openssl_crate");
    assert!(
        (ratio - expected).abs() <= 1e-3 * expected,
        "ratio {ratio} is not tlshake / openssl_crate = {expected}: {j}"
    );
    assert!(out.stderr.is_empty(), "no progress bar with --json");
}

#[test]
fn bench_concurrency_keeps_c_handshakes_in_flight() {
    let out = run(&[
        "bench",
        "--handshakes",
        "400",
        "--concurrency",
        "400",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["config"]["concurrency"], 400);
    for side in ["tlshake", "openssl_crate"] {
        assert_eq!(j[side]["handshakes"], 400, "{j}");
        assert_eq!(j[side]["failures"], 0, "{j}");
        let rate = j[side]["handshakes_per_s"].as_f64().expect("rate");
        let p50_s = j[side]["p50_ms"].as_f64().expect("p50") / 1000.0;
        // Little's law: handshakes in flight = rate x latency. With 400 started at once,
        // far more than a few were in flight; one at a time gives at most 2 (see above).
        assert!(
            rate * p50_s > 20.0,
            "{side}: {rate}/s with p50 {p50_s} s: {j}"
        );
    }
}

/// `--runtime tokio`: the same JSON as the native comparison, with C handshakes in flight on
/// the client's runtime (Little's law, as above) and the ratio of the two rates.
#[cfg(feature = "bench-tokio")]
#[test]
fn bench_runtime_tokio_json_has_both_implementations_c_in_flight_and_the_ratio() {
    let out = run(&[
        "bench",
        "--runtime",
        "tokio",
        "--handshakes",
        "300",
        "--concurrency",
        "100",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["config"]["runtime"], "tokio", "{j}");
    assert_eq!(j["config"]["handshakes"], 300, "{j}");
    assert_eq!(j["config"]["concurrency"], 100, "{j}");
    assert_eq!(j["config"]["proto"], "tls1.3", "{j}");
    for side in ["tlshake", "openssl_crate"] {
        assert_eq!(j[side]["handshakes"], 300, "{j}");
        assert_eq!(j[side]["failures"], 0, "{j}");
        let rate = j[side]["handshakes_per_s"].as_f64().expect("rate");
        let p50_s = j[side]["p50_ms"].as_f64().expect("p50") / 1000.0;
        assert!(
            rate * p50_s > 10.0,
            "{side}: {rate}/s with p50 {p50_s} s: {j}"
        );
        assert!(j[side]["cpu_us_per_handshake"]
            .as_f64()
            .is_some_and(|v| v > 0.0));
    }
    let ratio = j["ratio"].as_f64().expect("ratio");
    let rates = |side: &str| j[side]["handshakes_per_s"].as_f64().expect("rate");
    let expected = rates("tlshake") / rates("openssl_crate");
    assert!(
        (ratio - expected).abs() <= 1e-3 * expected,
        "ratio {ratio} is not tlshake / openssl_crate = {expected}: {j}"
    );
    let both = run(&["bench", "--runtime", "tokio", "--threads", "2"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr_of(&both));
}

/// Without the tokio comparison, `--runtime tokio` is a usage error that says how to get it.
#[cfg(not(feature = "bench-tokio"))]
#[test]
fn bench_runtime_tokio_without_the_feature_says_to_build_with_it() {
    let out = run(&["bench", "--runtime", "tokio", "--handshakes", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("--features bench-tokio"),
        "{}",
        stderr_of(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bench_threads_is_the_thread_model_and_concurrency_goes_to_10000() {
    let out = run(&["bench", "--handshakes", "20", "--threads", "2", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["config"]["concurrency"], 2);
    assert_eq!(j["tlshake"]["handshakes"], 20, "{j}");
    let refused = run(&["bench", "--concurrency", "10001"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    let both = run(&["bench", "--concurrency", "2", "--threads", "2"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr_of(&both));
}

#[test]
fn bench_first_response_json_has_every_policy() {
    let out = run(&["bench", "--first-response", "--iterations", "5", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["config"]["iterations"], 5);
    for policy in [
        "always",
        "after",
        "leave",
        "nagle-both",
        "nagle-both-2-tickets",
    ] {
        assert_eq!(j[policy]["iterations"], 5, "{policy}: {j}");
        assert_eq!(j[policy]["failures"], 0, "{policy}: {j}");
    }
    // What the comparison exists to show: with Nagle on at both ends and two tickets, every
    // first reply waits for the peer's delayed ACK (~40 ms on Linux; a slower machine only
    // makes it longer)...
    let stalled = &j["nagle-both-2-tickets"];
    assert_eq!(stalled["over_5ms"], 5, "{j}");
    assert!(
        stalled["p50_ms"].as_f64().is_some_and(|ms| ms >= 30.0),
        "{j}"
    );
    // ...and tlshake's policies do not wait for it on every exchange.
    for policy in ["always", "after", "leave"] {
        let over = j[policy]["over_5ms"].as_u64().expect("over_5ms");
        assert!(over < 5, "{policy}: every first reply took over 5 ms: {j}");
    }
}

#[test]
fn bench_rejects_an_unknown_group() {
    let out = run(&["bench", "--handshakes", "5", "--groups", "no-such-group"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("no-such-group"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn bench_rejects_zero_handshakes() {
    let out = run(&["bench", "--handshakes", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_plot_writes_an_svg_histogram_of_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latency.svg");
    let out = run(&[
        "bench",
        "--handshakes",
        "20",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("tlshake (20 handshakes)"), "{svg}");
    assert!(svg.contains("openssl crate (20 handshakes)"), "{svg}");
    let bad = run(&[
        "bench",
        "--handshakes",
        "5",
        "--plot",
        "/nonexistent/dir/x.svg",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr_of(&bad));
}

#[test]
fn close_notify_during_the_handshake_exits_3_as_a_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // Read the ClientHello record, then answer with a plaintext close_notify alert.
        let mut header = [0u8; 5];
        s.read_exact(&mut header).expect("record header");
        let mut body = vec![0u8; u16::from_be_bytes([header[3], header[4]]) as usize];
        s.read_exact(&mut body).expect("ClientHello");
        s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00])
            .expect("alert");
        let mut rest = [0u8; 64];
        let _ = s.read(&mut rest);
    });
    let url = format!("tls://{addr}");
    let out = run(&["connect", &url, "--insecure", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let j = json_of(&out);
    assert_eq!(j["outcome"], "shutdown");
    assert_eq!(j["error"]["ssl_error"], "SSL_ERROR_ZERO_RETURN", "{j}");
    peer.join().expect("peer thread");
}
