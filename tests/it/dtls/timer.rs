//! The retransmission timer in the engine: the sans-IO set reports it through
//! `poll_timeout` / `handle_timeout` in the caller's time base, exactly; the blocking runner
//! waits for it beside the socket under the one deadline.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use openssl::ssl::{SslContext, SslMethod};
use tlshake::dtls::{self, DtlsOptions, RetransmitPolicy, UdpTransport};
use tlshake::engine::{HandshakeSet, Outcome, Step};
use tlshake::Hint;
use tlshake::{Handshake, Role, Want};

/// A UDP socket that receives and never answers: the client's "server".
pub(crate) struct BlackHole {
    pub(crate) socket: UdpSocket,
}

impl BlackHole {
    pub(crate) fn new() -> BlackHole {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        BlackHole { socket }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// Every datagram received so far (none waits: nonblocking).
    pub(crate) fn drain(&self) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            match self.socket.recv(&mut buf) {
                Ok(n) => got.push(buf[..n].to_vec()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return got,
                Err(e) => panic!("recv: {e}"),
            }
        }
    }
}

fn client_ctx() -> SslContext {
    let mut b = SslContext::builder(SslMethod::dtls_client()).unwrap();
    b.set_verify(openssl::ssl::SslVerifyMode::NONE);
    b.build()
}

fn client(to: SocketAddr, policy: RetransmitPolicy) -> Handshake<UdpTransport> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(to).unwrap();
    let ssl = openssl::ssl::Ssl::new(&client_ctx()).unwrap();
    let options = DtlsOptions::new().retransmit(policy);
    dtls::handshake(
        ssl,
        UdpTransport::new(socket).unwrap(),
        Role::Client,
        &options,
    )
    .unwrap()
}

/// The handshake message of a datagram holding one record: what a retransmission repeats
/// (the record header's sequence number changes).
fn message(datagram: &[u8]) -> &[u8] {
    &datagram[13..]
}

#[test]
fn the_set_reports_the_timer_in_the_callers_time_exactly() {
    let hole = BlackHole::new();
    let mut set: HandshakeSet<UdpTransport, ()> = HandshakeSet::default();
    let policy = RetransmitPolicy::new(Duration::from_millis(250), Duration::from_secs(2));
    let hs = client(hole.addr(), policy);
    // Any instant will do: the set reads no clock.
    let t0 = Instant::now() + Duration::from_secs(3600);
    let deadline = t0 + Duration::from_secs(10);
    let token = set.insert(hs, (), t0, deadline, Want::Write);
    // No step yet: only the deadline.
    assert_eq!(set.poll_timeout(), Some(deadline));
    let step = set.step(token, t0);
    assert!(matches!(step, Step::Watch { .. }), "{step:?}");
    assert_eq!(hole.drain().len(), 1, "the ClientHello");
    // The timer, at the step's `now` plus the first interval: exactly.
    assert_eq!(
        set.retransmit_at(token),
        Some(t0 + Duration::from_millis(250))
    );
    assert_eq!(set.poll_timeout(), Some(t0 + Duration::from_millis(250)));
    // Before it, nothing happens.
    assert_eq!(set.handle_timeout(t0 + Duration::from_millis(249)), 0);
    assert!(hole.drain().is_empty());
    assert_eq!(
        set.retransmit_at(token),
        Some(t0 + Duration::from_millis(250))
    );
    // A step that did not restart the timer (a spurious wake-up) leaves it alone.
    let _ = set.step(token, t0 + Duration::from_millis(100));
    assert_eq!(
        set.retransmit_at(token),
        Some(t0 + Duration::from_millis(250))
    );
    // At the deadline the handshake ends, typed, with its elapsed time and its count, and
    // the timer goes with it.
    assert_eq!(set.handle_timeout(deadline), 1);
    let ended = set.poll_ended().expect("ended");
    let Outcome::TimedOut(error) = ended.outcome else {
        panic!("expected a timeout");
    };
    assert!(error.is_timeout());
    assert_eq!(error.elapsed(), Some(Duration::from_secs(10)));
    assert_eq!(ended.elapsed, Duration::from_secs(10));
    // A timer due with the deadline resends nothing: the deadline wins.
    assert_eq!(error.retransmissions(), Some(0));
    assert!(
        matches!(
            error.hint(),
            Some(Hint::DatagramTimeout {
                role: Role::Client,
                retransmissions: 0,
                bytes_received: 0,
                ..
            })
        ),
        "{:?}",
        error.hint()
    );
    assert_eq!(set.poll_timeout(), None);
    assert!(hole.drain().is_empty());
}

