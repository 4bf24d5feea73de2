//! [`DtlsOptions`]: what DTLS adds to a TLS configuration (MTU, retransmission timer, SRTP),
//! applied to one `Ssl`; and [`handshake`], a DTLS [`Handshake`] over a datagram transport.

use std::io::{Read, Write};
use std::time::Duration;

use openssl::ssl::{Ssl, SslRef};

use crate::handshake::Handshake;
use crate::nodelay::NodelayPolicy;
use crate::outcome::Role;
use crate::sys;

use super::error::DtlsError;

/// OpenSSL counts the last 15 ms of a retransmission timer as expired
/// (`dtls1_get_timeout`): a shorter interval would expire as it starts.
pub(crate) const SHORTEST_INTERVAL: Duration = Duration::from_millis(15);

/// The smallest MTU `SSL_set_mtu` takes: OpenSSL's minimum link MTU (256) less the largest
/// IP and UDP overhead (48).
pub const MIN_MTU: u32 = 208;

/// The intervals of the retransmission timer: the first, then doubling after each expiry up
/// to the longest ([`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)).
/// Without a callback OpenSSL starts at 1 s and doubles up to 60 s, which is the default
/// here too.
///
/// ```
/// use std::time::Duration;
/// use tlshake::dtls::RetransmitPolicy;
///
/// let policy = RetransmitPolicy::new(Duration::from_millis(250), Duration::from_secs(4));
/// assert_eq!(policy.interval_after(0), Duration::from_millis(250));
/// assert_eq!(policy.interval_after(3), Duration::from_secs(2));
/// assert_eq!(policy.interval_after(9), Duration::from_secs(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitPolicy {
    initial: Duration,
    max: Duration,
}

impl Default for RetransmitPolicy {
    fn default() -> RetransmitPolicy {
        RetransmitPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl RetransmitPolicy {
    /// First `initial`, then twice the previous interval, never more than `max` (a `max`
    /// below `initial` means `initial`). Checked when applied: below 15 ms is refused
    /// ([`DtlsError::IntervalTooShort`]).
    pub fn new(initial: Duration, max: Duration) -> RetransmitPolicy {
        RetransmitPolicy { initial, max }
    }

    /// The first interval of each flight.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The longest interval.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The interval after `expiries` expiries of one flight's timer.
    pub fn interval_after(&self, expiries: u32) -> Duration {
        let state = self.state();
        let mut us = state.next_us(0);
        for _ in 0..expiries {
            us = state.next_us(us);
        }
        Duration::from_micros(u64::from(us))
    }

    pub(crate) fn state(&self) -> sys::dtls::TimerState {
        sys::dtls::TimerState::new(self.initial, self.max)
    }
}

/// What DTLS adds to a client or server configuration, applied to each connection's `Ssl`.
///
/// ```
/// use std::time::Duration;
/// use tlshake::dtls::{DtlsOptions, RetransmitPolicy};
///
/// let options = DtlsOptions::new()
///     .mtu(1400)
///     .retransmit(RetransmitPolicy::new(Duration::from_millis(200), Duration::from_secs(2)))
///     .srtp_profiles("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
/// assert_eq!(options.mtu_value(), 1400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsOptions {
    mtu: u32,
    query_mtu: bool,
    retransmit: RetransmitPolicy,
    srtp_profiles: Option<String>,
}

impl Default for DtlsOptions {
    fn default() -> DtlsOptions {
        DtlsOptions {
            mtu: DtlsOptions::DEFAULT_MTU,
            query_mtu: false,
            retransmit: RetransmitPolicy::default(),
            srtp_profiles: None,
        }
    }
}

impl DtlsOptions {
    /// The default MTU: 1200 bytes of UDP payload, which fits the smallest IPv6 path (1280)
    /// with room for the headers.
    pub const DEFAULT_MTU: u32 = 1200;

    /// MTU 1200, path MTU discovery off, OpenSSL's timer (1 s doubling to 60 s), no SRTP.
    pub fn new() -> DtlsOptions {
        DtlsOptions::default()
    }

    /// The largest datagram payload a record may use, in bytes
    /// ([`SSL_set_mtu(3)`](https://docs.openssl.org/3.0/man3/SSL_set_mtu/)); at least 208.
    /// Handshake messages longer than this (a certificate chain) are fragmented.
    #[must_use]
    pub fn mtu(mut self, mtu: u32) -> DtlsOptions {
        self.mtu = mtu;
        self
    }

    /// The MTU setting.
    pub fn mtu_value(&self) -> u32 {
        self.mtu
    }

    /// Ask the socket for the path MTU instead of using [`mtu`](Self::mtu) (OpenSSL's
    /// default; off here, with `SSL_OP_NO_QUERY_MTU`, since the transport is not OpenSSL's
    /// socket BIO and has no MTU to report).
    #[must_use]
    pub fn query_mtu(mut self, on: bool) -> DtlsOptions {
        self.query_mtu = on;
        self
    }

    /// The retransmission timer's intervals.
    #[must_use]
    pub fn retransmit(mut self, policy: RetransmitPolicy) -> DtlsOptions {
        self.retransmit = policy;
        self
    }

    /// The retransmission policy.
    pub fn retransmit_policy(&self) -> RetransmitPolicy {
        self.retransmit
    }

