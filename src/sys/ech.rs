//! Encrypted Client Hello (OpenSSL 4.0, `<openssl/ech.h>`): the client's ECHConfigList, its
//! outer name and ALPN and GREASE; the server's key store; the status and retry
//! configurations of a connection. Compiled only where the linked OpenSSL has ECH
//! (`cfg(all(ossl400, not(ossl_no_ech)))`). The functions are documented on
//! [`SSL_set1_echstore(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/).

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::{SslContextBuilder, SslOptions, SslRef};
use openssl_sys as sys;

use super::verify_cache::{ERR_pop_to_mark, ERR_set_mark};

/// `OSSL_ECHSTORE`, opaque.
#[repr(C)]
struct OsslEchStore {
    _private: [u8; 0],
}

/// `SSL_OP_ECH_GREASE` (`SSL_OP_BIT(37)`, `<openssl/ssl.h>`).
const SSL_OP_ECH_GREASE: u64 = 1 << 37;
/// `OSSL_ECH_FOR_RETRY` / `OSSL_ECH_NO_RETRY`.
const OSSL_ECH_FOR_RETRY: c_int = 1;
const OSSL_ECH_NO_RETRY: c_int = 0;

extern "C" {
    fn OSSL_ECHSTORE_new(libctx: *mut c_void, propq: *const c_char) -> *mut OsslEchStore;
    fn OSSL_ECHSTORE_free(es: *mut OsslEchStore);
    fn OSSL_ECHSTORE_read_echconfiglist(es: *mut OsslEchStore, bio: *mut sys::BIO) -> c_int;
    fn OSSL_ECHSTORE_read_pem(es: *mut OsslEchStore, bio: *mut sys::BIO, for_retry: c_int)
        -> c_int;
    fn OSSL_ECHSTORE_num_keys(es: *mut OsslEchStore, numkeys: *mut c_int) -> c_int;
    fn SSL_CTX_set1_echstore(ctx: *mut sys::SSL_CTX, es: *mut OsslEchStore) -> c_int;
    fn SSL_CTX_ech_set1_outer_alpn_protos(
        ctx: *mut sys::SSL_CTX,
        protos: *const u8,
        protos_len: usize,
    ) -> c_int;
    fn SSL_ech_set1_outer_server_name(
        ssl: *mut sys::SSL,
        outer_name: *const c_char,
        no_outer: c_int,
    ) -> c_int;
    fn SSL_ech_get1_status(
        ssl: *mut sys::SSL,
        inner_sni: *mut *mut c_char,
        outer_sni: *mut *mut c_char,
    ) -> c_int;
    fn SSL_ech_get1_retry_config(ssl: *mut sys::SSL, ec: *mut *mut u8, eclen: *mut usize) -> c_int;
}

/// `1` is success for these functions; anything else leaves OpenSSL's reason in the queue.
fn check(ret: c_int) -> Result<(), ErrorStack> {
    if ret == 1 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}

/// An `OSSL_ECHSTORE` owned here and freed on drop.
pub(crate) struct EchStore(*mut OsslEchStore);

impl EchStore {
    /// [`OSSL_ECHSTORE_new(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)
    /// with the default library context.
    pub(crate) fn new() -> Result<EchStore, ErrorStack> {
        // SAFETY: NULL library context and property query are documented defaults; the
        // store returned (or NULL) is owned by the value made here, freed once in drop.
        let es = unsafe { OSSL_ECHSTORE_new(std::ptr::null_mut(), std::ptr::null()) };
        if es.is_null() {
            return Err(ErrorStack::get());
        }
        Ok(EchStore(es))
    }

    /// [`OSSL_ECHSTORE_read_echconfiglist(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)
    /// of the wire form of a (checked) ECHConfigList.
    pub(crate) fn read_config_list(&mut self, wire: &[u8]) -> Result<(), ErrorStack> {
        let bio = MemBio::new(wire)?;
        // SAFETY: the store is live and exclusively borrowed; the read-only memory BIO
        // borrows `wire`, which outlives it (it is freed at the end of this function).
        check(unsafe { OSSL_ECHSTORE_read_echconfiglist(self.0, bio.0) })
    }

    /// [`OSSL_ECHSTORE_read_pem(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)
    /// of the text of one key file (a private key and its ECHConfigList), its configurations
    /// sent as retry configurations when `for_retry`.
    pub(crate) fn read_pem(&mut self, pem: &[u8], for_retry: bool) -> Result<(), ErrorStack> {
        let bio = MemBio::new(pem)?;
        let retry = if for_retry {
            OSSL_ECH_FOR_RETRY
        } else {
            OSSL_ECH_NO_RETRY
        };
        // SAFETY: as in read_config_list; read_pem pushes its own buffering BIO onto ours
        // and pops it again before returning, leaving ours to be freed here.
        check(unsafe { OSSL_ECHSTORE_read_pem(self.0, bio.0, retry) })
    }

