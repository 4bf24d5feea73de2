//! [`Hint`]: what a person can do about a failed handshake.
//!
//! OpenSSL's reasons ("wrong version number", "unexpected eof while reading") are exact but
//! say little about the cause. tlshake recognises the common situations from the whole
//! evidence (return value, error queue, verify result, the peer's first bytes, the
//! certificate) and names the likely cause and the fix. The recognising is in
//! `crate::diagnose`; this module is the vocabulary, and imports neither `error` nor
//! `outcome`.

use std::fmt;
use std::time::Duration;

use crate::code::{Role, Want};
use crate::fingerprint::Fingerprint;
use crate::record;
use crate::version::ProtocolVersion;
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
