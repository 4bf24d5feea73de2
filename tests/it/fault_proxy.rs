//! Faults on the wire: a proxy between tlshake and `openssl` cuts, corrupts, stalls or
//! trickles the handshake at every record boundary (and a sample of offsets inside records)
//! of a TLS 1.3 and a TLS 1.2 handshake, in both directions, with tlshake as the client
//! (against `openssl s_server`) and as the server (against `openssl s_client`).
//!
//! # What is asserted, and why
//!
//! A pass-through run first records, per scenario, the two byte streams and two thresholds
//! measured on tlshake's own end:
//! * `in_need`: the bytes tlshake had received when its handshake completed (everything it
//!   must read; the peer sends nothing more until tlshake's next flight arrives, so read-ahead
//!   cannot over-read);
//! * `out_need`: the bytes tlshake had sent when the peer's last needed flight reached the
//!   proxy: what the peer must receive to send the last flight tlshake needs (client TLS 1.3:
//!   the ClientHello, since OpenSSL writes its second flight only after the server's
//!   Finished; client TLS 1.2: all it sends; server: its first flight).
//!
//! Then, for an offset `k` of the direction tlshake reads (`in`) or writes (`out`):
//! * **cut** after byte k (FIN both ways): if `k < in_need` (in) or `k <= out_need` (out; at
//!   `out_need` the cut comes before the peer's answer), `Failed` with
//!   [`ErrorKind::UnexpectedEof`] (or an `Io` reset) and the [`Hint::PeerClosed`] hint;
//!   otherwise `Done`.
//! * **stall** after byte k: if `k < in_need` (in) or `k < out_need` (out), a timeout at the
//!   deadline, within 50 ms; otherwise `Done`.
//! * **flip** one bit of byte k: where the byte comes after what the handshake needs
//!   (`k >= in_need` / `k >= out_need`), `Done`. Elsewhere any of: `Failed` with an OpenSSL
//!   reason in the queue (bad record mac, decode error, bad signature, an alert from the
//!   peer, ...); `Failed` with the peer-closed hint (the peer gave up without an alert); a
//!   timeout *only* when the flipped byte is a length field (record header bytes 3-4, or the
//!   4-byte header of a plaintext handshake message), since a longer length makes a reader
//!   wait for bytes that never come; or `Done`, but then application data must cross in both
//!   directions through the same proxy, which proves both ends derived the same keys: a
//!   flip in a field OpenSSL ignores (the record version) may succeed, a wrong `Done` may not.
//! * **trickle** (one byte per write, 200 µs apart, both directions): `Done`.
//!
//! No case may hang (every one has a deadline), panic, or leave a descriptor open (the count
//! of /proc/self/fd is the same before and after the sweep).
//!
//! With the `tokio` feature, `tokio_client_*` and `tokio_server_*` put every case through the
//! blocking runner and then through the tokio runner (`tlshake::tokio::handshake`,
//! `AsyncHandshake::server`, on a `current_thread` runtime): both runs are judged by the rules
//! above, and the tokio run's verdict must be the blocking run's of the same case: `Done` or
//! not, [`ErrorKind`], `SSL_get_error` code, the error queue's libraries and reasons, the verify
//! result, timeout or not and the want it waited for, the peer-closed hint, and whether data
//! crossed.

use crate::common;
mod proxy;
#[cfg(feature = "tokio")]
mod tokio_run;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext};
use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};
use tlshake::{
    ErrorKind, Handshake, HandshakeError, HandshakeOutcome, Hint, ProtocolVersion, TlsStream,
};

use proxy::{Chunk, Dir, Fault, Proxy, Record};

