//! The handshake through a lossy relay ([`relay`](super::relay)), case by case through the
//! blocking runner ([`dtls::connect_with`]) and the tokio runner
//! ([`tlshake::tokio::dtls_handshake`]), against one [`DtlsListener`] whose streams echo.
//!
//! # What is asserted
//! * Every survivable case completes, on both runners: one fault (drop once or twice,
//!   duplicate, delay past the timer, reorder, junk datagrams sent ahead of it: not DTLS, a
//!   truncated record, an oversized datagram, unknown epochs, a bad MAC, an empty datagram)
//!   on each of the first three datagrams of each direction, and seeded loss of 10 %, 30 % and 50 % of each direction's datagrams (never
//!   more than two in a row, so that a flight always gets through before OpenSSL's limit of
//!   12 retransmissions), and the clean case also carries data both ways.
//! * A case that cannot be survived (every datagram of a direction dropped from some index
//!   on: a server that vanished mid-handshake) ends at its deadline, not before it and not
//!   much after, with the typed timeout, the datagram-timeout hint, and exactly as many
//!   retransmissions as the relay saw extra datagrams from the client.
//! * The tokio runner's verdict is the blocking runner's on every case: done or not, the
//!   error kind, the hint, and whether data crossed.
//!
//! The completion times of the loss cases are printed per rate (`--nocapture`).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tlshake::client::{ClientConfig, ConnectError};
use tlshake::dtls::{self, DtlsListener, DtlsOptions, RetransmitPolicy};
use tlshake::server::ServerEvent;
use tlshake::{ErrorKind, HandshakeError, Hint};

use super::relay::{Action, Dir, Relay, Schedule, Tally};

const WORKERS: usize = 4;
/// A survivable case's deadline: far above what it needs.
const SURVIVABLE: Duration = Duration::from_secs(20);
/// An unsurvivable case's deadline.
const VANISHED: Duration = Duration::from_millis(2500);
/// A timed-out handshake ends at its deadline: not before it (less the clock's
/// granularity) ...
const EARLY_SLACK: Duration = Duration::from_millis(10);
/// ... and not much after it (a loaded machine's late wake-up).
const LATE_SLACK: Duration = Duration::from_millis(500);

fn policy() -> RetransmitPolicy {
    RetransmitPolicy::new(Duration::from_millis(50), Duration::from_millis(400))
}

fn options() -> DtlsOptions {
    DtlsOptions::new().retransmit(policy())
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    schedule: Schedule,
    /// For a black hole: the index from which a direction is cut.
    vanished: Option<(Dir, usize)>,
    /// The deadline is far enough for OpenSSL to give up first, after 12 retransmissions of
    /// one flight.
    gives_up: bool,
    check_data: bool,
}

fn cases() -> Vec<Case> {
    let mut cases = vec![Case {
        name: "clean".into(),
        schedule: Schedule::Clean,
        vanished: None,
        gives_up: false,
        check_data: true,
    }];
    let faults = [
        ("drop", Action::Drop, 1),
        ("drop twice", Action::Drop, 2),
        ("duplicate", Action::Duplicate, 1),
        ("delay 120 ms", Action::Delay(Duration::from_millis(120)), 1),
        ("reorder", Action::Reorder, 1),
        ("junk before", Action::Junk, 1),
    ];
    for dir in [Dir::Up, Dir::Down] {
        for index in 0..3 {
            for (what, action, times) in faults {
                cases.push(Case {
                    name: format!("{what} {dir:?} #{index}"),
                    schedule: Schedule::At {
                        dir,
                        index,
                        times,
                        action,
                    },
                    vanished: None,
                    gives_up: false,
                    check_data: false,
                });
            }
        }
    }
    // At 50 %, never two drops in a row: OpenSSL resends a flight as one datagram per
    // message, and two-in-a-row can keep losing the same one until its limit of 12.
    for (percent, max_run) in [(10, 2), (30, 2), (50, 1)] {
        for seed in 1..=4 {
            cases.push(Case {
                name: format!("loss {percent}% seed {seed}"),
                schedule: Schedule::Loss {
                    percent,
                    seed,
                    max_run,
                },
                vanished: None,
                gives_up: false,
                check_data: false,
            });
        }
    }
    for (dir, index) in [(Dir::Up, 1), (Dir::Up, 2), (Dir::Down, 1), (Dir::Down, 2)] {
        cases.push(Case {
            name: format!("black hole {dir:?} from #{index}"),
            schedule: Schedule::BlackHole { dir, index },
            vanished: Some((dir, index)),
            gives_up: false,
            check_data: false,
        });
    }
    cases.push(Case {
        name: "black hole Up from #1, OpenSSL gives up".into(),
        schedule: Schedule::BlackHole {
            dir: Dir::Up,
            index: 1,
        },
        vanished: Some((Dir::Up, 1)),
        gives_up: true,
        check_data: false,
    });
    cases
}

/// One run of a case.
#[derive(Debug)]
struct Ran {
    result: Result<(), HandshakeError>,
    took: Duration,
    allowed: Duration,
    retransmissions: Option<u32>,
    data_ok: Option<bool>,
    up: Tally,
    down: Tally,
}

