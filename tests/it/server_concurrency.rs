//! Many connections at once in one accepting thread: silent clients cannot delay a
//! well-behaved one, each handshake closes at its own deadline, and the cap is enforced.

use crate::server_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslMethod};
use tlshake::server::{RejectReason, ServerEvent, TlsListener};
use tlshake::{ErrorKind, Want};

use server_support::{base_config, cert};

/// A TLS 1.3 client in a thread; returns how long its connect + handshake took.
fn good_client(addr: SocketAddr) -> thread::JoinHandle<Result<Duration, String>> {
    thread::spawn(move || {
        let mut builder =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        builder
            .set_ca_file(cert("ca.pem"))
            .map_err(|e| e.to_string())?;
        let connector = builder.build();
        let started = Instant::now();
        let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut tls = connector
            .connect("localhost", tcp)
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let _ = tls.shutdown();
        Ok(took)
    })
}

#[test]
fn silent_clients_do_not_delay_a_good_one_and_time_out_on_their_own() {
    const IDLE: usize = 200;
    let config = base_config().handshake_timeout(Duration::from_secs(2));
    let mut listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let server = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut established = Vec::new();
        let mut timed_out = Vec::new();
        let mut other = Vec::new();
        while timed_out.len() < IDLE + 1 || established.is_empty() {
            match listener.next_event(Some(deadline)).unwrap() {
                Some(ServerEvent::Established(a)) => established.push((Instant::now(), a)),
                Some(ServerEvent::TimedOut { peer, error }) => {
                    timed_out.push((Instant::now(), peer, error))
                }
                Some(event) => other.push(event.to_string()),
                None => break,
            }
        }
        (established, timed_out, other, listener.stats())
    });

    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let idle_connected = Instant::now();
    // One more that sends a record header announcing a ClientHello, then one byte every
    // 250 ms (12 bytes at most, then it stops).
    let trickle = TcpStream::connect(addr).unwrap();
    let trickler = thread::spawn(move || {
        let bytes = [
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x00,
        ];
        for byte in bytes {
            if (&trickle).write_all(&[byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(250));
        }
        trickle
    });

    let took = good_client(addr)
        .join()
        .unwrap()
        .expect("good client handshake");
    assert!(took < Duration::from_secs(1), "good client took {took:?}");

    let (established, timed_out, other, stats) = server.join().unwrap();
    drop(idle);
    assert!(other.is_empty(), "{other:#?}");
    assert_eq!(established.len(), 1);
    // 200 silent + 1 trickling client: every one closed at its deadline.
    assert_eq!(timed_out.len(), IDLE + 1);
    assert_eq!(stats.timed_out, (IDLE + 1) as u64);
    assert_eq!(stats.established, 1);
    assert_eq!(stats.pending, 0);
    let (first_timeout, _, _) = &timed_out[0];
    let waited = first_timeout.duration_since(idle_connected);
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "first timeout after {waited:?}"
    );
    assert!(
        established[0].0 < *first_timeout,
        "the good client finished before any timeout"
    );
    for (_, _, error) in &timed_out {
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert_eq!(error.waiting_for(), Some(Want::Read));
        // The server's hint speaks of the client.
        let hint = error.hint().map(ToString::to_string).unwrap_or_default();
        let expected = if error.bytes_received() == 0 {
            "the client connected but sent no ClientHello"
        } else {
            "the client stopped sending in the middle of the handshake"
        };
        assert!(hint.contains(expected), "{hint}");
    }
    let trickled: Vec<u64> = timed_out
        .iter()
        .map(|(_, _, e)| e.bytes_received())
        .filter(|n| *n > 0)
        .collect();
    assert_eq!(trickled.len(), 1, "{trickled:?}");
    assert!((5..12).contains(&trickled[0]), "{trickled:?}");
    drop(trickler.join().unwrap());
}

