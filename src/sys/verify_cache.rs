//! The OpenSSL side of the client's certificate-verification cache: the cert-verify callback
//! installed with `SSL_CTX_set_cert_verify_callback`, which looks a chain up in a
//! [`VerifyCache`] and calls `X509_verify_cert` on a miss, and the seal that marks the
//! connections whose verification parameters are known. The cache itself (entries, TTL, key
//! hashing) is safe code in `crate::verify_cache`.
//!
//! # When a verification may be cached (fail closed)
//! A cached verdict must be the one `X509_verify_cert` would give. It depends on the chain
//! and on the verification parameters, and OpenSSL cannot read all of them back: the purpose
//! has a getter only from 3.5 on, the trust setting, the certificate policies, the DANE state
//! (`SSL_dane_enable`, TLSA records) and 4.0's extra IP addresses and e-mail addresses
//! (`X509_VERIFY_PARAM_add1_ip`, `add1_rfc822`, `add1_smtputf8`) have none on any version.
//! So a verification is looked up and stored only for a **sealed** connection: one whose
//! `SSL` the client configuration created itself and handed to the engine without anybody
//! else getting a `&mut` to it ([`seal`]). Every parameter of a sealed connection is then
//! either the context's (constant for the cache, which belongs to that context) or one that
//! tlshake set and that is in the key (the expected host or IP). `SSL_get0_param` and
//! friends need a `&mut SslRef`; every way the crate lends one ([`ssl_mut`](super::ssl_mut),
//! `into_ssl_stream`, detaching the `SSL`) breaks the seal first ([`unseal`]). Connections
//! whose `SSL` came from anywhere else (`ClientConfig::new_ssl`, another context) always
//! verify in full. The readable parameters stay in the key as well (flags, depth, security
//! level, host flags, names, and the purpose from 3.5 on), so that a change made through the
//! configuration can never reuse an entry.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long, c_ulong, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslRef};
use openssl::stack::{Stack, StackRef};
use openssl::x509::{X509Ref, X509StoreContextRef, X509};
use openssl_sys as sys;

use crate::verify_cache::{self, CacheKey, VerifyCache};

// Not declared by openssl-sys; OpenSSL 1.1.0 and newer.
extern "C" {
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
    fn X509_VERIFY_PARAM_get_depth(param: *const sys::X509_VERIFY_PARAM) -> c_int;
    fn X509_VERIFY_PARAM_get_inh_flags(param: *const sys::X509_VERIFY_PARAM) -> u32;
    fn X509_VERIFY_PARAM_get_hostflags(param: *const sys::X509_VERIFY_PARAM) -> u32;
    fn X509_STORE_CTX_set0_verified_chain(
        ctx: *mut sys::X509_STORE_CTX,
        chain: *mut sys::stack_st_X509,
    );
    pub(super) fn ERR_set_mark() -> c_int;
    pub(super) fn ERR_pop_to_mark() -> c_int;
}

// Certificate transparency: absent from a library configured with `no-ct`.
#[cfg(not(ossl_no_ct))]
extern "C" {
    fn SSL_ct_is_enabled(s: *const sys::SSL) -> c_int;
}

// OpenSSL 3.5 and newer: the purpose can be read back.
#[cfg(ossl350)]
extern "C" {
    fn X509_VERIFY_PARAM_get_purpose(param: *const sys::X509_VERIFY_PARAM) -> c_int;
}

// The getters of the expected host, e-mail and IP (also used by `ssl::verified_host`).
extern "C" {
    pub(super) fn X509_VERIFY_PARAM_get0_host(
        param: *mut sys::X509_VERIFY_PARAM,
        idx: c_int,
    ) -> *mut c_char;
    fn X509_VERIFY_PARAM_get0_email(param: *mut sys::X509_VERIFY_PARAM) -> *mut c_char;
    pub(super) fn X509_VERIFY_PARAM_get1_ip_asc(param: *mut sys::X509_VERIFY_PARAM) -> *mut c_char;
}

type CertVerifyFn = unsafe extern "C" fn(*mut sys::X509_STORE_CTX, *mut c_void) -> c_int;
type VerifyCbFn = unsafe extern "C" fn(c_int, *mut sys::X509_STORE_CTX) -> c_int;

// From <openssl/ssl.h> and <openssl/x509_vfy.h>.
const SSL_CTRL_GET_VERIFY_CERT_STORE: c_int = 137;
const X509_V_OK: c_int = 0;
const X509_V_ERR_UNSPECIFIED: c_int = 1;
/// Parameters under which a verification result depends on more than the chain, the names
/// and the configuration (a fixed check time, CRLs, stapled OCSP, certificate policies):
/// never cached.
const UNCACHEABLE_FLAGS: c_ulong = 0x2 // X509_V_FLAG_USE_CHECK_TIME
    | 0x80 // X509_V_FLAG_POLICY_CHECK
    | 0x100 // X509_V_FLAG_EXPLICIT_POLICY
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

