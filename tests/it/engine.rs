//! The sans-IO handshake set and its runners: callback-driven wants handed back to the
//! caller, deadlines handled with an injected clock.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::pkey::PKey;
use openssl::ssl::{ClientHelloResponse, Ssl, SslAcceptor, SslConnector, SslContext, SslMethod};
use openssl::x509::X509;
use tlshake::bundled::{CA_PEM, SERVER_KEY, SERVER_PEM};
use tlshake::engine::{AcceptAction, AcceptPolicy, HandshakeSet, Outcome, Step};
use tlshake::internals::wait::{wait_for_any, Interest};
use tlshake::{connect_nonblocking, listen_tcp, Completed, MultiDriver};
use tlshake::{ErrorKind, Handshake, Want};

/// A server context whose ClientHello callback asks to be called again
/// (`SSL_CLIENT_HELLO_RETRY`, so `SSL_accept` returns `SSL_ERROR_WANT_CLIENT_HELLO_CB`) until
/// `go` is set; `calls` counts its calls.
fn retrying_server(go: Arc<AtomicBool>, calls: Arc<AtomicUsize>) -> SslContext {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&X509::from_pem(SERVER_PEM.as_bytes()).unwrap())
        .unwrap();
    b.set_private_key(&PKey::private_key_from_pem(SERVER_KEY.as_bytes()).unwrap())
        .unwrap();
    b.set_client_hello_callback(move |_ssl, _alert| {
        calls.fetch_add(1, Ordering::SeqCst);
        if go.load(Ordering::SeqCst) {
            Ok(ClientHelloResponse::SUCCESS)
        } else {
            Ok(ClientHelloResponse::RETRY)
        }
    });
    b.build().into_context()
}

fn client_ctx() -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.cert_store_mut()
        .add_cert(X509::from_pem(CA_PEM.as_bytes()).unwrap())
        .unwrap();
    b.build()
}

fn client(addr: SocketAddr) -> Handshake<TcpStream> {
    let tcp = connect_nonblocking(addr).unwrap();
    let ssl = client_ctx()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    Handshake::client(ssl, tcp).unwrap()
}

fn loopback_listener() -> TcpListener {
    listen_tcp(SocketAddr::from(([127, 0, 0, 1], 0)), 16).unwrap()
}

#[test]
fn a_client_hello_callback_that_retries_is_handed_back_not_waited_on() {
    let go = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let ctx = retrying_server(Arc::clone(&go), Arc::clone(&calls));
    let listener = loopback_listener();
    let addr = listener.local_addr().unwrap();
    let mut driver = MultiDriver::new().unwrap();
    let listener_token = driver
        .add_listener(listener, move || Ssl::new(&ctx), Duration::from_secs(30))
        .unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let client_token = driver.add(client(addr), deadline).unwrap();
    // The callback's want arrives long before the 30 s deadline: nothing waits on the socket.
    let soon = started + Duration::from_secs(5);
    let event = driver
        .next_completed(soon)
        .unwrap()
        .expect("an event within 5 s");
    let server_token = event.token;
    assert_ne!(server_token, client_token);
    assert_ne!(server_token, listener_token);
    match event.result {
        Completed::Callback(want) => assert_eq!(want, Want::ClientHelloCallback),
        other => panic!("expected the callback want, got {}", other.name()),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        driver.in_flight(),
        2,
        "the server handshake stays in flight"
    );
    // Unwatched meanwhile: the ClientHello stays readable, yet no step calls the callback.
    assert!(driver
        .next_completed(Instant::now() + Duration::from_millis(100))
        .unwrap()
        .is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    go.store(true, Ordering::SeqCst);
    assert!(driver.resume(server_token));
    let mut done = Vec::new();
    while done.len() < 2 {
        let event = driver
            .next_completed(soon)
            .unwrap()
            .expect("both ends done within 5 s");
        match event.result {
            Completed::Done(tls) => done.push((event.token, tls.stats())),
            other => panic!("{}: {}", event.token, other.name()),
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let server = done
        .iter()
        .find(|(t, _)| *t == server_token)
        .expect("server done");
    assert!(server.1.want_other >= 1, "{:?}", server.1);
    assert!(
        server.1.duration.is_some(),
        "stats via Handshake::established"
    );
    assert!(!driver.resume(server_token), "a finished token is stale");
}

#[test]
fn the_blocking_runner_stops_at_a_callback_want_instead_of_idling() {
    let ctx = retrying_server(
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let ssl = client_ctx()
            .configure()
            .unwrap()
            .into_ssl("localhost")
            .unwrap();
        Handshake::client(ssl, tcp)
            .unwrap()
            .drive(Instant::now() + Duration::from_secs(5))
    });
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_nonblocking(true).unwrap();
    let started = Instant::now();
    let error = Handshake::server(Ssl::new(&ctx).unwrap(), tcp)
        .unwrap()
        .drive(started + Duration::from_secs(20))
        .expect_err("the callback never lets it finish");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Callback);
    assert_eq!(error.waiting_for(), Some(Want::ClientHelloCallback));
    assert!(
        error.to_string().contains("SSL_ERROR_WANT_CLIENT_HELLO_CB"),
        "{error}"
    );
    let _ = peer.join().unwrap();
}

/// A server and a client handshake over a Unix socket pair in one set.
fn pair_in_set(
    set: &mut HandshakeSet<std::os::unix::net::UnixStream, &'static str>,
    now: Instant,
    deadline: Instant,
) -> (tlshake::engine::Token, tlshake::engine::Token) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let ctx = retrying_server(
        Arc::new(AtomicBool::new(true)),
        Arc::new(AtomicUsize::new(0)),
    );
    let server = Handshake::server(Ssl::new(&ctx).unwrap(), a).unwrap();
    let ssl = client_ctx()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    let client = Handshake::client(ssl, b).unwrap();
    let s = set.insert(server, "server", now, deadline, Want::Read);
    let c = set.insert(client, "client", now, deadline, Want::Write);
    (s, c)
}

