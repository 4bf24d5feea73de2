//! A UDP relay between one DTLS client and its server that drops, duplicates, reorders and
//! delays datagrams on a deterministic schedule: what happens to a datagram depends only on
//! its direction and its index in that direction, never on a clock or a random draw made
//! at run time.
//!
//! The client sends to the relay's address; the relay forwards from a socket of its own to
//! the server and sends the server's answers back to the client's address. It runs in a
//! thread until dropped; every wait has a deadline (the next delayed datagram's release) or
//! ends with the stop signal.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tlshake::internals::wait::{self, Interest};

/// A direction through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// What the relay does with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pass,
    Drop,
    /// Sent twice.
    Duplicate,
    /// Held back this long, then sent (datagrams behind it pass it).
    Delay(Duration),
    /// Held until the next datagram of the same direction has passed, then sent.
    Reorder,
    /// Preceded by the [`junk`] datagrams, sent the same way, then passed.
    Junk,
}

/// Datagrams no DTLS peer may act on: not DTLS, a truncated record, an oversized datagram,
/// a record of an unknown epoch, a record whose MAC cannot check out, an empty datagram.
pub(crate) fn junk() -> Vec<Vec<u8>> {
    let record = |content_type: u8, epoch: u16, len: u16, body: usize| {
        let mut r = vec![content_type, 0xFE, 0xFD];
        r.extend_from_slice(&epoch.to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0, 0x42, 0x42]);
        r.extend_from_slice(&len.to_be_bytes());
        r.extend((0..body).map(|i| (i * 7 + 3) as u8));
        r
    };
    vec![
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        record(22, 0, 100, 20),
        record(23, 1, 18_987, 18_987),
        record(23, 7, 32, 32),
        record(23, 1, 48, 48),
        Vec::new(),
    ]
}

/// The schedule: an action per (direction, index), from rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// Everything passes.
    Clean,
    /// `action` for the datagram `index` of `dir`; `times` consecutive datagrams from it.
    At {
        dir: Dir,
        index: usize,
        times: usize,
        action: Action,
    },
    /// Drops about `percent` % of each direction's datagrams, decided per index by a hash
    /// of `seed`, direction and index, never more than `max_run` in a row (so the
    /// handshake can get through, and the run stays deterministic).
    Loss {
        percent: u32,
        seed: u64,
        max_run: usize,
    },
    /// Every datagram of `dir` from `index` on is dropped: the peer has vanished.
    BlackHole { dir: Dir, index: usize },
}

/// splitmix64: a hash of three numbers, the same on every run.
fn mix(seed: u64, dir: Dir, index: usize) -> u64 {
    let mut z = seed
        ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ match dir {
            Dir::Up => 0x1234_5678,
            Dir::Down => 0x8765_4321,
        };
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Schedule {
    /// The action for datagram `index` of `dir`; `run` is how many datagrams of `dir` were
    /// dropped in a row just before it.
    fn action(&self, dir: Dir, index: usize, run: usize) -> Action {
        match *self {
            Schedule::Clean => Action::Pass,
            Schedule::At {
                dir: d,
                index: i,
                times,
                action,
            } if d == dir && index >= i && index < i + times => action,
            Schedule::At { .. } => Action::Pass,
            Schedule::Loss {
                percent,
                seed,
                max_run,
            } => {
                if run < max_run && mix(seed, dir, index) % 100 < u64::from(percent) {
                    Action::Drop
                } else {
                    Action::Pass
                }
            }
            Schedule::BlackHole { dir: d, index: i } if d == dir && index >= i => Action::Drop,
            Schedule::BlackHole { .. } => Action::Pass,
        }
    }
}

/// What the relay did, per direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Datagrams received from the sender.
    pub(crate) seen: usize,
    pub(crate) dropped: usize,
    pub(crate) duplicated: usize,
    pub(crate) delayed: usize,
    pub(crate) reordered: usize,
    /// Junk datagrams sent ahead of a datagram.
    pub(crate) junk: usize,
    /// The longest datagram received.
    pub(crate) longest: usize,
}

