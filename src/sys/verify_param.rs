//! Per-connection verification settings the `openssl` crate does not bind: the trust
//! setting, certificate policies, DANE TLSA records, and OpenSSL 4.0's extra expected IP
//! addresses and e-mail addresses. The harness exposes them so that tests can change every
//! setting a user could change through FFI, and check that the verification cache never
//! answers differently from OpenSSL.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::{SslContextBuilder, SslRef};
use openssl_sys as sys;

extern "C" {
    fn SSL_set_trust(ssl: *mut sys::SSL, trust: c_int) -> c_int;
    fn SSL_CTX_dane_enable(ctx: *mut sys::SSL_CTX) -> c_int;
    fn SSL_dane_enable(ssl: *mut sys::SSL, basedomain: *const c_char) -> c_int;
    fn SSL_dane_tlsa_add(
        ssl: *mut sys::SSL,
        usage: u8,
        selector: u8,
        mtype: u8,
        data: *const u8,
        dlen: usize,
    ) -> c_int;
    fn X509_VERIFY_PARAM_set1_policies(
        param: *mut sys::X509_VERIFY_PARAM,
        policies: *mut sys::stack_st_ASN1_OBJECT,
    ) -> c_int;
}

#[cfg(ossl400)]
extern "C" {
    fn X509_VERIFY_PARAM_add1_ip(
        param: *mut sys::X509_VERIFY_PARAM,
        ip: *const u8,
        len: usize,
    ) -> c_int;
    fn X509_VERIFY_PARAM_add1_rfc822(
        param: *mut sys::X509_VERIFY_PARAM,
        email: *const c_char,
        len: usize,
    ) -> c_int;
}

/// `1` is success for these setters; anything else leaves OpenSSL's reason in the queue.
fn check(ret: c_int) -> Result<(), ErrorStack> {
    if ret == 1 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}

/// [`SSL_set_trust(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_purpose/): the trust
/// setting (`X509_TRUST_*`) the peer's chain is checked with.
pub(crate) fn set_trust(ssl: &mut SslRef, trust: c_int) -> Result<(), ErrorStack> {
    // SAFETY: the SSL is live and exclusively borrowed; SSL_set_trust copies an int into its
    // verification parameters (refusing an unknown id).
    check(unsafe { SSL_set_trust(ssl.as_ptr(), trust) })
}

/// [`SSL_CTX_dane_enable(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_dane_enable/): lets
/// the connections of the context being built take TLSA records.
pub(crate) fn dane_enable_context(b: &mut SslContextBuilder) -> Result<(), ErrorStack> {
    // SAFETY: the builder owns the live SSL_CTX, exclusively borrowed; nothing else uses the
    // context before it is built.
    let ret = unsafe { SSL_CTX_dane_enable(b.as_ptr()) };
    if ret > 0 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}

/// [`SSL_dane_enable(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_dane_enable/) for
/// `base_domain`, then
/// [`SSL_dane_tlsa_add(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_dane_enable/) of one
/// record. Fails when the context was not DANE-enabled. `Ok(false)`: OpenSSL found the
/// record unusable and ignored it.
pub(crate) fn dane_tlsa(
    ssl: &mut SslRef,
    base_domain: &str,
    (usage, selector, mtype): (u8, u8, u8),
    data: &[u8],
) -> Result<bool, ErrorStack> {
    let base = CString::new(base_domain).map_err(|_| ErrorStack::get())?;
    // SAFETY: the SSL is live and exclusively borrowed; `base` is NUL-terminated and copied
    // by SSL_dane_enable (as SNI and the reference identity).
    let enabled = unsafe { SSL_dane_enable(ssl.as_ptr(), base.as_ptr()) };
    if enabled <= 0 {
        return Err(ErrorStack::get());
    }
    // SAFETY: the SSL is live and exclusively borrowed; `data` is `data.len()` readable bytes
    // for the call, which copies them.
    let added = unsafe {
        SSL_dane_tlsa_add(
            ssl.as_ptr(),
            usage,
            selector,
            mtype,
            data.as_ptr(),
            data.len(),
        )
    };
    match added {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => Err(ErrorStack::get()),
    }
}

/// [`X509_VERIFY_PARAM_set1_policies(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/)
/// on the connection's parameters: the acceptable certificate policies, as dotted OIDs.
pub(crate) fn set_policies(ssl: &mut SslRef, oids: &[&str]) -> Result<(), ErrorStack> {
    let mut objects = Vec::with_capacity(oids.len());
    for oid in oids {
        objects.push(openssl::asn1::Asn1Object::from_str(oid)?);
    }
    // SAFETY: a new empty stack, owned here until freed below (the objects it points at are
    // owned by `objects`, which outlives it; the stack is freed without freeing them).
    unsafe {
        let stack = sys::OPENSSL_sk_new_null();
        if stack.is_null() {
            return Err(ErrorStack::get());
        }
        for object in &objects {
            if sys::OPENSSL_sk_push(stack, object.as_ptr().cast()) <= 0 {
                sys::OPENSSL_sk_free(stack);
                return Err(ErrorStack::get());
            }
        }
        // set1 duplicates every object into the param's own stack.
        let ret = X509_VERIFY_PARAM_set1_policies(sys::SSL_get0_param(ssl.as_ptr()), stack.cast());
        sys::OPENSSL_sk_free(stack);
        check(ret)
    }
}

/// OpenSSL 4.0's
/// [`X509_VERIFY_PARAM_add1_ip(3)`](https://docs.openssl.org/master/man3/X509_VERIFY_PARAM_set_flags/):
/// one more IP address the peer's certificate may match (any one is enough).
#[cfg(ossl400)]
pub(crate) fn add_ip(ssl: &mut SslRef, ip: std::net::IpAddr) -> Result<(), ErrorStack> {
    let bytes: Vec<u8> = match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    // SAFETY: the SSL is live and exclusively borrowed, so is its param; `bytes` is readable
    // for the call, which copies it.
    check(unsafe {
        X509_VERIFY_PARAM_add1_ip(
            sys::SSL_get0_param(ssl.as_ptr()),
            bytes.as_ptr(),
            bytes.len(),
        )
    })
}

/// OpenSSL 4.0's `X509_VERIFY_PARAM_add1_rfc822`: one more e-mail address the peer's
/// certificate may match (any one is enough).
#[cfg(ossl400)]
pub(crate) fn add_rfc822(ssl: &mut SslRef, email: &str) -> Result<(), ErrorStack> {
    // SAFETY: the SSL is live and exclusively borrowed, so is its param; `email` is `len`
    // readable bytes for the call, which copies them.
    check(unsafe {
        X509_VERIFY_PARAM_add1_rfc822(
            sys::SSL_get0_param(ssl.as_ptr()),
            email.as_ptr().cast(),
            email.len(),
        )
    })
}
