//! [`SessionInfo`]: the facts of an established TLS session, among them what `openssl
//! s_client` says was negotiated (the key-exchange group, the peer's signature, the peer's
//! key), each a [`Fact`] that says plainly when the linked OpenSSL or a resumed session
//! cannot tell.

use openssl::nid::Nid;
use openssl::ssl::{NameType, SslRef, SslVersion};
use openssl::x509::{X509NameRef, X509Ref, X509};

use crate::diagnose::PeerCertFacts;
use crate::ech::EchInfo;
use crate::error::VerifyResult;
use crate::library::OpensslVersion;
use crate::version::ProtocolVersion;

/// One negotiated fact of a session, or why there is none: the handshake had no such step
/// (a resumed session, no certificate), or the linked OpenSSL cannot report it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fact<T> {
    /// What OpenSSL reported.
    Known(T),
    /// The session was resumed, and the resumed handshake had no such step: a resumed
    /// session carries no signature (TLS 1.2 and 1.3), and a resumed TLS 1.2 session no key
    /// exchange (OpenSSL would name the first handshake's group; `openssl s_client` prints
    /// none).
    Resumed,
    /// The handshake had no such step: no named group (a TLS 1.2 RSA key transport, or
    /// finite-field DHE with the server's own parameters), no signature from the peer (a
    /// client that sent no certificate), no certificate from the peer (or none with a key
    /// OpenSSL can decode).
    Absent,
    /// The linked OpenSSL has no function that reports it; `since` is the first release
    /// that has one.
    NeedsNewerOpenssl {
        /// The first OpenSSL release that reports the fact.
        since: OpensslVersion,
    },
}

impl<T> Fact<T> {
    /// The fact, when it is known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(value) => Some(value),
            _ => None,
        }
    }

    /// Why the fact is missing, in a few words (`"resumed"`, `"absent"`, `"needs OpenSSL
    /// 3.5"`); `None` when it is known.
    pub fn missing_reason(&self) -> Option<String> {
        match self {
            Fact::Known(_) => None,
            Fact::Resumed => Some("resumed".to_string()),
            Fact::Absent => Some("absent".to_string()),
            Fact::NeedsNewerOpenssl { since } => Some(format!("needs OpenSSL {}", since.line())),
        }
    }
}

/// The peer's signature over the handshake (TLS 1.3 CertificateVerify, TLS 1.2
/// ServerKeyExchange or CertificateVerify), as `openssl s_client` prints it in "Peer
/// signature type" and "Peer signing digest".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerSignature {
    /// The TLS signature scheme as OpenSSL names it (`"ecdsa_secp256r1_sha256"`,
    /// `"rsa_pss_rsae_sha256"`, `"ed25519"`, `"mldsa65"`), from
    /// [`SSL_get0_peer_signature_name(3)`](https://docs.openssl.org/3.5/man3/SSL_get_peer_signature_nid/):
    /// [`Fact::NeedsNewerOpenssl`] (3.5) with an older library, which reports only the
    /// [`algorithm`](Self::algorithm) and the [`digest`](Self::digest).
    pub scheme: Fact<String>,
    /// The signature algorithm as `openssl s_client` names it (`"ECDSA"`, `"RSA-PSS"`,
    /// `"RSA"`, `"DSA"`, `"ed25519"`, `"ed448"`, or OpenSSL's short name of another), from
    /// [`SSL_get_peer_signature_type_nid(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_signature_nid/).
    pub algorithm: String,
    /// The digest (`"SHA256"`), from
    /// [`SSL_get_peer_signature_nid(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_signature_nid/);
    /// `None` for a scheme without a separate digest (Ed25519, Ed448, ML-DSA).
    pub digest: Option<String>,
}

