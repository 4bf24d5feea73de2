//! `--proxy` / `ConnectOptions::proxy`: TLS and STARTTLS through an HTTP CONNECT proxy (a
//! small one in this file), and the proxy's refusals.

use crate::common;
use crate::real_servers;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tlshake::harness::OpensslServer;
use tlshake::Handshake;

const WAIT: Duration = Duration::from_secs(10);

/// How the proxy answers CONNECT.
#[derive(Clone, Copy)]
enum Answer {
    Tunnel,
    /// A tunnel whose target speaks first: its first bytes go out in the same write as the
    /// 200 response, so the client must not read past the response header.
    TunnelGreeting,
    Status(&'static str),
    Raw(&'static str),
    Silent,
}

/// Accepts one client; reports the request line on the channel.
fn proxy(answer: Answer) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Some(client) = accept(&listener) else {
            return;
        };
        let _ = client.set_read_timeout(Some(WAIT));
        let mut reader = BufReader::new(client.try_clone().expect("clone"));
        let mut request = String::new();
        let _ = reader.read_line(&mut request);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let _ = tx.send(request.trim_end().to_string());
        let mut w = &client;
        let answer_kind = answer;
        match answer {
            Answer::Status(s) => {
                let _ = write!(w, "HTTP/1.1 {s}\r\nContent-Length: 0\r\n\r\n");
            }
            Answer::Raw(r) => {
                let _ = w.write_all(r.as_bytes());
            }
            Answer::Silent => {
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
            }
            Answer::Tunnel | Answer::TunnelGreeting => {
                let target = request.split(' ').nth(1).unwrap_or_default().to_string();
                let Ok(mut upstream) = TcpStream::connect(&target) else {
                    let _ = w.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                let mut answer = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
                if matches!(answer_kind, Answer::TunnelGreeting) {
                    let _ = upstream.set_read_timeout(Some(WAIT));
                    let mut first = [0u8; 512];
                    let n = upstream.read(&mut first).unwrap_or(0);
                    answer.extend_from_slice(&first[..n]);
                }
                let _ = w.write_all(&answer);
                pump(client, upstream);
            }
        }
    });
    (addr, rx)
}

fn accept(listener: &TcpListener) -> Option<TcpStream> {
    listener.set_nonblocking(true).ok()?;
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).ok()?;
                return Some(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Copies both ways until either side closes.
fn pump(a: TcpStream, b: TcpStream) {
    let copy = |mut from: TcpStream, to: TcpStream| {
        let _ = from.set_read_timeout(Some(WAIT));
        let mut to_w = &to;
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if to_w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    };
    let (a2, b2) = (a.try_clone().expect("clone"), b.try_clone().expect("clone"));
    let t = thread::spawn(move || copy(a2, b2));
    copy(b, a);
    let _ = t.join();
}

fn tlshake(args: &[&str]) -> (Option<i32>, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.arg("connect")
        .args(args)
        .arg("--json")
        .arg("--cafile")
        .arg(common::cert("ca.pem"));
    let out = real_servers::run_bounded(cmd, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    let j = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code(), j)
}

#[test]
fn tls_through_the_proxy() {
    let server = OpensslServer::builder().spawn().expect("s_server");
    let (proxy, requests) = proxy(Answer::Tunnel);
    let url = format!("tls://localhost:{}", server.port());
    let (code, j) = tlshake(&[&url, "--proxy", &proxy.to_string()]);
    assert_eq!(
        (code, &j["outcome"]),
        (Some(0), &Value::from("done")),
        "{j}"
    );
    assert_eq!(j["peer"], proxy.to_string(), "{j}");
    assert_eq!(j["sni"], "localhost", "{j}");
    let request = requests.recv_timeout(WAIT).expect("request");
    assert_eq!(
        request,
        format!("CONNECT localhost:{} HTTP/1.1", server.port())
    );
}

#[test]
fn starttls_through_the_proxy_keeps_the_greeting() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = listener.local_addr().expect("addr");
    let ctx = common::server_ctx("server.pem", "server.key").build();
    let server = thread::spawn(move || {
        let tcp = accept(&listener).expect("accept");
        tcp.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut lines = BufReader::new(tcp.try_clone().expect("clone"));
        let mut w = &tcp;
        let mut line = String::new();
        w.write_all(b"220 mx ESMTP\r\n").expect("greet");
        lines.read_line(&mut line).expect("EHLO");
        w.write_all(b"250-mx\r\n250 STARTTLS\r\n")
            .expect("ehlo reply");
        line.clear();
        lines.read_line(&mut line).expect("STARTTLS");
        w.write_all(b"220 go ahead\r\n").expect("go ahead");
        let ssl = openssl::ssl::Ssl::new(&ctx).expect("ssl");
        let mut tls = Handshake::server(ssl, tcp)
            .expect("start")
            .finish()
            .expect("handshake");
        let mut sink = Vec::new();
        let _ = tls.read_to_end(&mut sink);
    });
    let (proxy, _) = proxy(Answer::TunnelGreeting);
    let url = format!("tcp://127.0.0.1:{}", target.port());
    let (code, j) = tlshake(&[&url, "--starttls", "smtp", "--proxy", &proxy.to_string()]);
    assert_eq!(
        (code, &j["outcome"]),
        (Some(0), &Value::from("done")),
        "{j}"
    );
    assert!(j["timings_ms"]["starttls"].is_f64(), "{j}");
    server.join().expect("server");
}

#[test]
fn a_refusal_shows_the_proxys_status_line() {
    let (proxy, _) = proxy(Answer::Status("407 Proxy Authentication Required"));
    let (code, j) = tlshake(&["tls://localhost:443", "--proxy", &proxy.to_string()]);
    assert_eq!(j["outcome"], "connect_failed", "{j}");
    assert_eq!(code, Some(5));
    let message = j["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(
            "the proxy refused the tunnel: \"HTTP/1.1 407 Proxy Authentication Required\""
        ),
        "{message}"
    );
}

#[test]
fn a_proxy_that_is_not_http_is_named() {
    let (proxy, _) = proxy(Answer::Raw("SSH-2.0-OpenSSH_9.2\r\n"));
    let (_, j) = tlshake(&["tls://localhost:443", "--proxy", &proxy.to_string()]);
    assert_eq!(j["outcome"], "connect_failed", "{j}");
    let message = j["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not an HTTP response: \"SSH-2"),
        "{message}"
    );
}

#[test]
fn a_silent_proxy_times_out_within_the_deadline() {
    let (proxy, _) = proxy(Answer::Silent);
    let start = Instant::now();
    let (code, j) = tlshake(&[
        "tls://localhost:443",
        "--proxy",
        &proxy.to_string(),
        "--timeout",
        "0.5",
    ]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        (code, &j["outcome"]),
        (Some(4), &Value::from("timeout")),
        "{j}"
    );
}
