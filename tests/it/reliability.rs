//! Reliability: SIGPIPE never kills the process, the OpenSSL error queue is clean after every
//! call, the connection types can be handed to another thread, and 10,000 handshakes keep
//! memory and descriptors flat.
//!
//! `unsafe` appears in this file only, for two test-only calls with no safe wrapper
//! (restoring SIGPIPE's default action in a child process, and `malloc_trim`); each has a
//! `// SAFETY:` comment.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::openssl_line::Line;
use openssl::ssl::{Ssl, SslContext, SslSessionCacheMode, SslVersion};
use tlshake::{ErrorKind, Handshake, HandshakeError, HandshakeOutcome, Hint, TlsStream, Want};
use tlshake::{MemoryHandshake, StreamError, StreamOperation};

/// The tests that measure the process (memory, descriptors, signals) run one at a time
/// ([`common::serial`]).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    common::serial()
}

const CHILD_ENV: &str = "TLSHAKE_SIGPIPE_CHILD";

// ---------------------------------------------------------------------------------------
// In-process pairs

fn server_context() -> SslContext {
    let mut b = common::server_ctx("server.pem", "server.key");
    // No server-side session cache: 10,000 cached sessions would be growth by design.
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.build()
}

fn client_context(ca: &str, max: Option<SslVersion>) -> SslContext {
    let mut b = common::client_ctx(ca);
    b.set_max_proto_version(max).unwrap();
    b.build()
}

/// Runs a client and a server over memory BIOs until both ended (at most 20 rounds).
fn memory_pair(
    cctx: &SslContext,
    sctx: &SslContext,
) -> (Result<(), HandshakeError>, Result<(), HandshakeError>) {
    let mut c = MemoryHandshake::client(common::client_ssl(cctx, "localhost")).unwrap();
    let mut s = MemoryHandshake::server(Ssl::new(sctx).unwrap()).unwrap();
    let (cr, sr) = common::pump_memory_pair(&mut c, &mut s);
    (
        cr.expect("client ended in 20 rounds"),
        sr.expect("server ended in 20 rounds"),
    )
}

/// A client and a server `TlsStream` over loopback TCP, established.
fn tcp_pair() -> (TlsStream<TcpStream>, TlsStream<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sctx = server_context();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_nonblocking(true).unwrap();
        Handshake::server(Ssl::new(&sctx).unwrap(), tcp)
            .unwrap()
            .drive(common::deadline(5.0))
            .unwrap()
    });
    let cctx = client_context("ca.pem", None);
    let client = Handshake::client(common::client_ssl(&cctx, "localhost"), common::tcp(addr))
        .unwrap()
        .drive(common::deadline(5.0))
        .unwrap();
    (client, server.join().unwrap())
}

// ---------------------------------------------------------------------------------------
// SIGPIPE

