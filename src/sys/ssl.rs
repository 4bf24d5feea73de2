//! The only module with `unsafe`: direct calls into `libssl` through `openssl-sys`.
//!
//! The `openssl` crate wraps `SSL_connect` and friends but keeps only `SSL_get_error`, dropping
//! the raw return value that tells a controlled shutdown (0) from a fatal error (< 0). tlshake
//! calls the functions itself, here, and nowhere else.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long, c_ulong, c_void};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{SslContext, SslContextBuilder, SslRef, SslSessionRef, SslStream};
use openssl::stack::{Stack, StackRef};
use openssl::x509::{X509Ref, X509StoreContextRef, X509};
use openssl_sys as sys;

use crate::verify_cache::{self, CacheKey, VerifyCache};

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

/// Frees the connection's record buffers if they hold no data, as
/// [`SSL_free_buffers(3)`](https://docs.openssl.org/3.0/man3/SSL_alloc_buffers/) does; a
/// buffer in use is kept, and OpenSSL allocates them again on the next read or write. Returns
/// whether they were freed. Does nothing with an OpenSSL that has CVE-2024-4741 (buffers freed
/// while in use).
pub(crate) fn free_idle_buffers<S>(stream: &mut SslStream<S>) -> bool {
    static FIXED: OnceLock<bool> = OnceLock::new();
    if !*FIXED.get_or_init(|| free_buffers_is_fixed(openssl::version::number())) {
        return false;
    }
    // SAFETY: the SSL* is live and borrowed mutably for the call; with the fixed versions
    // SSL_free_buffers frees only buffers that hold no record data and returns 0 otherwise.
    unsafe { SSL_free_buffers(stream.ssl().as_ptr()) == 1 }
}

/// True for OpenSSL releases where `SSL_free_buffers` never frees a buffer in use: 1.1.1y,
/// 3.0.14, 3.1.6, 3.2.2, 3.3.1 and newer (CVE-2024-4741).
fn free_buffers_is_fixed(version: i64) -> bool {
    let first_fixed = match version {
        v if v >= 0x3040_0000 => return true,
        v if v >= 0x3030_0000 => 0x3030_0010,
        v if v >= 0x3020_0000 => 0x3020_0020,
        v if v >= 0x3010_0000 => 0x3010_0060,
        v if v >= 0x3000_0000 => 0x3000_00e0,
        _ => 0x1010_119f,
    };
    version >= first_fixed
}

// Not declared by openssl-sys; part of libcrypto's stable API since 0.9.6.
extern "C" {
    // OpenSSL 1.1.0 and newer.
    fn SSL_free_buffers(ssl: *mut sys::SSL) -> c_int;
    fn ERR_error_string_n(e: c_ulong, buf: *mut c_char, len: usize);
    // OpenSSL 1.1.1 and newer (the build script refuses older).
    fn SSL_SESSION_is_resumable(s: *const sys::SSL_SESSION) -> c_int;
    // OpenSSL 1.1.0 and newer.
    fn SSL_CTX_set_cert_verify_callback(
        ctx: *mut sys::SSL_CTX,
        cb: Option<CertVerifyFn>,
        arg: *mut c_void,
    );
    fn X509_STORE_CTX_get0_cert(ctx: *const sys::X509_STORE_CTX) -> *mut sys::X509;
    fn X509_STORE_CTX_get0_untrusted(ctx: *const sys::X509_STORE_CTX) -> *mut sys::stack_st_X509;
    fn X509_STORE_CTX_get0_store(ctx: *const sys::X509_STORE_CTX) -> *mut sys::X509_STORE;
    fn X509_STORE_CTX_get0_param(ctx: *const sys::X509_STORE_CTX) -> *mut sys::X509_VERIFY_PARAM;
    fn SSL_get_verify_callback(s: *const sys::SSL) -> Option<VerifyCbFn>;
    fn SSL_CTX_get_verify_callback(ctx: *const sys::SSL_CTX) -> Option<VerifyCbFn>;
    fn SSL_ct_is_enabled(s: *const sys::SSL) -> c_int;
    fn X509_VERIFY_PARAM_get_depth(param: *const sys::X509_VERIFY_PARAM) -> c_int;
    fn X509_VERIFY_PARAM_get_inh_flags(param: *const sys::X509_VERIFY_PARAM) -> u32;
    fn X509_VERIFY_PARAM_get_hostflags(param: *const sys::X509_VERIFY_PARAM) -> u32;
    fn X509_STORE_CTX_set0_verified_chain(
        ctx: *mut sys::X509_STORE_CTX,
        chain: *mut sys::stack_st_X509,
    );
    fn SSL_CTX_set_cert_cb(
        ctx: *mut sys::SSL_CTX,
        cb: Option<unsafe extern "C" fn(*mut sys::SSL, *mut c_void) -> c_int>,
        arg: *mut c_void,
    );
    fn ERR_set_mark() -> c_int;
    fn ERR_pop_to_mark() -> c_int;
}

