//! [`SessionInfo`]: the facts of an established TLS session.

use openssl::nid::Nid;
use openssl::ssl::{NameType, SslRef};
use openssl::x509::{X509NameRef, X509Ref, X509};

use crate::diagnose::PeerCertFacts;
use crate::error::VerifyResult;
use crate::version::ProtocolVersion;

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
        SessionInfo {
            version: ProtocolVersion::from_openssl_name(&protocol),
            protocol,
            cipher: ssl
                .current_cipher()
                .map(|c| c.name().to_string())
                .unwrap_or_default(),
            alpn: ssl.selected_alpn_protocol().map(<[u8]>::to_vec),
            resumed: ssl.session_reused(),
            sni: ssl.servername(NameType::HOST_NAME).map(str::to_string),
            verify: peer_certificate.as_ref().map(|_| verify_result(ssl)),
            peer_certificate,
            peer_chain: ssl
                .peer_cert_chain()
                .filter(|_| with_chain)
                .map(|chain| chain.iter().map(X509Ref::to_owned).collect())
                .unwrap_or_default(),
        }
    }

    /// The peer certificate's facts (subject, issuer, SANs, validity, SHA-1 / SHA-256
    /// fingerprints), when the peer sent one.
    pub fn peer_summary(&self) -> Option<crate::certstore::CertSummary> {
        self.peer_certificate
            .as_ref()
            .and_then(|c| crate::certstore::CertSummary::from_x509(c).ok())
    }

    /// The ALPN protocol as text, if it is UTF-8.
    pub fn alpn_str(&self) -> Option<&str> {
        self.alpn
            .as_deref()
            .and_then(|a| std::str::from_utf8(a).ok())
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
pub fn cert_names(cert: &X509Ref) -> Vec<String> {
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
