//! The TCP listener's accept policy at the [`DtlsListener`]: a peer that passed the cookie
//! exchange and then went silent is the idlest, evicted when the set is full and another
//! arrives; one that stays silent ends at the handshake timeout, typed, with the server's
//! retransmissions counted.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use tlshake::client::ClientConfig;
use tlshake::dtls::{self, DtlsListener, DtlsOptions, RetransmitPolicy};
use tlshake::server::RejectReason;
use tlshake::server::ServerEvent;
use tlshake::{Hint, Role};

use super::relay::{Dir, Relay, Schedule};

fn options() -> DtlsOptions {
    DtlsOptions::new().retransmit(RetransmitPolicy::new(
        Duration::from_millis(100),
        Duration::from_millis(400),
    ))
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(crate::common::cert("ca.pem"))
        .build()
        .unwrap()
}

/// A client whose datagrams stop reaching the server after its ClientHello with the cookie:
/// the server has its handshake, and hears nothing more. It gives up after `for_`.
fn silent_client(server: SocketAddr, for_: Duration) -> (Relay, thread::JoinHandle<()>) {
    let relay = Relay::start(
        server,
        Schedule::BlackHole {
            dir: Dir::Up,
            index: 2,
        },
    );
    let url = format!("dtls://127.0.0.1:{}", relay.addr().port())
        .parse()
        .unwrap();
    let client = thread::spawn(move || {
        let deadline = Some(Instant::now() + for_);
        let err = dtls::connect_with(&url, &config(), &options(), deadline).unwrap_err();
        assert!(err.is_timeout(), "{err}");
    });
    (relay, client)
}