/// The public key of the peer's certificate (`openssl s_client`: "Server public key is 256
/// bit").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerKey {
    /// The key type as OpenSSL names it (`"EC"`, `"RSA"`, `"RSA-PSS"`, `"ED25519"`,
    /// `"ML-DSA-65"`), from
    /// [`EVP_PKEY_get0_type_name(3)`](https://docs.openssl.org/3.0/man3/EVP_PKEY_is_a/).
    pub algorithm: String,
    /// Its size in bits
    /// ([`EVP_PKEY_get_bits(3)`](https://docs.openssl.org/3.0/man3/EVP_PKEY_get_size/)):
    /// 256 for P-256, 2048 for RSA 2048, 253 for Ed25519.
    pub bits: u32,
    /// The curve of an EC key (`"prime256v1"`), from
    /// [`EVP_PKEY_get_group_name(3)`](https://docs.openssl.org/3.0/man3/EVP_PKEY_get_group_name/);
    /// `None` for a key type without one.
    pub group: Option<String>,
}

/// What was negotiated, read from the `SSL` object once the handshake is done.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The protocol as OpenSSL names it (`"TLSv1.3"`), from
    /// [`SSL_get_version(3)`](https://docs.openssl.org/3.0/man3/SSL_get_version/).
    pub protocol: String,
    /// The same, typed (`None` for a name tlshake does not know).
    pub version: Option<ProtocolVersion>,
    /// OpenSSL's name of the cipher suite (`"TLS_AES_256_GCM_SHA384"`), from
    /// [`SSL_CIPHER_get_name(3)`](https://docs.openssl.org/3.0/man3/SSL_CIPHER_get_name/).
    pub cipher: String,
    /// The negotiated ALPN protocol
    /// ([`SSL_get0_alpn_selected(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_alpn_select_cb/)).
    pub alpn: Option<Vec<u8>>,
    /// Whether the session was resumed
    /// ([`SSL_session_reused(3)`](https://docs.openssl.org/3.0/man3/SSL_session_reused/)).
    pub resumed: bool,
    /// The SNI host name sent (client) or received (server).
    pub sni: Option<String>,
    /// The X509 verify result of the peer's certificate
    /// ([`SSL_get_verify_result(3)`](https://docs.openssl.org/3.0/man3/SSL_get_verify_result/)),
    /// or `None` when the peer sent no certificate: OpenSSL then still reports `X509_V_OK`,
    /// although nothing was verified (`openssl s_client` says "no peer certificate
    /// available").
    pub verify: Option<VerifyResult>,
    /// The peer's certificate, if it sent one.
    pub peer_certificate: Option<X509>,
    /// The chain the peer sent
    /// ([`SSL_get_peer_cert_chain(3)`](https://docs.openssl.org/3.0/man3/SSL_get_peer_cert_chain/)).
    pub peer_chain: Vec<X509>,
    /// What became of Encrypted Client Hello: accepted (with the inner and outer names),
    /// GREASE, or not attempted
    /// ([`SSL_ech_get1_status(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/);
    /// [`ech`](crate::ech)). On a server, an accepted ECH means
    /// [`sni`](Self::sni) is the decrypted inner name. Always
    /// [`NotAttempted`](crate::ech::EchStatus::NotAttempted) on an OpenSSL without ECH.
    pub ech: EchInfo,
    /// The key-exchange group, as OpenSSL names it (`"X25519MLKEM768"`, `"x25519"`,
    /// `"secp256r1"`; `openssl s_client`: "Negotiated TLS1.3 group" or "Server Temp Key"),
    /// from [`SSL_get0_group_name(3)`](https://docs.openssl.org/3.2/man3/SSL_get0_group_name/)
    /// on OpenSSL 3.2 and newer, and from
    /// [`SSL_get_negotiated_group(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set1_curves/)
    /// with [`SSL_group_to_name(3)`](https://docs.openssl.org/3.0/man3/SSL_group_to_name/)
    /// before. [`Fact::Resumed`] for a resumed TLS 1.2 session (TLS 1.3 resumption exchanges
    /// keys again, and names its group); [`Fact::Absent`] when no named group was used. See
    /// [`post_quantum`](Self::post_quantum).
    pub group: Fact<String>,
    /// The peer's signature over the handshake; [`Fact::Resumed`] for a resumed session
    /// (there is none), [`Fact::Absent`] when the peer signed nothing.
    pub peer_signature: Fact<PeerSignature>,
    /// The public key of the peer's certificate; [`Fact::Absent`] without a certificate. A
    /// resumed session keeps the first handshake's certificate, and so its key.
    pub peer_key: Fact<PeerKey>,
}