// OpenSSL 3.0 and newer: the getters of the expected host, e-mail and IP.
#[cfg(ossl300)]
extern "C" {
    fn X509_VERIFY_PARAM_get0_host(param: *mut sys::X509_VERIFY_PARAM, idx: c_int) -> *mut c_char;
    fn X509_VERIFY_PARAM_get0_email(param: *mut sys::X509_VERIFY_PARAM) -> *mut c_char;
    fn X509_VERIFY_PARAM_get1_ip_asc(param: *mut sys::X509_VERIFY_PARAM) -> *mut c_char;
}

/// The stream's `SslRef`, mutably: `SslStream` itself only lends `&SslRef`.
pub(crate) fn ssl_mut<S>(stream: &mut SslStream<S>) -> &mut SslRef {
    // SAFETY: the pointer is the stream's own live `SSL`, which lives as long as the stream;
    // the `&mut` borrow of the stream makes the returned reference the only one for its
    // lifetime.
    unsafe { SslRef::from_ptr_mut(ssl_ptr(stream.ssl())) }
}

fn ssl_ptr(ssl: &SslRef) -> *mut sys::SSL {
    ssl.as_ptr()
}

type CertVerifyFn = unsafe extern "C" fn(*mut sys::X509_STORE_CTX, *mut c_void) -> c_int;
type VerifyCbFn = unsafe extern "C" fn(c_int, *mut sys::X509_STORE_CTX) -> c_int;

// From <openssl/ssl.h> and <openssl/x509_vfy.h>.
const SSL_CTRL_GET_VERIFY_CERT_STORE: c_int = 137;
const X509_V_OK: c_int = 0;
/// Parameters under which a verification result depends on more than the chain, the names
/// and the configuration (a fixed check time, CRLs, stapled OCSP): never cached.
const UNCACHEABLE_FLAGS: c_ulong = 0x2 // X509_V_FLAG_USE_CHECK_TIME
    | 0x4 // X509_V_FLAG_CRL_CHECK
    | 0x8 // X509_V_FLAG_CRL_CHECK_ALL
    | 0x20_0000 // X509_V_FLAG_NO_CHECK_TIME
    | 0x40_0000 // X509_V_FLAG_OCSP_RESP_CHECK (3.6)
    | 0x80_0000; // X509_V_FLAG_OCSP_RESP_CHECK_ALL (3.6)

