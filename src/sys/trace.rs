//! The handshake timeline (`crate::trace`): the message callback installed with
//! `SSL_set_msg_callback`.

use std::os::raw::{c_int, c_void};
use std::sync::OnceLock;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::SslRef;
use openssl_sys as sys;

use super::ssl::ssl_ptr;

type MsgFn =
    unsafe extern "C" fn(c_int, c_int, c_int, *const c_void, usize, *mut sys::SSL, *mut c_void);

extern "C" {
    // OpenSSL 1.0.0 and newer.
    fn SSL_set_msg_callback(ssl: *mut sys::SSL, cb: Option<MsgFn>);
}

fn trace_index() -> Result<Index<openssl::ssl::Ssl, crate::trace::Recorder>, ErrorStack> {
    static INDEX: OnceLock<Index<openssl::ssl::Ssl, crate::trace::Recorder>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = openssl::ssl::Ssl::new_ex_index::<crate::trace::Recorder>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Records every TLS message of `ssl` with `recorder`
/// ([`SSL_set_msg_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_msg_callback/)).
/// The recorder lives in the connection's ex_data, so it is freed with it.
pub(crate) fn install_trace(
    ssl: &mut SslRef,
    recorder: crate::trace::Recorder,
) -> Result<(), ErrorStack> {
    ssl.set_ex_data(trace_index()?, recorder);
    // SAFETY: `ssl` is a live SSL, exclusively borrowed; `msg_callback` matches the
    // callback type of SSL_set_msg_callback and only reads what OpenSSL passes it.
    unsafe { SSL_set_msg_callback(ssl_ptr(ssl), Some(msg_callback)) };
    Ok(())
}

/// The message callback: hands the message to the connection's recorder. A panic stops
/// here, never unwinding into OpenSSL.
unsafe extern "C" fn msg_callback(
    write_p: c_int,
    _version: c_int,
    content_type: c_int,
    buf: *const c_void,
    len: usize,
    ssl: *mut sys::SSL,
    _arg: *mut c_void,
) {
    if ssl.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: OpenSSL calls this with the live SSL the message belongs to, valid for the
        // duration of the call; the callback does not keep it.
        let ssl = unsafe { SslRef::from_ptr(ssl) };
        let bytes: &[u8] = if buf.is_null() || len == 0 {
            &[]
        } else {
            // SAFETY: OpenSSL passes `len` readable bytes at `buf`, valid during the call.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
        };
        if let Some(recorder) = trace_index().ok().and_then(|i| ssl.ex_data(i)) {
            recorder.record(ssl, write_p != 0, content_type, bytes);
        }
    }));
}