/// A running relay.
pub(crate) struct Relay {
    addr: SocketAddr,
    upstream: SocketAddr,
    tally: Arc<Mutex<BTreeMap<Dir, Tally>>>,
    stop: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// A relay on 127.0.0.1 in front of `server`, following `schedule`.
    pub(crate) fn start(server: SocketAddr, schedule: Schedule) -> Relay {
        let front = UdpSocket::bind("127.0.0.1:0").unwrap();
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        back.connect(server).unwrap();
        front.set_nonblocking(true).unwrap();
        back.set_nonblocking(true).unwrap();
        let addr = front.local_addr().unwrap();
        let upstream = back.local_addr().unwrap();
        let (stop, stopped) = UnixStream::pair().unwrap();
        let tally = Arc::new(Mutex::new(BTreeMap::new()));
        let shared = Arc::clone(&tally);
        let thread = thread::Builder::new()
            .name("dtls-relay".into())
            .spawn(move || run(front, back, stopped, schedule, &shared))
            .unwrap();
        Relay {
            addr,
            upstream,
            tally,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where the client sends.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address the server sees the client at (the relay's own socket).
    pub(crate) fn upstream_addr(&self) -> SocketAddr {
        self.upstream
    }

    /// What it did so far in `dir`.
    pub(crate) fn tally(&self, dir: Dir) -> Tally {
        self.tally
            .lock()
            .unwrap()
            .get(&dir)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A datagram held back, and when it goes (`None`: after the next one of its direction).
struct Held {
    dir: Dir,
    bytes: Vec<u8>,
    at: Option<Instant>,
}

fn run(
    front: UdpSocket,
    back: UdpSocket,
    mut stopped: UnixStream,
    schedule: Schedule,
    tally: &Mutex<BTreeMap<Dir, Tally>>,
) {
    let mut client: Option<SocketAddr> = None;
    let mut index = [0usize; 2];
    let mut run_of_drops = [0usize; 2];
    let mut held: Vec<Held> = Vec::new();
    let mut buf = vec![0u8; 65536];
    let send = |dir: Dir, bytes: &[u8], client: Option<SocketAddr>| match dir {
        Dir::Up => {
            let _ = back.send(bytes);
        }
        Dir::Down => {
            if let Some(c) = client {
                let _ = front.send_to(bytes, c);
            }
        }
    };
    loop {
        let next_release = held.iter().filter_map(|h| h.at).min();
        let fds = [
            (front.as_fd(), Interest::Readable),
            (back.as_fd(), Interest::Readable),
            (stopped.as_fd(), Interest::Readable),
        ];
        if wait::wait_for_any(&fds, next_release).is_err() {
            return;
        }
        // The stop signal: the other end was dropped (end-of-file).
        stopped.set_nonblocking(true).unwrap();
        match stopped.read(&mut [0u8; 1]) {
            Ok(0) => return,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            _ => return,
        }
        // Delayed datagrams whose time came.
        let now = Instant::now();
        let (due, rest): (Vec<Held>, Vec<Held>) = held
            .into_iter()
            .partition(|h| h.at.is_some_and(|t| t <= now));
        held = rest;
        for h in due {
            send(h.dir, &h.bytes, client);
        }
        for (dir, socket) in [(Dir::Up, &front), (Dir::Down, &back)] {
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if dir == Dir::Up {
                    client = Some(from);
                }
                let bytes = buf[..n].to_vec();
                let d = dir as usize;
                let i = index[d];
                index[d] += 1;
                let action = schedule.action(dir, i, run_of_drops[d]);
                let mut t = tally.lock().unwrap();
                let entry = t.entry(dir).or_default();
                entry.seen += 1;
                entry.longest = entry.longest.max(n);
                if action == Action::Drop {
                    entry.dropped += 1;
                    run_of_drops[d] += 1;
                    continue;
                }
                run_of_drops[d] = 0;
                match action {
                    Action::Junk => entry.junk += junk().len(),
                    Action::Duplicate => entry.duplicated += 1,
                    Action::Delay(_) => entry.delayed += 1,
                    Action::Reorder => entry.reordered += 1,
                    _ => {}
                }
                drop(t);
                match action {
                    Action::Delay(by) => held.push(Held {
                        dir,
                        bytes,
                        at: Some(Instant::now() + by),
                    }),
                    Action::Reorder => held.push(Held {
                        dir,
                        bytes,
                        at: None,
                    }),
                    _ => {
                        if action == Action::Junk {
                            for j in junk() {
                                send(dir, &j, client);
                            }
                        }
                        send(dir, &bytes, client);
                        if action == Action::Duplicate {
                            send(dir, &bytes, client);
                        }
                        // Datagrams held for reordering go after this one.
                        let (after, rest): (Vec<Held>, Vec<Held>) = held
                            .into_iter()
                            .partition(|h| h.dir == dir && h.at.is_none());
                        held = rest;
                        for h in after {
                            send(h.dir, &h.bytes, client);
                        }
                    }
                }
            }
        }
    }
}