const WORKERS: usize = 4;
/// An RSA certificate: its signatures have one length, so every run of a scenario has the
/// same record boundaries as the recording (ECDSA signatures vary by a byte or two).
const CERT: &str = "server-rsa.pem";
const KEY: &str = "server-rsa.key";
const STALL_DEADLINE: Duration = Duration::from_millis(300);
const FAULT_DEADLINE: Duration = Duration::from_millis(1500);
/// A stalled handshake ends at its deadline: not before it (less this much, the clock's
/// granularity between the two measurements) ...
const EARLY_SLACK: Duration = Duration::from_millis(10);
/// ... and not much after it. On a loaded 2-core machine the wake-up after a deadline has
/// been seen 64 ms late; a runner that ignored the deadline would be late by the 1.5 s of
/// the next bound, or forever.
const LATE_SLACK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ours {
    Client,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Scenario {
    ours: Ours,
    version: ProtocolVersion,
}

impl Scenario {
    /// The direction tlshake reads.
    fn incoming(self) -> Dir {
        match self.ours {
            Ours::Client => Dir::Down,
            Ours::Server => Dir::Up,
        }
    }
}

/// What a pass-through run recorded.
#[derive(Debug, Clone)]
struct Recording {
    streams: [Vec<u8>; 2],
    records: [Vec<Record>; 2],
    in_need: usize,
    out_need: usize,
}

/// The per-worker peers and contexts.
struct Bench {
    client_ctx: SslContext,
    server_ctx: SslContext,
    servers: BTreeMap<ProtocolVersion, OpensslServer>,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            client_ctx: common::client_ctx("ca.pem").build(),
            server_ctx: common::server_ctx(CERT, KEY).build(),
            servers: BTreeMap::new(),
        }
    }

    fn s_server(&mut self, version: ProtocolVersion) -> SocketAddr {
        self.servers
            .entry(version)
            .or_insert_with(|| {
                OpensslServer::builder()
                    .cert(common::cert(CERT))
                    .key(common::cert(KEY))
                    .version(version)
                    .mode(ServerMode::Rev)
                    .spawn()
                    .expect("s_server")
            })
            .addr()
    }
}

/// How one case ended.
#[derive(Debug)]
struct Ran {
    result: Result<(), HandshakeError>,
    /// From the start of the handshake to its end.
    took: Duration,
    /// The deadline the handshake had, from its start.
    allowed: Duration,
    /// When done and asked for: whether application data crossed both ways.
    data_ok: Option<bool>,
    /// Bytes tlshake had received at the end.
    received: u64,
}

/// The runners a sweep puts every case through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runners {
    /// The blocking runner (`Handshake::step` and `wait_for`), judged by the rules.
    Blocking,
    /// Each case through the blocking runner and then through the tokio runner: both judged
    /// by the rules, and the tokio runner's verdict must be the blocking runner's.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    BlockingAndTokio,
}

/// What a runner's verdict on a case consists of, compared between runners.
#[cfg(feature = "tokio")]
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    done: bool,
    kind: Option<ErrorKind>,
    ssl_error: Option<tlshake::SslErrorCode>,
    reasons: Vec<String>,
    verify: Option<tlshake::VerifyResult>,
    timeout: bool,
    waiting_for: Option<tlshake::Want>,
    peer_closed_hint: bool,
    /// After a `Done`, when asked for: whether application data crossed both ways.
    data_ok: Option<bool>,
}

#[cfg(feature = "tokio")]
impl Verdict {
    fn of(ran: &Ran) -> Verdict {
        let e = ran.result.as_ref().err();
        Verdict {
            done: e.is_none(),
            kind: e.map(HandshakeError::kind),
            ssl_error: e.map(HandshakeError::ssl_error),
            reasons: e.map_or_else(Vec::new, |e| e.queue().iter().map(reason).collect()),
            verify: e.and_then(|e| e.verify().cloned()),
            timeout: e.is_some_and(HandshakeError::is_timeout),
            waiting_for: e.and_then(HandshakeError::waiting_for),
            peer_closed_hint: e.is_some_and(|e| matches!(e.hint(), Some(Hint::PeerClosed { .. }))),
            data_ok: ran.data_ok,
        }
    }
}

/// One queue entry as a verdict compares it: the library and the reason. An RSA padding
/// check's reason is left out: a flip in a TLS 1.2 ServerKeyExchange signature makes the
/// signature open to bytes that differ with every handshake's randoms, so which check
/// fails first ("first octet invalid", "last octet invalid", ...) is chance, not the runner.
#[cfg(feature = "tokio")]
fn reason(e: &tlshake::OpensslError) -> String {
    let library = e.library.as_deref().unwrap_or("?");
    if library == "rsa routines" {
        format!("{library}: (an RSA padding check)")
    } else {
        format!("{library}: {}", e.reason_or_text())
    }
}

