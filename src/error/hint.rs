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

pub use crate::advice::Advice;
use crate::code::{Role, Want};
use crate::ech::EchConfigList;
use crate::fingerprint::Fingerprint;
use crate::version::ProtocolVersion;

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
    /// file ([`ServerConfigBuilder::client_auth`](crate::server::ServerConfigBuilder::client_auth)).
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
    /// The peer's certificate chain is longer than the verify depth allows
    /// ([`ClientConfigBuilder::verify_depth`](crate::client::ClientConfigBuilder::verify_depth));
    /// OpenSSL's verify code is 22 (certificate chain too long).
    ChainTooLong,
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
    /// Client: the server did not accept our Encrypted Client Hello
    /// ([`ClientConfigBuilder::ech_config_list`](crate::client::ClientConfigBuilder::ech_config_list)).
    /// The handshake was stopped (an `ech_required` alert, or the verification of the outer
    /// server's certificate) rather than completed with the outer ClientHello: the inner name
    /// never went out in clear. See [`HandshakeError::ech`](crate::HandshakeError::ech) for
    /// the status.
    EchRejected {
        /// The name the outer ClientHello carried, which a server that rejects ECH must prove
        /// it is.
        outer_name: Option<String>,
        /// The retry configurations the server sent, when it sent ones this client can use.
        retry_configs: Option<EchConfigList>,
        /// Whether the server's certificate verified for the outer name: only then are its
        /// retry configurations to be trusted (RFC 9849 section 6.1.6).
        outer_verified: bool,
    },
    /// Server: the client stopped the handshake with an `ech_required` alert. It sent an
    /// Encrypted Client Hello this server could not decrypt (a configuration of a key it does
    /// not hold, or none at all) and would not go on without it.
    EchRequiredByClient,
    /// The deadline passed.
    Timeout {
        /// Which side timed out: its words are about the other side.
        role: Role,
        /// What the handshake was waiting for.
        waiting_for: Option<Want>,
        /// How long it ran.
        elapsed: Duration,
        /// How many bytes the peer had sent.
        bytes_received: u64,
    },
    /// The peer's host answered a datagram with ICMP "port unreachable" (the socket's
    /// `ECONNREFUSED`): nothing listens on that UDP port.
    PortUnreachable,
    /// The deadline of a DTLS handshake passed, or OpenSSL gave up resending one flight:
    /// datagrams get no answer, and the retransmission timer sent the last flight again
    /// `retransmissions` times.
    DatagramTimeout {
        /// Which side timed out: its words are about the other side.
        role: Role,
        /// How long it ran.
        elapsed: Duration,
        /// Expiries of the retransmission timer, each of which sent the last flight again.
        retransmissions: u32,
        /// How many bytes the peer had sent.
        bytes_received: u64,
    },
}

impl Hint {
    /// The settings this hint advises, in the order its text names them: what a program can
    /// change, as API items. A front end with its own names for them (a command line's flags)
    /// renders the whole hint in those names with [`display_with`](Self::display_with).
    ///
    /// ```
    /// use tlshake::{Advice, Hint};
    ///
    /// let hint = Hint::NameMismatch { expected: Some("wrong.example".into()), names: vec![] };
    /// assert_eq!(hint.advice(), [Advice::PeerName, Advice::SkipPeerNameCheck]);
    /// ```
    pub fn advice(&self) -> Vec<Advice> {
        let named = std::cell::RefCell::new(Vec::new());
        let _ = self.write(&mut String::new(), &|a| {
            named.borrow_mut().push(a);
            a.api_name()
        });
        named.into_inner()
    }

