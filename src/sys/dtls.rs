//! DTLS: the retransmission timer (`DTLS_set_timer_cb`, `DTLSv1_get_timeout`,
//! `DTLSv1_handle_timeout`) and the stateless cookie exchange (`DTLSv1_listen`).
//!
//! `openssl-sys` declares none of these: the functions are declared here, the two timer
//! controls are the `SSL_ctrl` commands their macros expand to. An OpenSSL configured with
//! `no-dtls` has neither the timer callback nor `DTLSv1_listen`: under `cfg(ossl_no_dtls)`
//! every function here reports that DTLS is missing, and nothing undefined is linked.
//!
//! The timer's state lives in the connection's ex_data ([`TimerState`]), so the callback,
//! which OpenSSL calls with the `SSL` alone, finds it there; it is freed with the `SSL`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslRef};

/// The retransmission timer of one DTLS connection: the intervals the policy allows, and
/// what happened so far. Written by the timer callback (on OpenSSL's thread, which is the
/// thread stepping the handshake), read by the engine.
#[derive(Debug)]
pub(crate) struct TimerState {
    /// The first interval, in microseconds.
    initial_us: u32,
    /// The longest interval, in microseconds.
    max_us: u32,
    /// The interval of the timer OpenSSL runs now, in microseconds.
    interval_us: AtomicU32,
    /// Expiries that sent the last flight again.
    expiries: AtomicU32,
    /// Expiries of the current flight's timer: past OpenSSL's limit of 12
    /// (`DTLS1_TMO_ALERT_COUNT`), an expiry fails the handshake instead of resending.
    flight_expiries: AtomicU32,
    /// Calls of the callback: a new value means a timer was (re)started since it was read.
    generation: AtomicU64,
}

