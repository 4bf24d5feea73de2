//! `tlshake bench --concurrency C`: C handshakes in flight from one client thread, against a
//! `tlshake serve` child process (both ends in one process would need twice the
//! descriptors). tlshake runs through its engine ([`MultiDriver`]); the plain `openssl`
//! crate through `MidHandshakeSslStream::handshake()` and `poll(2)`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use openssl::ssl::{ErrorCode, HandshakeError, MidHandshakeSslStream, SslConnector};
use tlshake::client::ClientConfig;
use tlshake::engine::Token;
use tlshake::{connect_nonblocking, Completed, MultiDriver};

use super::stats::Run;
use crate::report::{AnyError, Failure};

/// How long one handshake may take before it counts as a failure: 10,000 in flight against
/// one server core take about 15 s to drain.
const PER_HANDSHAKE: Duration = Duration::from_secs(60);

/// A `tlshake serve` child on loopback, killed on drop.
pub(super) struct ServerChild {
    child: Child,
    pub(super) addr: SocketAddr,
}

impl ServerChild {
    /// Starts `tlshake serve` with the certificate `cert`/`key` (files) for `proto`.
    pub(super) fn start(cert: Option<(String, String)>, proto: &str) -> Result<Self, AnyError> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        cmd.args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
        ])
        .args(["--max-pending", "20000", "--handshake-timeout", "30"])
        .args(["--protocols", proto])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if let Some((cert, key)) = cert {
            cmd.args(["--cert", &cert, "--key", &key]);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Failure::because("cannot start serve", e))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = true;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if first {
                    first = false;
                    let _ = tx.send(line);
                }
            }
        });
        let mut server = ServerChild {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| "serve printed no `listening on` line".to_string())?;
        server.addr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("unexpected first line of serve: {line}"))?;
        Ok(server)
    }

    /// CPU time of the child so far, in microseconds (`/proc/PID/stat` utime + stime).
    pub(super) fn cpu_us(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) else {
            return 0.0;
        };
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of the line (11 and 12 after the name), in
        // USER_HZ ticks, which the Linux ABI fixes at 100 per second.
        (ticks(11) + ticks(12)) * 1e6 / 100.0
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` handshakes, `c` in flight, through tlshake's engine.
pub(super) fn tlshake(config: &ClientConfig, addr: SocketAddr, n: usize, c: usize) -> Run {
    let mut run = Run::default();
    let Ok(mut driver) = MultiDriver::new() else {
        run.failures = n;
        return run;
    };
    let mut started = 0;
    // From before the connect, as for the plain crate.
    let mut since: HashMap<Token, Instant> = HashMap::with_capacity(c);
    let start = |driver: &mut MultiDriver<_>,
                 run: &mut Run,
                 started: &mut usize,
                 since: &mut HashMap<Token, Instant>| {
        *started += 1;
        let t = Instant::now();
        // A connection or handshake that cannot start counts as a failure, as one that fails.
        let handshake = connect_nonblocking(addr)
            .ok()
            .and_then(|tcp| config.handshake("localhost", tcp).ok());
        match handshake {
            Some(h) => match driver.add(h, t + PER_HANDSHAKE) {
                Ok(token) => {
                    since.insert(token, t);
                }
                Err(_) => run.failures += 1,
            },
            None => run.failures += 1,
        }
    };
    let t0 = Instant::now();
    for _ in 0..c.min(n) {
        start(&mut driver, &mut run, &mut started, &mut since);
    }
    while run.lat.len() + run.failures < n {
        let wait = Instant::now() + PER_HANDSHAKE + Duration::from_secs(1);
        let event = match driver.next_completed(wait) {
            Ok(Some(event)) => event,
            _ => {
                run.failures = n - run.lat.len();
                break;
            }
        };
        let t = since.remove(&event.token);
        match (event.result, t) {
            (Completed::Done(tls), Some(t)) => {
                run.lat.push(t.elapsed().as_secs_f64() * 1e3);
                drop(tls);
            }
            _ => run.failures += 1,
        }
        if started < n {
            start(&mut driver, &mut run, &mut started, &mut since);
        }
    }
    run.wall = t0.elapsed().as_secs_f64();
    run
}

struct Flight {
    mid: MidHandshakeSslStream<std::net::TcpStream>,
    started: Instant,
}

/// `n` handshakes, `c` in flight, with the plain crate: `SslConnector::connect` on a
/// nonblocking socket, then `MidHandshakeSslStream::handshake()` whenever `poll(2)` says the
/// socket is ready for what the last step wanted.
pub(super) fn openssl(connector: &SslConnector, addr: SocketAddr, n: usize, c: usize) -> Run {
    let mut run = Run::default();
    let mut flights: Vec<Flight> = Vec::with_capacity(c.min(n));
    let mut started = 0;
    let finish = |result: Result<_, HandshakeError<_>>, since: Instant, run: &mut Run| match result
    {
        Ok(_stream) => {
            run.lat.push(since.elapsed().as_secs_f64() * 1e3);
            None
        }
        Err(HandshakeError::WouldBlock(mid)) => Some(mid),
        Err(_) => {
            run.failures += 1;
            None
        }
    };
    let t0 = Instant::now();
    while run.lat.len() + run.failures < n {
        while flights.len() < c && started < n {
            started += 1;
            let since = Instant::now();
            let Ok(tcp) = connect_nonblocking(addr) else {
                run.failures += 1;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            if let Some(mid) = finish(connector.connect("localhost", tcp), since, &mut run) {
                flights.push(Flight {
                    mid,
                    started: since,
                });
            }
        }
        if flights.is_empty() {
            // Every started handshake ended already (one can end in its first call).
            continue;
        }
        let ready: Vec<usize> = {
            let mut fds: Vec<PollFd<'_>> = flights
                .iter()
                .map(|f| {
                    let flags = if f.mid.error().code() == ErrorCode::WANT_WRITE {
                        PollFlags::POLLOUT
                    } else {
                        PollFlags::POLLIN
                    };
                    PollFd::new(f.mid.get_ref().as_fd(), flags)
                })
                .collect();
            if nix::poll::poll(&mut fds, PollTimeout::from(1000u16)).is_err() {
                Vec::new()
            } else {
                fds.iter()
                    .enumerate()
                    .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
                    .map(|(i, _)| i)
                    .collect()
            }
        };
        for i in ready.into_iter().rev() {
            let flight = flights.swap_remove(i);
            let since = flight.started;
            if let Some(mid) = finish(flight.mid.handshake(), since, &mut run) {
                flights.push(Flight {
                    mid,
                    started: since,
                });
            }
        }
        let now = Instant::now();
        let before = flights.len();
        flights.retain(|f| now.duration_since(f.started) < PER_HANDSHAKE);
        run.failures += before - flights.len();
    }
    run.wall = t0.elapsed().as_secs_f64();
    run
}
