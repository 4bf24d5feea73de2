//! Runners: the loops that own the waiting, each a thin layer over the
//! [`HandshakeSet`](crate::engine::HandshakeSet) or over [`Handshake::step`](crate::Handshake::step).
//!
//! * `blocking`: one descriptor, `select(2)` below `FD_SETSIZE`, `poll(2)` above
//!   ([`Handshake::drive`](crate::Handshake::drive));
//! * `epoll`: many descriptors in one epoll instance, with listeners
//!   ([`MultiDriver`](crate::MultiDriver) and [`TlsListener`](crate::server::TlsListener) sit on it);
//! * `tokio` (feature `tokio`): one handshake per future on tokio's reactor
//!   ([`tlshake::tokio`](crate::tokio)).

pub(crate) mod blocking;
pub(crate) mod epoll;
#[cfg(feature = "tokio")]
pub mod tokio;