/// What the runners must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    done: bool,
    kind: Option<ErrorKind>,
    timeout: bool,
    hint: Option<&'static str>,
    reasons: Vec<String>,
    data_ok: Option<bool>,
}

impl Verdict {
    fn of(ran: &Ran) -> Verdict {
        let e = ran.result.as_ref().err();
        Verdict {
            done: e.is_none(),
            kind: e.map(HandshakeError::kind),
            timeout: e.is_some_and(HandshakeError::is_timeout),
            hint: e.and_then(|e| match e.hint() {
                Some(Hint::DatagramTimeout { .. }) => Some("DatagramTimeout"),
                Some(Hint::PortUnreachable) => Some("PortUnreachable"),
                Some(_) => Some("other"),
                None => None,
            }),
            reasons: e.map_or_else(Vec::new, |e| {
                e.reasons().into_iter().map(str::to_string).collect()
            }),
            data_ok: ran.data_ok,
        }
    }
}

/// The listener every case talks to, echoing each established stream on a thread.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let config = super::loopback_server()
            .handshake_timeout(SURVIVABLE + Duration::from_secs(5))
            .build()
            .unwrap();
        let mut listener = DtlsListener::bind(&config, options()).unwrap();
        let addr = listener.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut echoes = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                let tick = Instant::now() + Duration::from_millis(100);
                match listener.next_event(Some(tick)) {
                    Ok(Some(ServerEvent::Established(mut a))) => {
                        echoes.push(thread::spawn(move || {
                            // Reading is what answers a client's retransmitted last flight.
                            a.stream
                                .get_ref()
                                .set_blocking(Some(Duration::from_secs(3)));
                            let mut buf = [0u8; 512];
                            while let Ok(n @ 1..) = a.stream.read(&mut buf) {
                                if a.stream.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }));
                    }
                    Ok(_) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            drop(listener);
            for e in echoes {
                let _ = e.join();
            }
        });
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config() -> ClientConfig {
    ClientConfig::builder()
        .ca_file(crate::common::cert("ca.pem"))
        .build()
        .unwrap()
}

fn allowed(case: &Case) -> Duration {
    if case.vanished.is_some() && !case.gives_up {
        VANISHED
    } else {
        SURVIVABLE
    }
}

fn run_blocking(server: SocketAddr, case: &Case, config: &ClientConfig) -> Ran {
    let relay = Relay::start(server, case.schedule.clone());
    let url = format!("dtls://127.0.0.1:{}", relay.addr().port())
        .parse()
        .unwrap();
    let allowed = allowed(case);
    let start = Instant::now();
    let result = dtls::connect_with(&url, config, &options(), Some(start + allowed));
    let took = start.elapsed();
    let mut data_ok = None;
    let (result, retransmissions) = match result {
        Ok(mut conn) => {
            if case.check_data {
                let s = &mut conn.stream;
                s.get_ref()
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut buf = [0u8; 64];
                let ok = s.write_all(b"ping").is_ok()
                    && matches!(s.read(&mut buf), Ok(4))
                    && &buf[..4] == b"ping";
                data_ok = Some(ok);
            }
            let _ = conn.stream.shutdown();
            (Ok(()), Some(conn.stream.stats().retransmissions))
        }
        Err(ConnectError::Handshake { source, .. }) => {
            let n = source.retransmissions();
            (Err(source), n)
        }
        Err(other) => panic!("{}: {other}", case.name),
    };
    Ran {
        result,
        took,
        allowed,
        retransmissions,
        data_ok,
        up: relay.tally(Dir::Up),
        down: relay.tally(Dir::Down),
    }
}

/// Judges one run by the rules of the module's docs.
fn judge(case: &Case, ran: &Ran) {
    let what = format!("{}: {ran:?}", case.name);
    match case.vanished {
        None => {
            assert!(ran.result.is_ok(), "{what}");
            if case.check_data {
                assert_eq!(ran.data_ok, Some(true), "{what}");
            }
        }
        Some((_, index)) => {
            let e = ran.result.as_ref().expect_err(&what);
            assert!(e.is_timeout(), "{what}");
            let n = e.retransmissions().expect(&what) as usize;
            if case.gives_up {
                // OpenSSL's own end, well before the deadline: 12 retransmissions of one
                // flight, then "read timeout expired".
                assert!(ran.took < ran.allowed, "{what}");
                assert_eq!(n, 12, "{what}");
                assert_eq!(e.reasons(), ["read timeout expired"], "{what}");
            } else {
                assert!(ran.took + EARLY_SLACK >= ran.allowed, "{what}");
                assert!(ran.took <= ran.allowed + LATE_SLACK, "{what}");
                assert!(n >= 1, "{what}");
            }
            // The client's datagrams: the clean ones before the cut, the first after it,
            // and each retransmission. OpenSSL packs a flight into one datagram when it
            // first sends it, and sends each of its messages in a datagram of its own when
            // it sends it again (dtls1_retransmit_message): the second ClientHello is one
            // message, the client's last flight three (ClientKeyExchange,
            // ChangeCipherSpec, Finished).
            let messages = if index == 1 { 1 } else { 3 };
            assert_eq!(ran.up.seen, index + 1 + messages * n, "{what}");
            assert!(
                matches!(
                    e.hint(),
                    Some(Hint::DatagramTimeout {
                        role: tlshake::Role::Client,
                        bytes_received: 1..,
                        ..
                    })
                ),
                "{what}"
            );
        }
    }
}