/// The scenarios, each of which writes to a socket whose other end has gone away. Returns a
/// description of what each write returned.
fn write_to_departed_peers() -> Vec<String> {
    let mut seen = Vec::new();

    // 1. During the handshake: our socket can no longer send (what a departed peer gives a
    //    writer: EPIPE); the ClientHello write fails.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = common::tcp(listener.local_addr().unwrap());
    tcp.shutdown(Shutdown::Write).unwrap();
    let cctx = client_context("ca.pem", None);
    let err = Handshake::client(common::client_ssl(&cctx, "localhost"), tcp)
        .unwrap()
        .drive(common::deadline(5.0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert_eq!(
        err.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::BrokenPipe),
        "{err}"
    );
    assert!(matches!(err.hint(), Some(Hint::PeerClosed { .. })), "{err}");
    seen.push(format!("client hello: {}", err.io_error().unwrap()));

    // 2. The handshake's alert: a client sends a broken record and leaves; the server's
    //    alert cannot be sent. The handshake fails on the record, not on the signal.
    let (addr, peer) = common::one_shot_peer(false, |mut s| {
        s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00])
            .unwrap();
        let _ = s.shutdown(Shutdown::Both);
    });
    let tcp = TcpStream::connect(addr).unwrap();
    // Wait for the record and the FIN, then make writes fail as to a departed peer.
    let mut probe = [0u8; 1];
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(tcp.peek(&mut probe).unwrap(), 1);
    peer.join().unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    tcp.set_nonblocking(true).unwrap();
    let err = Handshake::server(Ssl::new(&server_context()).unwrap(), tcp)
        .unwrap()
        .drive(common::deadline(5.0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(!err.queue().is_empty(), "{err}");
    seen.push(format!("server alert: {}", err.reasons().join("; ")));

    // 3. After the handshake: the peer resets the connection; the first write fails with
    //    ECONNRESET. OpenSSL before 4.0 tries the next write too, which fails with EPIPE;
    //    OpenSSL 4.0 keeps the connection's fatal error and refuses it (SSL_ERROR_SSL,
    //    nothing queued): StreamError::AlreadyFailed.
    let (mut client, server) = tcp_pair();
    nix::sys::socket::setsockopt(
        server.get_ref(),
        nix::sys::socket::sockopt::Linger,
        &libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
    .unwrap();
    drop(server);
    client.get_ref().set_nonblocking(false).unwrap();
    let mut errors = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while errors.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "not two write errors within 5 s of the reset: {errors:?}"
        );
        match client.write_all(&[0u8; 1024]) {
            // The reset has not been seen yet: it makes the socket readable when it arrives.
            Ok(()) => {
                let _ = tlshake::internals::wait::wait_for(
                    client.get_ref(),
                    tlshake::internals::wait::Interest::Readable,
                    Some(deadline),
                );
            }
            Err(e) => errors.push(e),
        }
    }
    let kinds: Vec<std::io::ErrorKind> = errors.iter().map(std::io::Error::kind).collect();
    // Which errors are OpenSSL refusing a connection that failed before.
    let refused: Vec<bool> = errors
        .iter()
        .map(|e| match StreamError::from_io(e) {
            None => false,
            Some(StreamError::AlreadyFailed {
                operation: StreamOperation::Write,
            }) => true,
            Some(other) => panic!("{other:?}"),
        })
        .collect();
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    let (expected_kinds, expected_refused) = match common::openssl_line::line() {
        Line::V3_0 | Line::V3_5 | Line::V3_6 => {
            (vec![ConnectionReset, BrokenPipe], vec![false, false])
        }
        Line::V4_0 => (vec![ConnectionReset, ConnectionAborted], vec![false, true]),
    };
    assert_eq!(kinds, expected_kinds, "{errors:?}");
    assert_eq!(refused, expected_refused, "{errors:?}");
    assert_eq!(
        errors[0].raw_os_error(),
        Some(libc::ECONNRESET),
        "{errors:?}"
    );
    // close_notify to the departed peer: an error, not a signal.
    assert!(client.shutdown().is_err());
    seen.push(format!("after the handshake: {kinds:?}"));
    seen
}

#[test]
fn writes_to_a_departed_peer_return_errors() {
    let _s = serial();
    let seen = write_to_departed_peers();
    assert_eq!(seen.len(), 3, "{seen:?}");
}

/// The child half of `sigpipe_at_default_action_never_kills`, run in a process of its own
/// (this test binary again, with `CHILD_ENV` set) with SIGPIPE at its default action.
fn sigpipe_child(mode: &str) {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installs the default disposition (no handler code runs), in a child process
    // that runs this one test on one thread.
    #[allow(unsafe_code)]
    let old = unsafe { sigaction(Signal::SIGPIPE, &default) }.unwrap();
    // Rust's runtime ignores SIGPIPE; this test restores what a C host program may have.
    assert!(matches!(old.handler(), SigHandler::SigIgn));
    match mode {
        // The control: a plain write(2) to a broken pipe must kill this process.
        "control" => {
            let (r, w) = nix::unistd::pipe().unwrap();
            drop(r);
            let _ = nix::unistd::write(&w, b"x");
            std::process::exit(3);
        }
        _ => {
            let seen = write_to_departed_peers();
            println!("SIGPIPE-CHILD-OK {seen:?}");
        }
    }
}

fn run_child(mode: &str) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([
            "--exact",
            "reliability::sigpipe_at_default_action_never_kills",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .output()
        .unwrap()
}

#[test]
fn sigpipe_at_default_action_never_kills() {
    use std::os::unix::process::ExitStatusExt;
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        sigpipe_child(&mode);
        return;
    }
    let _s = serial();
    // The control proves the child really has SIGPIPE at its default action.
    let control = run_child("control");
    assert_eq!(
        control.status.signal(),
        Some(13),
        "the control child was not killed by SIGPIPE: {:?}",
        control.status
    );
    let out = run_child("scenarios");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal: {:?}\n{text}",
        out.status
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("SIGPIPE-CHILD-OK"), "{text}");
}

// ---------------------------------------------------------------------------------------
// The OpenSSL error queue