    /// The private keys in the store
    /// ([`OSSL_ECHSTORE_num_keys(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)).
    pub(crate) fn num_keys(&self) -> Result<usize, ErrorStack> {
        let mut n: c_int = 0;
        // SAFETY: the store is live; the count is written into a local.
        check(unsafe { OSSL_ECHSTORE_num_keys(self.0, &mut n) })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// [`SSL_CTX_set1_echstore(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/):
    /// every connection of the context being built gets a copy of the store.
    pub(crate) fn install(&self, b: &mut SslContextBuilder) -> Result<(), ErrorStack> {
        // SAFETY: the builder owns its live SSL_CTX, exclusively borrowed; set1 copies the
        // store (ossl_echstore_dup), so ours stays ours to free.
        check(unsafe { SSL_CTX_set1_echstore(b.as_ptr(), self.0) })
    }
}

impl Drop for EchStore {
    fn drop(&mut self) {
        // SAFETY: the pointer came from OSSL_ECHSTORE_new and is freed only here.
        unsafe { OSSL_ECHSTORE_free(self.0) }
    }
}

/// A read-only memory BIO over borrowed bytes, freed on drop.
struct MemBio(*mut sys::BIO);

impl MemBio {
    fn new(bytes: &[u8]) -> Result<MemBio, ErrorStack> {
        let len = c_int::try_from(bytes.len()).map_err(|_| ErrorStack::get())?;
        // SAFETY: BIO_new_mem_buf makes a read-only BIO that points into `bytes` without
        // copying; every caller keeps `bytes` borrowed until the BIO is dropped.
        let bio = unsafe { sys::BIO_new_mem_buf(bytes.as_ptr().cast::<c_void>(), len) };
        if bio.is_null() {
            return Err(ErrorStack::get());
        }
        Ok(MemBio(bio))
    }
}

impl Drop for MemBio {
    fn drop(&mut self) {
        // SAFETY: the BIO came from BIO_new_mem_buf and is freed only here.
        unsafe { sys::BIO_free_all(self.0) }
    }
}

/// [`SSL_CTX_ech_set1_outer_alpn_protos(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/):
/// the ALPN list (wire form) of the outer ClientHello.
pub(crate) fn set_outer_alpn(b: &mut SslContextBuilder, wire: &[u8]) -> Result<(), ErrorStack> {
    // SAFETY: the builder's SSL_CTX is live and exclusively borrowed; the function copies
    // `wire` (OPENSSL_memdup) and returns 1 for success.
    check(unsafe { SSL_CTX_ech_set1_outer_alpn_protos(b.as_ptr(), wire.as_ptr(), wire.len()) })
}

/// `SSL_OP_ECH_GREASE` on the context
/// ([`SSL_CTX_set_options(3)`](https://docs.openssl.org/master/man3/SSL_CTX_set_options/)):
/// a client without a configuration sends a GREASE ECH extension.
pub(crate) fn set_grease(b: &mut SslContextBuilder) {
    b.set_options(SslOptions::from_bits_retain(SSL_OP_ECH_GREASE));
}

/// [`SSL_ech_set1_outer_server_name(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/):
/// the SNI of the outer ClientHello instead of the configuration's public name.
pub(crate) fn set_outer_server_name(ssl: &mut SslRef, name: &str) -> Result<(), ErrorStack> {
    let name = CString::new(name).map_err(|_| ErrorStack::get())?;
    // SAFETY: the SSL is live and exclusively borrowed; the name is NUL-terminated and
    // copied (OPENSSL_strdup) before the call returns.
    check(unsafe { SSL_ech_set1_outer_server_name(ssl.as_ptr(), name.as_ptr(), 0) })
}

/// [`SSL_ech_get1_status(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/):
/// the raw status code, the inner and the outer name. The thread's error queue is left as it
/// was (the function queues an internal error for some failed attempts).
pub(crate) fn ech_status(ssl: &SslRef) -> (i32, Option<String>, Option<String>) {
    let mut inner: *mut c_char = std::ptr::null_mut();
    let mut outer: *mut c_char = std::ptr::null_mut();
    // SAFETY: the SSL is live for the borrow; the function only reads the connection and
    // writes two newly allocated strings (or NULL) into the locals, which are copied and
    // freed below. The mark keeps the thread's error queue as it was.
    let code = unsafe {
        ERR_set_mark();
        let code = SSL_ech_get1_status(ssl.as_ptr(), &mut inner, &mut outer);
        ERR_pop_to_mark();
        code
    };
    (code, take_string(inner), take_string(outer))
}

/// A string OpenSSL allocated for the caller, copied and freed.
fn take_string(p: *mut c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated (an OPENSSL_strdup copy made for the caller).
    let text = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: allocated by OpenSSL for us (get1) and not used after this.
    unsafe { sys::OPENSSL_free(p.cast::<c_void>()) };
    Some(text)
}

/// [`SSL_ech_get1_retry_config(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/):
/// the ECHConfigList a server sent back, when it sent one and OpenSSL deems it usable (after
/// a completed handshake, or one that failed only for ECH). The thread's error queue is left
/// as it was.
pub(crate) fn ech_retry_configs(ssl: &SslRef) -> Option<Vec<u8>> {
    let mut ec: *mut u8 = std::ptr::null_mut();
    let mut len: usize = 0;
    // SAFETY: the SSL is live for the borrow; the function reads it and writes a newly
    // allocated copy (or NULL) and its length into the locals, copied and freed below. The
    // mark keeps the thread's error queue as it was.
    let ok = unsafe {
        ERR_set_mark();
        let ok = SSL_ech_get1_retry_config(ssl.as_ptr(), &mut ec, &mut len);
        ERR_pop_to_mark();
        ok
    };
    if ok != 1 || ec.is_null() {
        return None;
    }
    // SAFETY: `ec` points to `len` bytes allocated for the caller (OPENSSL_memdup).
    let bytes = unsafe { std::slice::from_raw_parts(ec, len) }.to_vec();
    // SAFETY: allocated by OpenSSL for us (get1) and not used after this.
    unsafe { sys::OPENSSL_free(ec.cast::<c_void>()) };
    Some(bytes)
}
