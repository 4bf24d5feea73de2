//! DTLS on the command line: the flags `connect dtls://...` and `serve --dtls` share, read
//! into [`DtlsOptions`], a refusal naming the flag.

use std::time::Duration;

use clap::Args;
use tlshake::dtls::{DtlsError, DtlsOptions, RetransmitPolicy};

use crate::report;

/// The DTLS settings, shared by `connect` and `serve`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct DtlsArgs {
    /// DTLS: the largest datagram payload a record may use, in bytes (default 1200, at
    /// least 208); longer handshake messages are fragmented.
    #[arg(long, value_name = "BYTES")]
    mtu: Option<u32>,
    /// DTLS: seconds before a flight is first sent again, doubling after each expiry
    /// (default 1; at least 0.015).
    #[arg(long, value_name = "SECS", value_parser = crate::values::parse_secs)]
    dtls_timer: Option<f64>,
    /// DTLS: the longest retransmission interval, in seconds (default 60).
    #[arg(long, value_name = "SECS", value_parser = crate::values::parse_secs)]
    dtls_timer_max: Option<f64>,
    /// DTLS: SRTP protection profiles (use_srtp), colon-separated, most preferred first:
    /// SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_SHA1_80,
    /// SRTP_AES128_CM_SHA1_32.
    #[arg(long, value_name = "LIST")]
    srtp: Option<String>,
}

impl DtlsArgs {
    /// The first DTLS flag given, to refuse it where DTLS is not used.
    pub(crate) fn given(&self) -> Option<&'static str> {
        [
            (self.mtu.is_some(), "--mtu"),
            (self.dtls_timer.is_some(), "--dtls-timer"),
            (self.dtls_timer_max.is_some(), "--dtls-timer-max"),
            (self.srtp.is_some(), "--srtp"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The options, checked; a refusal names the flag.
    pub(crate) fn options(&self) -> Result<DtlsOptions, String> {
        let mut options = DtlsOptions::new();
        if let Some(mtu) = self.mtu {
            options = options.mtu(mtu);
        }
        let default = RetransmitPolicy::default();
        let initial = self
            .dtls_timer
            .map_or(default.initial(), Duration::from_secs_f64);
        let max = self
            .dtls_timer_max
            .map_or(default.max(), Duration::from_secs_f64);
        options = options.retransmit(RetransmitPolicy::new(initial, max));
        if let Some(list) = &self.srtp {
            options = options.srtp_profiles(list.clone());
        }
        options.check().map_err(|e| flag_error(&e))?;
        // The SRTP list is checked by OpenSSL itself: apply it to a throwaway DTLS Ssl.
        if let Some(list) = &self.srtp {
            let refused = || {
                format!(
                    "--srtp {}: not a list of SRTP profiles OpenSSL knows; use \
                     SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_SHA1_80 or \
                     SRTP_AES128_CM_SHA1_32, colon-separated",
                    report::quoted(list)
                )
            };
            let ctx = openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::dtls())
                .map_err(|_| refused())?
                .build();
            let mut ssl = openssl::ssl::Ssl::new(&ctx).map_err(|_| refused())?;
            options.apply(&mut ssl).map_err(|_| refused())?;
        }
        Ok(options)
    }
}

/// A [`DtlsError`] in the command line's words.
fn flag_error(e: &DtlsError) -> String {
    match e {
        DtlsError::MtuTooSmall { mtu } => {
            format!("--mtu {mtu} is too small: give 208 bytes or more")
        }
        DtlsError::IntervalTooShort { interval } => format!(
            "--dtls-timer {:.3} is too short: OpenSSL counts the last 15 ms of a timer as \
             expired; give 0.015 or more",
            interval.as_secs_f64()
        ),
        other => report::chain(other),
    }
}
