//! What a finished handshake negotiated, as `openssl s_client` reads it: the key-exchange
//! group, the peer's signature, the type and group of a public key.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long, c_void};

use foreign_types::ForeignTypeRef;
use openssl::pkey::PKeyRef;
use openssl::ssl::SslRef;
use openssl_sys as sys;

use super::ssl::ssl_ptr;
use super::verify_cache::{ERR_pop_to_mark, ERR_set_mark};

/// `SSL_CTRL_GET_PEER_SIGNATURE_NID`: `SSL_get_peer_signature_nid`'s control.
const SSL_CTRL_GET_PEER_SIGNATURE_NID: c_int = 108;
/// `SSL_CTRL_GET_NEGOTIATED_GROUP`: `SSL_get_negotiated_group`'s control.
#[cfg(not(ossl320))]
const SSL_CTRL_GET_NEGOTIATED_GROUP: c_int = 134;
/// `SSL_CTRL_GET_PEER_SIGNATURE_NAME`: `SSL_get0_peer_signature_name`'s control (3.5+).
#[cfg(ossl350)]
const SSL_CTRL_GET_PEER_SIGNATURE_NAME: c_int = 141;
/// `NID_undef`.
const NID_UNDEF: c_int = 0;

// Not declared by openssl-sys (or only behind its own version cfgs).
extern "C" {
    // OpenSSL 1.1.1 and newer.
    fn SSL_get_peer_signature_type_nid(s: *const sys::SSL, pnid: *mut c_int) -> c_int;
    // OpenSSL 3.0 and newer.
    #[cfg(not(ossl320))]
    fn SSL_group_to_name(s: *mut sys::SSL, id: c_int) -> *const c_char;
    // OpenSSL 3.2 and newer.
    #[cfg(ossl320)]
    fn SSL_get0_group_name(s: *mut sys::SSL) -> *const c_char;
    // OpenSSL 3.0 and newer.
    fn EVP_PKEY_get0_type_name(key: *const sys::EVP_PKEY) -> *const c_char;
    // OpenSSL 3.0 and newer.
    fn EVP_PKEY_get_group_name(
        key: *const sys::EVP_PKEY,
        name: *mut c_char,
        name_size: usize,
        name_len: *mut usize,
    ) -> c_int;
}