#[test]
fn a_full_listener_evicts_the_oldest_silent_connection() {
    let config = base_config()
        .max_pending(2)
        .handshake_timeout(Duration::from_secs(5));
    let mut listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let first = clients[0].local_addr().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let event = listener.next_event(Some(deadline)).unwrap();
    match event {
        Some(ServerEvent::Rejected { peer, reason }) => {
            assert_eq!(peer, first, "the oldest silent connection makes room");
            assert!(
                matches!(reason, RejectReason::Evicted { limit: 2 }),
                "{reason:?}"
            );
        }
        other => panic!("expected an eviction, got {other:?}"),
    }
    let stats = listener.stats();
    assert_eq!((stats.pending, stats.rejected, stats.accepted), (2, 1, 3));
    // The evicted client sees the connection closed at once: end-of-file or a reset, not
    // the 5 s read timeout (an error of kind WouldBlock) of a server that kept it open.
    clients[0]
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 8];
    let n = std::io::Read::read(&mut &clients[0], &mut buf);
    assert!(
        matches!(&n, Ok(0))
            || matches!(&n, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "the evicted connection was not closed: {n:?}"
    );
}

#[test]
fn a_full_listener_of_busy_handshakes_refuses_the_newcomer() {
    let config = base_config()
        .max_pending(1)
        .handshake_timeout(Duration::from_secs(5));
    let mut listener = TlsListener::bind(&crate::common::built(&config)).unwrap();
    let addr = listener.local_addr();
    // The first client has sent part of a record: it made progress and is kept.
    let mut busy = TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut busy, &[0x16, 0x03, 0x01]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while listener.stats().pending == 0 {
        assert!(
            Instant::now() < deadline,
            "the first client was not accepted"
        );
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(listener.next_event(Some(soon)).unwrap().is_none());
    }
    // Its bytes are there already: the next wait reports its socket readable and steps it.
    let soon = Instant::now() + Duration::from_millis(200);
    assert!(listener.next_event(Some(soon)).unwrap().is_none());
    let newcomer = TcpStream::connect(addr).unwrap();
    let event = listener.next_event(Some(deadline)).unwrap();
    match event {
        Some(ServerEvent::Rejected { peer, reason }) => {
            assert_eq!(peer, newcomer.local_addr().unwrap());
            assert!(
                matches!(reason, RejectReason::TooManyPending { limit: 1 }),
                "{reason:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(listener.stats().pending, 1);
}

#[test]
fn accept_one_reports_the_failure_and_the_listener_goes_on() {
    let mut listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = listener.local_addr();
    // A client that speaks HTTP to the TLS port.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let error = listener
        .accept_one(Instant::now() + Duration::from_secs(5))
        .unwrap_err();
    match &error {
        tlshake::server::ServerError::Handshake { peer, source } => {
            assert_eq!(*peer, plain.local_addr().unwrap());
            assert!(
                matches!(source.hint(), Some(tlshake::Hint::PlaintextPeer { .. })),
                "{source}"
            );
        }
        other => panic!("expected a handshake error, got {other:?}"),
    }
    // Nothing else arrives: the wait ends at the deadline.
    let started = Instant::now();
    let error = listener
        .accept_one(Instant::now() + Duration::from_millis(200))
        .unwrap_err();
    assert!(
        matches!(error, tlshake::server::ServerError::AcceptTimedOut { .. }),
        "{error:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(190));
    // And the next good client is served.
    let client = good_client(addr);
    let accepted = listener
        .accept_one(Instant::now() + Duration::from_secs(5))
        .unwrap();
    client.join().unwrap().unwrap();
    assert_eq!(accepted.session.protocol, "TLSv1.3");
}

#[test]
fn accept_skips_failures_and_tells_the_handler() {
    use std::sync::{Arc, Mutex};
    let mut listener = TlsListener::bind(&crate::common::built(&base_config())).unwrap();
    let addr = listener.local_addr();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    listener.set_event_handler(Box::new(move |event: &ServerEvent| {
        log.lock().unwrap().push(event.name());
    }));
    let mut plain = TcpStream::connect(addr).unwrap();
    plain.write_all(b"hello\r\n\r\n").unwrap();
    // The good client connects only once the server has failed the bad one and closed it,
    // so the order of the events is known.
    let client = thread::spawn(move || {
        plain
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let closed = std::io::Read::read_to_end(&mut plain, &mut rest);
        assert!(
            closed.is_ok()
                || matches!(&closed, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "the bad client was not closed within 5 s: {closed:?}"
        );
        good_client(addr).join().unwrap()
    });
    let accepted = listener.accept().unwrap();
    client.join().unwrap().unwrap();
    assert_eq!(accepted.session.protocol, "TLSv1.3");
    assert_eq!(*seen.lock().unwrap(), vec!["failed", "established"]);
    assert_eq!(listener.stats().failed, 1);
}
