//! Whether the server of a connection asked for a client certificate: noted by the cert
//! callback ([`SSL_CTX_set_cert_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cert_cb/))
//! in the connection's ex_data, read by the hints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslRef};

/// Whether the server of one connection sent a CertificateRequest.
#[derive(Debug, Default)]
pub(super) struct CertificateRequest(AtomicBool);

pub(super) fn certificate_request_index() -> Result<Index<Ssl, CertificateRequest>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, CertificateRequest>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<CertificateRequest>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// The cert callback's hook: notes the request in the connection's slot.
impl crate::sys::CertificateRequestHook for CertificateRequest {
    fn certificate_requested(ssl: &SslRef) {
        note_certificate_request(ssl);
    }
}

/// Notes that the server of `ssl` asked for a client certificate (called from the cert
/// callback; a connection not made by [`ClientConfig::new_ssl`](crate::client::ClientConfig::new_ssl) has no slot and is skipped).
fn note_certificate_request(ssl: &SslRef) {
    if let Some(slot) = certificate_request_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
    {
        slot.0.store(true, Ordering::Relaxed);
    }
}

/// Whether the server of `ssl` asked for a client certificate.
pub(crate) fn certificate_was_requested(ssl: &SslRef) -> bool {
    certificate_request_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
        .is_some_and(|slot| slot.0.load(Ordering::Relaxed))
}
