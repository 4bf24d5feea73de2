//! How the peer's certificate is judged: verification on or off, self-signed certificates
//! forgiven on request, and certificate pins (the verify callback of
//! [`SSL_CTX_set_verify(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_verify/)), with
//! the pinned and received digests kept for the error.

use std::sync::{Mutex, OnceLock};

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContextBuilder, SslRef, SslVerifyMode};
use openssl::x509::{X509StoreContext, X509StoreContextRef, X509VerifyResult};

use crate::fingerprint::Fingerprint;

use super::ClientOptions;

// X509 verify codes from <openssl/x509_vfy.h>.
const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;

/// How the peer's certificate is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Verification off: the result is computed and reported, but never stops the handshake.
    Off,
    /// The chain must lead to a trusted CA (and the pin, if any, must match too).
    Chain,
    /// A pin and no CA: exactly the pinned certificate is trusted, by its digest.
    PinOnly,
}

pub(super) fn set_verification(b: &mut SslContextBuilder, o: &ClientOptions) {
    let allow_self_signed = o.allow_self_signed;
    let pin = o.peer_fingerprint.clone();
    let ca_given = o.ca_file.is_some() || o.ca_dir.is_some() || o.ca_pem.is_some();
    let trust = match (o.verify_peer, &pin) {
        (false, _) => Trust::Off,
        (true, Some(_)) if !ca_given => Trust::PinOnly,
        (true, _) => Trust::Chain,
    };
    if trust == Trust::Off && pin.is_none() {
        // SSL_VERIFY_NONE: OpenSSL still verifies and keeps the result
        // (SSL_get_verify_result), it only goes on whatever it is.
        b.set_verify(SslVerifyMode::NONE);
        return;
    }
    if trust == Trust::Chain && !allow_self_signed && pin.is_none() {
        b.set_verify(SslVerifyMode::PEER);
        return;
    }
    b.set_verify_callback(SslVerifyMode::PEER, move |preverified, ctx| {
        verify_step(preverified, ctx, trust, allow_self_signed, pin.as_ref())
    });
}

fn verify_step(
    preverified: bool,
    ctx: &mut X509StoreContextRef,
    trust: Trust,
    allow_self_signed: bool,
    pin: Option<&Fingerprint>,
) -> bool {
    if let (Some(pin), 0) = (pin, ctx.error_depth()) {
        let received = ctx
            .current_cert()
            .and_then(|cert| Fingerprint::of(cert, pin.kind()).ok());
        if received.as_ref() != Some(pin) {
            if let Some(received) = received {
                record_pin_mismatch(ctx, pin, received);
            }
            ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
            return false;
        }
        if trust == Trust::PinOnly {
            // The pinned certificate itself is the trust anchor: whatever the chain and the
            // names say, this is the certificate that was asked for.
            ctx.set_error(X509VerifyResult::OK);
            return true;
        }
    }
    match trust {
        // The real result stays (SSL_get_verify_result reports it); only the decision differs.
        Trust::Off => true,
        // Chain errors above the leaf are decided by the pin check at depth 0, which
        // X509_verify_cert reaches last (internal_verify walks down to the leaf).
        Trust::PinOnly => true,
        Trust::Chain => {
            let mut ok = preverified;
            if !ok && allow_self_signed {
                let code = ctx.error().as_raw();
                ok = code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                    || code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
            }
            if ok && !preverified {
                ctx.set_error(X509VerifyResult::OK);
            }
            ok
        }
    }
}

/// What the pin check of one connection found, kept in the connection's ex_data so that the
/// handshake error can quote both digests.
#[derive(Debug, Default)]
pub(super) struct PinSlot {
    mismatch: Mutex<Option<(Fingerprint, Fingerprint)>>,
}

pub(super) fn pin_slot_index() -> Result<Index<Ssl, PinSlot>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, PinSlot>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<PinSlot>()?;
    Ok(*INDEX.get_or_init(|| index))
}

fn record_pin_mismatch(ctx: &X509StoreContextRef, expected: &Fingerprint, received: Fingerprint) {
    let (Ok(ssl_idx), Ok(pin_idx)) = (X509StoreContext::ssl_idx(), pin_slot_index()) else {
        return;
    };
    let slot = ctx.ex_data(ssl_idx).and_then(|ssl| ssl.ex_data(pin_idx));
    if let Some(mut mismatch) = slot.and_then(|s| s.mismatch.lock().ok()) {
        *mismatch = Some((expected.clone(), received));
    }
}

/// The pinned and the received fingerprint, when the pin of a [`ClientConfig`](crate::client::ClientConfig) connection
/// did not match the peer's certificate.
pub(crate) fn pin_mismatch(ssl: &SslRef) -> Option<(Fingerprint, Fingerprint)> {
    let slot = ssl.ex_data(pin_slot_index().ok()?)?;
    slot.mismatch.lock().ok()?.clone()
}
