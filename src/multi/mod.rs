//! Many TLS handshakes in flight in one thread, each with its own deadline.
//!
//! A server that accepts thousands of connections at once, or a scanner that probes
//! thousands of hosts, should not spend a thread per handshake. [`MultiDriver`] keeps every
//! socket in one epoll instance, steps only the handshakes whose sockets are ready, and keeps
//! the deadlines in a heap, so ten thousand connections that wait for their peers cost nothing
//! per wake-up. Each handshake ends in one [`MultiEvent`]: [`Completed::Done`] with the
//! [`TlsStream`](crate::TlsStream), or why not.
//!
//! Every connection is a file descriptor: raise the open-file limit first with
//! [`raise_nofile_limit`](crate::limits::raise_nofile_limit), and expect a
//! [`LimitError`](crate::LimitError) that names the limit when it runs out.

mod driver;
mod error;
mod event;
mod socket;

pub use driver::MultiDriver;
pub use error::{AddError, MultiError};
pub use event::{Completed, MultiEvent};
pub use socket::{connect_nonblocking, listen_tcp};
