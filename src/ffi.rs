//! The only module with `unsafe`: direct calls into `libssl` through `openssl-sys`.
//!
//! The `openssl` crate wraps `SSL_connect` and friends but keeps only `SSL_get_error`, dropping
//! the raw return value that tells a controlled shutdown (0) from a fatal error (< 0). tlshake
//! calls the functions itself, here, and nowhere else.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_ulong};

use openssl::error::ErrorStack;
use openssl::ssl::{SslRef, SslSessionRef, SslStream};
use openssl_sys as sys;

/// One call of [`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/).
pub(crate) fn ssl_connect<S>(stream: &mut SslStream<S>) -> c_int {
    // SAFETY: the `SSL` is owned by `stream`, which we borrow exclusively, so no other thread
    // or call touches it meanwhile; its BIO (set by `SslStream::new`) lives as long as it.
    unsafe { sys::SSL_connect(ssl_ptr(stream.ssl())) }
}

/// One call of [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/).
pub(crate) fn ssl_accept<S>(stream: &mut SslStream<S>) -> c_int {
    // SAFETY: as for `ssl_connect`: the `SSL` belongs to the exclusively borrowed `stream`.
    unsafe { sys::SSL_accept(ssl_ptr(stream.ssl())) }
}

/// One call of [`SSL_do_handshake(3)`](https://docs.openssl.org/3.0/man3/SSL_do_handshake/).
pub(crate) fn ssl_do_handshake<S>(stream: &mut SslStream<S>) -> c_int {
    // SAFETY: as for `ssl_connect`: the `SSL` belongs to the exclusively borrowed `stream`,
    // and its role was set with `SSL_set_connect_state` / `SSL_set_accept_state`.
    unsafe { sys::SSL_do_handshake(ssl_ptr(stream.ssl())) }
}

/// [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/) for the value `ret`
/// that the last I/O call on `ssl` returned. Must be called before the error queue is drained.
pub(crate) fn ssl_get_error<S>(stream: &mut SslStream<S>, ret: c_int) -> c_int {
    // SAFETY: the `SSL` belongs to the exclusively borrowed `stream`; `SSL_get_error` reads
    // its state and this thread's error queue.
    unsafe { sys::SSL_get_error(ssl_ptr(stream.ssl()), ret) }
}

/// [`ERR_clear_error(3)`](https://docs.openssl.org/3.0/man3/ERR_clear_error/): empties this
/// thread's error queue so that one call's errors never leak into the next.
pub(crate) fn clear_error_queue() {
    // SAFETY: no arguments; operates on the calling thread's error queue only.
    unsafe { sys::ERR_clear_error() }
}

/// [`ERR_error_string_n(3)`](https://docs.openssl.org/3.0/man3/ERR_error_string/): the exact
/// text OpenSSL prints for a packed error code (`error:0A00010B:SSL routines::wrong version
/// number`).
pub(crate) fn error_string(code: c_ulong) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: `buf` is a writable buffer of `buf.len()` bytes; ERR_error_string_n writes at
    // most that many bytes, always NUL-terminated.
    unsafe { ERR_error_string_n(code, buf.as_mut_ptr(), buf.len()) };
    // SAFETY: `buf` was NUL-terminated by ERR_error_string_n (it zero-fills short output and
    // truncates long output with a terminator), and lives for this borrow.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    text.to_string_lossy().into_owned()
}

/// The protocol version range of one connection, as raw `SSL3_VERSION` / `TLS1_x_VERSION`
/// values (0 = no bound), from
/// [`SSL_get_min_proto_version(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_min_proto_version/)
/// and `SSL_get_max_proto_version`.
pub(crate) fn proto_version_range<S>(stream: &mut SslStream<S>) -> (c_int, c_int) {
    let ssl = ssl_ptr(stream.ssl());
    // SAFETY: the `SSL` belongs to the exclusively borrowed `stream`; both calls only read it.
    unsafe {
        (
            sys::SSL_get_min_proto_version(ssl),
            sys::SSL_get_max_proto_version(ssl),
        )
    }
}

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

/// [`SSL_SESSION_is_resumable(3)`](https://docs.openssl.org/3.0/man3/SSL_SESSION_is_resumable/).
pub(crate) fn session_is_resumable(session: &SslSessionRef) -> bool {
    use foreign_types::ForeignTypeRef;
    // SAFETY: `session` is a live SSL_SESSION borrowed for the call; the function only reads it.
    unsafe { SSL_SESSION_is_resumable(session.as_ptr()) == 1 }
}

// Not declared by openssl-sys; part of libcrypto's stable API since 0.9.6.
extern "C" {
    fn ERR_error_string_n(e: c_ulong, buf: *mut c_char, len: usize);
    // OpenSSL 1.1.1 and newer (the build script refuses older).
    fn SSL_SESSION_is_resumable(s: *const sys::SSL_SESSION) -> c_int;
}

fn ssl_ptr(ssl: &SslRef) -> *mut sys::SSL {
    use foreign_types::ForeignTypeRef;
    ssl.as_ptr()
}