/// The seal of a connection whose verification parameters are the configuration's (see the
/// module documentation): present and `true` from [`seal`] until [`unseal`].
#[derive(Debug)]
struct Seal(AtomicBool);

fn seal_index() -> Result<Index<Ssl, Seal>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, Seal>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<Seal>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Seals `ssl`: its verification may use the cache of its context. Only the client
/// configuration calls it, on an `SSL` it has just created and whose parameters only it has
/// set, right before handing it to the engine.
pub(crate) fn seal(ssl: &mut SslRef) -> Result<(), ErrorStack> {
    ssl.set_ex_data(seal_index()?, Seal(AtomicBool::new(true)));
    Ok(())
}

/// Breaks the seal of `ssl` for good: called before a `&mut SslRef` (or the whole `SSL`)
/// leaves the crate, since its owner may then change any verification parameter, readable
/// or not. An unsealed connection always verifies in full.
pub(crate) fn unseal(ssl: &SslRef) {
    if let Some(seal) = seal_index().ok().and_then(|index| ssl.ex_data(index)) {
        seal.0.store(false, Ordering::Release);
    }
}

/// Whether `ssl` is sealed.
fn is_sealed(ssl: &SslRef) -> bool {
    seal_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
        .is_some_and(|seal| seal.0.load(Ordering::Acquire))
}

/// The cert-verify callback: [`verify_or_look_up`], with a panic (a bug of ours) turned into
/// a failed verification, never a pass and never an unwind into C.
unsafe extern "C" fn verify_with_cache(ctx: *mut sys::X509_STORE_CTX, arg: *mut c_void) -> c_int {
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the arguments are what libssl passes to the cert-verify callback, live for
        // this call (see verify_or_look_up).
        unsafe { verify_or_look_up(ctx, arg) }
    }));
    verdict.unwrap_or_else(|_| {
        // SAFETY: `ctx` is the live X509_STORE_CTX of this call; setting its error writes an
        // int.
        unsafe { sys::X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED) };
        0
    })
}

/// The cert-verify callback. On a hit it stands in for `X509_verify_cert` only: it replaces
/// the chain-building and chain-checking step of `ssl_verify_cert_chain`. The proof that the
/// peer holds the leaf's private key is a different handshake message with its own handler:
/// in OpenSSL 3.0's ssl/statem/statem_clnt.c, `ossl_statem_client_process_message` sends
/// `TLS_ST_CR_CERT_VRFY` to `tls_process_cert_verify` (ssl/statem/statem_lib.c), which checks
/// the CertificateVerify signature with the key of `peer_chain[0]` (`tls_get_peer_pkey`) on
/// every handshake, after `tls_post_process_server_certificate` has called this callback.
/// (TLS 1.2: the ServerKeyExchange signature, `tls_process_key_exchange`, likewise.)
///
/// # Safety
/// `ctx` must be the live X509_STORE_CTX libssl passes to the cert-verify callback and `arg`
/// the argument [`install_verify_cache`] registered.
unsafe fn verify_or_look_up(ctx: *mut sys::X509_STORE_CTX, arg: *mut c_void) -> c_int {
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
/// connection is not sealed (see the module documentation), verifies against another store
/// or with another verify callback than the configuration's, uses certificate transparency,
/// or sets time-, revocation- or policy-dependent flags.
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
            as *mut sys::SSL;
        if ssl.is_null() || !is_sealed(SslRef::from_ptr(ssl)) {
            return None;
        }
        let ssl_ctx = sys::SSL_get_SSL_CTX(ssl);
        let same_callback = SSL_get_verify_callback(ssl).map(|f| f as usize)
            == SSL_CTX_get_verify_callback(ssl_ctx).map(|f| f as usize);
        if !same_callback
            || ct_is_enabled(ssl)
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

/// Whether certificate transparency checks are on for `ssl` (`SSL_ct_is_enabled`).
///
/// # Safety
/// `ssl` must be a live SSL.
#[cfg(not(ossl_no_ct))]
unsafe fn ct_is_enabled(ssl: *const sys::SSL) -> bool {
    // SAFETY: `ssl` is live (the caller's contract); the call only reads it.
    unsafe { SSL_ct_is_enabled(ssl) != 0 }
}

/// A library built with `no-ct` has no certificate transparency to enable.
///
/// # Safety
/// None: nothing is read.
#[cfg(ossl_no_ct)]
unsafe fn ct_is_enabled(_ssl: *const sys::SSL) -> bool {
    false
}

/// The verification parameters that decide the result for a given chain and configuration
/// and can be read back: flags, inheritance flags, host-check flags, depth, security level,
/// the purpose (OpenSSL 3.5 and newer), and the expected host names, e-mail and IP. `None`
/// when a flag makes the result depend on more than these ([`UNCACHEABLE_FLAGS`]).
///
/// # Safety
/// `param` must be a live X509_VERIFY_PARAM (or NULL).
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
        #[cfg(ossl350)]
        out.extend_from_slice(&X509_VERIFY_PARAM_get_purpose(param).to_be_bytes());
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