/// Steps the handshake by hand (so the counters can be read between steps) with `allowed`.
fn drive_counting<S>(mut hs: Handshake<S>, allowed: Duration) -> (Ran, Option<TlsStream<S>>)
where
    S: Read + Write + std::os::fd::AsFd,
{
    let start = Instant::now();
    let deadline = start + allowed;
    let result = loop {
        match hs.step() {
            HandshakeOutcome::Done => break Ok(()),
            HandshakeOutcome::Want(w) => {
                let t = hs.transport();
                let interest = match w {
                    tlshake::Want::Write => tlshake::internals::wait::Interest::Writable,
                    _ => tlshake::internals::wait::Interest::Readable,
                };
                let ready =
                    tlshake::internals::wait::wait_for(t.get_ref(), interest, Some(deadline));
                if !matches!(ready, Ok(tlshake::internals::wait::Readiness::Ready)) {
                    // Let drive() produce the timeout error: it finds the deadline passed.
                    let e = match hs.drive(deadline) {
                        Err(e) => e,
                        Ok(_) => panic!("drive succeeded after its deadline"),
                    };
                    let ran = Ran {
                        took: start.elapsed(),
                        allowed,
                        data_ok: None,
                        received: e.bytes_received(),
                        result: Err(e),
                    };
                    return (ran, None);
                }
            }
            HandshakeOutcome::Failed(e) | HandshakeOutcome::Shutdown(e) => break Err(e),
        }
    };
    let took = start.elapsed();
    match result {
        Ok(()) => {
            let t = hs.transport();
            let received = t.bytes_received();
            let ran = Ran {
                result: Ok(()),
                took,
                allowed,
                data_ok: None,
                received,
            };
            (ran, Some(hs.into_stream()))
        }
        Err(e) => {
            let received = e.bytes_received();
            let ran = Ran {
                result: Err(e),
                took,
                allowed,
                data_ok: None,
                received,
            };
            (ran, None)
        }
    }
}

/// Reads from a blocking stream with a timeout until `want` appears.
fn read_until<S: Read + Write>(stream: &mut TlsStream<S>, want: &[u8]) -> bool {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let limit = Instant::now() + Duration::from_secs(3);
    while Instant::now() < limit {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.windows(want.len()).any(|w| w == want) {
            return true;
        }
    }
    false
}

fn blocking(stream: &TlsStream<TcpStream>) {
    let s = stream.get_ref();
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
}

/// Runs one case; `check_data` asks for application data both ways after a `Done`.
fn run_case(
    bench: &mut Bench,
    scn: Scenario,
    dir: Dir,
    fault: Fault,
    allowed: Duration,
    check_data: bool,
) -> (Ran, Vec<proxy::Chunk>) {
    match scn.ours {
        Ours::Client => {
            let upstream = bench.s_server(scn.version);
            let proxy = Proxy::start(upstream, dir, fault);
            let ssl = common::client_ssl(&bench.client_ctx, "localhost");
            let hs = Handshake::client(ssl, common::tcp(proxy.addr())).unwrap();
            let (mut ran, stream) = drive_counting(hs, allowed);
            if let Some(mut stream) = stream {
                if check_data {
                    blocking(&stream);
                    // s_server -rev answers every line reversed.
                    let ok =
                        stream.write_all(b"ping\n").is_ok() && read_until(&mut stream, b"gnip");
                    ran.data_ok = Some(ok);
                } else {
                    // Let the peer's last flight (tickets) reach the proxy's record.
                    thread::sleep(Duration::from_millis(100));
                }
            }
            (ran, proxy.finish())
        }
        Ours::Server => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let proxy = Proxy::start(listener.local_addr().unwrap(), dir, fault);
            let mut builder = OpensslClient::builder(proxy.addr())
                .servername("localhost")
                .ca_file(common::cert("ca.pem"))
                .verify_return_error()
                .version(scn.version)
                .keep_stdin_open();
            if check_data {
                builder = builder.send(b"ping\n".to_vec());
            }
            let client = builder.spawn().expect("s_client");
            let tcp = accept_within(&listener, Duration::from_secs(10));
            let ssl = Ssl::new(&bench.server_ctx).unwrap();
            let hs = Handshake::server(ssl, tcp).unwrap();
            let (mut ran, stream) = drive_counting(hs, allowed);
            if let Some(mut stream) = stream {
                if check_data {
                    blocking(&stream);
                    let ok = read_until(&mut stream, b"ping\n")
                        && stream.write_all(b"pong\n").is_ok()
                        && client.wait_for_output("pong", Duration::from_secs(3));
                    ran.data_ok = Some(ok);
                } else {
                    thread::sleep(Duration::from_millis(100));
                }
            }
            drop(client);
            (ran, proxy.finish())
        }
    }
}

fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    let until = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(true).unwrap();
                return s;
            }
            Err(_) if Instant::now() < until => {
                let _ = tlshake::internals::wait::wait_for(
                    listener,
                    tlshake::internals::wait::Interest::Readable,
                    Some(until),
                );
            }
            Err(e) => panic!("the proxy never connected within {limit:?}: {e}"),
        }
    }
}

/// The pass-through run: streams, records, thresholds.
fn record(bench: &mut Bench, scn: Scenario) -> Recording {
    let (ran, chunks) = run_case(
        bench,
        scn,
        Dir::Up,
        Fault::None,
        Duration::from_secs(10),
        false,
    );
    if let Err(e) = &ran.result {
        panic!("{scn:?}: the pass-through handshake failed: {e}");
    }
    let in_need = usize::try_from(ran.received).unwrap();
    let out_need = bytes_sent_before_last_needed(&chunks, scn.ours, in_need);
    let mut streams = [Vec::new(), Vec::new()];
    for c in &chunks {
        streams[c.dir.index()].extend_from_slice(&c.bytes);
    }
    let records = [proxy::records(&streams[0]), proxy::records(&streams[1])];
    assert!(
        out_need > 0,
        "{scn:?}: tlshake sent nothing before the peer's last flight"
    );
    Recording {
        in_need,
        out_need,
        streams,
        records,
    }
}

/// `out_need`, read off the proxy's log (chunks in the order the proxy read them, each logged
/// before it is forwarded): the bytes tlshake had sent before the peer's chunk that holds the
/// last byte tlshake needed (byte `in_need - 1` of what it reads). The peer sent that flight
/// in answer to those bytes. Reading it off tlshake's last wait instead would depend on the
/// scheduler: a peer that answers before tlshake's handshake call reads again leaves no wait.
fn bytes_sent_before_last_needed(chunks: &[Chunk], ours: Ours, in_need: usize) -> usize {
    let incoming = match ours {
        Ours::Client => Dir::Down,
        Ours::Server => Dir::Up,
    };
    let (mut received, mut sent) = (0, 0);
    for c in chunks {
        if c.dir == incoming {
            received += c.bytes.len();
            if received >= in_need {
                return sent;
            }
        } else {
            sent += c.bytes.len();
        }
    }
    sent
}

#[derive(Debug, Clone, Copy)]
struct Case {
    scn: Scenario,
    dir: Dir,
    fault: Fault,
}

/// True when byte `k` of the stream is a length field: record header bytes 3-4, or the
/// 4-byte header of a plaintext handshake message at the start of a handshake record.
fn is_length_field(rec: &Recording, dir: Dir, k: usize, version: ProtocolVersion) -> bool {
    let mut ccs_seen = false;
    for r in &rec.records[dir.index()] {
        if r.content_type == 20 {
            ccs_seen = true;
        }
        if !(r.start..r.end()).contains(&k) {
            continue;
        }
        let at = k - r.start;
        if at == 3 || at == 4 {
            return true;
        }
        let plaintext = r.content_type == 22 && !(version == ProtocolVersion::Tls1_2 && ccs_seen);
        return plaintext && (5..9).contains(&at);
    }
    false
}

