//! One worker of `tlshake serve`: one thread, one epoll instance watching its listener
//! (itself an epoll runner, nested) and every established connection it serves.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use tlshake::server::{ServerEvent, TlsListener};

use super::conn::{Conn, Next, ReplyMode};
use crate::report::{AnyError, Failure};

const LISTENER: u64 = 0;
const STOP: u64 = 1;

/// What every worker shares.
pub(crate) struct Shared {
    /// Handshakes reported so far (successful or not).
    pub(crate) handshakes: AtomicU64,
    /// Stop after this many.
    pub(crate) max: Option<u64>,
    /// Written once to stop every worker; the other end is watched by each.
    pub(crate) stop_tx: UnixStream,
    pub(crate) stop_rx: UnixStream,
    pub(crate) reply: ReplyMode,
    pub(crate) idle: Duration,
    pub(crate) report: fn(&ServerEvent),
}

struct Served {
    conn: Conn,
    watching: EpollFlags,
    last: Instant,
}

/// Runs one worker until the connection limit is reached and its connections are done.
pub(crate) fn run(mut listener: TlsListener, shared: &Shared) -> Result<(), AnyError> {
    // The connections are served nonblocking: no ioctl to make them blocking and back.
    listener.set_nonblocking_streams(true);
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll
        .add(
            listener.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, LISTENER),
        )
        .map_err(|e| Failure::because("epoll_ctl", e))?;
    epoll
        .add(
            shared.stop_rx.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, STOP),
        )
        .map_err(|e| Failure::because("epoll_ctl", e))?;
    let mut conns: HashMap<u64, Served> = HashMap::new();
    let mut idle: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut next_id = STOP + 1;
    let mut accepting = true;
    let mut events = vec![EpollEvent::empty(); 1024];
    loop {
        if !accepting && conns.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        let wake = [
            accepting.then(|| listener.poll_timeout()).flatten(),
            idle.peek().map(|Reverse((t, _))| *t),
        ]
        .into_iter()
        .flatten()
        .min();
        let timeout = tlshake::internals::wait::millis_rounded_up(
            wake.map(|w| w.saturating_duration_since(now)),
            EpollTimeout::NONE,
            EpollTimeout::MAX,
        );
        let n = match epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(Failure::because("epoll_wait", e).into()),
        };
        let mut poll_listener = accepting && wake.is_some_and(|w| Instant::now() >= w);
        for event in events.iter().take(n) {
            match event.data() {
                LISTENER => poll_listener = accepting,
                STOP => {
                    if accepting {
                        accepting = false;
                        let _ = epoll.delete(listener.as_fd());
                        let _ = epoll.delete(shared.stop_rx.as_fd());
                    }
                }
                id => serve_ready(&epoll, &mut conns, id),
            }
        }
        while poll_listener {
            let event = match listener.poll_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => return Err(Failure::because("the listener failed", e).into()),
            };
            if !matches!(
                event,
                ServerEvent::Rejected { .. } | ServerEvent::Callback { .. }
            ) {
                let count = shared.handshakes.fetch_add(1, Ordering::SeqCst) + 1;
                if shared.max.is_some_and(|max| count > max) {
                    continue;
                }
                if shared.max.is_some_and(|max| count >= max) {
                    // Wakes every worker: stop accepting, finish what is served.
                    let _ = std::io::Write::write_all(&mut &shared.stop_tx, b"x");
                    poll_listener = false;
                }
            }
            (shared.report)(&event);
            if let ServerEvent::Established(accepted) = event {
                let conn = Conn::new(accepted.stream, accepted.session, shared.reply);
                let id = next_id;
                next_id += 1;
                let fd = conn.stream.get_ref().as_fd();
                if epoll
                    .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, id))
                    .is_ok()
                {
                    let last = Instant::now();
                    idle.push(Reverse((last + shared.idle, id)));
                    conns.insert(
                        id,
                        Served {
                            conn,
                            watching: EpollFlags::EPOLLIN,
                            last,
                        },
                    );
                    // The client's first data may have arrived with its Finished and been
                    // read ahead by the handshake: serve it now, as the socket may never
                    // become readable again.
                    serve_ready(&epoll, &mut conns, id);
                }
            }
        }
        let now = Instant::now();
        while let Some(Reverse((when, id))) = idle.peek().copied() {
            if when > now {
                break;
            }
            idle.pop();
            let Some(served) = conns.get(&id) else {
                continue;
            };
            let due = served.last + shared.idle;
            if due > now {
                idle.push(Reverse((due, id)));
            } else if let Some(mut s) = conns.remove(&id) {
                let _ = epoll.delete(s.conn.stream.get_ref().as_fd());
                // One try at close_notify (the socket is nonblocking), then close.
                let _ = s.conn.stream.shutdown();
            }
        }
    }
}

/// Lets connection `id` read and write what it can, then watches what it waits for next, or
/// closes it.
fn serve_ready(epoll: &Epoll, conns: &mut HashMap<u64, Served>, id: u64) {
    let Some(served) = conns.get_mut(&id) else {
        return;
    };
    let mut progressed = false;
    match served.conn.on_ready(&mut progressed) {
        Next::Watch(flags) => {
            if progressed {
                served.last = Instant::now();
            }
            if flags != served.watching {
                served.watching = flags;
                let fd = served.conn.stream.get_ref().as_fd();
                if epoll.modify(fd, &mut EpollEvent::new(flags, id)).is_err() {
                    conns.remove(&id);
                }
            }
        }
        Next::Close => {
            if let Some(s) = conns.remove(&id) {
                let _ = epoll.delete(s.conn.stream.get_ref().as_fd());
            }
        }
    }
}