/// A C string OpenSSL owns, copied; `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for the call.
unsafe fn copied(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated for the call (the caller's contract).
    Some(
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The name of the key-exchange group the handshake of `ssl` used, as OpenSSL names it
/// (`X25519MLKEM768`, `x25519`, `secp256r1`):
/// [`SSL_get0_group_name(3)`](https://docs.openssl.org/3.2/man3/SSL_get0_group_name/) on
/// OpenSSL 3.2 and newer, before that
/// [`SSL_get_negotiated_group(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)
/// and [`SSL_group_to_name(3)`](https://docs.openssl.org/3.0/man3/SSL_group_to_name/). `Err(nid)` for a group OpenSSL has no name for (a provider's, or
/// finite-field parameters of the server's own), `Ok(None)` when there was no group: no
/// session yet, or a TLS 1.2 RSA key transport.
pub(crate) fn negotiated_group(ssl: &SslRef) -> Result<Option<String>, c_int> {
    let ptr = ssl_ptr(ssl);
    // SAFETY: `ssl` is a live SSL borrowed for the call; SSL_get_session only reads it.
    if unsafe { sys::SSL_get_session(ptr) }.is_null() {
        // SSL_get0_group_name reads the session without checking it.
        return Ok(None);
    }
    #[cfg(ossl320)]
    {
        // SAFETY: `ssl` is live and has a session (checked above); the name returned is
        // NULL or a string of the context's group table, copied at once.
        if let Some(name) = unsafe { copied(SSL_get0_group_name(ptr)) } {
            return Ok(Some(name));
        }
        Ok(None)
    }
    #[cfg(not(ossl320))]
    {
        // SAFETY: `ssl` is live with a session; the control only reads it and takes no
        // pointer argument.
        let nid =
            unsafe { sys::SSL_ctrl(ptr, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, std::ptr::null_mut()) };
        let nid = c_int::try_from(nid).unwrap_or(NID_UNDEF);
        if nid == NID_UNDEF {
            return Ok(None);
        }
        // SAFETY: `ssl` is live; the name returned is NULL or a string of the context's
        // group table, copied at once.
        match unsafe { copied(SSL_group_to_name(ptr, nid)) } {
            Some(name) => Ok(Some(name)),
            None => Err(nid),
        }
    }
}

/// The peer's signature in the handshake, when it signed one: the NID of the signature type
/// ([`SSL_get_peer_signature_type_nid(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_signature_nid/)),
/// the NID of its digest (`SSL_get_peer_signature_nid`; `None` for a scheme with no separate
/// digest, such as Ed25519), and on OpenSSL 3.5 and newer the scheme's name
/// (`SSL_get0_peer_signature_name`: `ecdsa_secp256r1_sha256`).
pub(crate) struct PeerSignature {
    pub(crate) type_nid: c_int,
    pub(crate) digest_nid: Option<c_int>,
    pub(crate) scheme: Option<String>,
}

/// The peer's signature (see [`PeerSignature`]); `None` when the peer signed nothing in
/// this handshake (a resumed session, a TLS 1.2 RSA key transport, a client without a
/// certificate).
pub(crate) fn peer_signature(ssl: &SslRef) -> Option<PeerSignature> {
    let ptr = ssl_ptr(ssl);
    let mut type_nid: c_int = NID_UNDEF;
    // SAFETY: `ssl` is live for the call; the function writes one int to `type_nid` and
    // returns 0 (writing nothing) when the peer sent no signature.
    if unsafe { SSL_get_peer_signature_type_nid(ptr, &mut type_nid) } != 1 {
        return None;
    }
    let mut digest_nid: c_int = NID_UNDEF;
    // SAFETY: `ssl` is live; the control writes one int through the pointer it is given.
    let got: c_long = unsafe {
        sys::SSL_ctrl(
            ptr,
            SSL_CTRL_GET_PEER_SIGNATURE_NID,
            0,
            (&mut digest_nid as *mut c_int).cast::<c_void>(),
        )
    };
    #[cfg(ossl350)]
    let scheme = {
        let mut name: *const c_char = std::ptr::null();
        // SAFETY: `ssl` is live; the control stores a pointer to the name of the peer's
        // signature algorithm (a static string of OpenSSL's table) through the pointer it
        // is given, which is copied at once.
        let ok = unsafe {
            sys::SSL_ctrl(
                ptr,
                SSL_CTRL_GET_PEER_SIGNATURE_NAME,
                0,
                (&mut name as *mut *const c_char).cast::<c_void>(),
            )
        };
        if ok == 1 {
            // SAFETY: set by the control to NULL or a NUL-terminated static string.
            unsafe { copied(name) }
        } else {
            None
        }
    };
    #[cfg(not(ossl350))]
    let scheme = None;
    Some(PeerSignature {
        type_nid,
        digest_nid: (got == 1 && digest_nid != NID_UNDEF).then_some(digest_nid),
        scheme,
    })
}

/// The key's type as OpenSSL names it (`EC`, `RSA`, `RSA-PSS`, `ED25519`, `ML-DSA-65`):
/// [`EVP_PKEY_get0_type_name(3)`](https://docs.openssl.org/3.0/man3/EVP_PKEY_is_a/).
pub(crate) fn key_type_name<T>(key: &PKeyRef<T>) -> Option<String> {
    // SAFETY: `key` is a live EVP_PKEY borrowed for the call; the name returned is NULL or
    // a string owned by the key's key manager, copied at once.
    unsafe { copied(EVP_PKEY_get0_type_name(key.as_ptr())) }
}

/// The key's group, for a key that has one (`prime256v1` for a P-256 EC key):
/// [`EVP_PKEY_get_group_name(3)`](https://docs.openssl.org/3.0/man3/EVP_PKEY_get_group_name/).
pub(crate) fn key_group_name<T>(key: &PKeyRef<T>) -> Option<String> {
    let mut buf = [0u8; 80];
    let mut len = 0usize;
    // SAFETY: `key` is a live EVP_PKEY borrowed for the call; `buf` is writable for
    // `buf.len()` bytes, which OpenSSL never exceeds (it fails instead), and `len` receives
    // the length. A key without a group fails; the mark keeps the thread's error queue as
    // it was either way.
    let ok = unsafe {
        ERR_set_mark();
        let ok = EVP_PKEY_get_group_name(
            key.as_ptr(),
            buf.as_mut_ptr().cast::<c_char>(),
            buf.len(),
            &mut len,
        );
        ERR_pop_to_mark();
        ok
    };
    if ok != 1 {
        return None;
    }
    CStr::from_bytes_until_nul(&buf)
        .ok()
        .map(|name| name.to_string_lossy().into_owned())
}