#[test]
fn a_due_timer_resends_the_flight_once_and_doubles() {
    let hole = BlackHole::new();
    let mut set: HandshakeSet<UdpTransport, ()> = HandshakeSet::default();
    let policy = RetransmitPolicy::new(Duration::from_millis(100), Duration::from_secs(2));
    let hs = client(hole.addr(), policy);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(30);
    let token = set.insert(hs, (), t0, deadline, Want::Write);
    let _ = set.step(token, t0);
    let hello = hole.drain();
    assert_eq!(hello.len(), 1);
    assert_eq!(set.poll_timeout(), Some(t0 + Duration::from_millis(100)));
    // Wait for the instant the set names, as a runner does, and hand it the time; should
    // OpenSSL's own clock lag (a step preempted between `t0` and SSL_connect), the set asks
    // again when OpenSSL says. Bounded by 5 s.
    let give_up = t0 + Duration::from_secs(5);
    let (fired_at, again) = loop {
        let due = set.poll_timeout().expect("a timer");
        assert!(due < give_up, "no retransmission within 5 s");
        let woke = tlshake::internals::wait::wait_for(
            &hole.socket,
            tlshake::internals::wait::Interest::Readable,
            Some(due),
        )
        .unwrap();
        assert_eq!(
            woke,
            tlshake::internals::wait::Readiness::TimedOut,
            "nothing sent early"
        );
        let now = Instant::now();
        assert_eq!(set.handle_timeout(now), 0);
        let got = hole.drain();
        if !got.is_empty() {
            break (now, got);
        }
    };
    assert_eq!(again.len(), 1, "one retransmission");
    assert_eq!(
        message(&again[0]),
        message(&hello[0]),
        "the same ClientHello"
    );
    assert_eq!(set.handshake(token).unwrap().retransmissions(), Some(1));
    // The next interval is twice the first, from the firing.
    assert_eq!(
        set.retransmit_at(token),
        Some(fired_at + Duration::from_millis(200))
    );
    assert_eq!(set.handle_timeout(deadline), 1);
    let ended = set.poll_ended().unwrap();
    let Outcome::TimedOut(error) = ended.outcome else {
        panic!("expected a timeout");
    };
    assert_eq!(error.retransmissions(), Some(1));
}

#[test]
fn the_blocking_runner_resends_until_the_deadline() {
    let hole = BlackHole::new();
    let policy = RetransmitPolicy::new(Duration::from_millis(100), Duration::from_millis(400));
    let started = Instant::now();
    let error = client(hole.addr(), policy)
        .drive(started + Duration::from_millis(1500))
        .expect_err("nobody answers");
    let took = started.elapsed();
    assert!(error.is_timeout(), "{error}");
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    let sent = hole.drain().len();
    let retransmissions = error.retransmissions().expect("a DTLS count");
    // The ClientHello, then one datagram per expiry: 100, 300, 700, 1100 ms with a timer
    // that doubles up to 400 ms (a loaded machine's late wake-ups may push the last past
    // the deadline, which always wins).
    assert_eq!(sent, 1 + retransmissions as usize);
    assert!((3..=4).contains(&retransmissions), "{retransmissions}");
    assert!(error.to_string().contains("did not complete") || error.is_timeout());
    let hint = error.hint().expect("a hint").to_string();
    assert!(
        hint.contains(&format!("after {retransmissions} retransmissions")),
        "{hint}"
    );
}

#[test]
fn intervals_below_what_openssl_can_time_are_refused() {
    let options = DtlsOptions::new().retransmit(RetransmitPolicy::new(
        Duration::from_millis(10),
        Duration::from_secs(1),
    ));
    let err = options.check().unwrap_err();
    assert!(
        matches!(err, dtls::DtlsError::IntervalTooShort { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("RetransmitPolicy::new takes 15 ms or more"),
        "{err}"
    );
    let err = DtlsOptions::new().mtu(100).check().unwrap_err();
    assert!(
        matches!(err, dtls::DtlsError::MtuTooSmall { mtu: 100 }),
        "{err}"
    );
}

#[test]
fn the_epoll_runner_resends_for_many_at_once() {
    use tlshake::{Completed, MultiDriver};

    let holes: Vec<BlackHole> = (0..3).map(|_| BlackHole::new()).collect();
    let mut driver: MultiDriver<UdpTransport> = MultiDriver::new().unwrap();
    let policy = RetransmitPolicy::new(Duration::from_millis(100), Duration::from_millis(400));
    let start = Instant::now();
    let deadline = start + Duration::from_millis(1200);
    let mut tokens = Vec::new();
    for hole in &holes {
        tokens.push(driver.add(client(hole.addr(), policy), deadline).unwrap());
    }
    let mut ended = Vec::new();
    while ended.len() < holes.len() {
        let event = driver
            .next_completed(start + Duration::from_secs(10))
            .unwrap()
            .expect("every handshake ends");
        ended.push(event);
    }
    assert!(start.elapsed() >= Duration::from_millis(1200));
    for (token, hole) in tokens.iter().zip(&holes) {
        let event = ended.iter().find(|e| e.token == *token).unwrap();
        let Completed::TimedOut(error) = &event.result else {
            panic!("{:?}", event.result);
        };
        let n = error.retransmissions().unwrap();
        // 100, 300, 700 ms (then 1100 ms, unless a late wake-up met the deadline first).
        assert!((3..=4).contains(&n), "{error}");
        assert_eq!(hole.drain().len(), 1 + n as usize);
    }
}
