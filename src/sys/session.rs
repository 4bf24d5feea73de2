//! Sessions: `SSL_set_session` for the two kinds of session the client resumes, and
//! `SSL_SESSION_is_resumable`.

use std::os::raw::c_int;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::{SslRef, SslSessionRef};
use openssl_sys as sys;

/// [`SSL_set_session(3)`](https://docs.openssl.org/3.0/man3/SSL_set_session/) for a session
/// that a connection of the **same** `SslContext` produced. Only `ClientConfig` calls it, with
/// sessions from its own cache, and each `ClientConfig` owns exactly one context.
pub(crate) fn set_session_from_same_context(
    ssl: &mut SslRef,
    session: &SslSessionRef,
) -> Result<(), ErrorStack> {
    // SAFETY: `ssl` is exclusively borrowed; `session` is a live session created by a
    // connection of the same SSL_CTX (the caller's contract above), which is what the
    // `openssl` crate's `unsafe fn set_session` requires. SSL_set_session takes its own
    // reference to the session.
    unsafe { ssl.set_session(session) }
}

/// [`SSL_set_session(3)`](https://docs.openssl.org/3.0/man3/SSL_set_session/) for a session
/// decoded from its ASN.1 form
/// ([`PEM_read_bio_SSL_SESSION(3)`](https://docs.openssl.org/3.0/man3/PEM_read_bio_PrivateKey/)),
/// as `openssl s_client -sess_in` uses one. Only `ClientConfig::import_session`'s sessions
/// come here.
pub(crate) fn set_decoded_session(
    ssl: &mut SslRef,
    session: &SslSessionRef,
) -> Result<(), ErrorStack> {
    // SAFETY: `ssl` is exclusively borrowed and `session` is a live session. The `openssl`
    // crate asks for a session of the same SSL_CTX because a session made by a context may
    // carry that context's ex_data; a decoded session has no ex_data and refers to no
    // context (d2i_SSL_SESSION fills only the fields of its ASN.1 form), so any SSL may take
    // it, which is what s_client -sess_in does. SSL_set_session takes its own reference.
    unsafe { ssl.set_session(session) }
}

/// [`SSL_SESSION_is_resumable(3)`](https://docs.openssl.org/3.0/man3/SSL_SESSION_is_resumable/).
pub(crate) fn session_is_resumable(session: &SslSessionRef) -> bool {
    // SAFETY: `session` is a live SSL_SESSION borrowed for the call; the function only reads it.
    unsafe { SSL_SESSION_is_resumable(session.as_ptr()) == 1 }
}

extern "C" {
    // OpenSSL 1.1.1 and newer (the build script refuses older); not declared by openssl-sys.
    fn SSL_SESSION_is_resumable(s: *const sys::SSL_SESSION) -> c_int;
}
