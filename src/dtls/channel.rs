//! [`PeerChannel`]: one peer of a UDP socket shared by many, as a datagram transport.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Datagrams a peer's inbox holds at most; more are dropped (and counted by the listener)
/// until its handshake or its reader takes some.
pub(crate) const INBOX_LIMIT: usize = 64;

/// The datagrams the listener received for one peer, waiting for its `SSL` to read them.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct InboxState {
    datagrams: VecDeque<Vec<u8>>,
    /// Reads wait for a datagram (with `read_timeout`) instead of returning `WouldBlock`.
    blocking: bool,
    read_timeout: Option<Duration>,
    /// The listener is gone: nothing more will arrive.
    closed: bool,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a datagram; false (dropped) when the inbox is full.
    pub(crate) fn push(&self, datagram: &[u8]) -> bool {
        let mut s = self.lock();
        if s.datagrams.len() >= INBOX_LIMIT {
            return false;
        }
        s.datagrams.push_back(datagram.to_vec());
        drop(s);
        self.ready.notify_one();
        true
    }

    /// No more datagrams will come: blocked readers wake, and reads fail.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// One peer of a [`DtlsListener`](super::DtlsListener)'s UDP socket: reads take the
/// datagrams the listener received from that address (one per read), writes send to it with
/// [`sendto(2)`](https://man7.org/linux/man-pages/man2/sendto.2.html) on the shared socket.
///
/// While the handshake runs, reads return `WouldBlock` when nothing is queued. The stream of
/// an established association is blocking ([`set_blocking`](Self::set_blocking)): a read
/// waits until the listener, which must keep running ([`DtlsListener::next_event`](super::DtlsListener::next_event)
/// on some thread), queues a datagram, or until the read timeout. Once the listener is
/// dropped, or a new handshake from the same address replaced the association, reads fail
/// with [`ConnectionAborted`](io::ErrorKind::ConnectionAborted) (a datagram socket has no
/// end-of-file). Its descriptor ([`AsFd`]) is the shared socket's.
#[derive(Debug)]
pub struct PeerChannel {
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
    inbox: Arc<Inbox>,
}

impl PeerChannel {
    pub(crate) fn new(socket: Arc<UdpSocket>, peer: SocketAddr) -> PeerChannel {
        PeerChannel {
            socket,
            peer,
            inbox: Arc::default(),
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn set_peer(&mut self, peer: SocketAddr) {
        self.peer = peer;
    }

    pub(crate) fn inbox(&self) -> &Arc<Inbox> {
        &self.inbox
    }

    /// Datagrams queued and not read yet.
    pub fn queued(&self) -> usize {
        self.inbox.lock().datagrams.len()
    }

    /// Reads wait for a datagram, up to `read_timeout` (`None`: no limit), then fail with
    /// `WouldBlock`, as a socket with `SO_RCVTIMEO` does.
    pub fn set_blocking(&self, read_timeout: Option<Duration>) {
        let mut s = self.inbox.lock();
        s.blocking = true;
        s.read_timeout = read_timeout;
    }

    /// Reads return `WouldBlock` at once when nothing is queued.
    pub fn set_nonblocking(&self) {
        self.inbox.lock().blocking = false;
    }
}

impl Read for PeerChannel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.inbox.lock();
        let until = s.read_timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(datagram) = s.datagrams.pop_front() {
                // Cut to the buffer, as recv(2) cuts a datagram.
                let n = datagram.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(datagram.get(..n).unwrap_or_default());
                return Ok(n);
            }
            if s.closed {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the DtlsListener closed this association: it was dropped, or a new \
                     handshake from the same address replaced it",
                ));
            }
            if !s.blocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            s = match until {
                None => self
                    .inbox
                    .ready
                    .wait(s)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(until) => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::ErrorKind::WouldBlock.into());
                    }
                    self.inbox
                        .ready
                        .wait_timeout(s, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

impl Write for PeerChannel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.socket.send_to(buf, self.peer)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for PeerChannel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
