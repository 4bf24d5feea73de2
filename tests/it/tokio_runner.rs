//! The tokio runner against real peers: `openssl s_server` (TLS 1.3 and 1.2, with a client
//! certificate), a stalled server, a plaintext peer, 1,000 concurrent handshakes against a
//! `TlsListener`, 1,000 handshakes dropped mid-way with their descriptors counted, and reads
//! and writes that must wait for the other direction.

use crate::common;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use tlshake::client::{
    connect_async, connect_async_with, ClientConfig, ConnectError, ConnectOptions,
};
use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
use tlshake::server::{ClientAuth, RejectReason, ServerConfig, ServerEvent, TlsListener};
use tlshake::tokio::{AsyncHandshake, AsyncTlsListener, AsyncTlsStream, Blocked};
use tlshake::url::TransportUrl;
use tlshake::{ErrorKind, HandshakeOutcome, Hint, ProtocolVersion, Role, Want};

use common::{cert, client_ctx, client_ssl, open_fds};

/// This process's CPU time, user + system (`getrusage(2)`).
fn cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(u.user_time()) + tv(u.system_time())
}

/// The tests count descriptors or load the machine: one at a time ([`common::serial`]).
fn serial() -> MutexGuard<'static, ()> {
    common::serial()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn url(addr: SocketAddr) -> TransportUrl {
    format!("tls://localhost:{}", addr.port()).parse().unwrap()
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(cert("ca.pem"))
        .build()
        .unwrap()
}

/// A TLS exchange over the async stream with `s_server -rev`: a line goes out, comes back
/// reversed; then close_notify.
async fn exchange(conn: tlshake::client::TlsConnection<AsyncTlsStream>) {
    let mut stream = conn.stream;
    stream.write_all(b"hello async\n").await.unwrap();
    let mut reader = BufReader::new(&mut stream);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
        .await
        .expect("reply within 5 s")
        .unwrap();
    assert_eq!(line, "cnysa olleh\n");
    stream.shutdown().await.unwrap();
}

#[test]
fn async_client_against_s_server_tls13_and_tls12() {
    let _serial = serial();
    for (version, name) in [
        (ProtocolVersion::Tls1_3, "TLSv1.3"),
        (ProtocolVersion::Tls1_2, "TLSv1.2"),
    ] {
        let server = OpensslServer::builder()
            .version(version)
            .mode(ServerMode::Rev)
            .spawn()
            .unwrap();
        runtime().block_on(async {
            let conn = connect_async(&url(server.addr()), &config()).await.unwrap();
            assert_eq!(conn.stream.get_ref().protocol(), name);
            assert_eq!(conn.sni.as_deref(), Some("localhost"));
            assert_eq!(conn.session().sni.as_deref(), Some("localhost"));
            exchange(conn).await;
        });
    }
}

#[test]
fn async_client_certificate_tls13_and_tls12() {
    let _serial = serial();
    for version in [ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2] {
        let server = OpensslServer::builder()
            .version(version)
            .mode(ServerMode::Rev)
            .ca_file(cert("ca.pem"))
            .verify_client(true)
            .spawn()
            .unwrap();
        let with_cert = ClientConfig::builder()
            .ca_file(cert("ca.pem"))
            .certificate_files(cert("client.pem"), cert("client.key"))
            .build()
            .unwrap();
        runtime().block_on(async {
            let conn = connect_async(&url(server.addr()), &with_cert)
                .await
                .unwrap();
            assert!(conn.stream.get_ref().ssl().certificate().is_some());
            // The reply proves the server accepted the certificate (TLS 1.3: its verdict
            // comes after the client's handshake).
            exchange(conn).await;
        });
    }
}

#[test]
fn stalled_server_ends_at_its_deadline_with_a_timeout_hint() {
    let _serial = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts, reads the ClientHello, answers nothing.
    let peer = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_secs(2));
        drop(s);
    });
    let ctx = client_ctx("ca.pem").build();
    runtime().block_on(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let limit = Duration::from_millis(400);
        let started = Instant::now();
        let err = tlshake::tokio::handshake(
            client_ssl(&ctx, "localhost"),
            tcp,
            std::time::Instant::now() + limit,
        )
        .await
        .unwrap_err();
        let took = started.elapsed();
        assert!(err.is_timeout(), "{err}");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(err.waiting_for(), Some(Want::Read));
        match err.hint() {
            Some(Hint::Timeout {
                waiting_for: Some(Want::Read),
                bytes_received: 0,
                ..
            }) => {}
            other => panic!("wrong hint {other:?}"),
        }
        assert!(
            took >= limit && took < limit + Duration::from_secs(1),
            "{took:?}"
        );
    });
    peer.join().unwrap();
}

