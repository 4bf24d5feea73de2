//! Session resumption of a configuration: the sessions its connections received, kept per
//! peer name, and sessions imported from elsewhere.

use std::sync::OnceLock;

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslSession, SslSessionRef};

use crate::error_queue::ErrorQueue;

use super::ClientConfig;

/// The per-connection slot holding the session-cache key (the expected peer name).
pub(super) fn session_key_index() -> Result<Index<Ssl, String>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, String>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<String>()?;
    Ok(*INDEX.get_or_init(|| index))
}

impl ClientConfig {
    /// Saves the session of an established connection so that the next connection to the
    /// same name offers it. With resumption on, sessions are saved automatically as they
    /// arrive; this stores the current one explicitly ([`SSL_get1_session(3)`](https://docs.openssl.org/3.0/man3/SSL_get_session/)).
    /// With TLS 1.3 the session arrives after the handshake, with the first data read.
    ///
    /// Returns whether the session was kept: not when resumption is off, when the connection
    /// has no resumable session yet, or when `ssl` belongs to another `SslContext` (a session
    /// carries its context's state; take a session made elsewhere through
    /// [`import_session`](Self::import_session)).
    pub fn save_session(&self, host: &str, ssl: &openssl::ssl::SslRef) -> bool {
        if !self.options.resume_sessions || ssl.ssl_context().as_ptr() != self.ctx.as_ptr() {
            return false;
        }
        let Some(session) = ssl.session() else {
            return false;
        };
        if !crate::sys::session_is_resumable(session) {
            return false;
        }
        let Ok(mut map) = self.sessions.lock() else {
            return false;
        };
        map.insert(session_key(self.expected_name(host)), session.to_owned());
        true
    }
}

impl ClientConfig {
    /// The session saved for connections to `host` (its peer name), the one the next
    /// connection offers: to keep it, e.g. in a file with
    /// [`session_file::write_session`](crate::session_file::write_session). `None` unless
    /// [`resume_sessions`](crate::client::ClientConfigBuilder::resume_sessions) is on and a connection to the
    /// name produced a resumable session. Under TLS 1.3 the session arrives after the
    /// handshake: wait for it with
    /// [`wait_for_session`](crate::client::wait_for_session) first.
    pub fn saved_session(&self, host: &str) -> Option<SslSession> {
        let key = session_key(self.expected_name(host));
        let own = self.sessions.lock().ok().and_then(|m| m.get(&key).cloned());
        own.or_else(|| self.imported.lock().ok().and_then(|m| m.get(&key).cloned()))
    }

    /// Offers `session` on the next connections to `host` (its peer name) until one of them
    /// gets a session of its own, as `openssl s_client -sess_in` does
    /// ([`SSL_set_session(3)`](https://docs.openssl.org/3.0/man3/SSL_set_session/)). The session
    /// may come from another program, e.g. read with
    /// [`session_file::read_session`](crate::session_file::read_session) from a file
    /// `s_client -sess_out` wrote. Needs
    /// [`resume_sessions`](crate::client::ClientConfigBuilder::resume_sessions); without it the session is
    /// kept but never offered. Whether the server resumed shows in
    /// [`SessionInfo::resumed`](crate::SessionInfo::resumed).
    ///
    /// The session is kept as a copy decoded from its DER form
    /// ([`i2d_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/d2i_SSL_SESSION/)), so it
    /// carries none of the state (ex_data, cache links) of the context that made it. Fails
    /// only when OpenSSL cannot encode or decode it.
    pub fn import_session(&self, host: &str, session: &SslSessionRef) -> Result<(), ErrorQueue> {
        let copy = SslSession::from_der(&session.to_der()?)?;
        let key = session_key(self.expected_name(host));
        if let Ok(mut map) = self.imported.lock() {
            map.insert(key, copy);
        }
        Ok(())
    }
}

pub(super) fn session_key(name: &str) -> String {
    name.to_ascii_lowercase()
}