#[cfg(feature = "tokio")]
fn run_tokio(
    rt: &tokio::runtime::Runtime,
    server: SocketAddr,
    case: &Case,
    config: &ClientConfig,
) -> Ran {
    use tlshake::tokio::{dtls_handshake, TokioUdp};

    let relay = Relay::start(server, case.schedule.clone());
    let allowed = allowed(case);
    let ssl = config.new_dtls_ssl("127.0.0.1").unwrap();
    let (result, retransmissions, took, data_ok) = rt.block_on(async {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(relay.addr()).await.unwrap();
        let hs = dtls::handshake(
            ssl,
            TokioUdp::new(socket),
            tlshake::Role::Client,
            &options(),
        )
        .unwrap();
        let start = Instant::now();
        let result = dtls_handshake(hs, start + allowed).await;
        let took = start.elapsed();
        match result {
            Ok(mut stream) => {
                let mut data_ok = None;
                if case.check_data {
                    let mut buf = [0u8; 64];
                    let echoed = async {
                        stream.send(b"ping").await.is_ok()
                            && matches!(stream.recv(&mut buf).await, Ok(4))
                    };
                    let ok = tokio::time::timeout(Duration::from_secs(5), echoed)
                        .await
                        .unwrap_or(false);
                    data_ok = Some(ok && &buf[..4] == b"ping");
                }
                let _ = stream.shutdown();
                let n = stream.get_ref().stats().retransmissions;
                (Ok(()), Some(n), took, data_ok)
            }
            Err(e) => {
                let n = e.retransmissions();
                (Err(e), n, took, None)
            }
        }
    });
    Ran {
        result,
        took,
        allowed,
        retransmissions,
        data_ok,
        up: relay.tally(Dir::Up),
        down: relay.tally(Dir::Down),
    }
}

/// The completion times of the loss cases, by rate, for the report.
type Times = Mutex<Vec<(u32, &'static str, Duration, u32, usize, usize)>>;

/// Runs every case through the blocking runner (and, with the `tokio` feature, the tokio
/// runner), judges each run, compares the runners' verdicts, and prints the loss cases'
/// completion times.
#[test]
fn lossy_relay_sweep() {
    let server = Server::start();
    // TLSHAKE_SWEEP_CASE=TEXT runs only the cases whose name contains TEXT.
    let only = std::env::var("TLSHAKE_SWEEP_CASE").ok();
    let all: Vec<Case> = cases()
        .into_iter()
        .filter(|c| only.as_deref().is_none_or(|o| c.name.contains(o)))
        .collect();
    let count = all.len();
    let queue = Arc::new(Mutex::new(all));
    let times: Arc<Times> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let times = Arc::clone(&times);
            let failures = Arc::clone(&failures);
            let addr = server.addr;
            thread::spawn(move || {
                let config = config();
                #[cfg(feature = "tokio")]
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                loop {
                    let Some(case) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        #[cfg_attr(not(feature = "tokio"), allow(unused_mut))]
                        let mut runs = vec![("blocking", run_blocking(addr, &case, &config))];
                        #[cfg(feature = "tokio")]
                        runs.push(("tokio", run_tokio(&rt, addr, &case, &config)));
                        for (runner, ran) in &runs {
                            let runner_case = Case {
                                name: format!("{} ({runner})", case.name),
                                ..case.clone()
                            };
                            judge(&runner_case, ran);
                            if let Schedule::Loss { percent, .. } = case.schedule {
                                let dropped = ran.up.dropped + ran.down.dropped;
                                let seen = ran.up.seen + ran.down.seen;
                                times.lock().unwrap().push((
                                    percent,
                                    runner,
                                    ran.took,
                                    ran.retransmissions.unwrap_or(0),
                                    dropped,
                                    seen,
                                ));
                            }
                        }
                        let first = Verdict::of(&runs[0].1);
                        for (runner, ran) in &runs[1..] {
                            assert_eq!(Verdict::of(ran), first, "{}: {runner}", case.name);
                        }
                    }));
                    if let Err(panic) = outcome {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {message}", case.name));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let mut times = times.lock().unwrap().clone();
    times.sort();
    for percent in [10, 30, 50] {
        for runner in ["blocking", "tokio"] {
            let rows: Vec<_> = times
                .iter()
                .filter(|t| t.0 == percent && t.1 == runner)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let ms: Vec<String> = rows
                .iter()
                .map(|t| {
                    format!(
                        "{:.0} ms ({} resent, {}/{} dropped)",
                        t.2.as_secs_f64() * 1e3,
                        t.3,
                        t.4,
                        t.5
                    )
                })
                .collect();
            eprintln!("loss {percent}% {runner}: {}", ms.join(", "));
        }
    }
    eprintln!("{count} cases passed");
}