impl TimerState {
    /// A state for intervals from `initial` doubling up to `max`, each clamped to
    /// 1 µs ..= `u32::MAX` µs (71 minutes).
    pub(crate) fn new(initial: Duration, max: Duration) -> TimerState {
        let us = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX).max(1);
        let initial_us = us(initial);
        TimerState {
            initial_us,
            max_us: us(max).max(initial_us),
            interval_us: AtomicU32::new(initial_us),
            expiries: AtomicU32::new(0),
            flight_expiries: AtomicU32::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// The next interval after `previous_us` (0: a new timer): the initial interval, else
    /// twice the previous up to the longest.
    pub(crate) fn next_us(&self, previous_us: u32) -> u32 {
        if previous_us == 0 {
            self.initial_us
        } else {
            previous_us.saturating_mul(2).min(self.max_us)
        }
    }

    /// What the callback does when OpenSSL calls it with `previous_us`: 0 starts a flight's
    /// timer (OpenSSL reset its count of expiries just before), anything else is an expiry,
    /// which resends the flight unless it is past OpenSSL's limit.
    fn on_timer(&self, previous_us: u32) -> u32 {
        let next = self.next_us(previous_us);
        if previous_us == 0 {
            self.flight_expiries.store(0, Ordering::Relaxed);
        } else if self.flight_expiries.fetch_add(1, Ordering::Relaxed) < DTLS1_TMO_ALERT_COUNT {
            self.expiries.fetch_add(1, Ordering::Relaxed);
        }
        self.interval_us.store(next, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Relaxed);
        next
    }

    /// The interval of the running timer.
    pub(crate) fn interval(&self) -> Duration {
        Duration::from_micros(u64::from(self.interval_us.load(Ordering::Relaxed)))
    }

    /// Expiries handled so far.
    pub(crate) fn expiries(&self) -> u32 {
        self.expiries.load(Ordering::Relaxed)
    }

    /// Changes whenever a timer is started or restarted through the callback.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

/// OpenSSL's limit of expiries per flight (`DTLS1_TMO_ALERT_COUNT` of `<openssl/dtls1.h>`):
/// the next one fails the handshake with "read timeout expired".
pub(crate) const DTLS1_TMO_ALERT_COUNT: u32 = 12;

fn timer_index() -> Result<Index<Ssl, TimerState>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, TimerState>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<TimerState>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// The timer state of `ssl`, when [`install_timer`] gave it one.
pub(crate) fn timer_state(ssl: &SslRef) -> Option<&TimerState> {
    ssl.ex_data(timer_index().ok()?)
}

/// The expiries of `ssl`'s retransmission timer so far, when it has the timer callback
/// ([`install_timer`]; `None`: TLS, or a DTLS `Ssl` without it).
pub(crate) fn retransmissions(ssl: &SslRef) -> Option<u32> {
    timer_state(ssl).map(TimerState::expiries)
}

/// True for a DTLS connection ([`SSL_is_dtls(3)`](https://docs.openssl.org/3.0/man3/SSL_is_dtls/)).
pub(crate) fn is_dtls(ssl: &SslRef) -> bool {
    // SAFETY: `ssl` is a live SSL; SSL_is_dtls only reads its method.
    unsafe { SSL_is_dtls(ssl.as_ptr()) == 1 }
}

/// Turns path MTU discovery off for `ssl`: `SSL_OP_NO_QUERY_MTU`
/// ([`SSL_set_options(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/)), so the
/// MTU set with `SSL_set_mtu` is the one used.
pub(crate) fn set_no_query_mtu(ssl: &mut SslRef) {
    // SAFETY: `ssl` is a live SSL, exclusively borrowed; SSL_set_options only ORs the bits
    // into its options.
    unsafe { SSL_set_options(ssl.as_ptr(), openssl_sys::SSL_OP_NO_QUERY_MTU) };
}

extern "C" {
    // OpenSSL 1.1.0 and newer, in every configuration.
    fn SSL_is_dtls(s: *const openssl_sys::SSL) -> std::os::raw::c_int;
    // A function (not a macro over SSL_ctrl) since OpenSSL 3.0.
    fn SSL_set_options(s: *mut openssl_sys::SSL, op: u64) -> u64;
}

#[cfg(not(ossl_no_dtls))]
mod imp {
    use std::os::raw::{c_int, c_long, c_uint, c_void};
    use std::time::Duration;

    use foreign_types::ForeignTypeRef;
    use openssl::error::ErrorStack;
    use openssl::ssl::{SslRef, SslStream};
    use openssl_sys as sys;

    use super::{timer_index, timer_state, TimerState};

    type TimerCb = unsafe extern "C" fn(*mut sys::SSL, c_uint) -> c_uint;

    /// OpenSSL's opaque `BIO_ADDR` (openssl-sys declares it on 3.2 and newer only).
    #[repr(C)]
    struct BioAddr {
        _opaque: [u8; 0],
    }

    extern "C" {
        // OpenSSL 1.1.1 and newer, unless configured with no-dtls.
        fn DTLS_set_timer_cb(s: *mut sys::SSL, cb: Option<TimerCb>);
        // OpenSSL 1.1.0 and newer, unless configured with no-dtls or no-sock.
        fn DTLSv1_listen(s: *mut sys::SSL, client: *mut BioAddr) -> c_int;
        fn BIO_ADDR_new() -> *mut BioAddr;
        fn BIO_ADDR_free(a: *mut BioAddr);
    }

    /// `DTLS_CTRL_GET_TIMEOUT` of `<openssl/ssl.h>`: `DTLSv1_get_timeout` is this control.
    const DTLS_CTRL_GET_TIMEOUT: c_int = 73;
    /// `DTLS_CTRL_HANDLE_TIMEOUT`: `DTLSv1_handle_timeout` is this control.
    const DTLS_CTRL_HANDLE_TIMEOUT: c_int = 74;

    /// Gives `ssl` a retransmission timer with the intervals of `state`
    /// ([`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)):
    /// OpenSSL asks the callback for the first interval of each flight and for the next one
    /// after each expiry, and the callback counts the expiries.
    pub(crate) fn install_timer(ssl: &mut SslRef, state: TimerState) -> Result<(), ErrorStack> {
        ssl.set_ex_data(timer_index()?, state);
        // SAFETY: `ssl` is a live SSL, exclusively borrowed; `timer_cb` has the type of
        // DTLS_timer_cb and finds its state in the SSL's ex_data, which lives as long as the
        // SSL that OpenSSL passes it.
        unsafe { DTLS_set_timer_cb(ssl.as_ptr(), Some(timer_cb)) };
        Ok(())
    }

    /// The callback: the next interval from the connection's [`TimerState`]. A connection
    /// without one (never the case: the state is set first) gets OpenSSL's own 1 s. A panic
    /// stops here, never unwinding into OpenSSL.
    unsafe extern "C" fn timer_cb(ssl: *mut sys::SSL, previous_us: c_uint) -> c_uint {
        const OPENSSL_DEFAULT_US: c_uint = 1_000_000;
        if ssl.is_null() {
            return OPENSSL_DEFAULT_US;
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: OpenSSL calls the callback with the live SSL whose timer runs; it is
            // only read through a shared reference here.
            let ssl = unsafe { SslRef::from_ptr(ssl) };
            timer_state(ssl).map_or(OPENSSL_DEFAULT_US, |s| s.on_timer(previous_us))
        }))
        .unwrap_or(OPENSSL_DEFAULT_US)
    }