#[test]
fn stalled_server_through_connect_async_is_a_connect_error_timeout() {
    let _serial = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    runtime().block_on(async {
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        let err = connect_async_with(
            &url(addr),
            &config(),
            &ConnectOptions::new().deadline(deadline),
        )
        .await
        .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        let hs = err.handshake_error().expect("a handshake error");
        assert_eq!(hs.waiting_for(), Some(Want::Read));
        assert!(matches!(err, ConnectError::Handshake { .. }));
    });
    drop(listener);
}

#[test]
fn plaintext_peer_gives_the_typed_error_and_hint() {
    let _serial = serial();
    let (addr, peer) = common::plaintext_peer(b"220 test ESMTP\r\n");
    let ctx = client_ctx("ca.pem").build();
    runtime().block_on(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = tlshake::tokio::handshake(
            client_ssl(&ctx, "localhost"),
            tcp,
            std::time::Instant::now() + Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.reasons().contains(&"wrong version number"), "{err}");
        match err.hint() {
            Some(Hint::PlaintextPeer { role, first_bytes }) => {
                assert_eq!(*role, Role::Client);
                assert_eq!(first_bytes, b"220 test ESMTP\r\n");
            }
            other => panic!("wrong hint {other:?}"),
        }
        assert!(err.elapsed().is_some());
    });
    peer.join().unwrap();
}

#[test]
fn poll_step_reports_each_want_then_done_and_into_parts_gives_both_back() {
    let _serial = serial();
    let server = OpensslServer::builder().spawn().unwrap();
    let ctx = client_ctx("ca.pem").build();
    runtime().block_on(async {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let local = tcp.local_addr().unwrap();
        let mut hs = AsyncHandshake::client(
            client_ssl(&ctx, "localhost"),
            tcp,
            Some(std::time::Instant::now() + Duration::from_secs(5)),
        )
        .unwrap();
        let mut wants = Vec::new();
        loop {
            match poll_fn(|cx| hs.poll_step(cx)).await {
                HandshakeOutcome::Done => break,
                HandshakeOutcome::Want(w) => wants.push(w),
                HandshakeOutcome::Shutdown(e) | HandshakeOutcome::Failed(e) => panic!("{e}"),
            }
        }
        assert!(wants.contains(&Want::Read), "{wants:?}");
        assert_eq!(hs.get_ref().stats().want_read as usize, wants.len());
        let stream = hs.into_stream();
        assert_eq!(stream.get_ref().protocol(), "TLSv1.3");
        let (ssl, tcp) = stream.into_parts().expect("parts");
        assert_eq!(tcp.local_addr().unwrap(), local);
        assert!(ssl.is_init_finished());
        assert_eq!(ssl.version_str(), "TLSv1.3");
    });
}

#[test]
fn shutdown_in_init_sends_no_alert_and_is_not_an_error() {
    let _serial = serial();
    // The peer reads the ClientHello record, then everything until EOF: no alert may follow.
    let (addr, peer) = common::one_shot_peer(false, |mut s| {
        let hello = common::read_record(&mut s);
        assert_eq!(hello[0], 22, "a handshake record");
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut rest).unwrap();
        assert!(rest.is_empty(), "sent after the ClientHello: {rest:?}");
    });
    let ctx = client_ctx("ca.pem").build();
    runtime().block_on(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut hs = AsyncHandshake::client(
            client_ssl(&ctx, "localhost"),
            tcp,
            Some(std::time::Instant::now() + Duration::from_secs(5)),
        )
        .unwrap();
        match poll_fn(|cx| hs.poll_step(cx)).await {
            HandshakeOutcome::Want(Want::Read) => {}
            other => panic!("{other:?}"),
        }
        let mut stream = hs.into_stream();
        stream.shutdown().await.unwrap();
        stream.shutdown().await.unwrap();
    });
    peer.join().unwrap();
}

#[test]
fn shutdown_after_the_handshake_sends_close_notify_once() {
    let _serial = serial();
    let acceptor = {
        let mut b = openssl::ssl::SslAcceptor::mozilla_intermediate_v5(
            openssl::ssl::SslMethod::tls_server(),
        )
        .unwrap();
        b.set_certificate_chain_file(cert("server.pem")).unwrap();
        b.set_private_key_file(cert("server.key"), openssl::ssl::SslFiletype::PEM)
            .unwrap();
        b.build()
    };
    // The peer's first read after the handshake ends in close_notify (ZERO_RETURN).
    let (addr, peer) = common::one_shot_peer(false, move |s| {
        let mut tls = acceptor.accept(s).unwrap();
        let mut buf = [0u8; 16];
        let err = tls.ssl_read(&mut buf).unwrap_err();
        assert_eq!(err.code(), openssl::ssl::ErrorCode::ZERO_RETURN, "{err}");
    });
    runtime().block_on(async {
        let conn = connect_async(&url(addr), &config()).await.unwrap();
        let mut stream = conn.stream;
        stream.shutdown().await.unwrap();
        stream.shutdown().await.unwrap();
    });
    peer.join().unwrap();
}

