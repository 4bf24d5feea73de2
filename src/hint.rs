//! [`Hint`]: what a person can do about a failed handshake.
//!
//! OpenSSL's reasons ("wrong version number", "unexpected eof while reading") are exact but
//! say little about the cause. tlshake recognises the common situations from the whole
//! evidence (return value, error queue, verify result, the peer's first bytes, the
//! certificate) and names the likely cause and the fix.

use std::fmt;
use std::time::Duration;

use crate::error::{ErrorKind, OpensslError, VerifyResult};
use crate::fingerprint::Fingerprint;
use crate::outcome::{Role, Want};
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

// X509 verify codes from <openssl/x509_vfy.h>.
const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const X509_V_ERR_CERT_NOT_YET_VALID: i32 = 9;
const X509_V_ERR_CERT_HAS_EXPIRED: i32 = 10;
const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

/// How many of the peer's first bytes a plaintext hint shows.
const SHOWN_BYTES: usize = 80;

/// A recognised cause of a failed handshake, with what to do about it. `Display` gives the
/// advice in one paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// The peer answered in plaintext (OpenSSL: "wrong version number" / "http request" /
    /// "packet length too long"): it does not speak TLS on this port, or expects STARTTLS.
    PlaintextPeer {
        /// Which side we were.
        role: Role,
        /// The first bytes the peer sent (`220 mail ESMTP\r\n`).
        first_bytes: Vec<u8>,
    },
    /// The certificate is valid but not for the name or address that was asked for.
    NameMismatch {
        /// The host name or IP address that was checked.
        expected: Option<String>,
        /// The names (DNS SANs, IP SANs, CN) in the certificate.
        names: Vec<String>,
    },
    /// The certificate chain does not lead to a trusted CA.
    UnknownIssuer {
        /// The issuer of the peer's certificate, when known.
        issuer: Option<String>,
    },
    /// The peer's certificate does not have the pinned digest
    /// ([`ClientConfigBuilder::peer_fingerprint`](crate::client::ClientConfigBuilder::peer_fingerprint));
    /// OpenSSL's verify code is 50 (application verification failure).
    FingerprintMismatch {
        /// The pinned digest.
        expected: Fingerprint,
        /// The digest of the certificate received, of the same kind.
        received: Fingerprint,
    },
    /// Server side: the client's certificate does not lead to a CA of the server's client-CA
    /// file ([`ServerConfig::client_auth`](crate::server::ServerConfig::client_auth)).
    ClientCertificateUntrusted {
        /// The issuer of the client's certificate, when known.
        issuer: Option<String>,
        /// The subject of the client's certificate, when known.
        subject: Option<String>,
    },
    /// The peer's certificate (or its chain's root) is self-signed and not trusted.
    SelfSigned {
        /// The subject of the self-signed certificate, when known.
        subject: Option<String>,
    },
    /// The peer's certificate has expired.
    Expired {
        /// Its notAfter date, when known.
        not_after: Option<String>,
    },
    /// The peer's certificate is not valid yet.
    NotYetValid {
        /// Its notBefore date, when known.
        not_before: Option<String>,
    },
    /// The two ends have no protocol version in common.
    NoSharedVersion {
        /// Our lowest allowed version (`None`: OpenSSL's lowest).
        our_min: Option<ProtocolVersion>,
        /// Our highest allowed version (`None`: OpenSSL's highest).
        our_max: Option<ProtocolVersion>,
        /// The versions the peer offered (ClientHello) or chose (ServerHello), newest first,
        /// when its hello could be read.
        peer_versions: Vec<ProtocolVersion>,
    },
    /// The server requires a client certificate and none (or none it accepts) was sent.
    ClientCertificateRequired,
    /// We required a client certificate and the client sent none.
    PeerSentNoCertificate,
    /// The peer rejected our certificate (alert unknown_ca / bad_certificate / expired ...).
    PeerRejectedOurCertificate {
        /// The alert as OpenSSL names it.
        alert: String,
    },
    /// The two ends have no cipher suite (or signature algorithm) in common.
    NoSharedCipher,
    /// The server aborted with a handshake_failure alert: no shared cipher or signature
    /// algorithm, or (TLS 1.2) a client certificate it requires was not sent.
    HandshakeFailureAlert,
    /// The server requires ALPN and no offered protocol matched.
    NoApplicationProtocol,
    /// The peer closed the connection in the middle of the handshake.
    PeerClosed {
        /// Which side we were.
        role: Role,
        /// How many bytes the peer had sent before closing.
        bytes_received: u64,
    },
    /// The deadline passed.
    Timeout {
        /// What the handshake was waiting for.
        waiting_for: Option<Want>,
        /// How long it ran.
        elapsed: Duration,
        /// How many bytes the peer had sent.
        bytes_received: u64,
    },
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::PlaintextPeer {
                role: Role::Client,
                first_bytes,
            } => write!(
                f,
                "the peer answered in plaintext (\"{}\"): this port probably expects STARTTLS \
                 or no TLS at all; connect with tcp:// and upgrade with STARTTLS (--starttls \
                 {}), or use the implicit-TLS port (465 SMTPS, 993 IMAPS, 995 POP3S, 990 \
                 FTPS, 443 HTTPS)",
                record::escape_bytes(first_bytes, SHOWN_BYTES),
                crate::starttls::StarttlsProtocol::names("|")
            ),
            Hint::PlaintextPeer {
                role: Role::Server,
                first_bytes,
            } => write!(
                f,
                "the client sent plaintext (\"{}\") instead of a TLS ClientHello: it is not \
                 using TLS on this port (an http:// URL, or a STARTTLS client that expects a \
                 plaintext greeting)",
                record::escape_bytes(first_bytes, SHOWN_BYTES)
            ),
            Hint::NameMismatch { expected, names } => {
                let expected = expected.as_deref().unwrap_or("the requested name");
                if names.is_empty() {
                    write!(f, "the certificate is not valid for {expected}")?;
                } else {
                    write!(
                        f,
                        "the certificate is valid for {} but not for {expected}",
                        names.join(", ")
                    )?;
                }
                f.write_str(
                    ": connect with one of those names, or set the expected peer name \
                     (ClientConfigBuilder::peer_name); disabling the name check \
                     (ClientConfigBuilder::verify_peer_name(false)) accepts any certificate \
                     from that CA",
                )
            }
            Hint::UnknownIssuer { issuer } => {
                match issuer {
                    Some(i) => write!(
                        f,
                        "the certificate was issued by \"{i}\", which is not trusted"
                    )?,
                    None => f.write_str("the certificate chain does not lead to a trusted CA")?,
                }
                f.write_str(
                    ": give the issuing CA with ClientConfigBuilder::ca_file, or make the \
                     server send its intermediate certificates",
                )
            }
            Hint::FingerprintMismatch { expected, received } => {
                let kind = expected.kind().prefix();
                write!(
                    f,
                    "the certificate's digest is {kind}:{received}, not the pinned \
                     {kind}:{expected}: if the server's certificate was replaced on purpose, pin \
                     the new digest with ClientConfigBuilder::peer_fingerprint; otherwise \
                     another server is answering for this one"
                )
            }
            Hint::ClientCertificateUntrusted { issuer, subject } => {
                f.write_str("the client's certificate")?;
                if let Some(s) = subject {
                    write!(f, " \"{s}\"")?;
                }
                match issuer {
                    Some(i) => write!(f, " was issued by \"{i}\", which is not")?,
                    None => f.write_str(" was not issued by")?,
                }
                f.write_str(
                    " a CA in the server's client-CA file (the ca_file of \
                     ServerConfig::client_auth): add that issuer's CA certificate to the file, or \
                     give the client a certificate issued by one of the CAs in it",
                )
            }
            Hint::SelfSigned { subject } => {
                match subject {
                    Some(s) => write!(f, "the certificate \"{s}\" is self-signed")?,
                    None => {
                        f.write_str("the certificate chain ends in a self-signed certificate")?
                    }
                }
                f.write_str(
                    " and is not trusted: trust it explicitly with ClientConfigBuilder::ca_file, \
                     pin it with ClientConfigBuilder::peer_fingerprint (a pin alone trusts \
                     exactly that certificate), or accept self-signed certificates with \
                     ClientConfigBuilder::allow_self_signed",
                )
            }
            Hint::Expired { not_after } => {
                f.write_str("the peer's certificate has expired")?;
                if let Some(d) = not_after {
                    write!(f, " (notAfter {d})")?;
                }
                f.write_str(": renew it on the server, and check both clocks")
            }
            Hint::NotYetValid { not_before } => {
                f.write_str("the peer's certificate is not valid yet")?;
                if let Some(d) = not_before {
                    write!(f, " (notBefore {d})")?;
                }
                f.write_str(": check the clocks of both machines")
            }
            Hint::NoSharedVersion {
                our_min,
                our_max,
                peer_versions,
            } => {
                let name = |v: &Option<ProtocolVersion>, dflt: &str| {
                    v.map(|v| v.openssl_name().to_string())
                        .unwrap_or_else(|| dflt.to_string())
                };
                write!(
                    f,
                    "no protocol version in common: we allow {}..{}",
                    name(our_min, "lowest"),
                    name(our_max, "highest")
                )?;
                if peer_versions.is_empty() {
                    f.write_str(" and the peer allows none of them")?;
                } else {
                    let list: Vec<&str> = peer_versions.iter().map(|v| v.openssl_name()).collect();
                    write!(f, ", the peer offered {}", list.join(", "))?;
                }
                f.write_str(
                    "; widen the range on one side (TLS 1.0/1.1 need the explicit legacy \
                     opt-out and security level 0 with OpenSSL 3)",
                )
            }
            Hint::ClientCertificateRequired => f.write_str(
                "the server requires a client certificate: give one with \
                 ClientConfigBuilder::cert_file and key_file (issued by a CA the server trusts)",
            ),
            Hint::PeerSentNoCertificate => f.write_str(
                "client certificates are required and the client sent none: configure the \
                 client with a certificate, or make client authentication optional",
            ),
            Hint::PeerRejectedOurCertificate { alert } => write!(
                f,
                "the peer rejected our certificate ({alert}): make sure the peer trusts the CA \
                 that issued it and that it is valid for its purpose and dates"
            ),
            Hint::NoSharedCipher => f.write_str(
                "no cipher suite or signature algorithm in common: TLS 1.2 takes only ECDHE \
                 with AES-GCM or ChaCha20-Poly1305 by default; for a peer with only CBC suites, \
                 opt in with allow_cbc_ciphers(true) (ServerConfig or ClientConfigBuilder) or \
                 give ClientConfigBuilder::ciphers; otherwise compare the ciphersuites and key \
                 types of both ends",
            ),
            Hint::HandshakeFailureAlert => f.write_str(
                "the server aborted the handshake (handshake_failure alert): either it requires \
                 a client certificate (ClientConfigBuilder::cert_file and key_file) or the two \
                 ends share no cipher suite or signature algorithm (TLS 1.2 offers only ECDHE \
                 with AES-GCM or ChaCha20-Poly1305 by default: for a server with only CBC \
                 suites, ClientConfigBuilder::allow_cbc_ciphers(true) or \
                 ClientConfigBuilder::ciphers)",
            ),
            Hint::NoApplicationProtocol => {
                f.write_str("the server supports none of the ALPN protocols offered: check --alpn")
            }
            Hint::PeerClosed {
                role,
                bytes_received,
            } => {
                let peer = match role {
                    Role::Client => "server",
                    Role::Server => "client",
                };
                if *bytes_received == 0 {
                    write!(
                        f,
                        "the {peer} closed the connection without sending anything: it may \
                         not speak TLS on this port, may have rejected our hello (versions, \
                         ciphers, SNI), or may be overloaded"
                    )
                } else {
                    write!(
                        f,
                        "the {peer} closed the connection in the middle of the handshake after \
                         {bytes_received} bytes: look at its logs; it probably rejected \
                         something we sent"
                    )
                }
            }
            Hint::Timeout {
                waiting_for,
                elapsed,
                bytes_received,
            } => {
                write!(
                    f,
                    "nothing completed the handshake within {:.3} s",
                    elapsed.as_secs_f64()
                )?;
                match (waiting_for, bytes_received) {
                    (Some(Want::Read), 0) => f.write_str(
                        ": the peer accepted the connection but never answered; it may not \
                         speak TLS, or wait for us to speak first in another protocol",
                    ),
                    (Some(Want::Read), _) => {
                        f.write_str(": the peer stopped answering in the middle of the handshake")
                    }
                    (Some(Want::Write), _) => {
                        f.write_str(": the peer stopped reading (its receive window is full)")
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

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
        // handshake_failure; so do servers with no shared cipher. Say both.
        return Some(Hint::HandshakeFailureAlert);
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