    /// The time left on the retransmission timer, by OpenSSL's clock
    /// ([`DTLSv1_get_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_get_timeout/)):
    /// `None` when no timer runs; zero once it expired (OpenSSL counts the last 15 ms as
    /// expired).
    pub(crate) fn get_timeout(ssl: &SslRef) -> Option<Duration> {
        let mut tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: `ssl` is a live SSL; the control writes one `struct timeval` to the
        // pointer, which points at `tv` for the duration of the call.
        let ret = unsafe {
            sys::SSL_ctrl(
                ssl.as_ptr(),
                DTLS_CTRL_GET_TIMEOUT,
                0,
                std::ptr::addr_of_mut!(tv).cast::<c_void>(),
            )
        };
        if ret != 1 {
            return None;
        }
        let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
        let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
        Some(Duration::from_secs(secs) + Duration::from_micros(u64::from(micros)))
    }

    /// Handles an expired retransmission timer: the last flight is sent again and the timer
    /// restarted with the next interval
    /// ([`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/)).
    /// 1: retransmitted; 0: no timer had expired by OpenSSL's clock (nothing done); -1: an
    /// error (the handshake failed, or the retransmission would block).
    pub(crate) fn handle_timeout<S>(stream: &mut SslStream<S>) -> c_long {
        // SAFETY: the `SSL` belongs to the exclusively borrowed `stream` (so no other call
        // touches it meanwhile), with its BIO; the control takes no pointer.
        unsafe {
            sys::SSL_ctrl(
                stream.ssl().as_ptr(),
                DTLS_CTRL_HANDLE_TIMEOUT,
                0,
                std::ptr::null_mut(),
            )
        }
    }

    /// One call of [`DTLSv1_listen(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_listen/):
    /// reads the datagrams the `SSL`'s BIO has, answers a ClientHello without a valid cookie
    /// with a HelloVerifyRequest and drops anything else; returns 1 once a ClientHello with
    /// a valid cookie was read (it is kept in the `SSL`, for `SSL_accept`), 0 when the BIO
    /// has nothing more, and -1 on a fatal error (the cookie callbacks are missing or failed).
    pub(crate) fn listen<S>(stream: &mut SslStream<S>) -> c_int {
        // SAFETY: BIO_ADDR_new allocates an address or returns NULL.
        let addr = unsafe { BIO_ADDR_new() };
        if addr.is_null() {
            return -1;
        }
        // SAFETY: the `SSL` belongs to the exclusively borrowed `stream`, with the BIO
        // `SslStream::new` set; `addr` is a valid BIO_ADDR that DTLSv1_listen may write.
        let ret = unsafe { DTLSv1_listen(stream.ssl().as_ptr(), addr) };
        // SAFETY: `addr` came from BIO_ADDR_new and is freed once.
        unsafe { BIO_ADDR_free(addr) };
        ret
    }
}

#[cfg(ossl_no_dtls)]
mod imp {
    use std::os::raw::{c_int, c_long};
    use std::time::Duration;

    use openssl::error::ErrorStack;
    use openssl::ssl::{SslRef, SslStream};

    use super::TimerState;

    pub(crate) fn install_timer(_: &mut SslRef, _: TimerState) -> Result<(), ErrorStack> {
        Ok(())
    }

    pub(crate) fn get_timeout(_: &SslRef) -> Option<Duration> {
        None
    }

    pub(crate) fn handle_timeout<S>(_: &mut SslStream<S>) -> c_long {
        -1
    }

    pub(crate) fn listen<S>(_: &mut SslStream<S>) -> c_int {
        -1
    }
}

pub(crate) use imp::{get_timeout, handle_timeout, install_timer, listen};

/// False when the linked OpenSSL was configured without DTLS (`no-dtls`).
pub(crate) const DTLS_BUILT: bool = cfg!(not(ossl_no_dtls));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_double_up_to_the_longest() {
        let s = TimerState::new(Duration::from_millis(100), Duration::from_millis(700));
        assert_eq!(s.on_timer(0), 100_000);
        assert_eq!(s.expiries(), 0);
        assert_eq!(s.on_timer(100_000), 200_000);
        assert_eq!(s.on_timer(200_000), 400_000);
        assert_eq!(s.on_timer(400_000), 700_000);
        assert_eq!(s.on_timer(700_000), 700_000);
        assert_eq!(s.expiries(), 4);
        assert_eq!(s.generation(), 5);
        assert_eq!(s.interval(), Duration::from_millis(700));
        // Past OpenSSL's 12 expiries of one flight, an expiry fails instead of resending.
        for _ in 0..20 {
            s.on_timer(700_000);
        }
        assert_eq!(s.expiries(), 12);
        s.on_timer(0);
        s.on_timer(100_000);
        assert_eq!(s.expiries(), 13);
        // A longest interval below the first is the first.
        let s = TimerState::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(s.next_us(2_000_000), 2_000_000);
    }
}
