//! Socket options the tests and the benchmarks share (benches/multi.rs includes this file).

use std::os::fd::AsFd;

/// Makes `socket` close with a reset (`SO_LINGER` 0) instead of a FIN, leaving no TIME_WAIT
/// behind: at thousands of connections per second a later client that reuses a port would
/// otherwise meet that port's TIME_WAIT at the server and wait for a SYN retransmission.
pub fn close_abortively<F: AsFd>(socket: &F) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let _ = nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::Linger, &linger);
}
