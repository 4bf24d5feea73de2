//! The words of a [`Hint`]: one paragraph per recognised cause, each setting it advises
//! named by the caller (its API item, or a program's own name for it).

use std::fmt;

use crate::advice::Advice;
use crate::code::{Role, Want};
use crate::record;
use crate::version::ProtocolVersion;

use super::hint::Hint;

/// How many of the peer's first bytes a plaintext hint shows.
const SHOWN_BYTES: usize = 80;

impl Hint {
    /// Writes the advice, naming each setting with `n`.
    pub(super) fn write(
        &self,
        f: &mut dyn fmt::Write,
        n: &dyn Fn(Advice) -> &'static str,
    ) -> fmt::Result {
        match self {
            Hint::PlaintextPeer {
                role: Role::Client,
                first_bytes,
            } => write!(
                f,
                "the peer answered in plaintext (\"{}\"): this port probably expects STARTTLS \
                 or no TLS at all; connect with tcp:// and upgrade with STARTTLS ({} {}), or \
                 use the implicit-TLS port (465 SMTPS, 993 IMAPS, 995 POP3S, 990 FTPS, 443 \
                 HTTPS)",
                record::escape_bytes(first_bytes, SHOWN_BYTES),
                n(Advice::Starttls),
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
                write!(
                    f,
                    ": connect with one of those names, or set the expected peer name ({}); \
                     disabling the name check ({}) accepts any certificate from that CA",
                    n(Advice::PeerName),
                    n(Advice::SkipPeerNameCheck)
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
                write!(
                    f,
                    ": give the issuing CA with {}, or make the server send its intermediate \
                     certificates",
                    n(Advice::CaFile)
                )
            }
            Hint::FingerprintMismatch { expected, received } => {
                let kind = expected.kind().prefix();
                write!(
                    f,
                    "the certificate's digest is {kind}:{received}, not the pinned \
                     {kind}:{expected}: if the server's certificate was replaced on purpose, pin \
                     the new digest with {}; otherwise another server is answering for this one",
                    n(Advice::PeerFingerprint)
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
                write!(
                    f,
                    " a CA in the server's client-CA file ({}): add that issuer's CA \
                     certificate to the file, or give the client a certificate issued by one of \
                     the CAs in it",
                    n(Advice::ServerClientAuth)
                )
            }
            Hint::SelfSigned { subject } => {
                match subject {
                    Some(s) => write!(f, "the certificate \"{s}\" is self-signed")?,
                    None => {
                        f.write_str("the certificate chain ends in a self-signed certificate")?
                    }
                }
                write!(
                    f,
                    " and is not trusted: trust it explicitly with {}, pin it with {} (a pin \
                     alone trusts exactly that certificate), or accept self-signed certificates \
                     with {}",
                    n(Advice::CaFile),
                    n(Advice::PeerFingerprint),
                    n(Advice::AllowSelfSigned)
                )
            }
            Hint::ChainTooLong => write!(
                f,
                "the peer's certificate chain has more intermediate CAs than the verify depth \
                 allows: raise the depth ({}), or leave it unset for OpenSSL's default of 100",
                n(Advice::VerifyDepth)
            ),
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
            Hint::ClientCertificateRequired => write!(
                f,
                "the server requires a client certificate: give one with {} (issued by a CA \
                 the server trusts)",
                n(Advice::CertificateFiles)
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
            Hint::NoSharedCipher => write!(
                f,
                "no cipher suite or signature algorithm in common: TLS 1.2 takes only ECDHE \
                 with AES-GCM or ChaCha20-Poly1305 by default; for a peer with only CBC suites, \
                 opt in with {} or {}, or give {}; otherwise compare the ciphersuites and key \
                 types of both ends",
                n(Advice::ServerAllowCbcCiphers),
                n(Advice::AllowCbcCiphers),
                n(Advice::Ciphers)
            ),
            Hint::HandshakeFailureAlert => write!(
                f,
                "the server aborted the handshake (handshake_failure alert): either it requires \
                 a client certificate ({}) or the two ends share no cipher suite or \
                 signature algorithm (TLS 1.2 offers only ECDHE with AES-GCM or \
                 ChaCha20-Poly1305 by default: for a server with only CBC suites, {} or {})",
                n(Advice::CertificateFiles),
                n(Advice::AllowCbcCiphers),
                n(Advice::Ciphers)
            ),
            Hint::NoApplicationProtocol => write!(
                f,
                "the server supports none of the ALPN protocols offered: offer one it supports \
                 ({}), or none",
                n(Advice::Alpn)
            ),
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
            Hint::EchRejected {
                outer_name,
                retry_configs,
                outer_verified,
            } => {
                let outer = outer_name.as_deref().unwrap_or("its public name");
                f.write_str("the server did not accept our Encrypted Client Hello")?;
                match (retry_configs, outer_verified) {
                    (Some(list), true) => write!(
                        f,
                        " (its ECH keys have changed since our configuration was published) \
                         and, proving it is {outer}, sent {} retry configuration{} for {}: retry \
                         with them ({} {list})",
                        list.configs().len(),
                        if list.configs().len() == 1 { "" } else { "s" },
                        list.public_names().join(", "),
                        n(Advice::EchConfigList)
                    )?,
                    (Some(_), false) => write!(
                        f,
                        " and could not prove it is {outer} (its certificate does not verify \
                         for that name), so its retry configurations are not to be trusted: get \
                         the server's current ECH configuration from its operator or its DNS \
                         HTTPS record ({})",
                        n(Advice::EchConfigList)
                    )?,
                    (None, _) => write!(
                        f,
                        " and sent no retry configuration: it does not support ECH, or no \
                         longer offers the key of this configuration; get its current ECH \
                         configuration from its operator or its DNS HTTPS record ({}), or \
                         connect without ECH if the name may be seen",
                        n(Advice::EchConfigList)
                    )?,
                }
                f.write_str("; the handshake was stopped, and the inner name was not sent in clear")
            }
            Hint::EchRequiredByClient => write!(
                f,
                "the client sent an Encrypted Client Hello this server could not decrypt (the \
                 configuration of a key it does not hold, or any, when it has no ECH key) and \
                 stopped rather than send its name in clear: publish the configurations of the \
                 keys given to {}, which are also sent to such clients as retry configurations",
                n(Advice::ServerEchKeys)
            ),
            Hint::Timeout {
                role,
                waiting_for,
                elapsed,
                bytes_received,
            } => {
                write!(
                    f,
                    "nothing completed the handshake within {:.3} s",
                    elapsed.as_secs_f64()
                )?;
                match (role, waiting_for, bytes_received) {
                    (Role::Client, Some(Want::Read), 0) => f.write_str(
                        ": the peer accepted the connection but never answered; it may not \
                         speak TLS, or wait for us to speak first in another protocol",
                    ),
                    (Role::Server, Some(Want::Read), 0) => f.write_str(
                        ": the client connected but sent no ClientHello; it may not speak TLS \
                         on this port, or wait for a greeting first (a STARTTLS client)",
                    ),
                    (Role::Client, Some(Want::Read), _) => {
                        f.write_str(": the peer stopped answering in the middle of the handshake")
                    }
                    (Role::Server, Some(Want::Read), _) => {
                        f.write_str(": the client stopped sending in the middle of the handshake")
                    }
                    (Role::Client, Some(Want::Write), _) => {
                        f.write_str(": the peer stopped reading (its receive window is full)")
                    }
                    (Role::Server, Some(Want::Write), _) => {
                        f.write_str(": the client stopped reading (its receive window is full)")
                    }
                    _ => Ok(()),
                }
            }
            Hint::PortUnreachable => f.write_str(
                "the peer's host answered that nothing listens on this UDP port (ICMP port \
                 unreachable): check the port, and that the DTLS server runs",
            ),
            Hint::DatagramTimeout {
                role,
                elapsed,
                retransmissions,
                bytes_received,
            } => {
                write!(
                    f,
                    "nothing completed the DTLS handshake within {:.3} s, after {retransmissions} \
                     retransmission{} of the last flight",
                    elapsed.as_secs_f64(),
                    if *retransmissions == 1 { "" } else { "s" }
                )?;
                match (role, bytes_received) {
                    (Role::Client, 0) => f.write_str(
                        ": no datagram came back; is a DTLS server listening on this UDP port, \
                         and do firewalls let the datagrams through both ways?",
                    ),
                    (Role::Server, 0) => f.write_str(": the client sent nothing more"),
                    _ => f.write_str(
                        ": the peer stopped answering in the middle of the handshake, or too \
                         many datagrams were lost",
                    ),
                }
            }
        }
    }
}
