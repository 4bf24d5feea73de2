//! A fault-injecting TCP proxy on loopback: one connection, two pump threads (client to
//! server, server to client), and one fault on one direction: cut the connection after byte
//! k, flip a bit of byte k, stall after byte k, or deliver every byte on its own with a pause.
//!
//! A cut sends FIN both ways (`shutdown(SHUT_RDWR)` on both sockets) and keeps the sockets
//! open until the proxy is dropped: both ends see a clean end of file, never a reset, so
//! what they see does not depend on how fast the kernel delivers an RST. Dropping the proxy
//! shuts everything down and joins every thread.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The bit a flip toggles: the lowest, so a record length grows by 1 or 256 (a stall) rather
/// than past every limit.
pub const FLIP_MASK: u8 = 0x01;

/// A direction of the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the TLS client to the TLS server.
    Up,
    /// From the TLS server to the TLS client.
    Down,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::Up => 0,
            Dir::Down => 1,
        }
    }
}

/// What the proxy does to one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Forward bytes 0..k, then cut the connection (FIN both ways).
    Cut(usize),
    /// Toggle [`FLIP_MASK`] in byte k (0-based).
    Flip(usize),
    /// Forward bytes 0..k, then nothing more in this direction (the other goes on).
    Stall(usize),
    /// Forward one byte per write, pausing this long between bytes.
    Trickle(Duration),
}

/// One chunk of traffic as the proxy read it.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub dir: Dir,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
struct Shared {
    sockets: Mutex<Vec<TcpStream>>,
    log: Mutex<Vec<Chunk>>,
    stop: AtomicBool,
    /// Set before a cut's last bytes are written: the other direction forwards nothing
    /// more, so no answer to those bytes can slip through before the sockets are shut.
    cutting: AtomicBool,
}

impl Shared {
    fn cut(&self) {
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// A running proxy for one connection.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (any port); the first connection is relayed to `upstream` with
    /// `fault` applied to `dir` (a trickle applies to both directions).
    pub fn start(upstream: SocketAddr, dir: Dir, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let acceptor = thread::spawn(move || {
            let limit = Instant::now() + Duration::from_secs(20);
            let client = loop {
                if sh.stop.load(Ordering::SeqCst) || Instant::now() > limit {
                    return Vec::new();
                }
                match listener.accept() {
                    Ok((s, _)) => break s,
                    // Wait for the connection, looking at `stop` every 50 ms.
                    Err(_) => {
                        let _ = tlshake::internals::wait::wait_for(
                            &listener,
                            tlshake::internals::wait::Interest::Readable,
                            Some(limit.min(Instant::now() + Duration::from_millis(50))),
                        );
                    }
                }
            };
            client.set_nonblocking(false).unwrap();
            let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
                return Vec::new();
            };
            for s in [&client, &server] {
                s.set_nodelay(true).unwrap();
            }
            {
                let mut sockets = sh.sockets.lock().unwrap();
                sockets.push(client.try_clone().unwrap());
                sockets.push(server.try_clone().unwrap());
            }
            if sh.stop.load(Ordering::SeqCst) {
                sh.cut();
                return Vec::new();
            }
            let fault_for = |d: Dir| match fault {
                Fault::Trickle(p) => Fault::Trickle(p),
                f if d == dir => f,
                _ => Fault::None,
            };
            let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (up, down) = (fault_for(Dir::Up), fault_for(Dir::Down));
            let (sh_up, sh_down) = (sh.clone(), sh.clone());
            vec![
                thread::spawn(move || pump(client, server, Dir::Up, up, &sh_up)),
                thread::spawn(move || pump(server2, client2, Dir::Down, down, &sh_down)),
            ]
        });
        Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops everything (FIN both ways), joins the threads and returns the traffic the proxy
    /// read, in the order it was read.
    pub fn finish(mut self) -> Vec<Chunk> {
        self.stop();
        std::mem::take(&mut *self.shared.log.lock().unwrap())
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.cut();
        if let Some(acceptor) = self.acceptor.take() {
            let pumps = acceptor.join().unwrap_or_default();
            // The acceptor may have registered the sockets after the first cut.
            self.shared.cut();
            for p in pumps {
                let _ = p.join();
            }
        }
        self.shared.sockets.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, fault: Fault, shared: &Shared) {
    let mut pos = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    if fault == Fault::Cut(0) {
        shared.cut();
        return;
    }
    if fault == Fault::Stall(0) {
        return;
    }
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        if shared.stop.load(Ordering::SeqCst) || shared.cutting.load(Ordering::SeqCst) {
            return;
        }
        shared.log.lock().unwrap().push(Chunk {
            dir,
            bytes: buf[..n].to_vec(),
        });
        let chunk = &mut buf[..n];
        let (send, then_stop) = match fault {
            Fault::Cut(k) | Fault::Stall(k) if pos + n >= k => (k - pos, true),
            Fault::Flip(k) if (pos..pos + n).contains(&k) => {
                chunk[k - pos] ^= FLIP_MASK;
                (n, false)
            }
            _ => (n, false),
        };
        if then_stop && matches!(fault, Fault::Cut(_)) {
            shared.cutting.store(true, Ordering::SeqCst);
        }
        let ok = match fault {
            Fault::Trickle(pause) => chunk[..send].iter().all(|b| {
                thread::sleep(pause);
                to.write_all(std::slice::from_ref(b)).is_ok()
            }),
            _ => to.write_all(&chunk[..send]).is_ok(),
        };
        pos += send;
        if then_stop {
            if matches!(fault, Fault::Cut(_)) {
                shared.cut();
            }
            return;
        }
        if !ok {
            return;
        }
    }
}

/// One TLS record found in a byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Offset of its 5-byte header in the stream.
    pub start: usize,
    /// Content type (20 change_cipher_spec, 21 alert, 22 handshake, 23 application data).
    pub content_type: u8,
    /// Length of the body.
    pub len: usize,
}

