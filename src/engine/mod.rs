//! The sans-IO handshake set every runner loops over.
//!
//! [`HandshakeSet`] holds many handshakes in a slab named by generational [`Token`]s, their
//! deadlines in a heap ([`poll_timeout`](HandshakeSet::poll_timeout) /
//! [`handle_timeout`](HandshakeSet::handle_timeout)), the [`AcceptPolicy`] (max pending,
//! eviction of the idlest connection, backoff when `accept(2)` fails), and the results as
//! they complete ([`Ended`]). It reads no clock and waits for nothing: a runner owns the
//! waiting ([`Handshake::drive`](crate::Handshake::drive) for one socket,
//! [`MultiDriver`](crate::MultiDriver) and [`TlsListener`](crate::TlsListener) on epoll for
//! many), and every want becomes a wait through the one [`interest`] function.

mod interest;
mod policy;
mod set;
pub(crate) mod slab;
mod token;

pub use interest::{interest, Interest};
pub use policy::{AcceptAction, AcceptPolicy, ACCEPT_BACKOFF};
pub use set::{Ended, HandshakeSet, Outcome, Step};
pub use token::Token;
