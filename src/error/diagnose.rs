//! The diagnosis: from everything a failed handshake left behind ([`Evidence`]: return value,
//! error queue, verify result, the peer's first bytes, the certificate) to the [`Hint`] that
//! names the likely cause and the fix.

use crate::code::Role;
use crate::ech::{EchInfo, EchStatus};
use crate::error::{ErrorKind, OpensslError, VerifyResult};
use crate::fingerprint::Fingerprint;
use crate::hint::Hint;
use crate::record;
use crate::version::ProtocolVersion;

// Reason codes from <openssl/sslerr.h> (ERR_LIB_SSL), stable across 1.1.1 and 3.x.
pub(crate) const SSL_R_WRONG_VERSION_NUMBER: i32 = 267;
pub(crate) const SSL_R_HTTP_REQUEST: i32 = 156;
pub(crate) const SSL_R_HTTPS_PROXY_REQUEST: i32 = 155;
pub(crate) const SSL_R_PACKET_LENGTH_TOO_LONG: i32 = 198;
pub(crate) const SSL_R_UNKNOWN_PROTOCOL: i32 = 252;
pub(crate) const SSL_R_WRONG_SSL_VERSION: i32 = 266;
pub(crate) const SSL_R_UNEXPECTED_EOF_WHILE_READING: i32 = 294;
pub(crate) const SSL_R_UNSUPPORTED_PROTOCOL: i32 = 258;
pub(crate) const SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: i32 = 1070;
pub(crate) const SSL_R_NO_PROTOCOLS_AVAILABLE: i32 = 191;
pub(crate) const SSL_R_VERSION_TOO_LOW: i32 = 396;
pub(crate) const SSL_R_VERSION_TOO_HIGH: i32 = 166;
pub(crate) const SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 199;
pub(crate) const SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: i32 = 1116;
pub(crate) const SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE: i32 = 1040;
pub(crate) const SSL_R_NO_SHARED_CIPHER: i32 = 193;
pub(crate) const SSL_R_TLSV1_ALERT_UNKNOWN_CA: i32 = 1048;
pub(crate) const SSL_R_SSLV3_ALERT_BAD_CERTIFICATE: i32 = 1042;
pub(crate) const SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED: i32 = 1045;
pub(crate) const SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN: i32 = 1046;
pub(crate) const SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: i32 = 1120;
/// The peer's `ech_required` alert (`SSL_AD_REASON_OFFSET` + `TLS1_AD_ECH_REQUIRED`, 121).
pub(crate) const SSL_R_TLSV1_ALERT_ECH_REQUIRED: i32 = 1121;

// X509 verify codes from <openssl/x509_vfy.h>.
const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const X509_V_ERR_CERT_NOT_YET_VALID: i32 = 9;
const X509_V_ERR_CERT_HAS_EXPIRED: i32 = 10;
const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const X509_V_ERR_CERT_CHAIN_TOO_LONG: i32 = 22;
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

/// Everything a diagnosis may look at.
#[derive(Debug, Default)]
pub(crate) struct Evidence<'a> {
    pub(crate) role: Option<Role>,
    pub(crate) kind: Option<ErrorKind>,
    pub(crate) queue: &'a [OpensslError],
    pub(crate) verify: Option<&'a VerifyResult>,
    pub(crate) peer_bytes: &'a [u8],
    pub(crate) bytes_received: u64,
    pub(crate) expected_host: Option<&'a str>,
    pub(crate) peer_cert: Option<PeerCertFacts>,
    pub(crate) our_min: Option<ProtocolVersion>,
    pub(crate) our_max: Option<ProtocolVersion>,
    pub(crate) io_kind: Option<std::io::ErrorKind>,
    /// The pinned and the received digest, when a pin did not match.
    pub(crate) pin_mismatch: Option<(Fingerprint, Fingerprint)>,
    /// What became of Encrypted Client Hello, when it was configured.
    pub(crate) ech: Option<&'a EchInfo>,
    /// Client: the server sent a CertificateRequest (noted by the cert callback).
    pub(crate) certificate_requested: bool,
    /// Client: this end had a certificate to send.
    pub(crate) has_own_certificate: bool,
}

/// The few facts of the peer's certificate that hints quote.
#[derive(Debug, Default, Clone)]
pub(crate) struct PeerCertFacts {
    pub(crate) subject: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) names: Vec<String>,
    pub(crate) not_before: Option<String>,
    pub(crate) not_after: Option<String>,
}

fn has(queue: &[OpensslError], codes: &[i32]) -> bool {
    queue.iter().any(|e| codes.contains(&e.reason_code))
}

fn find<'q>(queue: &'q [OpensslError], codes: &[i32]) -> Option<&'q OpensslError> {
    queue.iter().find(|e| codes.contains(&e.reason_code))
}