fn queue_is_empty() -> bool {
    openssl::error::ErrorStack::get().errors().is_empty()
}

#[test]
fn a_failed_handshake_leaves_no_errors_for_the_next_call() {
    let sctx = server_context();
    // 1. A verification failure (the client trusts another CA).
    let rogue = client_context("rogue-ca.pem", None);
    let (c, _) = memory_pair(&rogue, &sctx);
    let first = c.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::CertificateVerification, "{first}");
    assert!(
        queue_is_empty(),
        "errors left on the thread after a failure"
    );
    // 2. A different failure on the same thread: plaintext instead of a ServerHello. Its
    //    queue holds its own reason only, nothing of the verification failure.
    let cctx = client_context("ca.pem", None);
    let mut c = MemoryHandshake::client(common::client_ssl(&cctx, "localhost")).unwrap();
    assert!(matches!(c.step(), HandshakeOutcome::Want(_)));
    c.feed(b"220 mail.example ESMTP\r\n");
    let HandshakeOutcome::Failed(second) = c.step() else {
        panic!("expected a failure");
    };
    let first_codes: Vec<i32> = first.queue().iter().map(|e| e.reason_code).collect();
    assert!(
        second
            .queue()
            .iter()
            .all(|e| !first_codes.contains(&e.reason_code)),
        "{first:?}\n{second:?}"
    );
    assert!(matches!(second.hint(), Some(Hint::PlaintextPeer { .. })));
    assert!(queue_is_empty());
    // 3. A success on the same thread right after: Done, and still nothing queued.
    let (c, s) = memory_pair(&cctx, &sctx);
    assert!(c.is_ok() && s.is_ok(), "{c:?} {s:?}");
    assert!(queue_is_empty());
    // 4. Errors another library call left on the thread are not blamed on the handshake.
    let _ = openssl::x509::X509::from_pem(b"not a certificate");
    let (c, s) = memory_pair(&cctx, &sctx);
    assert!(c.is_ok() && s.is_ok(), "{c:?} {s:?}");
    assert!(queue_is_empty());
}

// ---------------------------------------------------------------------------------------
// Send, and not Sync by accident

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

/// Compiles only while `T` is not `Sync` (two blanket impls become ambiguous for a `Sync`
/// type). Used for types whose shared references must not cross threads.
trait AmbiguousIfSync<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
#[allow(dead_code)]
struct IsSync;
impl<T: ?Sized + Sync> AmbiguousIfSync<IsSync> for T {}

#[test]
fn connection_types_are_send() {
    assert_send::<Handshake<TcpStream>>();
    assert_send::<TlsStream<TcpStream>>();
    assert_send::<MemoryHandshake>();
    assert_send::<HandshakeError>();
    assert_send::<tlshake::server::TlsListener>();
    assert_send::<tlshake::server::ServerEvent>();
    // The listener holds an event handler (`Box<dyn FnMut + Send>`): not Sync.
    <tlshake::server::TlsListener as AmbiguousIfSync<_>>::check();
    // A handshake and a stream are Sync because the `openssl` crate declares `Ssl` Sync:
    // through `&` they only answer queries (protocol, cipher, counters, peer certificate),
    // which OpenSSL allows from several threads; every step, read and write takes `&mut`.
    assert_sync::<Handshake<TcpStream>>();
    assert_sync::<TlsStream<TcpStream>>();
}

#[test]
fn connections_handed_across_threads_keep_working() {
    // Handshake started on one thread, finished on another, used on a third.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sctx = server_context();
    // The client starts only after the server's first step, so that step finds no
    // ClientHello yet and must ask to read (otherwise a fast client could let it finish).
    let (first_step_tx, first_step_rx) = std::sync::mpsc::channel();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_nonblocking(true).unwrap();
        let mut hs = Handshake::server(Ssl::new(&sctx).unwrap(), tcp).unwrap();
        // The first step on this thread; the rest on another.
        let first = hs.step();
        first_step_tx.send(()).unwrap();
        assert!(
            matches!(first, HandshakeOutcome::Want(Want::Read)),
            "{first:?}"
        );
        let stream = thread::spawn(move || hs.drive(common::deadline(5.0)).unwrap())
            .join()
            .unwrap();
        thread::spawn(move || {
            let mut stream = stream;
            stream.get_ref().set_nonblocking(false).unwrap();
            let mut line = [0u8; 5];
            stream.read_exact(&mut line).unwrap();
            stream.write_all(&line).unwrap();
            line
        })
        .join()
        .unwrap()
    });
    let cctx = client_context("ca.pem", None);
    let hs = Handshake::client(common::client_ssl(&cctx, "localhost"), common::tcp(addr)).unwrap();
    first_step_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server took its first step");
    let mut stream = thread::spawn(move || hs.drive(common::deadline(5.0)).unwrap())
        .join()
        .unwrap();
    stream.get_ref().set_nonblocking(false).unwrap();
    stream.write_all(b"hello").unwrap();
    let mut back = [0u8; 5];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
    assert_eq!(&server.join().unwrap(), b"hello");
}

