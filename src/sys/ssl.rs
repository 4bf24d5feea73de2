//! The connection itself: the handshake calls, `SSL_get_error`, the error queue, the
//! protocol range, record buffers, write modes, the CertificateRequest callback, and taking an
//! `SSL` back out of its stream.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_ulong, c_void};
use std::sync::OnceLock;

use foreign_types::ForeignTypeRef;
use openssl::ssl::{SslContextBuilder, SslRef, SslStream};
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

/// Frees the connection's record buffers if they hold no data, as
/// [`SSL_free_buffers(3)`](https://docs.openssl.org/3.0/man3/SSL_alloc_buffers/) does; a
/// buffer in use is kept, and OpenSSL allocates them again on the next read or write. Returns
/// whether they were freed. Does nothing with an OpenSSL that has CVE-2024-4741 (buffers freed
/// while in use), and nothing for DTLS: its write path does not allocate the write buffer
/// again, and the next `SSL_write` dereferences the freed one (a crash seen on 3.0).
pub(crate) fn free_idle_buffers<S>(stream: &mut SslStream<S>) -> bool {
    if super::dtls::is_dtls(stream.ssl()) {
        return false;
    }
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

// Not declared by openssl-sys.
extern "C" {
    // Every OpenSSL version.
    fn SSL_get_client_CA_list(ssl: *const sys::SSL) -> *mut sys::stack_st_X509_NAME;
    // OpenSSL 1.1.0 and newer.
    fn SSL_free_buffers(ssl: *mut sys::SSL) -> c_int;
    // libcrypto's stable API since 0.9.6.
    fn ERR_error_string_n(e: c_ulong, buf: *mut c_char, len: usize);
    // OpenSSL 1.0.2 and newer.
    fn SSL_CTX_set_cert_cb(
        ctx: *mut sys::SSL_CTX,
        cb: Option<unsafe extern "C" fn(*mut sys::SSL, *mut c_void) -> c_int>,
        arg: *mut c_void,
    );
}

/// The host name or IP address the certificate of `ssl`'s peer is checked against, as the
/// `Ssl` itself holds it (`X509_VERIFY_PARAM_set1_host` / `set1_ip`, e.g. through
/// `ssl.param_mut().set_host(..)` or [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl)):
/// the first host of [`SSL_get0_param(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_get0_param/)
/// with [`X509_VERIFY_PARAM_get0_host(3)`](https://docs.openssl.org/3.0/man3/X509_VERIFY_PARAM_set_flags/),
/// else its IP address with `X509_VERIFY_PARAM_get1_ip_asc`. `None` when no name is checked.
pub(crate) fn verified_host(ssl: &SslRef) -> Option<String> {
    use super::verify_cache::{
        ERR_pop_to_mark, ERR_set_mark, X509_VERIFY_PARAM_get0_host, X509_VERIFY_PARAM_get1_ip_asc,
    };
    // SAFETY: `ssl` is a live SSL borrowed for this call; SSL_get0_param returns its own
    // X509_VERIFY_PARAM (never NULL for a live SSL, checked anyway), which lives as long as
    // the SSL. Only getters are called on it.
    let param = unsafe { sys::SSL_get0_param(ssl_ptr(ssl)) };
    if param.is_null() {
        return None;
    }
    // SAFETY: `param` is live (above); get0_host returns NULL or a pointer to a
    // NUL-terminated string owned by `param`, copied out at once while `ssl` is borrowed.
    let host = unsafe { X509_VERIFY_PARAM_get0_host(param, 0) };
    if !host.is_null() {
        // SAFETY: non-NULL, NUL-terminated, owned by the live `param` (above).
        let text = unsafe { CStr::from_ptr(host) };
        return Some(text.to_string_lossy().into_owned());
    }
    // SAFETY: `param` is live (above); get1_ip_asc returns NULL or a newly allocated
    // NUL-terminated string that the caller frees with OPENSSL_free, which is done below
    // after copying it. With no IP set it queues "passed a null parameter" (x509_vpm.c):
    // the mark keeps the thread's error queue as it was.
    let ip = unsafe {
        ERR_set_mark();
        let ip = X509_VERIFY_PARAM_get1_ip_asc(param);
        ERR_pop_to_mark();
        ip
    };
    if ip.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated (above); freed once, after the copy.
    let text = unsafe { CStr::from_ptr(ip) }.to_string_lossy().into_owned();
    // SAFETY: `ip` was allocated by OpenSSL for us (get1) and is not used after this.
    unsafe { sys::OPENSSL_free(ip.cast::<c_void>()) };
    Some(text)
}

/// Whether the server of the client `ssl` named the CAs it accepts in a CertificateRequest
/// ([`SSL_get_client_CA_list(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_client_CA_list/),
/// which a client reads as the names the server sent). False on a server.
pub(crate) fn server_sent_ca_names(ssl: &SslRef) -> bool {
    if ssl.is_server() {
        return false;
    }
    // SAFETY: `ssl` is a live SSL borrowed for the call; SSL_get_client_CA_list returns NULL
    // or a stack owned by the SSL, only read (its length) while `ssl` is borrowed.
    unsafe {
        let names = SSL_get_client_CA_list(ssl_ptr(ssl));
        !names.is_null() && sys::OPENSSL_sk_num(names.cast()) > 0
    }
}

/// The stream's `SslRef`, mutably: `SslStream` itself only lends `&SslRef`. The reference
/// leaves the crate, so the connection's verification seal is broken first
/// ([`unseal`](super::verify_cache::unseal)).
pub(crate) fn ssl_mut<S>(stream: &mut SslStream<S>) -> &mut SslRef {
    super::verify_cache::unseal(stream.ssl());
    // SAFETY: the pointer is the stream's own live `SSL`, which lives as long as the stream;
    // the `&mut` borrow of the stream makes the returned reference the only one for its
    // lifetime.
    unsafe { SslRef::from_ptr_mut(ssl_ptr(stream.ssl())) }
}

pub(super) fn ssl_ptr(ssl: &SslRef) -> *mut sys::SSL {
    ssl.as_ptr()
}

/// What a client does when its server sends a CertificateRequest: the hook
/// [`note_certificate_requests`] installs. The client module implements it; this module only
/// calls it.
pub(crate) trait CertificateRequestHook {
    /// Called during the handshake of `ssl` when the server asked for a client certificate.
    /// Must not panic.
    fn certificate_requested(ssl: &SslRef);
}

/// Installs, with [`SSL_CTX_set_cert_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_cb/),
/// a callback that a client's libssl calls when the server sends a CertificateRequest; it
/// hands the connection to `H` and lets the handshake go on with the certificate configured,
/// if any.
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

unsafe extern "C" fn certificate_requested<H: CertificateRequestHook>(
    ssl: *mut sys::SSL,
    _arg: *mut c_void,
) -> c_int {
    if !ssl.is_null() {
        // A panic (a bug of ours) must not unwind into libssl; the hook only takes a note, so
        // the handshake goes on as it would without it, as the message callback does.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: libssl passes the live SSL it is handshaking for, for the duration of
            // the call; we only read its ex_data through a shared reference, as the openssl
            // crate's own callbacks do.
            let ssl = unsafe { SslRef::from_ptr(ssl) };
            H::certificate_requested(ssl);
        }));
    }
    // 1: go on (0 would fail the handshake, a negative value suspend it).
    1
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
    super::verify_cache::unseal(stream.ssl());
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
