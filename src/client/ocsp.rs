//! OCSP stapling (RFC 6066 section 8, RFC 6960): the certificate status a server sends in
//! its handshake when the client asks for it.

use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspResponseStatus};
use openssl::ssl::SslRef;
use openssl::stack::Stack;
use openssl::x509::{X509VerifyResult, X509};

/// What the server stapled to its handshake, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stapled {
    /// The client asked ([`ClientConfigBuilder::status_request`](super::ClientConfigBuilder::status_request))
    /// and the server sent no OCSP response.
    None,
    /// The server sent a response that says something about its certificate.
    Response(OcspReport),
    /// The server sent a response that could not be used: not DER, not `successful`
    /// (e.g. `tryLater`), or without a status for the server's certificate.
    Unusable {
        /// Why, e.g. `"response status tryLater"`.
        reason: String,
    },
}

/// The stapled status of the server's certificate
/// ([`OCSP_resp_find_status(3)`](https://docs.openssl.org/3.0/man3/OCSP_resp_find_status/)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OcspReport {
    /// `"good"`, `"revoked"` or `"unknown"`.
    pub status: &'static str,
    /// When the responder checked, e.g. `"Dec  1 09:00:00 2026 GMT"`.
    pub this_update: String,
    /// When the response expires, if it says.
    pub next_update: Option<String>,
    /// For a revoked certificate, when it was revoked.
    pub revocation_time: Option<String>,
    /// Whether the response's signature verified against the client's trust store
    /// ([`OCSP_basic_verify(3)`](https://docs.openssl.org/3.0/man3/OCSP_resp_find_status/))
    /// and its times are current
    /// ([`OCSP_check_validity(3)`](https://docs.openssl.org/3.0/man3/OCSP_resp_find_status/)).
    /// An unverified status is only what the server claims.
    pub verified: bool,
}

/// Decodes the OCSP response the server stapled on `ssl`
/// ([`SSL_get_tlsext_status_ocsp_resp(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_status_cb/)),
/// for the certificate it presented. `None` when the client did not ask.
pub fn stapled(ssl: &SslRef, asked: bool) -> Option<Stapled> {
    if !asked {
        return None;
    }
    let Some(der) = ssl.ocsp_status() else {
        return Some(Stapled::None);
    };
    Some(decode(ssl, der).unwrap_or_else(|reason| Stapled::Unusable { reason }))
}

fn decode(ssl: &SslRef, der: &[u8]) -> Result<Stapled, String> {
    let response = OcspResponse::from_der(der).map_err(|e| format!("not an OCSP response: {e}"))?;
    let status = response.status();
    if status != OcspResponseStatus::SUCCESSFUL {
        return Err(format!("response status {}", response_status_name(status)));
    }
    let basic = response
        .basic()
        .map_err(|e| format!("no basic response: {e}"))?;
    let leaf = ssl.peer_certificate().ok_or("no server certificate")?;
    let chain: Vec<X509> = ssl
        .verified_chain()
        .or_else(|| ssl.peer_cert_chain())
        .map(|c| c.iter().map(|x| x.to_owned()).collect())
        .unwrap_or_default();
    let issuer = chain
        .iter()
        .find(|c| c.issued(&leaf) == X509VerifyResult::OK)
        .ok_or("the issuer of the server certificate is not in its chain")?;
    let id = OcspCertId::from_cert(MessageDigest::sha1(), &leaf, issuer)
        .map_err(|e| format!("cannot name the certificate: {e}"))?;
    let found = basic
        .find_status(&id)
        .ok_or("no status for the server's certificate")?;
    let mut untrusted = Stack::new().map_err(|e| e.to_string())?;
    for c in &chain {
        untrusted.push(c.clone()).map_err(|e| e.to_string())?;
    }
    let store = ssl.ssl_context().cert_store();
    let verified = basic.verify(&untrusted, store, OcspFlag::empty()).is_ok()
        && found.check_validity(300, None).is_ok();
    let status = match found.status {
        OcspCertStatus::GOOD => "good",
        OcspCertStatus::REVOKED => "revoked",
        _ => "unknown",
    };
    Ok(Stapled::Response(OcspReport {
        status,
        this_update: found.this_update.to_string(),
        next_update: found.next_update().map(ToString::to_string),
        revocation_time: found.revocation_time.map(ToString::to_string),
        verified,
    }))
}

fn response_status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::MALFORMED_REQUEST => "malformedRequest",
        OcspResponseStatus::INTERNAL_ERROR => "internalError",
        OcspResponseStatus::TRY_LATER => "tryLater",
        OcspResponseStatus::SIG_REQUIRED => "sigRequired",
        OcspResponseStatus::UNAUTHORIZED => "unauthorized",
        _ => "unknown",
    }
}