/// Checks one case against the rules in the file's documentation; `Err` says what was wrong.
fn judge(case: &Case, rec: &Recording, ran: &Ran) -> Result<&'static str, String> {
    let incoming = case.dir == case.scn.incoming();
    let (need, k) = match case.fault {
        Fault::Cut(k) | Fault::Stall(k) | Fault::Flip(k) => {
            (if incoming { rec.in_need } else { rec.out_need }, k)
        }
        _ => (0, 0),
    };
    let done = ran.result.is_ok();
    let fail = |why: &str| Err(format!("{why}: {:?}", ran.result));
    match case.fault {
        Fault::None | Fault::Trickle(_) => {
            if done {
                Ok("done")
            } else {
                fail("expected done")
            }
        }
        Fault::Cut(_) => {
            let breaks = if incoming { k < need } else { k <= need };
            match (&ran.result, breaks) {
                (Ok(()), false) => Ok("done"),
                (Err(e), true) if peer_closed(e) => Ok("peer closed"),
                (_, true) => fail(&format!("expected a peer-closed failure (need {need})")),
                (_, false) => fail(&format!("expected done (need {need})")),
            }
        }
        Fault::Stall(_) => {
            let breaks = k < need;
            match (&ran.result, breaks) {
                (Ok(()), false) => Ok("done"),
                (Err(e), true) if e.is_timeout() => {
                    let on_time = ran.took + EARLY_SLACK >= ran.allowed
                        && ran.took <= ran.allowed + LATE_SLACK;
                    if on_time {
                        Ok("timeout")
                    } else {
                        Err(format!(
                            "timed out after {:?}, deadline {:?}",
                            ran.took, ran.allowed
                        ))
                    }
                }
                (_, true) => fail(&format!("expected a timeout (need {need})")),
                (_, false) => fail(&format!("expected done (need {need})")),
            }
        }
        Fault::Flip(_) => {
            if k >= need {
                return if done {
                    Ok("done (after the handshake)")
                } else {
                    fail(&format!(
                        "expected done: byte after the handshake (need {need})"
                    ))
                };
            }
            match &ran.result {
                Ok(()) if ran.data_ok == Some(true) => Ok("done, data crossed"),
                Ok(()) => fail("a wrong Done: application data did not cross"),
                Err(e) if e.kind() == ErrorKind::Protocol && !e.queue().is_empty() => {
                    Ok("openssl reason")
                }
                Err(e) if e.kind() == ErrorKind::CertificateVerification => Ok("verify failed"),
                Err(e) if peer_closed(e) => Ok("peer closed"),
                Err(e) if e.is_timeout() && is_length_field(rec, case.dir, k, case.scn.version) => {
                    Ok("timeout (length grew)")
                }
                Err(_) => fail("unexpected failure for a flipped byte"),
            }
        }
    }
}

fn peer_closed(e: &HandshakeError) -> bool {
    let kind_ok = match e.kind() {
        ErrorKind::UnexpectedEof => true,
        ErrorKind::Io => matches!(
            e.io_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe)
        ),
        _ => false,
    };
    kind_ok && matches!(e.hint(), Some(Hint::PeerClosed { .. }))
}

/// The cases of one scenario.
fn cases_of(scn: Scenario, rec: &Recording) -> Vec<Case> {
    let mut cases = Vec::new();
    for dir in [Dir::Up, Dir::Down] {
        let records = &rec.records[dir.index()];
        for k in proxy::sweep_offsets(records) {
            cases.push(Case {
                scn,
                dir,
                fault: Fault::Cut(k),
            });
            if k < rec.streams[dir.index()].len() {
                cases.push(Case {
                    scn,
                    dir,
                    fault: Fault::Flip(k),
                });
            }
        }
        for k in proxy::boundaries(records) {
            cases.push(Case {
                scn,
                dir,
                fault: Fault::Stall(k),
            });
        }
    }
    cases
}