#[test]
fn silent_peers_are_evicted_when_full_and_timed_out() {
    let server_config = super::loopback_server()
        .max_pending(2)
        .handshake_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let mut listener = DtlsListener::bind(&server_config, options()).unwrap();
    let addr = listener.local_addr();
    let give_up = Instant::now() + Duration::from_secs(20);
    // Lets the listener work until `done` says so.
    let run_until = |listener: &mut DtlsListener, done: &dyn Fn(&DtlsListener) -> bool| {
        let mut events = Vec::new();
        while !done(listener) {
            assert!(Instant::now() < give_up, "{:?}", listener.stats());
            let tick = Instant::now() + Duration::from_millis(50);
            if let Some(e) = listener.next_event(Some(tick)).unwrap() {
                events.push(e);
            }
        }
        events
    };
    let (relay_a, a) = silent_client(addr, Duration::from_secs(4));
    let events = run_until(&mut listener, &|l| l.stats().listener.pending == 1);
    assert!(events.is_empty());
    let (relay_b, b) = silent_client(addr, Duration::from_secs(4));
    let events = run_until(&mut listener, &|l| l.stats().listener.pending == 2);
    assert!(events.is_empty());
    // Full: a third peer passes the cookie exchange, and the idlest (the oldest of the two
    // that sent nothing since) makes room.
    let url = format!("dtls://127.0.0.1:{}", addr.port()).parse().unwrap();
    let c = thread::spawn(move || {
        let deadline = Some(Instant::now() + Duration::from_secs(10));
        dtls::connect_with(&url, &config(), &options(), deadline).map(|_| ())
    });
    let mut events = run_until(&mut listener, &|l| {
        let s = l.stats().listener;
        s.rejected == 1 && s.established == 1
    });
    assert!(c.join().unwrap().is_ok());
    // The silent one left ends at its handshake timeout.
    events.extend(run_until(&mut listener, &|l| {
        l.stats().listener.timed_out == 1
    }));
    let names: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(events.len(), 3, "{names:#?}");
    let evicted = events.iter().find_map(|e| match e {
        ServerEvent::Rejected {
            peer,
            reason: RejectReason::Evicted { limit: 2 },
        } => Some(*peer),
        _ => None,
    });
    let timed_out = events.iter().find_map(|e| match e {
        ServerEvent::TimedOut { peer, error } => Some((*peer, error)),
        _ => None,
    });
    let (timed_out_peer, error) = timed_out.expect("a timed-out handshake");
    // The relays' back sockets are the peers the server saw: A came first.
    let a_peer = relay_a.upstream_addr();
    let b_peer = relay_b.upstream_addr();
    assert_eq!(evicted, Some(a_peer), "{names:#?}");
    assert_eq!(timed_out_peer, b_peer);
    assert!(error.is_timeout());
    let n = error.retransmissions().expect("a DTLS count");
    assert!(n >= 1, "{error}");
    assert!(
        matches!(
            error.hint(),
            Some(Hint::DatagramTimeout {
                role: Role::Server,
                bytes_received: 0,
                ..
            })
        ),
        "{error}"
    );
    // The server's datagrams to B: the HelloVerifyRequest, its flight packed in one
    // datagram, and each retransmission of it as its four messages (ServerHello,
    // Certificate, ServerKeyExchange, ServerHelloDone), one datagram each.
    assert_eq!(relay_b.tally(Dir::Down).seen, 2 + 4 * n as usize);
    // C's association lives as long as its stream, in its event.
    assert_eq!(listener.stats().peers, 1);
    drop(events);
    assert_eq!(listener.stats().peers, 0);
    assert_eq!(listener.stats().listener.pending, 0);
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn the_mtu_bounds_every_datagram_both_ways() {
    const MTU: u32 = 300;
    let server_config = super::loopback_server().build().unwrap();
    let mut listener = DtlsListener::bind(&server_config, options().mtu(MTU)).unwrap();
    let relay = Relay::start(listener.local_addr(), Schedule::Clean);
    let url = format!("dtls://127.0.0.1:{}", relay.addr().port())
        .parse()
        .unwrap();
    let client = thread::spawn(move || {
        let deadline = Some(Instant::now() + Duration::from_secs(10));
        dtls::connect_with(&url, &config(), &options().mtu(MTU), deadline).map(|c| {
            assert_eq!(c.stream.protocol(), "DTLSv1.2");
        })
    });
    let event = listener
        .next_event(Some(Instant::now() + Duration::from_secs(10)))
        .unwrap()
        .expect("an event");
    assert!(matches!(event, ServerEvent::Established(_)), "{event}");
    client.join().unwrap().unwrap();
    let (up, down) = (relay.tally(Dir::Up), relay.tally(Dir::Down));
    assert!(up.longest <= MTU as usize, "{up:?}");
    assert!(down.longest <= MTU as usize, "{down:?}");
    // The server's flight (its certificate alone is ~480 bytes) needed fragments.
    assert!(down.seen > 3, "{down:?}");
}

/// A client's DTLS handshake from the local address `from` to `to`, within 10 s.
fn handshake_from(
    from: SocketAddr,
    to: SocketAddr,
) -> Result<dtls::DtlsStream, tlshake::HandshakeError> {
    let socket = std::net::UdpSocket::bind(from).unwrap();
    socket.connect(to).unwrap();
    let config = config();
    let ssl = config.new_dtls_ssl("127.0.0.1").unwrap();
    let transport = dtls::UdpTransport::new(socket).unwrap();
    let hs = dtls::handshake(ssl, transport, Role::Client, &options()).unwrap();
    hs.drive(Instant::now() + Duration::from_secs(10))
}

#[test]
fn a_new_client_on_an_associations_address_gets_a_handshake() {
    use std::io::Read;

    let server_config = super::loopback_server().build().unwrap();
    let mut listener = DtlsListener::bind(&server_config, options()).unwrap();
    let addr = listener.local_addr();
    // The first client, from a port the second one takes again.
    let from: SocketAddr = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let first = thread::spawn(move || handshake_from(from, addr).map(drop));
    let deadline = Instant::now() + Duration::from_secs(10);
    let Some(ServerEvent::Established(mut old)) = listener.next_event(Some(deadline)).unwrap()
    else {
        panic!("the first client's handshake");
    };
    first.join().unwrap().unwrap();
    assert_eq!(listener.stats().peers, 1);
    // The second: its ClientHello goes through the cookie exchange, not into the first
    // association, and replaces it once the cookie proved its address.
    let second = thread::spawn(move || handshake_from(from, addr).map(drop));
    let event = listener.next_event(Some(deadline)).unwrap();
    assert!(
        matches!(event, Some(ServerEvent::Established(_))),
        "{event:?}"
    );
    second.join().unwrap().unwrap();
    assert_eq!(listener.stats().hello_verify_requests, 2);
    // The replaced association hears nothing more: its reads fail at once.
    old.stream
        .get_ref()
        .set_blocking(Some(Duration::from_secs(5)));
    let started = Instant::now();
    let err = old.stream.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionAborted, "{err}");
    assert!(err.to_string().contains("replaced it"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