/// The context slot that keeps a configuration's [`VerifyCache`] alive as long as its
/// `SSL_CTX`.
fn verify_cache_index() -> Result<Index<SslContext, Arc<VerifyCache>>, ErrorStack> {
    static INDEX: OnceLock<Index<SslContext, Arc<VerifyCache>>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = SslContext::new_ex_index::<Arc<VerifyCache>>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Installs the verification cache on a client context with
/// [`SSL_CTX_set_cert_verify_callback(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_verify_callback/).
/// Call it after the trust store is set: the cache only serves connections that verify
/// against that store. Returns the cache, which the context also owns.
pub(crate) fn install_verify_cache(
    b: &mut SslContextBuilder,
    ttl: Duration,
) -> Result<Arc<VerifyCache>, ErrorStack> {
    let ctx = b.as_ptr();
    let mut verify_store: *mut sys::X509_STORE = std::ptr::null_mut();
    // SAFETY: `ctx` is the live SSL_CTX owned by the builder we borrow exclusively. The
    // GET_VERIFY_CERT_STORE control writes one `X509_STORE *` (or NULL) through `parg`, which
    // points at `verify_store`; SSL_CTX_get_cert_store only reads the context.
    let store = unsafe {
        sys::SSL_CTX_ctrl(
            ctx,
            SSL_CTRL_GET_VERIFY_CERT_STORE,
            0 as c_long,
            (&mut verify_store as *mut *mut sys::X509_STORE).cast(),
        );
        if verify_store.is_null() {
            sys::SSL_CTX_get_cert_store(ctx)
        } else {
            verify_store
        }
    };
    let cache = Arc::new(VerifyCache::new(ttl, store as usize));
    let arg = Arc::as_ptr(&cache) as *mut c_void;
    b.set_ex_data(verify_cache_index()?, Arc::clone(&cache));
    // SAFETY: `ctx` is the builder's live SSL_CTX. `arg` points at the `VerifyCache` inside
    // an `Arc` whose clone was just stored in this SSL_CTX's ex_data: the openssl crate drops
    // it only from the ex_data free callback, which runs in SSL_CTX_free once the last
    // reference is gone. Every SSL holds a reference to its SSL_CTX, and libssl calls this
    // callback only while verifying for such an SSL, so `arg` is valid at every call. libssl
    // reads the callback and its `arg` from the same SSL_CTX (`sctx->app_verify_callback(ctx,
    // sctx->app_verify_arg)` in ssl/ssl_cert.c ssl_verify_cert_chain), so they always match.
    // The cache is only read through `&VerifyCache` (interior Mutex and atomics), so shared
    // use from several threads' handshakes is sound.
    unsafe { SSL_CTX_set_cert_verify_callback(ctx, Some(verify_with_cache), arg) };
    Ok(cache)
}

/// Installs, with [`SSL_CTX_set_cert_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_cb/),
/// a callback that a client's libssl calls when the server sends a CertificateRequest; it
/// only notes the request (`crate::client::note_certificate_request`) and lets the handshake
/// go on with the certificate configured, if any.
pub(crate) fn note_certificate_requests<H: CertificateRequestHook>(b: &mut SslContextBuilder) {
    // SAFETY: `b` owns the live SSL_CTX, borrowed exclusively; the callback is a plain
    // function that uses no `arg`, so NULL is fine.
    unsafe {
        SSL_CTX_set_cert_cb(
            b.as_ptr(),
            Some(certificate_requested::<H>),
            std::ptr::null_mut(),
        )
    };
}

/// What a client does when its server sends a CertificateRequest.
pub(crate) trait CertificateRequestHook {
    /// Called during the handshake of `ssl` when the server asked for a client certificate.
    fn certificate_requested(ssl: &SslRef);
}

unsafe extern "C" fn certificate_requested<H: CertificateRequestHook>(
    ssl: *mut sys::SSL,
    _arg: *mut c_void,
) -> c_int {
    if !ssl.is_null() {
        // SAFETY: libssl passes the live SSL it is handshaking for, for the duration of the
        // call; we only read its ex_data through a shared reference, as the openssl crate's
        // own callbacks do.
        let ssl = unsafe { SslRef::from_ptr(ssl) };
        H::certificate_requested(ssl);
    }
    // 1: go on (0 would fail the handshake, a negative value suspend it).
    1
}

/// The cert-verify callback. On a hit it stands in for `X509_verify_cert` only: it replaces
/// the chain-building and chain-checking step of `ssl_verify_cert_chain`. The proof that the
/// peer holds the leaf's private key is a different handshake message with its own handler:
/// in OpenSSL 3.0's ssl/statem/statem_clnt.c, `ossl_statem_client_process_message` sends
/// `TLS_ST_CR_CERT_VRFY` to `tls_process_cert_verify` (ssl/statem/statem_lib.c), which checks
/// the CertificateVerify signature with the key of `peer_chain[0]` (`tls_get_peer_pkey`) on
/// every handshake, after `tls_post_process_server_certificate` has called this callback.
/// (TLS 1.2: the ServerKeyExchange signature, `tls_process_key_exchange`, likewise.)
unsafe extern "C" fn verify_with_cache(ctx: *mut sys::X509_STORE_CTX, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `VerifyCache` that `install_verify_cache` registered, alive for the
    // SSL_CTX's lifetime (see there); we only take a shared reference.
    let cache = unsafe { &*(arg as *const VerifyCache) };
    // SAFETY: libssl passes the live X509_STORE_CTX it initialised in ssl_verify_cert_chain,
    // for the duration of this call.
    let key = unsafe { cache_key(ctx, cache) };
    match key.as_ref().map(|key| cache.lookup(key)) {
        Some(Some(chain)) => {
            // What a successful X509_verify_cert leaves behind: the verified chain (read by
            // ssl_verify_cert_chain into SSL_get0_verified_chain) and X509_V_OK.
            // Out of memory for the stack: verify in full instead (never fail on a hit).
            let stack = Stack::<X509>::new().ok().and_then(|mut stack| {
                chain
                    .into_iter()
                    .try_for_each(|cert| stack.push(cert))
                    .ok()
                    .map(|()| stack)
            });
            if let Some(stack) = stack {
                let stack = std::mem::ManuallyDrop::new(stack);
                // SAFETY: `ctx` is live (above). set0 takes ownership of the stack and of
                // the certificate references it holds (each cloned, i.e. up-referenced, for
                // it); ManuallyDrop keeps us from freeing it as well. Setting the error only
                // writes an int.
                unsafe {
                    X509_STORE_CTX_set0_verified_chain(ctx, stack.as_ptr());
                    sys::X509_STORE_CTX_set_error(ctx, X509_V_OK);
                }
                return 1;
            }
        }
        Some(None) => {}
        None => cache.count_miss(),
    }
    // SAFETY: `ctx` is live and initialised with the store, leaf, untrusted chain, params and
    // verify callback of the connection (ssl_verify_cert_chain); this is the call libssl makes
    // itself when no cert-verify callback is installed.
    let ok = unsafe { sys::X509_verify_cert(ctx) };
    if ok == 1 {
        // SAFETY: `ctx` is live and exclusively ours for this call.
        let store = unsafe { X509StoreContextRef::from_ptr(ctx) };
        if store.error().as_raw() == X509_V_OK {
            if let (Some(key), Some(chain)) = (key, store.chain()) {
                if let Some(not_after) = verify_cache::earliest_not_after(chain) {
                    cache.insert(
                        key,
                        not_after,
                        chain.iter().map(X509Ref::to_owned).collect(),
                    );
                }
            }
        }
    }
    ok
}

/// The key of this verification, or `None` when its result must not be cached: the
/// connection verifies against another store or with another verify callback than the
/// configuration's, uses certificate transparency or time/revocation-dependent flags, or the
/// parameters cannot be read (OpenSSL older than 3.0).
///
/// # Safety
/// `ctx` must be the live X509_STORE_CTX that libssl passes to the cert-verify callback.
unsafe fn cache_key(ctx: *mut sys::X509_STORE_CTX, cache: &VerifyCache) -> Option<CacheKey> {
    // SAFETY (whole block): `ctx` is live (the caller's contract) and libssl set its SSL
    // ex_data to the connection's SSL before calling us; every call below only reads ctx, the
    // SSL, the SSL's SSL_CTX or the param ctx owns, all alive for this call. The leaf and the
    // untrusted stack are borrowed from ctx for the duration of the hashing only.
    unsafe {
        let ssl = sys::X509_STORE_CTX_get_ex_data(ctx, sys::SSL_get_ex_data_X509_STORE_CTX_idx())
            as *const sys::SSL;
        if ssl.is_null() {
            return None;
        }
        let ssl_ctx = sys::SSL_get_SSL_CTX(ssl);
        let same_callback = SSL_get_verify_callback(ssl).map(|f| f as usize)
            == SSL_CTX_get_verify_callback(ssl_ctx).map(|f| f as usize);
        if !same_callback
            || SSL_ct_is_enabled(ssl) != 0
            || X509_STORE_CTX_get0_store(ctx) as usize != cache.store_addr()
        {
            return None;
        }
        let params = param_bytes(X509_STORE_CTX_get0_param(ctx))?;
        let leaf = X509_STORE_CTX_get0_cert(ctx);
        if leaf.is_null() {
            return None;
        }
        let leaf = X509Ref::from_ptr(leaf);
        let untrusted = X509_STORE_CTX_get0_untrusted(ctx);
        let untrusted: Option<&StackRef<X509>> =
            (!untrusted.is_null()).then(|| StackRef::from_ptr(untrusted));
        verify_cache::chain_key(leaf, untrusted, &params)
    }
}

/// The verification parameters that decide the result for a given chain and configuration:
/// flags, depth, security level, host-check flags and the expected host names, e-mail and IP.
///
/// # Safety
/// `param` must be a live X509_VERIFY_PARAM (or NULL).
#[cfg(ossl300)]
unsafe fn param_bytes(param: *mut sys::X509_VERIFY_PARAM) -> Option<Vec<u8>> {
    if param.is_null() {
        return None;
    }
    let mut out = Vec::with_capacity(64);
    // SAFETY (whole block): `param` is live (the caller's contract). The getters only read it;
    // get0_host/get0_email return pointers into `param` (NUL-terminated, valid until the param
    // changes, which cannot happen during this call) or NULL; get1_ip_asc returns a fresh
    // NUL-terminated string (or NULL) that we free with OPENSSL_free after copying.
    unsafe {
        let flags = sys::X509_VERIFY_PARAM_get_flags(param);
        if flags & UNCACHEABLE_FLAGS != 0 {
            return None;
        }
        out.extend_from_slice(&(flags as u64).to_be_bytes());
        out.extend_from_slice(&X509_VERIFY_PARAM_get_inh_flags(param).to_be_bytes());
        out.extend_from_slice(&X509_VERIFY_PARAM_get_hostflags(param).to_be_bytes());
        out.extend_from_slice(&X509_VERIFY_PARAM_get_depth(param).to_be_bytes());
        out.extend_from_slice(&sys::X509_VERIFY_PARAM_get_auth_level(param).to_be_bytes());
        let mut push = |tag: u8, text: *const c_char| {
            if !text.is_null() {
                let bytes = CStr::from_ptr(text).to_bytes();
                out.push(tag);
                out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        };
        let mut idx = 0;
        loop {
            let host = X509_VERIFY_PARAM_get0_host(param, idx);
            if host.is_null() {
                break;
            }
            push(b'h', host);
            idx += 1;
        }
        push(b'e', X509_VERIFY_PARAM_get0_email(param));
        // With no IP set, get1_ip_asc queues "passed a null parameter" (x509_vpm.c): the
        // probe must leave the error queue as X509_verify_cert alone would.
        ERR_set_mark();
        let ip = X509_VERIFY_PARAM_get1_ip_asc(param);
        ERR_pop_to_mark();
        push(b'i', ip);
        if !ip.is_null() {
            sys::OPENSSL_free(ip.cast());
        }
    }
    Some(out)
}

/// Before OpenSSL 3.0 the expected names cannot be read back: nothing is cached.
#[cfg(not(ossl300))]
unsafe fn param_bytes(_param: *mut sys::X509_VERIFY_PARAM) -> Option<Vec<u8>> {
    None
}

// ---- the handshake timeline (crate::trace) ------------------------------------------------

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

#[cfg(feature = "tokio")]
extern "C" {
    // OpenSSL 1.1.0 and newer.
    fn SSL_up_ref(ssl: *mut sys::SSL) -> c_int;
}

/// Takes the `Ssl` out of `stream`, dropping the stream's BIO and with it the transport `S`:
/// [`SSL_up_ref(3)`](https://docs.openssl.org/3.0/man3/SSL_new/) keeps the `SSL` alive past
/// the stream, and [`SSL_set_bio(3)`](https://docs.openssl.org/3.0/man3/SSL_set_bio/) with
/// two null BIOs frees the stream's BIO before the stream frees its BIO method. The `Ssl`
/// keeps its session, its peer certificate and its ex data; it has no BIO until one is set.
/// `None` (and the stream dropped whole) if the reference could not be taken.
#[cfg(feature = "tokio")]
pub(crate) fn detach_ssl<S>(stream: SslStream<S>) -> Option<openssl::ssl::Ssl> {
    use foreign_types::ForeignType;
    let ptr = ssl_ptr(stream.ssl());
    // SAFETY: `ptr` is the live SSL* owned by `stream`; SSL_up_ref only increments its
    // reference count, so the SSL outlives the `SSL_free` that dropping `stream` performs.
    if unsafe { SSL_up_ref(ptr) } != 1 {
        return None;
    }
    // SAFETY: the SSL is live (owned by `stream` and by the reference just taken). The
    // stream's BIO was set as both read and write BIO; SSL_set_bio(NULL, NULL) releases both
    // references, which frees the BIO and runs its destroy callback (dropping `S`) now,
    // while the BIO method it points at is still alive. No BIO refers to the method after.
    unsafe { sys::SSL_set_bio(ptr, std::ptr::null_mut(), std::ptr::null_mut()) };
    drop(stream);
    // SAFETY: the reference taken above is ours alone: `stream` released its own in drop,
    // so the new `Ssl` owns the SSL* and frees it once.
    Some(unsafe { openssl::ssl::Ssl::from_ptr(ptr) })
}

/// Adds `SSL_MODE_ENABLE_PARTIAL_WRITE` and `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER` to `ssl`
/// ([`SSL_set_mode(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_mode/)), as
/// `SslConnector` does: a write that returned `WANT_WRITE` may then be retried from another
/// buffer holding the same bytes (an async writer's buffer moves), and a write returns after
/// each record it sent rather than only once all of it is out.
#[cfg(feature = "tokio")]
pub(crate) fn set_async_write_modes(ssl: &mut SslRef) {
    let mode = sys::SSL_MODE_ENABLE_PARTIAL_WRITE | sys::SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    // SAFETY: the SSL is live and borrowed mutably for the call; SSL_CTRL_MODE only ORs the
    // flags into its mode and returns the new mode, and takes no pointer argument.
    unsafe { sys::SSL_ctrl(ssl_ptr(ssl), sys::SSL_CTRL_MODE, mode, std::ptr::null_mut()) };
}

#[cfg(test)]
mod free_buffers_tests {
    use super::free_buffers_is_fixed;

    #[test]
    fn only_releases_without_cve_2024_4741_free_buffers() {
        assert!(!free_buffers_is_fixed(0x1010_118f)); // 1.1.1x
        assert!(free_buffers_is_fixed(0x1010_119f)); // 1.1.1y
        assert!(!free_buffers_is_fixed(0x3000_00d0)); // 3.0.13
        assert!(free_buffers_is_fixed(0x3000_00e0)); // 3.0.14
        assert!(free_buffers_is_fixed(0x3000_0130)); // 3.0.19
        assert!(!free_buffers_is_fixed(0x3010_0050)); // 3.1.5
        assert!(free_buffers_is_fixed(0x3010_0060)); // 3.1.6
        assert!(!free_buffers_is_fixed(0x3020_0010)); // 3.2.1
        assert!(free_buffers_is_fixed(0x3020_0020)); // 3.2.2
        assert!(!free_buffers_is_fixed(0x3030_0000)); // 3.3.0
        assert!(free_buffers_is_fixed(0x3030_0010)); // 3.3.1
        assert!(free_buffers_is_fixed(0x3060_0030)); // 3.6.3
    }
}