// ---------------------------------------------------------------------------------------
// 10,000 handshakes

/// How many handshakes the loop runs: `TLSHAKE_LOOP_HANDSHAKES`, default 10,000.
fn loop_count() -> usize {
    std::env::var("TLSHAKE_LOOP_HANDSHAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn ten_thousand_handshakes_keep_memory_and_descriptors_flat() {
    isolated!(ten_thousand_handshakes_keep_memory_and_descriptors_flat);
    let _s = serial();
    let total = loop_count();
    let warmup = (total / 10).max(50);
    let sctx = server_context();
    let good13 = client_context("ca.pem", None);
    let good12 = client_context("ca.pem", Some(SslVersion::TLS1_2));
    let rogue = client_context("rogue-ca.pem", None);
    let run = |i: usize| {
        // Nine successes (TLS 1.3 and 1.2) for every verification failure.
        let (ctx, ok) = match i % 10 {
            9 => (&rogue, false),
            n if n % 2 == 0 => (&good13, true),
            _ => (&good12, true),
        };
        let (c, s) = memory_pair(ctx, &sctx);
        assert_eq!(c.is_ok(), ok, "handshake {i}: {c:?}");
        if ok {
            assert!(s.is_ok(), "handshake {i}: {s:?}");
        }
    };
    let started = Instant::now();
    for i in 0..warmup {
        run(i);
    }
    common::trim_heap();
    let (rss0, fds0) = (common::rss_kib(), common::open_fds());
    for i in warmup..total {
        run(i);
    }
    common::trim_heap();
    let (rss1, fds1) = (common::rss_kib(), common::open_fds());
    eprintln!(
        "{total} handshakes in {:?}: RSS {rss0} KiB after {warmup}, {rss1} KiB at the end; fds {fds0} -> {fds1}",
        started.elapsed()
    );
    assert_eq!(fds1, fds0, "descriptors grew");
    // Within 5% of the post-warm-up value (plus one page of slack for tiny processes).
    let limit = rss0 + rss0 / 20 + 4;
    assert!(rss1 <= limit, "RSS grew from {rss0} KiB to {rss1} KiB");
}

// ---------------------------------------------------------------------------------------
// Idle record buffers

/// `TlsStream::read` gives OpenSSL's record buffer back after each read when it holds
/// nothing (`SSL_free_buffers`). A record read a few bytes at a time, with reads that find no
/// data in between, still arrives whole and in order: the buffer is never freed while part
/// of a record (header or unread plaintext) is in it.
#[test]
fn records_read_in_pieces_survive_idle_buffer_release() {
    let (mut client, mut server) = tcp_pair();
    client.get_ref().set_nonblocking(true).unwrap();
    let message: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut got = Vec::with_capacity(message.len());
    let mut written = 0;
    let mut piece = [0u8; 7];
    let limit = Instant::now() + Duration::from_secs(20);
    let mut empty_reads = 0;
    while got.len() < message.len() {
        assert!(Instant::now() < limit, "only {} bytes arrived", got.len());
        if got.len() == written {
            // Everything sent so far was read: this read finds nothing.
            match client.read(&mut piece) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => empty_reads += 1,
                other => panic!("expected WouldBlock, got {other:?}"),
            }
            // 1,500 bytes at a time: the client reads each record 7 bytes at a time.
            let end = (written + 1500).min(message.len());
            server.write_all(&message[written..end]).unwrap();
            written = end;
        }
        match client.read(&mut piece) {
            Ok(0) => panic!("end of stream after {} bytes", got.len()),
            Ok(n) => got.extend_from_slice(&piece[..n]),
            // The record is still on its way.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let _ = tlshake::internals::wait::wait_for(
                    client.get_ref(),
                    tlshake::internals::wait::Interest::Readable,
                    Some(limit),
                );
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(got, message);
    // One empty read per piece: the release after an empty read was exercised, not only
    // the one after a record read to its end.
    assert_eq!(empty_reads, message.len().div_ceil(1500));
}