/// A `TlsListener` in a thread that reports its established handshakes until `count` or
/// `limit`.
fn listener_thread(count: usize, limit: Duration) -> (SocketAddr, thread::JoinHandle<usize>) {
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(cert("server.pem"), cert("server.key"))
        .max_pending(2048)
        .handshake_timeout(Duration::from_secs(30));
    let mut listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + limit;
        let mut established = 0;
        let mut kept = Vec::new();
        while established < count {
            match listener.next_event(Some(deadline)) {
                Ok(Some(ServerEvent::Established(a))) => {
                    established += 1;
                    kept.push(a.stream);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        established
    });
    (addr, handle)
}

#[test]
fn thousand_concurrent_handshakes_on_a_current_thread_runtime_all_done() {
    let _serial = serial();
    const N: usize = 1000;
    let _ = tlshake::raise_nofile_limit();
    let (addr, server) = listener_thread(N, Duration::from_secs(90));
    let ctx = client_ctx("ca.pem").build();
    let done = runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..N {
            let ssl = client_ssl(&ctx, "localhost");
            tasks.spawn(async move {
                let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                let tls = tlshake::tokio::handshake(
                    ssl,
                    tcp,
                    std::time::Instant::now() + Duration::from_secs(60),
                )
                .await
                .map_err(|e| e.to_string())?;
                Ok::<_, String>(tls.get_ref().protocol())
            });
        }
        let mut done = 0;
        let mut failures = Vec::new();
        let all = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(joined) = tasks.join_next().await {
                match joined.unwrap() {
                    Ok("TLSv1.3") => done += 1,
                    Ok(other) => failures.push(other.to_string()),
                    Err(e) => failures.push(e),
                }
            }
        })
        .await;
        assert!(all.is_ok(), "not all ended within 90 s: {done} done");
        assert!(
            failures.is_empty(),
            "{} failed: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        done
    });
    assert_eq!(done, N);
    assert_eq!(server.join().unwrap(), N);
}

#[test]
fn thousand_handshakes_dropped_mid_way_leave_no_descriptor_behind() {
    isolated!(thousand_handshakes_dropped_mid_way_leave_no_descriptor_behind);
    let _serial = serial();
    const N: usize = 1000;
    let _ = tlshake::raise_nofile_limit();
    let rt = runtime();
    rt.block_on(async {
        // A listener that never accepts: the connections wait in its queue, outside this
        // process's descriptor table, and their ClientHellos are never answered.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(4096).unwrap();
        let addr = listener.local_addr().unwrap();
        let ctx = client_ctx("ca.pem").build();
        let baseline = open_fds();

        let waiting = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..N {
            let ssl = client_ssl(&ctx, "localhost");
            let waiting = Arc::clone(&waiting);
            tasks.spawn(async move {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let mut hs = AsyncHandshake::client(
                    ssl,
                    tcp,
                    Some(std::time::Instant::now() + Duration::from_secs(120)),
                )
                .unwrap();
                // The ClientHello is out and the handshake waits for the server.
                match poll_fn(|cx| hs.poll_step(cx)).await {
                    HandshakeOutcome::Want(Want::Read) => {}
                    other => panic!("{other:?}"),
                }
                waiting.fetch_add(1, Ordering::SeqCst);
                let _ = hs.into_future().await;
            });
        }
        let until = Instant::now() + Duration::from_secs(60);
        while waiting.load(Ordering::SeqCst) < N && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(waiting.load(Ordering::SeqCst), N, "all mid-handshake");
        assert!(open_fds() >= baseline + N, "the sockets are open");

        drop(tasks);
        let until = Instant::now() + Duration::from_secs(10);
        let mut now_open = open_fds();
        while now_open > baseline && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
            now_open = open_fds();
        }
        assert_eq!(now_open, baseline, "descriptors back to the baseline");
        drop(listener);
    });
}

#[test]
fn async_server_against_s_client_tls13_and_tls12_with_and_without_a_client_certificate() {
    let _serial = serial();
    for version in [ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2] {
        for with_cert in [false, true] {
            let mut config = ServerConfig::builder()
                .address("127.0.0.1")
                .certificate_files(cert("server.pem"), cert("server.key"));
            if with_cert {
                config = config.client_auth(ClientAuth::Required {
                    ca_file: cert("ca.pem"),
                });
            }
            runtime().block_on(async {
                let listener = AsyncTlsListener::bind(&crate::common::built(&config)).unwrap();
                let mut client = OpensslClient::builder(listener.local_addr())
                    .ca_file(cert("ca.pem"))
                    .servername("localhost")
                    .verify_return_error()
                    .version(version);
                if with_cert {
                    client = client.cert(cert("client.pem")).key(cert("client.key"));
                }
                let client = client.spawn().unwrap();
                let (tls, peer) =
                    tokio::time::timeout(Duration::from_secs(10), listener.accept_tls())
                        .await
                        .expect("a handshake within 10 s")
                        .unwrap();
                assert_eq!(peer.ip(), listener.local_addr().ip());
                assert_eq!(tls.get_ref().protocol(), version.openssl_name());
                assert_eq!(tls.get_ref().session().sni.as_deref(), Some("localhost"));
                assert_eq!(
                    tls.get_ref().ssl().peer_certificate().is_some(),
                    with_cert,
                    "{version:?}"
                );
                let run = client.wait(Duration::from_secs(10)).unwrap();
                assert!(run.handshake_done(), "{}", run.output());
                assert_eq!(
                    run.protocol().as_deref(),
                    Some(version.openssl_name()),
                    "{}",
                    run.output()
                );
            });
        }
    }
}

