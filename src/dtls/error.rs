//! [`DtlsError`]: DTLS options that cannot be applied, and SRTP keys that cannot be exported.

use std::fmt;
use std::time::Duration;

use crate::error_queue::ErrorQueue;

/// DTLS options that cannot be applied, or SRTP keys that cannot be exported. Every option
/// is checked before any network I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DtlsError {
    /// The linked OpenSSL was configured without DTLS (`no-dtls`).
    NotBuilt,
    /// The `Ssl` was made from a TLS context: DTLS needs one from `SslMethod::dtls_client()`,
    /// `dtls_server()` or `dtls()`.
    NotDtls,
    /// The MTU is below what OpenSSL accepts.
    MtuTooSmall {
        /// The MTU given.
        mtu: u32,
    },
    /// The first retransmission interval is below what OpenSSL's timer can tell from
    /// expired.
    IntervalTooShort {
        /// The interval given.
        interval: Duration,
    },
    /// OpenSSL refused the SRTP profile list.
    SrtpProfiles {
        /// The list given.
        profiles: String,
        /// OpenSSL's errors.
        #[source]
        source: ErrorQueue,
    },
    /// The linked OpenSSL was configured without SRTP (`no-srtp`).
    SrtpNotBuilt {
        /// The list given.
        profiles: String,
    },
    /// OpenSSL could not set the connection up.
    Setup(#[source] ErrorQueue),
    /// SRTP keys were asked of a connection that negotiated no SRTP profile.
    SrtpNotNegotiated,
    /// The negotiated SRTP profile's key lengths are not known.
    SrtpProfileUnknown {
        /// The profile's name.
        profile: String,
    },
    /// OpenSSL could not export the keying material.
    Export(#[source] ErrorQueue),
}

impl fmt::Display for DtlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DtlsError::NotBuilt => write!(f, "this OpenSSL was built without DTLS (no-dtls): link one built with DTLS")?,
            DtlsError::NotDtls => write!(f, "the Ssl is not DTLS: make its SslContext with SslMethod::dtls_client(), dtls_server() or dtls()")?,
            DtlsError::MtuTooSmall { mtu } => write!(f, "MTU {mtu} is too small: DtlsOptions::mtu takes 208 bytes or more")?,
            DtlsError::IntervalTooShort { interval } => write!(f, "a first retransmission interval of {interval:?} is too short: RetransmitPolicy::new takes 15 ms or more")?,
            DtlsError::SrtpProfiles { profiles, .. } => write!(f, "SRTP profiles {profiles:?} are not valid: e.g. SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80")?,
            DtlsError::SrtpNotBuilt { profiles } => write!(f, "SRTP profiles {profiles:?} were asked for, but this OpenSSL was built without SRTP (no-srtp)")?,
            DtlsError::Setup(_) => write!(f, "OpenSSL could not set the DTLS connection up")?,
            DtlsError::SrtpNotNegotiated => write!(f, "no SRTP profile was negotiated: offer some with DtlsOptions::srtp_profiles, and check that the peer supports one of them")?,
            DtlsError::SrtpProfileUnknown { profile } => write!(f, "SRTP profile {profile} has no known key length: use an AES-CM or AES-GCM profile")?,
            DtlsError::Export(_) => write!(f, "OpenSSL could not export the keying material (SSL_export_keying_material)")?,
        }
        crate::error::write_causes(self, f)
    }
}