impl SessionInfo {
    /// Reads the facts from an established connection.
    pub fn from_ssl(ssl: &SslRef) -> SessionInfo {
        SessionInfo::read(ssl, true)
    }

    /// The same, leaving [`peer_chain`](Self::peer_chain) empty unless `with_chain`.
    pub(crate) fn read(ssl: &SslRef, with_chain: bool) -> SessionInfo {
        let protocol = ssl.version_str().to_string();
        let peer_certificate = ssl.peer_certificate();
        let resumed = ssl.session_reused();
        SessionInfo {
            group: group(ssl, resumed),
            peer_signature: peer_signature(ssl, resumed),
            peer_key: peer_certificate.as_deref().map_or(Fact::Absent, peer_key),
            version: ProtocolVersion::from_openssl_name(&protocol),
            protocol,
            cipher: ssl
                .current_cipher()
                .map(|c| c.name().to_string())
                .unwrap_or_default(),
            alpn: ssl.selected_alpn_protocol().map(<[u8]>::to_vec),
            resumed,
            sni: ssl.servername(NameType::HOST_NAME).map(str::to_string),
            verify: peer_certificate.as_ref().map(|_| verify_result(ssl)),
            peer_certificate,
            peer_chain: ssl
                .peer_cert_chain()
                .filter(|_| with_chain)
                .map(|chain| chain.iter().map(X509Ref::to_owned).collect())
                .unwrap_or_default(),
            ech: EchInfo::read(ssl),
        }
    }

    /// The peer certificate's facts (subject, issuer, SANs, validity, SHA-1 / SHA-256
    /// fingerprints), when the peer sent one.
    pub fn peer_summary(&self) -> Option<crate::certstore::CertSummary> {
        self.peer_certificate
            .as_ref()
            .and_then(|c| crate::certstore::CertSummary::from_x509(c).ok())
    }

    /// Whether the key exchange resists a quantum computer: the [`group`](Self::group) is
    /// ML-KEM, alone or in a hybrid (`X25519MLKEM768`, `SecP256r1MLKEM768`, ...), which
    /// OpenSSL 3.5 and newer offer first by default. `None` when the group is not known.
    pub fn post_quantum(&self) -> Option<bool> {
        self.group
            .known()
            .map(|name| crate::groups::by_name(name).is_some_and(|g| g.post_quantum))
    }

    /// The ALPN protocol as text, if it is UTF-8.
    pub fn alpn_str(&self) -> Option<&str> {
        self.alpn
            .as_deref()
            .and_then(|a| std::str::from_utf8(a).ok())
    }
}

/// The group of the handshake of `ssl` (see [`SessionInfo::group`]).
fn group(ssl: &SslRef, resumed: bool) -> Fact<String> {
    let tls13 = ssl.version2() == Some(SslVersion::TLS1_3);
    if resumed && !tls13 {
        return Fact::Resumed;
    }
    match crate::sys::negotiated_group(ssl) {
        Ok(Some(name)) => Fact::Known(name),
        // A group OpenSSL has no name for: a provider's by its codepoint
        // (`TLSEXT_nid_unknown | id`), another by its NID, as `s_client` prints it.
        Err(nid) if nid & 0x0100_0000 != 0 => Fact::Known(crate::groups::describe(
            u16::try_from(nid & 0xffff).unwrap_or(u16::MAX),
        )),
        Err(nid) => Fact::Known(format!("NID {nid}")),
        Ok(None) if resumed => Fact::Resumed,
        Ok(None) => Fact::Absent,
    }
}