#[test]
fn async_server_handshake_of_a_silent_client_ends_at_the_configured_timeout() {
    let _serial = serial();
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(cert("server.pem"), cert("server.key"))
        .handshake_timeout(Duration::from_millis(300));
    runtime().block_on(async {
        let listener = AsyncTlsListener::bind(&crate::common::built(&config)).unwrap();
        let _silent = TcpStream::connect(listener.local_addr()).await.unwrap();
        let started = Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(5), listener.accept_tls())
            .await
            .expect("the handshake ends within 5 s")
            .unwrap_err();
        let took = started.elapsed();
        let tlshake::server::ServerError::Handshake { source, .. } = err else {
            panic!("{err}");
        };
        assert!(source.is_timeout(), "{source}");
        assert_eq!(source.role(), Role::Server);
        assert_eq!(source.waiting_for(), Some(Want::Read));
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "{took:?}"
        );
    });
}

#[test]
fn a_write_the_socket_cannot_take_waits_for_writable_and_completes_when_the_peer_reads() {
    let _serial = serial();
    let acceptor = {
        let mut b = openssl::ssl::SslAcceptor::mozilla_intermediate_v5(
            openssl::ssl::SslMethod::tls_server(),
        )
        .unwrap();
        b.set_certificate_chain_file(cert("server.pem")).unwrap();
        b.set_private_key_file(cert("server.key"), openssl::ssl::SslFiletype::PEM)
            .unwrap();
        // No session tickets: nothing to read on the client's socket, so a write that
        // waited for readable would wait for ever.
        b.set_num_tickets(0).unwrap();
        b.build()
    };
    const TOTAL: usize = 16 << 20;
    let (go, go_rx) = std::sync::mpsc::channel::<()>();
    // The peer completes the handshake, then reads nothing until told to, then all of it.
    let (addr, peer) = common::one_shot_peer(false, move |s| {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut tls = acceptor.accept(s).unwrap();
        if go_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            return;
        }
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0;
        while got < TOTAL {
            match std::io::Read::read(&mut tls, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        assert_eq!(got, TOTAL);
    });
    runtime().block_on(async {
        let conn = connect_async(&url(addr), &config()).await.unwrap();
        let mut stream = conn.stream;
        let chunk = vec![0x5au8; 1 << 16];
        let mut sent = 0;
        // Write until the socket buffers are full and the write is pending.
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let step =
                poll_fn(|cx| std::task::Poll::Ready(Pin::new(&mut stream).poll_write(cx, &chunk)))
                    .await;
            match step {
                std::task::Poll::Ready(n) => sent += n.unwrap(),
                std::task::Poll::Pending => break,
            }
            assert!(Instant::now() < until && sent < TOTAL, "never blocked");
        }
        assert_eq!(
            stream.get_ref().get_ref().blocked(),
            Some(Blocked::Write),
            "a full send buffer blocks the write side"
        );
        let rest = vec![0x5au8; TOTAL - sent];
        let mut write = Box::pin(stream.write_all(&rest));
        // Until the peer reads, the write waits for writable: it returns Pending and lets
        // the timer run (a write that polled for readable would spin inside its poll).
        let cpu_before = cpu_time();
        let waited = tokio::time::timeout(Duration::from_millis(300), &mut write).await;
        let spent = cpu_time() - cpu_before;
        assert!(waited.is_err(), "the write waits: {waited:?}");
        assert!(
            spent < Duration::from_millis(100),
            "the write spun while it waited: {spent:?} of CPU in 300 ms"
        );
        go.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(20), write)
            .await
            .expect("the write completes once the peer reads")
            .unwrap();
    });
    peer.join().unwrap();
}