    /// The hint's text with every [`Advice`] named by `names` instead of by its API item:
    /// `hint.display_with(|a| cli_flag(a))` says `--servername` where
    /// [`Display`](fmt::Display) says `ClientConfigBuilder::peer_name`.
    ///
    /// ```
    /// use tlshake::{Advice, Hint};
    ///
    /// fn flag(advice: Advice) -> &'static str {
    ///     match advice {
    ///         Advice::PeerName => "--servername",
    ///         other => other.api_name(),
    ///     }
    /// }
    /// let hint = Hint::NameMismatch { expected: None, names: vec![] };
    /// assert!(hint.display_with(flag).to_string().contains("(--servername)"));
    /// assert!(hint.to_string().contains("(ClientConfigBuilder::peer_name)"));
    /// ```
    pub fn display_with(&self, names: fn(Advice) -> &'static str) -> DisplayWith<'_> {
        DisplayWith { hint: self, names }
    }
}

/// The advice in one paragraph, each setting named by its API item ([`Advice::api_name`]).
impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, &Advice::api_name)
    }
}

/// A [`Hint`] whose settings are named by the caller's names: see [`Hint::display_with`].
#[derive(Debug, Clone, Copy)]
pub struct DisplayWith<'a> {
    hint: &'a Hint,
    names: fn(Advice) -> &'static str,
}