/// Records every scenario, runs all cases on `WORKERS` threads, and returns the failures and
/// a tally of outcomes.
fn sweep(scenarios: &[Scenario], runners: Runners) -> (Vec<String>, BTreeMap<String, usize>) {
    let mut bench = Bench::new();
    let mut queue = Vec::new();
    let mut recordings = BTreeMap::new();
    for &scn in scenarios {
        let rec = record(&mut bench, scn);
        eprintln!(
            "{scn:?}: up {} bytes / {} records, down {} bytes / {} records, in_need {}, out_need {}",
            rec.streams[0].len(),
            rec.records[0].len(),
            rec.streams[1].len(),
            rec.records[1].len(),
            rec.in_need,
            rec.out_need
        );
        queue.extend(cases_of(scn, &rec));
        recordings.insert(scn, rec);
    }
    drop(bench);
    #[cfg(not(feature = "tokio"))]
    let _ = runners;
    let total = queue.len();
    let queue = Arc::new(Mutex::new(queue));
    let recordings = Arc::new(recordings);
    let failures = Arc::new(Mutex::new(Vec::new()));
    let tally = Arc::new(Mutex::new(BTreeMap::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, recordings) = (queue.clone(), recordings.clone());
            let (failures, tally) = (failures.clone(), tally.clone());
            thread::spawn(move || {
                let mut bench = Bench::new();
                #[cfg(feature = "tokio")]
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                loop {
                    let Some(case) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let allowed = match case.fault {
                        Fault::Stall(_) => STALL_DEADLINE,
                        _ => FAULT_DEADLINE,
                    };
                    let check = matches!(case.fault, Fault::Flip(_));
                    let (ran, _chunks) =
                        run_case(&mut bench, case.scn, case.dir, case.fault, allowed, check);
                    let rec = &recordings[&case.scn];
                    let verdict = judge(&case, rec, &ran).map(|label| (label, ""));
                    #[cfg(feature = "tokio")]
                    let verdict = match runners {
                        Runners::Blocking => verdict,
                        Runners::BlockingAndTokio => verdict.and_then(|(label, _)| {
                            let (ran_async, chunks_async) =
                                tokio_run::run_case(&rt, &mut bench, case, allowed, check);
                            tokio_run::agrees(
                                &case,
                                rec,
                                (&ran, &_chunks),
                                (&ran_async, &chunks_async),
                            )
                            .map(|note| (label, note))
                        }),
                    };
                    match verdict {
                        Ok((label, note)) => {
                            let key = format!("{:?} {label}{note}", fault_name(case.fault));
                            *tally.lock().unwrap().entry(key).or_insert(0) += 1;
                        }
                        Err(why) => failures.lock().unwrap().push(format!("{case:?}: {why}")),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a sweep worker panicked");
    }
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    eprintln!("{total} cases: {tally:#?}");
    (failures, tally)
}

fn fault_name(f: Fault) -> &'static str {
    match f {
        Fault::None => "none",
        Fault::Cut(_) => "cut",
        Fault::Flip(_) => "flip",
        Fault::Stall(_) => "stall",
        Fault::Trickle(_) => "trickle",
    }
}

/// Waits (at most 2 s) for the descriptor count to come back to `baseline`; returns the last
/// count. Reader threads of killed peers close their pipes a moment after the kill.
fn settle_fds(baseline: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let now = common::open_fds();
        if now <= baseline || Instant::now() > until {
            return now;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn run_sweep(scenarios: &[Scenario], runners: Runners) {
    let _serial = common::serial();
    let fds = common::open_fds();
    let started = Instant::now();
    let (failures, tally) = sweep(scenarios, runners);
    eprintln!("sweep took {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} cases ended wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for fault in ["cut", "flip", "stall"] {
        assert!(
            tally.keys().any(|k| k.starts_with(&format!("\"{fault}\""))),
            "no {fault} case ran: {tally:?}"
        );
    }
    // Every kind of fault broke some handshakes and left others alone.
    assert!(tally.keys().any(|k| k.contains("peer closed")), "{tally:?}");
    assert!(tally.keys().any(|k| k.contains("timeout")), "{tally:?}");
    assert_eq!(settle_fds(fds), fds, "descriptors leaked by the sweep");
}

/// Two runs whose first record differs by one byte (a 71- and a 72-byte signature): the same
/// offset falls on the next record's version byte in one and on its content type in the
/// other, so the two runs did not suffer the same fault.
#[test]
fn a_flip_lands_by_record_and_offset() {
    let run = |first_len: u16| {
        let mut bytes = vec![22, 3, 3];
        bytes.extend(first_len.to_be_bytes());
        bytes.extend(vec![0; usize::from(first_len)]);
        bytes.extend([20, 3, 3, 0, 1, 1]);
        vec![
            Chunk {
                dir: Dir::Up,
                bytes: b"other direction".to_vec(),
            },
            Chunk {
                dir: Dir::Down,
                bytes,
            },
        ]
    };
    let (short, long) = (run(71), run(72));
    assert_eq!(proxy::landing(&short, Dir::Down, 0), Some((0, 0)));
    assert_eq!(proxy::landing(&short, Dir::Down, 77), Some((1, 1)));
    assert_eq!(proxy::landing(&long, Dir::Down, 76), Some((0, 76)));
    assert_eq!(proxy::landing(&long, Dir::Down, 77), Some((1, 0)));
    assert_eq!(proxy::landing(&long, Dir::Down, 82), Some((1, 5)));
    assert_eq!(proxy::landing(&long, Dir::Down, 83), None);
    assert_eq!(proxy::landing(&long, Dir::Up, 3), Some((0, 3)));
}

#[test]
fn client_against_s_server_tls13_and_tls12() {
    isolated!(client_against_s_server_tls13_and_tls12);
    run_sweep(
        &[
            Scenario {
                ours: Ours::Client,
                version: ProtocolVersion::Tls1_3,
            },
            Scenario {
                ours: Ours::Client,
                version: ProtocolVersion::Tls1_2,
            },
        ],
        Runners::Blocking,
    );
}

#[test]
fn server_against_s_client_tls13_and_tls12() {
    isolated!(server_against_s_client_tls13_and_tls12);
    run_sweep(
        &[
            Scenario {
                ours: Ours::Server,
                version: ProtocolVersion::Tls1_3,
            },
            Scenario {
                ours: Ours::Server,
                version: ProtocolVersion::Tls1_2,
            },
        ],
        Runners::Blocking,
    );
}

#[test]
fn trickled_handshakes_complete() {
    isolated!(trickled_handshakes_complete);
    let _serial = common::serial();
    let fds = common::open_fds();
    {
        let mut bench = Bench::new();
        for ours in [Ours::Client, Ours::Server] {
            for version in [ProtocolVersion::Tls1_3, ProtocolVersion::Tls1_2] {
                let scn = Scenario { ours, version };
                let fault = Fault::Trickle(Duration::from_micros(200));
                let (ran, _) = run_case(
                    &mut bench,
                    scn,
                    Dir::Up,
                    fault,
                    Duration::from_secs(15),
                    true,
                );
                assert!(ran.result.is_ok(), "{scn:?}: {:?}", ran.result);
                assert_eq!(ran.data_ok, Some(true), "{scn:?}");
                // One byte per write really reached tlshake's end as many small reads.
                assert!(ran.received > 200, "{scn:?}: {}", ran.received);
            }
        }
    }
    assert_eq!(settle_fds(fds), fds, "descriptors leaked");
}

/// The whole sweep, tlshake as the client (TLS 1.3 and 1.2), through the blocking runner and
/// the tokio runner (`tlshake::tokio::handshake`) case by case: the same verdict for each.
#[cfg(feature = "tokio")]
#[test]
fn tokio_client_gives_the_blocking_verdict_for_every_case() {
    isolated!(tokio_client_gives_the_blocking_verdict_for_every_case);
    run_sweep(
        &[
            Scenario {
                ours: Ours::Client,
                version: ProtocolVersion::Tls1_3,
            },
            Scenario {
                ours: Ours::Client,
                version: ProtocolVersion::Tls1_2,
            },
        ],
        Runners::BlockingAndTokio,
    );
}

/// The whole sweep, tlshake as the server (`AsyncHandshake::server`), blocking and tokio
/// case by case.
#[cfg(feature = "tokio")]
#[test]
fn tokio_server_gives_the_blocking_verdict_for_every_case() {
    isolated!(tokio_server_gives_the_blocking_verdict_for_every_case);
    run_sweep(
        &[
            Scenario {
                ours: Ours::Server,
                version: ProtocolVersion::Tls1_3,
            },
            Scenario {
                ours: Ours::Server,
                version: ProtocolVersion::Tls1_2,
            },
        ],
        Runners::BlockingAndTokio,
    );
}
