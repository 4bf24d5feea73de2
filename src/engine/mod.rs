//! The sans-IO handshake set every runner loops over.
//!
//! [`HandshakeSet`] holds many handshakes in a slab named by generational [`Token`]s, their
//! deadlines in a heap ([`poll_timeout`](HandshakeSet::poll_timeout) /
//! [`handle_timeout`](HandshakeSet::handle_timeout)), the [`AcceptPolicy`] (max pending,
//! eviction of the idlest connection, backoff when `accept(2)` fails), and the results as
//! they complete ([`Ended`]), and the DTLS retransmission timers beside the deadlines. It
//! reads no clock and waits for nothing: a runner owns the
//! waiting ([`Handshake::drive`](crate::Handshake::drive) for one socket,
//! [`MultiDriver`](crate::MultiDriver) and [`TlsListener`](crate::server::TlsListener) on epoll for
//! many, the tokio runner), and every want becomes a wait through the one [`interest`]
//! function. What every runner must do the same way (bytes read ahead are readable, every
//! ending error carries its elapsed time, what "shut down" means) is written once here, and
//! the runners only wait.

mod ended;
mod interest;
mod policy;
mod rules;
mod set;
pub(crate) mod slab;
pub(crate) mod timer;
mod token;

pub use ended::{Ended, Outcome, Step};
pub use interest::{interest, Interest};
pub use policy::{AcceptAction, AcceptPolicy, ACCEPT_BACKOFF};
pub(crate) use rules::next_wait;
pub use set::HandshakeSet;
pub use token::Token;