    /// Offer (client) or accept (server) these SRTP protection profiles, colon-separated,
    /// most preferred first (the `use_srtp` extension of RFC 5764,
    /// [`SSL_set_tlsext_use_srtp(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_use_srtp/)):
    /// `SRTP_AES128_CM_SHA1_80`, `SRTP_AES128_CM_SHA1_32`, `SRTP_AEAD_AES_128_GCM`,
    /// `SRTP_AEAD_AES_256_GCM`.
    #[must_use]
    pub fn srtp_profiles(mut self, profiles: impl Into<String>) -> DtlsOptions {
        self.srtp_profiles = Some(profiles.into());
        self
    }

    /// The SRTP profiles, if any.
    pub fn srtp_profiles_value(&self) -> Option<&str> {
        self.srtp_profiles.as_deref()
    }

    /// Checks the settings without an `Ssl`: what [`apply`](Self::apply) would refuse
    /// before touching one.
    pub fn check(&self) -> Result<(), DtlsError> {
        if !sys::dtls::DTLS_BUILT {
            return Err(DtlsError::NotBuilt);
        }
        let policy = self.retransmit;
        if policy.initial < SHORTEST_INTERVAL {
            return Err(DtlsError::IntervalTooShort {
                interval: policy.initial,
            });
        }
        if !self.query_mtu && self.mtu < MIN_MTU {
            return Err(DtlsError::MtuTooSmall { mtu: self.mtu });
        }
        Ok(())
    }

    /// Applies the options to a DTLS `ssl`: `SSL_OP_NO_QUERY_MTU` and
    /// [`SSL_set_mtu(3)`](https://docs.openssl.org/3.0/man3/SSL_set_mtu/) (unless
    /// [`query_mtu`](Self::query_mtu)), the timer callback
    /// ([`DTLS_set_timer_cb(3)`](https://docs.openssl.org/3.0/man3/DTLS_set_timer_cb/)) and
    /// the SRTP profiles
    /// ([`SSL_set_tlsext_use_srtp(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_use_srtp/)).
    pub fn apply(&self, ssl: &mut SslRef) -> Result<(), DtlsError> {
        self.check()?;
        if !sys::dtls::is_dtls(ssl) {
            return Err(DtlsError::NotDtls);
        }
        if !self.query_mtu {
            sys::dtls::set_no_query_mtu(ssl);
            ssl.set_mtu(self.mtu)
                .map_err(|_| DtlsError::MtuTooSmall { mtu: self.mtu })?;
        }
        sys::dtls::install_timer(ssl, self.retransmit.state())
            .map_err(|e| DtlsError::Setup(e.into()))?;
        if let Some(profiles) = &self.srtp_profiles {
            set_srtp(ssl, profiles)?;
        }
        Ok(())
    }
}

#[cfg(not(ossl_no_srtp))]
fn set_srtp(ssl: &mut SslRef, profiles: &str) -> Result<(), DtlsError> {
    ssl.set_tlsext_use_srtp(profiles)
        .map_err(|source| DtlsError::SrtpProfiles {
            profiles: profiles.to_string(),
            source: source.into(),
        })
}

#[cfg(ossl_no_srtp)]
fn set_srtp(_: &mut SslRef, profiles: &str) -> Result<(), DtlsError> {
    Err(DtlsError::SrtpNotBuilt {
        profiles: profiles.to_string(),
    })
}

/// A DTLS handshake in `role` with `ssl` (from a DTLS context) over a datagram `transport`,
/// not started yet: `options` applied to the `Ssl` ([`DtlsOptions::apply`]), the transport
/// read one datagram per read (no read-ahead), and no `TCP_NODELAY` policy. Step it, drive
/// it ([`Handshake::drive`] waits for readability or the retransmission timer under the
/// deadline) or insert it into a [`HandshakeSet`](crate::engine::HandshakeSet).
///
/// ```no_run
/// use std::net::UdpSocket;
/// use std::time::{Duration, Instant};
/// use openssl::ssl::{SslConnector, SslMethod};
/// use tlshake::dtls::{self, DtlsOptions, UdpTransport};
/// use tlshake::Role;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let connector = SslConnector::builder(SslMethod::dtls_client())?.build();
/// let ssl = connector.configure()?.into_ssl("localhost")?;
/// let socket = UdpSocket::bind("127.0.0.1:0")?;
/// socket.connect("127.0.0.1:4433")?;
/// let transport = UdpTransport::new(socket)?;
/// let hs = dtls::handshake(ssl, transport, Role::Client, &DtlsOptions::new())?;
/// match hs.drive(Instant::now() + Duration::from_secs(5)) {
///     Ok(stream) => println!("{} after {} retransmissions", stream.protocol(), stream.stats().retransmissions),
///     Err(e) if e.is_timeout() => eprintln!("{e} ({:?} retransmissions)", e.retransmissions()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(()) }
/// ```
pub fn handshake<S: Read + Write>(
    mut ssl: Ssl,
    transport: S,
    role: Role,
    options: &DtlsOptions,
) -> Result<Handshake<S>, DtlsError> {
    options.apply(&mut ssl)?;
    let mut hs =
        Handshake::new(ssl, transport, role).map_err(|e| DtlsError::Setup(e.queue().clone()))?;
    hs.transport_mut().set_datagram();
    hs.set_nodelay_policy(NodelayPolicy::Leave);
    Ok(hs)
}
