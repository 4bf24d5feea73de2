//! [`NodelayPolicy`]: when tlshake sets `TCP_NODELAY` around a handshake.
//!
//! The NOTES of [SSL_connect(3)](https://docs.openssl.org/3.0/man3/SSL_connect/) warn that
//! with TLS 1.3 the client's first application data can be held by Nagle's algorithm until the
//! server ACKs the client's Finished, and a server's first response can wait behind its
//! unacknowledged session tickets. On loopback this machine measured a 100-byte
//! request/response right after a TLS 1.3 handshake at ~42 ms p50 with Nagle on at both ends,
//! and ~0.1 ms with `TCP_NODELAY` on at both ends, with OpenSSL's default of two session
//! tickets: a server that leaves Nagle on stalls its first response behind the second,
//! unacknowledged ticket record. tlshake's server sends one ticket by default, which removes
//! that stall too (BENCHMARKS.md), but a peer built on plain OpenSSL still sends two. That is
//! why the default is [`NodelayPolicy::Always`], on both sides.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::str::FromStr;

use nix::sys::socket::{getsockopt, setsockopt, sockopt::TcpNoDelay};

/// When `TCP_NODELAY` is set on the socket of a handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NodelayPolicy {
    /// Do not touch the socket option: Nagle stays as the socket had it (on, for a new socket).
    Leave,
    /// Set `TCP_NODELAY` before the handshake and keep it after (the default): no Nagle
    /// stall, neither in the handshake nor on the first application data.
    #[default]
    Always,
    /// Leave the option alone during the handshake and set `TCP_NODELAY` once it is done, in
    /// time for the first application data.
    AfterHandshake,
}

impl NodelayPolicy {
    /// The command-line name: `leave`, `always`, `after`.
    pub fn name(self) -> &'static str {
        match self {
            NodelayPolicy::Leave => "leave",
            NodelayPolicy::Always => "always",
            NodelayPolicy::AfterHandshake => "after",
        }
    }

    /// Applies the policy before the first handshake step. Returns the setting the socket had,
    /// when the policy may change it, so that it can be restored with [`set_nodelay`].
    pub fn before_handshake<F: AsFd>(self, socket: &F) -> io::Result<Option<bool>> {
        match self {
            NodelayPolicy::Leave => Ok(None),
            NodelayPolicy::Always => {
                let previous = nodelay(socket)?;
                if !previous {
                    set_nodelay(socket, true)?;
                }
                Ok(Some(previous))
            }
            NodelayPolicy::AfterHandshake => nodelay(socket).map(Some),
        }
    }

    /// Applies the policy once the handshake is done.
    pub fn after_handshake<F: AsFd>(self, socket: &F) -> io::Result<()> {
        match self {
            NodelayPolicy::Leave | NodelayPolicy::Always => Ok(()),
            NodelayPolicy::AfterHandshake => set_nodelay(socket, true),
        }
    }
}

/// An unknown policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownNodelayPolicy {
    /// The text given.
    pub given: String,
}
impl fmt::Display for UnknownNodelayPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnknownNodelayPolicy { given, .. } = self;
        write!(
            f,
            "unknown TCP_NODELAY policy {given:?}: use leave, always or after"
        )?;
        crate::error::write_causes(self, f)
    }
}

impl FromStr for NodelayPolicy {
    type Err = UnknownNodelayPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "leave" => Ok(NodelayPolicy::Leave),
            "always" => Ok(NodelayPolicy::Always),
            "after" | "after-handshake" => Ok(NodelayPolicy::AfterHandshake),
            _ => Err(UnknownNodelayPolicy {
                given: s.to_string(),
            }),
        }
    }
}

/// Reads `TCP_NODELAY` ([`getsockopt(2)`](https://man7.org/linux/man-pages/man2/getsockopt.2.html)).
pub fn nodelay<F: AsFd>(socket: &F) -> io::Result<bool> {
    Ok(getsockopt(socket, TcpNoDelay)?)
}

/// Sets `TCP_NODELAY` ([`setsockopt(2)`](https://man7.org/linux/man-pages/man2/setsockopt.2.html)).
pub fn set_nodelay<F: AsFd>(socket: &F, on: bool) -> io::Result<()> {
    Ok(setsockopt(socket, TcpNoDelay, &on)?)
}