#[test]
fn connect_async_refusals_and_a_closed_port_are_the_blocking_path_s_errors() {
    let _serial = serial();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    runtime().block_on(async {
        let plain: TransportUrl = format!("tcp://127.0.0.1:{}", closed.port())
            .parse()
            .unwrap();
        let err = connect_async(&plain, &config()).await.unwrap_err();
        assert!(matches!(err, ConnectError::NotTls { .. }), "{err}");

        let err = connect_async(&url(closed), &config()).await.unwrap_err();
        // One address loop for both: the same addresses, errors and message.
        let blocking = tlshake::client::connect(&url(closed), &config()).unwrap_err();
        assert_eq!(err.to_string(), blocking.to_string());
        match &err {
            ConnectError::Connect { attempts, .. } => {
                assert!(!attempts.is_empty(), "{err}");
                assert!(
                    attempts
                        .iter()
                        .all(|(_, e)| e.kind() == std::io::ErrorKind::ConnectionRefused),
                    "{err}"
                );
            }
            other => panic!("{other}"),
        }
        assert!(!err.is_timeout());
    });
}

#[test]
fn a_third_stall_and_a_third_close_early_exact_counts_and_stalls_end_at_their_deadline() {
    let _serial = serial();
    const EACH: usize = 300;
    let _ = tlshake::raise_nofile_limit();
    let (good, server) = listener_thread(EACH, Duration::from_secs(60));
    // Accepts, reads the ClientHello record, closes (FIN): an EOF mid-handshake.
    let closer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closer_addr = closer.local_addr().unwrap();
    let closing = thread::spawn(move || {
        for _ in 0..EACH {
            let Ok((mut s, _)) = closer.accept() else {
                return;
            };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let _ = common::read_record(&mut s);
        }
    });
    let ctx = client_ctx("ca.pem").build();
    let limit = Duration::from_millis(1500);
    let (done, timed_out, closed, other) = runtime().block_on(async {
        // Never accepts (a queue long enough for all): the ClientHellos wait unanswered.
        let stall = tokio::net::TcpSocket::new_v4().unwrap();
        stall.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let stall = stall.listen(4096).unwrap();
        let stall_addr = stall.local_addr().unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..3 * EACH {
            let addr = [good, stall_addr, closer_addr][i % 3];
            let ssl = client_ssl(&ctx, "localhost");
            tasks.spawn(async move {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let started = Instant::now();
                let r =
                    tlshake::tokio::handshake(ssl, tcp, std::time::Instant::now() + limit).await;
                (r.map(|_| ()), started.elapsed())
            });
        }
        let (mut done, mut timed_out, mut closed, mut other) = (0, 0, 0, Vec::new());
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(joined) = tasks.join_next().await {
                match joined.unwrap() {
                    (Ok(()), _) => done += 1,
                    (Err(e), took) if e.is_timeout() => {
                        assert!(
                            took >= limit && took < limit + Duration::from_secs(2),
                            "{took:?}"
                        );
                        assert_eq!(e.waiting_for(), Some(Want::Read));
                        timed_out += 1;
                    }
                    (Err(e), _) if e.is_peer_closed() => closed += 1,
                    (Err(e), _) => other.push(e.to_string()),
                }
            }
        })
        .await;
        assert!(all.is_ok(), "not all ended within 60 s");
        drop(stall);
        (done, timed_out, closed, other)
    });
    assert!(other.is_empty(), "{other:?}");
    assert_eq!((done, timed_out, closed), (EACH, EACH, EACH));
    assert_eq!(server.join().unwrap(), EACH);
    closing.join().unwrap();
}

/// Runs the listener's accept loop until `pending` handshakes are in its set, keeping the
/// events it gives on the way; bounded by 10 s.
async fn until_pending(
    listener: &mut AsyncTlsListener,
    pending: usize,
) -> Vec<ServerEvent<AsyncTlsStream>> {
    let mut events = Vec::new();
    let reached = tokio::time::timeout(
        Duration::from_secs(10),
        poll_fn(|cx| loop {
            match listener.poll_event(cx) {
                std::task::Poll::Ready(Ok(event)) => events.push(event),
                std::task::Poll::Ready(Err(e)) => panic!("{e}"),
                std::task::Poll::Pending if listener.stats().pending == pending => {
                    return std::task::Poll::Ready(())
                }
                std::task::Poll::Pending => return std::task::Poll::Pending,
            }
        }),
    )
    .await;
    assert!(reached.is_ok(), "{pending} pending within 10 s: {events:?}");
    events
}

