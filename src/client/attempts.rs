//! [`Attempts`]: the addresses of one connect and what became of each, with no I/O: the one
//! address loop that the blocking [`tcp_connect`](super::tcp_connect) and the async
//! `connect_async` both drive, so that their order, deadline and errors cannot drift apart.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::deadline::Deadline;
use crate::url::TransportUrl;

use super::error::ConnectError;

/// The candidates of one connect, tried in the resolver's order, and the errors kept so far.
///
/// The runner asks for the [`next`](Self::next) address and the time left, connects however
/// it connects, and reports back: [`connected`](Self::connected) ends the loop, and
/// [`failed`](Self::failed) either moves on to the next address or ends the loop with the
/// error that stops it (the deadline passed; a connection accepted then reset).
#[derive(Debug)]
pub(crate) struct Attempts {
    authority: String,
    start: Instant,
    deadline: Deadline,
    addrs: std::vec::IntoIter<SocketAddr>,
    tried: Vec<SocketAddr>,
    failed: Vec<(SocketAddr, io::Error)>,
}

impl Attempts {
    /// The addresses `url` resolved to, to be tried by `deadline`; `start` is when the
    /// connect began (name resolution included), for the elapsed times in the errors.
    pub(crate) fn new(
        url: &TransportUrl,
        addrs: Vec<SocketAddr>,
        start: Instant,
        deadline: Instant,
    ) -> Attempts {
        Attempts {
            authority: url.authority(),
            start,
            deadline: Deadline::at(deadline),
            addrs: addrs.into_iter(),
            tried: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// The next address to try and the time left for it. With none left,
    /// [`ConnectError::Connect`] with every address's error; once the deadline has passed,
    /// [`ConnectError::ConnectTimeout`].
    pub(crate) fn next(&mut self) -> Result<(SocketAddr, Duration), ConnectError> {
        let Some(addr) = self.addrs.next() else {
            return Err(ConnectError::Connect {
                authority: std::mem::take(&mut self.authority),
                attempts: std::mem::take(&mut self.failed),
            });
        };
        let Ok(Some(left)) = self.deadline.time_left("connect") else {
            return Err(self.timed_out());
        };
        self.tried.push(addr);
        Ok((addr, left))
    }

    /// The connect to `addr` failed with `error`: `Ok` to go on with the next address.
    ///
    /// A timeout ends the loop ([`ConnectError::ConnectTimeout`]): the deadline is shared.
    /// `ECONNRESET` ends it too: the peer accepted the connection and reset it before the
    /// connect was seen to complete, so this address answered
    /// ([`ConnectError::ResetAfterAccept`], see [`tcp_connect`](super::tcp_connect)).
    pub(crate) fn failed(
        &mut self,
        addr: SocketAddr,
        error: io::Error,
    ) -> Result<(), ConnectError> {
        match error.kind() {
            io::ErrorKind::TimedOut => Err(self.timed_out()),
            io::ErrorKind::ConnectionReset => Err(ConnectError::ResetAfterAccept {
                peer: addr,
                connect_time: self.start.elapsed(),
                source: error,
            }),
            _ => {
                self.failed.push((addr, error));
                Ok(())
            }
        }
    }

    /// The deadline passed during a connect (the runner's own timer fired):
    /// [`ConnectError::ConnectTimeout`] with the addresses tried.
    pub(crate) fn timed_out(&mut self) -> ConnectError {
        ConnectError::ConnectTimeout {
            authority: std::mem::take(&mut self.authority),
            tried: std::mem::take(&mut self.tried),
            elapsed: self.start.elapsed(),
        }
    }

    /// The last address tried answered: the addresses tried (it last) and the time taken.
    pub(crate) fn connected(self) -> (Vec<SocketAddr>, Duration) {
        (self.tried, self.start.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> TransportUrl {
        "tls://example.test:443".parse().unwrap()
    }

    fn addrs() -> Vec<SocketAddr> {
        vec![
            "[2001:db8::1]:443".parse().unwrap(),
            "192.0.2.1:443".parse().unwrap(),
            "192.0.2.2:443".parse().unwrap(),
        ]
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn refused() -> io::Error {
        io::ErrorKind::ConnectionRefused.into()
    }

    #[test]
    fn each_address_in_order_until_one_answers() {
        let mut a = Attempts::new(&url(), addrs(), Instant::now(), later());
        let (first, left) = a.next().unwrap();
        assert_eq!(first, addrs()[0]);
        assert!(left > Duration::from_secs(50));
        a.failed(first, refused()).unwrap();
        let (second, _) = a.next().unwrap();
        assert_eq!(second, addrs()[1]);
        let (tried, _) = a.connected();
        assert_eq!(tried, addrs()[..2]);
    }

    #[test]
    fn every_address_refused_keeps_every_error() {
        let mut a = Attempts::new(&url(), addrs(), Instant::now(), later());
        for _ in 0..3 {
            let (addr, _) = a.next().unwrap();
            a.failed(addr, refused()).unwrap();
        }
        match a.next() {
            Err(ConnectError::Connect {
                authority,
                attempts,
            }) => {
                assert_eq!(authority, "example.test:443");
                let tried: Vec<_> = attempts.iter().map(|(addr, _)| *addr).collect();
                assert_eq!(tried, addrs());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reset_or_a_timeout_ends_the_loop_at_that_address() {
        let mut a = Attempts::new(&url(), addrs(), Instant::now(), later());
        let (addr, _) = a.next().unwrap();
        let err = a
            .failed(addr, io::ErrorKind::ConnectionReset.into())
            .unwrap_err();
        assert!(
            matches!(err, ConnectError::ResetAfterAccept { peer, .. } if peer == addr),
            "{err:?}"
        );

        let mut a = Attempts::new(&url(), addrs(), Instant::now(), later());
        let (addr, _) = a.next().unwrap();
        a.failed(addr, refused()).unwrap();
        let (addr, _) = a.next().unwrap();
        let err = a.failed(addr, io::ErrorKind::TimedOut.into()).unwrap_err();
        match err {
            ConnectError::ConnectTimeout { tried, .. } => assert_eq!(tried, addrs()[..2]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_passed_deadline_tries_nothing_more() {
        let start = Instant::now();
        let mut a = Attempts::new(&url(), addrs(), start, start);
        match a.next() {
            Err(ConnectError::ConnectTimeout { tried, .. }) => assert!(tried.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}