#[test]
fn deadlines_are_handled_with_the_callers_clock() {
    let mut set = HandshakeSet::new(AcceptPolicy::default());
    let t0 = Instant::now();
    let (s, c) = pair_in_set(&mut set, t0, t0 + Duration::from_secs(10));
    assert_eq!(set.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    // The client sends its ClientHello and waits for the answer; nobody steps the server.
    assert_eq!(
        set.step(c, t0),
        Step::Watch {
            interest: Interest::Readable,
            previous: None
        }
    );
    assert_eq!(set.handle_timeout(t0 + Duration::from_millis(9_999)), 0);
    assert_eq!(set.handle_timeout(t0 + Duration::from_secs(11)), 2);
    let mut ended = Vec::new();
    while let Some(e) = set.poll_ended() {
        ended.push(e);
    }
    assert_eq!(ended.len(), 2);
    for e in &ended {
        assert_eq!(e.elapsed, Duration::from_secs(11));
        match &e.outcome {
            Outcome::TimedOut(error) => {
                assert_eq!(error.kind(), ErrorKind::Timeout);
                assert_eq!(error.waiting_for(), Some(Want::Read), "{}", e.user);
                assert_eq!(error.elapsed(), Some(Duration::from_secs(11)));
            }
            other => panic!("{}: {other:?}", e.user),
        }
    }
    assert_eq!(set.poll_timeout(), None);
    assert!(set.is_empty());
    assert_eq!(set.step(s, t0), Step::Stale);
}

#[test]
fn a_set_completes_both_ends_and_yields_them_as_they_finish() {
    let mut set = HandshakeSet::new(AcceptPolicy::default());
    let t0 = Instant::now();
    let (s, c) = pair_in_set(&mut set, t0, t0 + Duration::from_secs(10));
    let mut watching = vec![(s, Interest::Readable)];
    if let Step::Watch { interest, .. } = set.step(c, t0) {
        watching.push((c, interest));
    }
    let deadline = t0 + Duration::from_secs(10);
    let mut done = Vec::new();
    while done.len() < 2 {
        assert!(Instant::now() < deadline, "no progress");
        let fds: Vec<_> = watching
            .iter()
            .filter_map(|(t, i)| Some((set.handshake(*t)?.transport().get_ref().as_fd(), *i)))
            .collect();
        wait_for_any(&fds, Some(deadline)).unwrap();
        drop(fds);
        let mut next = Vec::new();
        for (t, _) in watching.drain(..) {
            match set.step(t, Instant::now()) {
                Step::Watch { interest, .. } => next.push((t, interest)),
                Step::Ended => {}
                other => panic!("{other:?}"),
            }
        }
        watching = next;
        while let Some(e) = set.poll_ended() {
            match e.outcome {
                Outcome::Done(tls) => done.push((e.user, tls.stats().duration.is_some())),
                other => panic!("{}: {other:?}", e.user),
            }
        }
    }
    done.sort();
    assert_eq!(done, vec![("client", true), ("server", true)]);
}

#[test]
fn a_full_set_evicts_only_connections_that_sent_nothing() {
    let policy = AcceptPolicy {
        max_pending: Some(2),
        backoff: Duration::from_millis(100),
    };
    let mut set: HandshakeSet<std::os::unix::net::UnixStream, &'static str> =
        HandshakeSet::new(policy);
    let t0 = Instant::now();
    let (s, c) = pair_in_set(&mut set, t0, t0 + Duration::from_secs(10));
    // Neither end has received a byte: the older (the server) is evicted first.
    assert!(set.admit(t0));
    let evicted = set.poll_ended().expect("one evicted");
    assert_eq!((evicted.token, evicted.user), (s, "server"));
    assert!(matches!(evicted.outcome, Outcome::Evicted));
    assert!(set.handshake(c).is_some());
    // EMFILE with an idle entry left: evict it and retry; with none: back off.
    let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(set.accept_failed(&emfile, t1), AcceptAction::Retry);
    assert_eq!(set.poll_ended().map(|e| e.user), Some("client"));
    assert_eq!(
        set.accept_failed(&emfile, t1),
        AcceptAction::Backoff(t1 + Duration::from_millis(100))
    );
    let aborted = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
    assert_eq!(set.accept_failed(&aborted, t1), AcceptAction::Next);
}
