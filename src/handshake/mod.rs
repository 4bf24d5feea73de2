//! One handshake and what it leaves: [`Handshake`] calls `SSL_connect`, `SSL_accept` or
//! `SSL_do_handshake` once per [`step`](Handshake::step) and says what happened
//! ([`HandshakeOutcome`](outcome::HandshakeOutcome)); [`TlsStream`](stream::TlsStream) is the
//! established session, with its facts ([`SessionInfo`](session::SessionInfo)), over a
//! [`Transport`](transport::Transport) that keeps the bytes read ahead and a record of the
//! traffic. No file here waits for anything: the runners (`crate::run`) do.

pub(crate) mod code;
mod failure;
pub(crate) mod nodelay;
pub(crate) mod outcome;
pub(crate) mod session;
mod step;
pub(crate) mod stream;
pub(crate) mod transport;

pub(crate) use failure::{add_rejected_leaf_slot, drain_error_queue, remember_rejected_leaf};
pub use step::{Handshake, HandshakeStats};