impl fmt::Display for DisplayWith<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.hint.write(f, &self.names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::DigestKind;

    /// One hint of every variant (both roles where the text depends on it). The match in
    /// `every_variant_is_listed` fails to compile when a variant is added and not listed.
    fn every_hint() -> Vec<Hint> {
        let pin = |byte: u8| Fingerprint::from_bytes(DigestKind::Sha256, vec![byte; 32]);
        let (Ok(expected), Ok(received)) = (pin(1), pin(2)) else {
            panic!("a SHA-256 fingerprint of 32 bytes");
        };
        let some = |s: &str| Some(s.to_string());
        let mut hints = vec![
            Hint::NameMismatch {
                expected: some("wrong.example"),
                names: vec!["localhost".into()],
            },
            Hint::NameMismatch {
                expected: None,
                names: Vec::new(),
            },
            Hint::UnknownIssuer {
                issuer: some("CN=ca"),
            },
            Hint::UnknownIssuer { issuer: None },
            Hint::FingerprintMismatch { expected, received },
            Hint::ClientCertificateUntrusted {
                issuer: some("CN=ca"),
                subject: some("CN=client"),
            },
            Hint::SelfSigned {
                subject: some("CN=self"),
            },
            Hint::ChainTooLong,
            Hint::Expired {
                not_after: some("Jan 1 00:00:00 2000 GMT"),
            },
            Hint::NotYetValid {
                not_before: some("Jan 1 00:00:00 2100 GMT"),
            },
            Hint::NoSharedVersion {
                our_min: Some(ProtocolVersion::Tls1_2),
                our_max: None,
                peer_versions: vec![ProtocolVersion::Tls1_1],
            },
            Hint::ClientCertificateRequired,
            Hint::PeerSentNoCertificate,
            Hint::PeerRejectedOurCertificate {
                alert: "tlsv1 alert unknown ca".into(),
            },
            Hint::NoSharedCipher,
            Hint::HandshakeFailureAlert,
            Hint::NoApplicationProtocol,
            Hint::EchRequiredByClient,
            Hint::PortUnreachable,
        ];
        let retry = crate::ech::EchConfigList::parse(
            b"AED+DQA8VwAgACAedAEuAQSKtRguiEcTRlRPLWh49cKS/KzvcE0nhe+XXgAEAAEAAQANb3RoZXIuZXhhbXBsZQAA",
        )
        .ok();
        for (retry_configs, outer_verified) in [(retry.clone(), true), (retry, false), (None, true)]
        {
            hints.push(Hint::EchRejected {
                outer_name: some("other.example"),
                retry_configs,
                outer_verified,
            });
        }
        for role in [Role::Client, Role::Server] {
            hints.push(Hint::PlaintextPeer {
                role,
                first_bytes: b"220 mail ESMTP\r\n".to_vec(),
            });
            for bytes_received in [0, 100] {
                hints.push(Hint::PeerClosed {
                    role,
                    bytes_received,
                });
            }
        }
        for role in [Role::Client, Role::Server] {
            for bytes_received in [0, 100] {
                hints.push(Hint::DatagramTimeout {
                    role,
                    elapsed: Duration::from_millis(1500),
                    retransmissions: 3,
                    bytes_received,
                });
            }
        }
        for waiting_for in [Some(Want::Read), Some(Want::Write), None] {
            for bytes_received in [0, 100] {
                hints.push(Hint::Timeout {
                    role: Role::Client,
                    waiting_for,
                    elapsed: Duration::from_millis(1500),
                    bytes_received,
                });
            }
        }
        hints
    }

    #[test]
    fn every_variant_is_listed() {
        let mut seen = std::collections::HashSet::new();
        for hint in every_hint() {
            seen.insert(match hint {
                Hint::PlaintextPeer { .. } => "PlaintextPeer",
                Hint::NameMismatch { .. } => "NameMismatch",
                Hint::UnknownIssuer { .. } => "UnknownIssuer",
                Hint::FingerprintMismatch { .. } => "FingerprintMismatch",
                Hint::ClientCertificateUntrusted { .. } => "ClientCertificateUntrusted",
                Hint::SelfSigned { .. } => "SelfSigned",
                Hint::ChainTooLong => "ChainTooLong",
                Hint::Expired { .. } => "Expired",
                Hint::NotYetValid { .. } => "NotYetValid",
                Hint::NoSharedVersion { .. } => "NoSharedVersion",
                Hint::ClientCertificateRequired => "ClientCertificateRequired",
                Hint::PeerSentNoCertificate => "PeerSentNoCertificate",
                Hint::PeerRejectedOurCertificate { .. } => "PeerRejectedOurCertificate",
                Hint::NoSharedCipher => "NoSharedCipher",
                Hint::HandshakeFailureAlert => "HandshakeFailureAlert",
                Hint::NoApplicationProtocol => "NoApplicationProtocol",
                Hint::PeerClosed { .. } => "PeerClosed",
                Hint::EchRejected { .. } => "EchRejected",
                Hint::EchRequiredByClient => "EchRequiredByClient",
                Hint::Timeout { .. } => "Timeout",
                Hint::PortUnreachable => "PortUnreachable",
                Hint::DatagramTimeout { .. } => "DatagramTimeout",
            });
        }
        assert_eq!(seen.len(), 22, "{seen:?}");
    }

    /// The first `--x` (two dashes and a lower-case letter) in `text`, if any.
    fn first_flag(text: &str) -> Option<&str> {
        text.match_indices("--").find_map(|(at, _)| {
            let rest = text.get(at..)?;
            let letter = rest.as_bytes().get(2)?;
            letter.is_ascii_lowercase().then(|| {
                let end = rest
                    .find(|c: char| !(c == '-' || c.is_ascii_alphanumeric()))
                    .unwrap_or(rest.len());
                rest.get(..end).unwrap_or(rest)
            })
        })
    }

    #[test]
    fn no_hint_names_a_command_line_flag() {
        assert_eq!(first_flag("use --servername x"), Some("--servername"));
        assert_eq!(first_flag("a -- b, --1"), None);
        for hint in every_hint() {
            let text = hint.to_string();
            assert_eq!(first_flag(&text), None, "{hint:?}: {text}");
        }
    }

    #[test]
    fn advice_is_what_the_text_names_and_display_with_renames_all_of_it() {
        fn shouted(advice: Advice) -> &'static str {
            match advice {
                Advice::PeerName => "PEER-NAME",
                _ => "OTHER-SETTING",
            }
        }
        for hint in every_hint() {
            let text = hint.to_string();
            let renamed = hint.display_with(shouted).to_string();
            for advice in hint.advice() {
                assert!(text.contains(advice.api_name()), "{advice:?} in {text}");
                assert!(
                    !renamed.contains(advice.api_name()),
                    "{advice:?}: {renamed}"
                );
            }
            assert_eq!(hint.advice().is_empty(), text == renamed, "{text}");
        }
        let mismatch = Hint::NameMismatch {
            expected: None,
            names: Vec::new(),
        };
        assert_eq!(
            mismatch.advice(),
            [Advice::PeerName, Advice::SkipPeerNameCheck]
        );
        assert!(mismatch
            .display_with(shouted)
            .to_string()
            .contains("(PEER-NAME); disabling the name check (OTHER-SETTING)"));
    }
}