/// Recognises the situation, or returns `None` when nothing specific is known.
pub(crate) fn diagnose(ev: Evidence<'_>) -> Option<Hint> {
    let role = ev.role.unwrap_or(Role::Client);
    let cert = ev.peer_cert.clone().unwrap_or_default();

    if let Some((expected, received)) = ev.pin_mismatch {
        return Some(Hint::FingerprintMismatch { expected, received });
    }
    // A rejected ECH explains what follows it: the outer server's certificate, checked
    // against the public name, and the ech_required alert.
    let ech = ev
        .ech
        .filter(|e| matches!(e.status, EchStatus::Rejected | EchStatus::Failed));
    if let (Role::Client, Some(ech)) = (role, ech) {
        return Some(Hint::EchRejected {
            outer_name: ech.outer_name.clone(),
            retry_configs: ech.retry_config_list().and_then(Result::ok),
            // SSL_ECH_STATUS_FAILED_ECH_BAD_NAME: the outer certificate did not verify.
            outer_verified: ech.code != -106 && ev.verify.is_none_or(VerifyResult::is_ok),
        });
    }
    if role == Role::Server && has(ev.queue, &[SSL_R_TLSV1_ALERT_ECH_REQUIRED]) {
        return Some(Hint::EchRequiredByClient);
    }
    if let Some(v) = ev.verify.filter(|v| !v.is_ok()) {
        if ev.kind == Some(ErrorKind::CertificateVerification) && role == Role::Server {
            return Some(match v.code {
                X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                | X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
                | X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
                | X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                | X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => Hint::ClientCertificateUntrusted {
                    issuer: cert.issuer,
                    subject: cert.subject,
                },
                _ => return None,
            });
        }
        if ev.kind == Some(ErrorKind::CertificateVerification) {
            return Some(match v.code {
                X509_V_ERR_HOSTNAME_MISMATCH | X509_V_ERR_IP_ADDRESS_MISMATCH => {
                    Hint::NameMismatch {
                        expected: ev.expected_host.map(str::to_string),
                        names: cert.names,
                    }
                }
                X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT | X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN => {
                    Hint::SelfSigned {
                        subject: cert.subject,
                    }
                }
                X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
                | X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                | X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => Hint::UnknownIssuer {
                    issuer: cert.issuer,
                },
                X509_V_ERR_CERT_HAS_EXPIRED => Hint::Expired {
                    not_after: cert.not_after,
                },
                X509_V_ERR_CERT_NOT_YET_VALID => Hint::NotYetValid {
                    not_before: cert.not_before,
                },
                X509_V_ERR_CERT_CHAIN_TOO_LONG => Hint::ChainTooLong,
                _ => return None,
            });
        }
    }

    let plaintext_reasons = [
        SSL_R_WRONG_VERSION_NUMBER,
        SSL_R_HTTP_REQUEST,
        SSL_R_HTTPS_PROXY_REQUEST,
        SSL_R_PACKET_LENGTH_TOO_LONG,
        SSL_R_UNKNOWN_PROTOCOL,
        SSL_R_WRONG_SSL_VERSION,
    ];
    if !ev.peer_bytes.is_empty()
        && !record::looks_like_tls(ev.peer_bytes)
        && (has(ev.queue, &plaintext_reasons) || record::looks_like_text(ev.peer_bytes))
    {
        return Some(Hint::PlaintextPeer {
            role,
            first_bytes: ev.peer_bytes.to_vec(),
        });
    }

    if has(
        ev.queue,
        &[
            SSL_R_UNSUPPORTED_PROTOCOL,
            SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
            SSL_R_NO_PROTOCOLS_AVAILABLE,
            SSL_R_VERSION_TOO_LOW,
            SSL_R_VERSION_TOO_HIGH,
        ],
    ) {
        let peer_versions = record::hello_versions(ev.peer_bytes)
            .map(|h| h.versions)
            .unwrap_or_default();
        return Some(Hint::NoSharedVersion {
            our_min: ev.our_min,
            our_max: ev.our_max,
            peer_versions,
        });
    }

    if has(ev.queue, &[SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED]) {
        return Some(Hint::ClientCertificateRequired);
    }
    if has(ev.queue, &[SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE]) {
        return Some(Hint::PeerSentNoCertificate);
    }
    if let Some(alert) = find(
        ev.queue,
        &[
            SSL_R_TLSV1_ALERT_UNKNOWN_CA,
            SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
            SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
            SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
        ],
    ) {
        return Some(Hint::PeerRejectedOurCertificate {
            alert: alert.reason_or_text().to_string(),
        });
    }
    if has(ev.queue, &[SSL_R_NO_SHARED_CIPHER]) {
        return Some(Hint::NoSharedCipher);
    }
    if has(ev.queue, &[SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL]) {
        return Some(Hint::NoApplicationProtocol);
    }
    if role == Role::Client && has(ev.queue, &[SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE]) {
        // TLS 1.2 servers answer a missing required client certificate with
        // handshake_failure, as TLS 1.3 servers do with certificate_required: when the
        // server asked for one and this end had none to send, it is the same situation.
        // Otherwise (no shared cipher, ...) say both causes.
        if ev.certificate_requested && !ev.has_own_certificate {
            return Some(Hint::ClientCertificateRequired);
        }
        return Some(Hint::HandshakeFailureAlert);
    }

    // A connected UDP socket reports the ICMP port unreachable of an earlier datagram as
    // ECONNREFUSED on a later read: only a datagram transport refuses mid-handshake.
    if ev.io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return Some(Hint::PortUnreachable);
    }
    let reset = matches!(
        ev.io_kind,
        Some(
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
        )
    );
    if reset
        || matches!(
            ev.kind,
            Some(ErrorKind::UnexpectedEof) | Some(ErrorKind::ZeroReturn)
        )
    {
        return Some(Hint::PeerClosed {
            role,
            bytes_received: ev.bytes_received,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_hint_shows_the_banner() {
        let hint = diagnose(Evidence {
            role: Some(Role::Client),
            kind: Some(ErrorKind::Protocol),
            peer_bytes: b"220 test ESMTP\r\n",
            ..Evidence::default()
        })
        .expect("a hint");
        let text = hint.to_string();
        assert!(text.contains("220 test ESMTP\\r\\n"), "{text}");
        assert!(text.contains("STARTTLS") && text.contains("465"), "{text}");
    }

    #[test]
    fn eof_after_nothing_says_so() {
        let hint = diagnose(Evidence {
            role: Some(Role::Client),
            kind: Some(ErrorKind::UnexpectedEof),
            ..Evidence::default()
        });
        assert_eq!(
            hint,
            Some(Hint::PeerClosed {
                role: Role::Client,
                bytes_received: 0
            })
        );
    }
}
