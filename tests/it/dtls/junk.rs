//! Bad input at the [`DtlsListener`]: junk datagrams are dropped and counted and make no
//! state; a flood of ClientHellos without a cookie costs one HelloVerifyRequest each and no
//! state (memory and descriptors measured before and after), while a real client completes.
//! (Junk in the middle of handshakes, both ways, and a server that vanishes are cases of the
//! lossy-relay sweep.)

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tlshake::dtls::{self, DtlsListener, DtlsListenerStats, DtlsOptions};
use tlshake::server::ServerEvent;
use tlshake::HandshakeOutcome;

use super::relay::junk;
use super::timer::BlackHole;

fn listener() -> DtlsListener {
    let config = super::loopback_server().build().unwrap();
    DtlsListener::bind(&config, DtlsOptions::new()).unwrap()
}

/// Lets `listener` read what was sent, until it counted `datagrams` or 10 s passed.
fn pump(listener: &mut DtlsListener, datagrams: u64) -> Vec<String> {
    let give_up = Instant::now() + Duration::from_secs(10);
    let mut events = Vec::new();
    while listener.stats().datagrams < datagrams {
        assert!(Instant::now() < give_up, "{:?}", listener.stats());
        let tick = Instant::now() + Duration::from_millis(50);
        if let Some(event) = listener.next_event(Some(tick)).unwrap() {
            events.push(event.to_string());
        }
    }
    events
}

/// A real ClientHello without a cookie: the first datagram of an OpenSSL DTLS client.
fn client_hello() -> Vec<u8> {
    let hole = BlackHole::new();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(hole.addr()).unwrap();
    let ctx = openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::dtls_client())
        .unwrap()
        .build();
    let ssl = openssl::ssl::Ssl::new(&ctx).unwrap();
    let transport = dtls::UdpTransport::new(socket).unwrap();
    let mut hs =
        dtls::handshake(ssl, transport, tlshake::Role::Client, &DtlsOptions::new()).unwrap();
    assert!(matches!(hs.step(), HandshakeOutcome::Want(_)));
    let sent = hole.drain();
    assert_eq!(sent.len(), 1);
    sent.into_iter().next().unwrap()
}

#[test]
fn junk_from_a_stranger_is_counted_and_makes_no_state() {
    let mut listener = listener();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(listener.local_addr()).unwrap();
    let mut sent = junk();
    // A handshake record that is no ClientHello, and application data of epoch 0.
    let mut not_a_hello = client_hello();
    not_a_hello[13] = 11; // the message type: Certificate
    sent.push(not_a_hello);
    let mut data = client_hello();
    data[0] = 23;
    sent.push(data);
    for d in &sent {
        socket.send(d).unwrap();
    }
    let events = pump(&mut listener, sent.len() as u64);
    assert!(events.is_empty(), "{events:?}");
    let stats: DtlsListenerStats = listener.stats();
    let counts = [
        stats.datagrams,
        stats.not_dtls,
        stats.truncated,
        stats.oversized,
        stats.unknown_epoch,
        stats.stray,
        stats.queue_full,
    ];
    // Not DTLS: the HTTP line and the empty datagram; unknown epochs: epoch 7 and, from an
    // address with no handshake, epoch 1.
    assert_eq!(counts, [8, 2, 1, 1, 2, 2, 0], "{stats:?}");
    assert_eq!(stats.hello_verify_requests, 0);
    assert_eq!(stats.peers, 0);
    assert_eq!(stats.listener.pending, 0);
    assert_eq!(stats.listener.accepted, 0);
}

/// This process's open descriptors and resident memory (kB).
fn usage() -> (usize, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    (crate::common::open_fds(), rss)
}

/// A real client's handshake through the listener's address, within 10 s.
fn real_client(addr: SocketAddr) {
    let config = tlshake::client::ClientConfig::builder()
        .ca_file(crate::common::cert("ca.pem"))
        .build()
        .unwrap();
    let url = format!("dtls://127.0.0.1:{}", addr.port()).parse().unwrap();
    let deadline = Some(Instant::now() + Duration::from_secs(10));
    let conn = dtls::connect_with(&url, &config, &DtlsOptions::new(), deadline)
        .expect("a real client completes");
    assert_eq!(conn.stream.protocol(), "DTLSv1.2");
}

/// The flood's size: ClientHellos without a cookie.
const FLOOD: usize = 10_000;
/// Source addresses they come from.
const SOURCES: usize = 100;

#[test]
fn a_flood_of_cookieless_hellos_makes_no_state() {
    isolated!(a_flood_of_cookieless_hellos_makes_no_state);
    let mut listener = listener();
    let addr = listener.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let (stats_tx, stats_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut established = 0;
        while !stopping.load(Ordering::Relaxed) {
            let tick = Instant::now() + Duration::from_millis(50);
            if let Some(event) = listener.next_event(Some(tick)).unwrap() {
                assert!(matches!(event, ServerEvent::Established(_)), "{event}");
                established += 1;
            }
            let _ = stats_tx.send(listener.stats());
        }
        established
    });
    let hello = client_hello();
    let senders: Vec<UdpSocket> = (0..SOURCES)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    // Warm up: one real handshake, so that what the listener allocates once is counted
    // before.
    real_client(addr);
    let (fds_before, rss_before) = usage();
    let mut answers = 0;
    let mut buf = [0u8; 2048];
    for i in 0..FLOOD {
        let s = &senders[i % SOURCES];
        s.send(&hello).unwrap();
        // Each waits for its HelloVerifyRequest: no datagram is lost to a full socket
        // buffer, so every count below is exact.
        let n = s.recv(&mut buf).expect("a HelloVerifyRequest");
        assert_eq!(buf[13], 3, "a HelloVerifyRequest");
        assert!(n > 13);
        answers += 1;
        if i == FLOOD / 2 {
            real_client(addr);
        }
    }
    let (fds_after, rss_after) = usage();
    real_client(addr);
    // The listener's own counters, once it has seen everything.
    let give_up = Instant::now() + Duration::from_secs(10);
    let stats = loop {
        let s = stats_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        if s.listener.established == 3 || Instant::now() > give_up {
            break s;
        }
    };
    stop.store(true, Ordering::Relaxed);
    assert_eq!(server.join().unwrap(), 3);
    eprintln!(
        "flood of {FLOOD} cookieless ClientHellos from {SOURCES} addresses: descriptors \
         {fds_before} before, {fds_after} after; VmRSS {rss_before} kB before, {rss_after} kB \
         after; {} HelloVerifyRequests; {} peers with state",
        stats.hello_verify_requests, stats.peers
    );
    assert_eq!(answers, FLOOD);
    // Each real client needs one HelloVerifyRequest too.
    assert_eq!(stats.hello_verify_requests, FLOOD as u64 + 3);
    assert_eq!(stats.listener.accepted, 3);
    assert_eq!(stats.listener.established, 3);
    assert_eq!(stats.peers, 0, "{stats:?}");
    assert_eq!(stats.listener.pending, 0);
    assert_eq!(fds_after, fds_before);
    // No per-peer state: the flood may not grow the process by what 10,000 handshakes
    // would cost (an SSL is tens of kB); 2 MB is the allocator's slack.
    assert!(
        rss_after <= rss_before + 2048,
        "{rss_before} kB -> {rss_after} kB"
    );
}
