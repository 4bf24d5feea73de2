//! Slow and hostile clients at a TlsListener, all at once: 500 that never send a ClientHello,
//! 100 that send one byte a second, 100 that send garbage, 100 that send a valid ClientHello
//! and then stall. A well-behaved client still completes within 1 s of starting; after the
//! handshake deadlines the listener's descriptors are back to their baseline, and memory
//! (VmRSS) within 10% of it.
//!
//! Memory is measured after `malloc_trim(0)` (glibc keeps freed pages otherwise, which would
//! measure the allocator, not tlshake); that call is this file's only `unsafe`.

use crate::common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use tlshake::server::{ListenerStats, ServerConfig, ServerEvent, TlsListener};
use tlshake::Handshake;
use tlshake::MemoryHandshake;

const SILENT: usize = 500;
const TRICKLE: usize = 100;
const GARBAGE: usize = 100;
const STALLED_HELLO: usize = 100;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Raises the soft descriptor limit so that 800 clients and their 800 accepted sockets fit.
fn raise_nofile() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let want = 4096.min(hard);
    if soft < want {
        setrlimit(Resource::RLIMIT_NOFILE, want, hard).unwrap();
    }
}

/// A real ClientHello, produced by a memory-BIO client.
fn client_hello() -> Vec<u8> {
    let ctx = common::client_ctx("ca.pem").build();
    let mut c = MemoryHandshake::client(common::client_ssl(&ctx, "localhost")).unwrap();
    let _ = c.step();
    let mut out = Vec::new();
    c.take(&mut out);
    assert_eq!(out.first(), Some(&0x16));
    out
}

/// Counts of each event kind, and the listener's stats, after `expected` events or 20 s.
fn serve(mut listener: TlsListener, expected: usize) -> (Vec<&'static str>, ListenerStats) {
    let limit = Instant::now() + Duration::from_secs(20);
    let mut names = Vec::new();
    while names.len() < expected {
        match listener.next_event(Some(limit)) {
            Ok(Some(event)) => {
                if let ServerEvent::Established(mut a) = event {
                    let _ = a.stream.shutdown();
                    names.push("established");
                } else {
                    names.push(event.name());
                }
            }
            Ok(None) => break,
            Err(e) => panic!("listener failed: {e}"),
        }
    }
    (names, listener.stats())
}

fn connect_all(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap())
        .collect()
}

#[test]
fn hostile_crowd_does_not_delay_a_good_client_nor_leak() {
    isolated!(hostile_crowd_does_not_delay_a_good_client_nor_leak);
    raise_nofile();
    let config = ServerConfig::builder()
        .address("127.0.0.1")
        .certificate_files(common::cert("server.pem"), common::cert("server.key"))
        .handshake_timeout(HANDSHAKE_TIMEOUT)
        .max_pending(2000)
        .backlog(2048);
    let cctx = common::client_ctx("ca.pem").build();
    let hello = client_hello();

    // Warm up (contexts, allocator arenas, one handshake), then take the baselines.
    let listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let warm = thread::spawn(move || serve(listener, 1));
    let tls = Handshake::client(common::client_ssl(&cctx, "localhost"), common::tcp(addr))
        .unwrap()
        .drive(common::deadline(5.0))
        .unwrap();
    drop(tls);
    let (names, _) = warm.join().unwrap();
    assert_eq!(names, ["established"]);
    common::trim_heap();
    let (fds0, rss0) = (common::open_fds(), common::rss_kib());

    let listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let hostile = SILENT + TRICKLE + GARBAGE + STALLED_HELLO;
    let server = thread::spawn(move || serve(listener, hostile + 1));

    let silent = connect_all(addr, SILENT);
    let mut trickle = connect_all(addr, TRICKLE);
    let mut garbage = connect_all(addr, GARBAGE);
    let mut stalled = connect_all(addr, STALLED_HELLO);
    for (i, s) in garbage.iter_mut().enumerate() {
        let junk: Vec<u8> = (0..512).map(|j| (i * 31 + j * 7) as u8 | 0x80).collect();
        let _ = s.write_all(&junk);
    }
    for s in &mut stalled {
        s.write_all(&hello).unwrap();
    }
    // One byte a second (the first at once), in a thread, until the listener gives up.
    let trickler = thread::spawn(move || {
        for i in 0..3 {
            for s in &mut trickle {
                let _ = s.write_all(&hello[i..i + 1]);
            }
            thread::sleep(Duration::from_secs(1));
        }
        trickle
    });

    // The well-behaved client, in the middle of the crowd.
    let started = Instant::now();
    let good = Handshake::client(common::client_ssl(&cctx, "localhost"), common::tcp(addr))
        .unwrap()
        .drive(started + Duration::from_secs(1));
    let took = started.elapsed();
    let good = good.unwrap_or_else(|e| panic!("the good client failed after {took:?}: {e}"));
    assert_eq!(good.protocol(), "TLSv1.3");
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(good);

    let (names, stats) = server.join().unwrap();
    let count = |n: &str| names.iter().filter(|x| **x == n).count();
    eprintln!(
        "good client: {took:?}; events: {} established, {} failed, {} timed out, {} rejected; {stats:?}",
        count("established"),
        count("failed"),
        count("timed_out"),
        count("rejected")
    );
    assert_eq!(names.len(), hostile + 1, "{stats:?}");
    assert_eq!(count("established"), 1);
    // Garbage fails at once; silence, trickles and stalled hellos time out.
    assert_eq!(count("failed"), GARBAGE);
    assert_eq!(count("timed_out"), SILENT + TRICKLE + STALLED_HELLO);
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.accepted, (hostile + 1) as u64);

    // The listener closed its side of every connection: each client reads EOF (or reset).
    for s in silent.iter().chain(&garbage).chain(&stalled) {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 4096];
        let mut r = s;
        let ended = loop {
            match std::io::Read::read(&mut r, &mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) => break e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        };
        assert!(ended, "a connection was left open by the listener");
    }
    let trickle = trickler.join().unwrap();
    drop((silent, garbage, stalled, trickle));

    common::trim_heap();
    let (fds1, rss1) = (common::open_fds(), common::rss_kib());
    eprintln!("fds {fds0} -> {fds1}; RSS {rss0} KiB -> {rss1} KiB");
    // The second listener is gone too: the count is back to the baseline exactly.
    assert_eq!(fds1, fds0, "descriptors leaked");
    assert!(
        rss1 <= rss0 + rss0 / 10,
        "RSS {rss1} KiB is more than 10% over its baseline {rss0} KiB"
    );
}