/// The next event of the accept loop, within 10 s.
async fn next_event(listener: &mut AsyncTlsListener) -> ServerEvent<AsyncTlsStream> {
    tokio::time::timeout(Duration::from_secs(10), listener.next_event())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

fn s_client(addr: SocketAddr) -> OpensslClient {
    OpensslClient::builder(addr)
        .ca_file(cert("ca.pem"))
        .servername("localhost")
        .verify_return_error()
        .spawn()
        .unwrap()
}

#[test]
fn accept_loop_evicts_the_idlest_refuses_when_all_progress_times_out_and_keeps_serving() {
    let _serial = serial();
    let timeout = Duration::from_secs(1);
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(cert("server.pem"), cert("server.key"))
        .handshake_timeout(timeout)
        .max_pending(3);
    let baseline = open_fds();
    runtime().block_on(async {
        let mut listener = AsyncTlsListener::bind(&crate::common::built(&config)).unwrap();
        let addr = listener.local_addr();

        // Three silent clients fill the set.
        let mut silent = Vec::new();
        for _ in 0..3 {
            let tcp = TcpStream::connect(addr).await.unwrap();
            silent.push((tcp.local_addr().unwrap(), Instant::now(), tcp));
        }
        assert!(until_pending(&mut listener, 3).await.is_empty());

        // A real client arrives: it evicts the oldest silent one, then completes; a fourth
        // silent client fills the set again, and the next real one evicts the second.
        for round in 0..2 {
            let evicted = silent[round].0;
            let client = s_client(addr);
            match next_event(&mut listener).await {
                ServerEvent::Rejected {
                    peer,
                    reason: RejectReason::Evicted { limit: 3 },
                } => assert_eq!(peer, evicted),
                other => panic!("{other}"),
            }
            match next_event(&mut listener).await {
                ServerEvent::Established(tls) => {
                    assert_eq!(tls.session.sni.as_deref(), Some("localhost"));
                    assert!(tls.stream.get_ref().protocol().starts_with("TLSv1."));
                }
                other => panic!("{other}"),
            }
            let run = client.wait(Duration::from_secs(10)).unwrap();
            assert!(run.handshake_done(), "{}", run.output());
            if round == 0 {
                let tcp = TcpStream::connect(addr).await.unwrap();
                silent.push((tcp.local_addr().unwrap(), Instant::now(), tcp));
                assert!(until_pending(&mut listener, 3).await.is_empty());
            }
        }

        // The other two silent clients end at their deadlines, in order, not before.
        for (peer_expected, connected, _) in &silent[2..] {
            match next_event(&mut listener).await {
                ServerEvent::TimedOut { peer, error } => {
                    assert_eq!(peer, *peer_expected);
                    assert!(error.is_timeout(), "{error}");
                    assert_eq!(error.waiting_for(), Some(Want::Read));
                    let took = connected.elapsed();
                    assert!(
                        took >= timeout && took < timeout + Duration::from_millis(500),
                        "{took:?}"
                    );
                    let elapsed = error.elapsed().expect("an elapsed time");
                    assert!(
                        elapsed >= timeout && elapsed < timeout + Duration::from_millis(200),
                        "{elapsed:?}"
                    );
                }
                other => panic!("{other}"),
            }
        }
        // The evicted ones were closed: they read EOF.
        for (_, _, tcp) in &silent[..2] {
            let mut byte = [0u8; 1];
            let n = tokio::time::timeout(Duration::from_secs(5), async {
                tcp.readable().await.unwrap();
                tcp.try_read(&mut byte)
            })
            .await
            .expect("closed within 5 s");
            assert!(matches!(n, Ok(0)) || n.is_err(), "{n:?}");
        }
        drop(silent);

        // Three clients send their ClientHello and wait for the server's answer, which
        // shows that the set has read from each; then they stall. Having received bytes,
        // none is evicted, and a fourth connection is refused.
        let ctx = client_ctx("ca.pem").build();
        let mut started = Vec::new();
        for _ in 0..3 {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let local = tcp.local_addr().unwrap();
            let mut hs = AsyncHandshake::client(client_ssl(&ctx, "localhost"), tcp, None).unwrap();
            let first = poll_fn(|cx| hs.poll_step(cx)).await;
            assert!(
                matches!(first, HandshakeOutcome::Want(Want::Read)),
                "{first:?}"
            );
            // The accept loop runs until the client's socket has the server's answer.
            let tcp = hs.get_ref().transport().get_ref().get_ref();
            let answered = tokio::time::timeout(Duration::from_secs(10), async {
                tokio::select! {
                    ready = tcp.ready(tokio::io::Interest::READABLE) => ready.map(|_| ()),
                    event = listener.next_event() => panic!("{:?}", event.map(|e| e.to_string())),
                }
            })
            .await;
            assert!(
                matches!(answered, Ok(Ok(()))),
                "the server answers the ClientHello within 10 s"
            );
            started.push((local, hs));
        }
        let fourth = TcpStream::connect(addr).await.unwrap();
        match next_event(&mut listener).await {
            ServerEvent::Rejected {
                peer,
                reason: RejectReason::TooManyPending { limit: 3 },
            } => assert_eq!(peer, fourth.local_addr().unwrap()),
            other => panic!("{other}"),
        }
        let mut timed_out = Vec::new();
        for _ in 0..3 {
            match next_event(&mut listener).await {
                ServerEvent::TimedOut { peer, error } => {
                    assert!(error.is_timeout());
                    timed_out.push(peer);
                }
                other => panic!("{other}"),
            }
        }
        let mut expected: Vec<_> = started.iter().map(|(a, _)| *a).collect();
        expected.sort();
        timed_out.sort();
        assert_eq!(timed_out, expected);
        drop((started, fourth));

        // And it keeps serving.
        let client = s_client(addr);
        assert_eq!(next_event(&mut listener).await.name(), "established");
        let run = client.wait(Duration::from_secs(10)).unwrap();
        assert!(run.handshake_done(), "{}", run.output());

        let stats = listener.stats();
        assert_eq!(
            (
                stats.accepted,
                stats.established,
                stats.timed_out,
                stats.rejected,
                stats.failed,
                stats.pending
            ),
            (11, 3, 5, 3, 0, 0),
            "{stats:?}"
        );
        drop(listener);
    });
    assert_eq!(open_fds(), baseline, "descriptors back to the baseline");
}

/// A relay between the client and s_server that stops reading the client's bytes before the
/// first record longer than 16,000 bytes (the client certificate flight of
/// [`a_read_that_must_write_a_renegotiation_answer_waits_for_writable_and_completes`]), with
/// its receive buffer shrunk, until [`Gate::release`]: to the client, a peer that stopped
/// reading.
struct Gate {
    state: Mutex<(bool, bool)>, // (holding, released)
    changed: std::sync::Condvar,
}

impl Gate {
    fn wait_holding(&self, limit: Duration) -> bool {
        let g = self.state.lock().unwrap();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, limit, |(holding, _)| !*holding)
            .unwrap();
        g.0
    }

    fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

fn holding_relay(upstream: SocketAddr) -> (SocketAddr, Arc<Gate>) {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // Inherited by the accepted socket: a small window, so the client's writes block soon.
    nix::sys::socket::setsockopt(&listener, nix::sys::socket::sockopt::RcvBuf, &4096).unwrap();
    let addr = listener.local_addr().unwrap();
    let gate = Arc::new(Gate {
        state: Mutex::new((false, false)),
        changed: std::sync::Condvar::new(),
    });
    let g = Arc::clone(&gate);
    thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        let mut server = std::net::TcpStream::connect(upstream).unwrap();
        let (mut client2, mut server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        thread::spawn(move || {
            let _ = std::io::copy(&mut server2, &mut client2);
            let _ = client2.shutdown(Shutdown::Write);
        });
        let (mut seen, mut next, mut sent, mut released) = (Vec::new(), 0usize, 0usize, false);
        let mut buf = [0u8; 4096];
        loop {
            let n = match client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.extend_from_slice(&buf[..n]);
            while !released && next + 5 <= seen.len() {
                let len = usize::from(u16::from_be_bytes([seen[next + 3], seen[next + 4]]));
                if len > 16_000 {
                    let _ = server.write_all(&seen[sent..next]);
                    sent = next;
                    let mut st = g.state.lock().unwrap();
                    st.0 = true;
                    g.changed.notify_all();
                    let _ = g
                        .changed
                        .wait_timeout_while(st, Duration::from_secs(20), |(_, r)| !*r)
                        .unwrap();
                    released = true;
                } else {
                    next += 5 + len;
                }
            }
            if server.write_all(&seen[sent..]).is_err() {
                break;
            }
            sent = seen.len();
        }
        let _ = server.shutdown(Shutdown::Write);
    });
    (addr, gate)
}