impl Record {
    pub fn end(&self) -> usize {
        self.start + 5 + self.len
    }
}

/// Splits a stream into records by their 5-byte headers; panics if it does not split evenly
/// (the recording is then not a TLS stream).
pub fn records(stream: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        assert!(at + 5 <= stream.len(), "truncated record header at {at}");
        let len = usize::from(u16::from_be_bytes([stream[at + 3], stream[at + 4]]));
        let r = Record {
            start: at,
            content_type: stream[at],
            len,
        };
        assert!(r.end() <= stream.len(), "truncated record at {at}");
        out.push(r);
        at = r.end();
    }
    out
}

/// Where byte `k` of direction `dir` fell in the traffic one run's proxy read: (index of the
/// record, offset inside it, header included), from the bytes before `k` alone; `None` when
/// the run stopped before byte `k`. The layout moves between runs: an ECDSA signature is 70
/// to 72 bytes, so a fixed offset after one can land on a different byte of the next record.
pub fn landing(chunks: &[Chunk], dir: Dir, k: usize) -> Option<(usize, usize)> {
    let stream: Vec<u8> = chunks
        .iter()
        .filter(|c| c.dir == dir)
        .flat_map(|c| c.bytes.iter().copied())
        .collect();
    if k >= stream.len() {
        return None;
    }
    let (mut at, mut index) = (0, 0);
    loop {
        if k < at + 5 {
            return Some((index, k - at));
        }
        let len = usize::from(u16::from_be_bytes([stream[at + 3], stream[at + 4]]));
        if k < at + 5 + len {
            return Some((index, k - at));
        }
        at += 5 + len;
        index += 1;
    }
}

/// Offsets to sweep: every record boundary (0 and the end included), and inside each record:
/// byte 1 (version), byte 3 (length, high byte), the middle of the body and its last byte.
pub fn sweep_offsets(records: &[Record]) -> Vec<usize> {
    let mut ks = vec![0];
    for r in records {
        ks.extend([
            r.start + 1,
            r.start + 3,
            r.start + 5 + r.len / 2,
            r.end() - 1,
        ]);
        ks.push(r.end());
    }
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// Only the record boundaries.
pub fn boundaries(records: &[Record]) -> Vec<usize> {
    let mut ks = vec![0];
    ks.extend(records.iter().map(Record::end));
    ks
}