/// The peer's signature (see [`SessionInfo::peer_signature`]).
fn peer_signature(ssl: &SslRef, resumed: bool) -> Fact<PeerSignature> {
    let Some(raw) = crate::sys::peer_signature(ssl) else {
        return if resumed { Fact::Resumed } else { Fact::Absent };
    };
    let scheme = match raw.scheme {
        Some(name) => Fact::Known(name),
        None if cfg!(ossl350) => Fact::Absent,
        None => Fact::NeedsNewerOpenssl {
            since: OpensslVersion::new(3, 5, 0),
        },
    };
    Fact::Known(PeerSignature {
        scheme,
        algorithm: signature_type_name(raw.type_nid),
        digest: raw
            .digest_nid
            .and_then(|nid| Nid::from_raw(nid).short_name().ok())
            .map(str::to_string),
    })
}

/// A signature type NID as `openssl s_client` names it (`get_sigtype` in `apps/lib/s_cb.c`).
fn signature_type_name(nid: i32) -> String {
    const NID_ED25519: i32 = 1087;
    const NID_ED448: i32 = 1088;
    const NID_GOST2012_256: i32 = 979;
    const NID_GOST2012_512: i32 = 980;
    let name = match Nid::from_raw(nid) {
        Nid::RSAENCRYPTION => "RSA",
        Nid::RSASSAPSS => "RSA-PSS",
        Nid::DSA => "DSA",
        Nid::X9_62_ID_ECPUBLICKEY => "ECDSA",
        Nid::ID_GOSTR3410_2001 => "gost2001",
        _ => match nid {
            NID_ED25519 => "ed25519",
            NID_ED448 => "ed448",
            NID_GOST2012_256 => "gost2012_256",
            NID_GOST2012_512 => "gost2012_512",
            _ => {
                return Nid::from_raw(nid)
                    .short_name()
                    .map_or_else(|_| format!("NID {nid}"), str::to_string)
            }
        },
    };
    name.to_string()
}

/// The key of the peer's certificate (see [`SessionInfo::peer_key`]).
fn peer_key(cert: &X509Ref) -> Fact<PeerKey> {
    match cert.public_key() {
        Ok(key) => Fact::Known(PeerKey {
            algorithm: crate::sys::key_type_name(&key).unwrap_or_else(|| "unknown".to_string()),
            bits: key.bits(),
            group: crate::sys::key_group_name(&key),
        }),
        // A key OpenSSL cannot decode: the certificate is there, its key is not usable.
        Err(_) => Fact::Absent,
    }
}

/// [`SSL_get_verify_result(3)`](https://docs.openssl.org/3.0/man3/SSL_get_verify_result/),
/// whether or not a certificate was received.
pub(crate) fn verify_result(ssl: &SslRef) -> VerifyResult {
    let v = ssl.verify_result();
    VerifyResult {
        code: v.as_raw(),
        message: v.error_string().to_string(),
    }
}

/// One-line distinguished name, OpenSSL's short names: `CN=localhost, O=tlshake`.
#[doc(hidden)]
pub fn name_to_string(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| String::from("?"));
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The names a certificate is valid for: DNS SANs, IP SANs, then the subject CN.
pub(crate) fn cert_names(cert: &X509Ref) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(sans) = cert.subject_alt_names() {
        for san in sans.iter() {
            if let Some(dns) = san.dnsname() {
                names.push(dns.to_string());
            } else if let Some(ip) = san.ipaddress() {
                match ip.len() {
                    4 => {
                        names.push(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string())
                    }
                    16 => {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(ip);
                        names.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    for cn in cert.subject_name().entries_by_nid(Nid::COMMONNAME) {
        if let Ok(cn) = cn.data().to_string() {
            if !names.contains(&cn) {
                names.push(cn);
            }
        }
    }
    names
}

pub(crate) fn cert_facts(cert: &X509Ref) -> PeerCertFacts {
    PeerCertFacts {
        subject: Some(name_to_string(cert.subject_name())),
        issuer: Some(name_to_string(cert.issuer_name())),
        names: cert_names(cert),
        not_before: Some(cert.not_before().to_string()),
        not_after: Some(cert.not_after().to_string()),
    }
}