/// A read that can only finish after a write: s_server renegotiates (TLS 1.2, its `R`
/// command, with `-no_resumption_on_reneg` so that it is a full handshake) and asks for a
/// client certificate; the client's answer, written from inside `SSL_read`, carries a chain
/// of about 80 KB. A relay between the two stops reading at that flight, and the client's
/// send buffer is shrunk (SO_SNDBUF 4 KB), so `SSL_read` returns `SSL_ERROR_WANT_WRITE`: the
/// read is `Pending`, blocked on the write. While the relay holds, the read must wait for
/// writable, using no CPU (one that waited for readable spins on a stale readiness); once
/// the relay reads again, it completes with the line s_server sends after the renegotiation.
#[test]
fn a_read_that_must_write_a_renegotiation_answer_waits_for_writable_and_completes() {
    use openssl::ssl::SslFiletype;
    use openssl::x509::X509;
    use tokio::io::{AsyncRead, ReadBuf};

    let _serial = serial();
    let mut server = OpensslServer::builder()
        .version(ProtocolVersion::Tls1_2)
        .ca_file(cert("ca.pem"))
        // A full handshake, not a resumption: one with a CertificateRequest.
        .arg("-no_resumption_on_reneg")
        .spawn()
        .unwrap();
    let (addr, gate) = holding_relay(server.addr());
    let mut ctx = client_ctx("ca.pem");
    ctx.set_certificate_file(cert("client.pem"), SslFiletype::PEM)
        .unwrap();
    ctx.set_private_key_file(cert("client.key"), SslFiletype::PEM)
        .unwrap();
    // 200 copies of the root after the leaf: an ~80 KB Certificate message (s_server takes
    // up to 100 KB).
    let root = X509::from_pem(&std::fs::read(cert("ca.pem")).unwrap()).unwrap();
    for _ in 0..200 {
        ctx.add_extra_chain_cert(root.clone()).unwrap();
    }
    let ctx = ctx.build();
    let (renegotiate, go) = std::sync::mpsc::channel::<()>();
    let (in_renegotiation, send_line) = std::sync::mpsc::channel::<()>();
    let (blocked_on_write, waits_for_writable) = std::sync::mpsc::channel::<()>();
    let polls = Arc::new(AtomicUsize::new(0));
    let polled = Arc::clone(&polls);
    let (report, reported) = std::sync::mpsc::channel();
    // The client runs on its own thread, so that a read that never completes fails the test
    // at the deadline below instead of hanging it.
    let client = thread::spawn(move || {
        runtime().block_on(async {
            let tcp = TcpStream::connect(addr).await.unwrap();
            nix::sys::socket::setsockopt(&tcp, nix::sys::socket::sockopt::SndBuf, &4096).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            let mut tls = tlshake::tokio::handshake(client_ssl(&ctx, "localhost"), tcp, deadline)
                .await
                .unwrap();
            assert_eq!(tls.get_ref().protocol(), "TLSv1.2");
            renegotiate.send(()).unwrap();
            let mut got = Vec::new();
            let mut waited_for_writable = 0usize;
            let mut buf = [0u8; 256];
            while !got.ends_with(b"after renegotiation\n") {
                let n = poll_fn(|cx| {
                    let mut rb = ReadBuf::new(&mut buf);
                    match Pin::new(&mut tls).poll_read(cx, &mut rb) {
                        std::task::Poll::Ready(r) => {
                            std::task::Poll::Ready(r.map(|()| rb.filled().len()))
                        }
                        std::task::Poll::Pending => {
                            polled.fetch_add(1, Ordering::SeqCst);
                            if tls.get_ref().get_ref().blocked() == Some(Blocked::Write) {
                                waited_for_writable += 1;
                                let _ = blocked_on_write.send(());
                            }
                            // The HelloRequest came: s_server has taken its command.
                            if !tls.get_ref().ssl().is_init_finished() {
                                let _ = in_renegotiation.send(());
                            }
                            std::task::Poll::Pending
                        }
                    }
                })
                .await
                .unwrap();
                assert_ne!(n, 0, "end of stream before the line: {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
            let _ = report.send((waited_for_writable, tls.get_ref().ssl().version_str()));
        });
    });
    go.recv_timeout(Duration::from_secs(10))
        .expect("the first handshake within 10 s");
    server.send_stdin(b"R\n").unwrap();
    // s_server took the command (a read of its own) before the line follows.
    assert!(
        send_line.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the renegotiation did not begin within 10 s: {}",
        server.output()
    );
    // The relay stops reading at the certificate flight; the client's read returns Pending,
    // blocked on the write. Then the relay reads again.
    assert!(
        gate.wait_holding(Duration::from_secs(10)),
        "the client certificate flight never came: client {:?}; s_server: {}",
        reported.try_recv(),
        server.output()
    );
    // Only now the line: sent earlier, it can reach the client before the server's
    // handshake flight (application data may arrive while a renegotiation is under way),
    // and the client would stop reading before it ever had to write its certificate.
    // s_server writes it once the renegotiation is complete.
    server.send_stdin(b"after renegotiation\n").unwrap();
    assert!(
        waits_for_writable
            .recv_timeout(Duration::from_secs(10))
            .is_ok(),
        "the read never returned Pending blocked on the write"
    );
    // While the relay holds, the read cannot complete, and it must wait, not spin: a read
    // that waited for readable finds a stale readiness and retries at once, yielding only
    // when tokio's budget runs out.
    let (cpu_before, polls_before) = (cpu_time(), polls.load(Ordering::SeqCst));
    let early = reported.recv_timeout(Duration::from_millis(300));
    let (spent, polls_held) = (
        cpu_time() - cpu_before,
        polls.load(Ordering::SeqCst) - polls_before,
    );
    gate.release();
    assert!(early.is_err(), "the read completed while the relay held");
    assert!(
        spent < Duration::from_millis(100) && polls_held < 100,
        "the read spun while the socket could take nothing: {spent:?} of CPU and \
         {polls_held} polls in 300 ms"
    );
    let (waited_for_writable, version) = reported
        .recv_timeout(Duration::from_secs(20))
        .expect("the read completes within 20 s");
    assert_eq!(version, "TLSv1.2");
    assert!(
        waited_for_writable > 0,
        "the read never waited for writable: the situation was not produced"
    );
    client.join().unwrap();
}
