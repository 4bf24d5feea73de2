//! [`EchConfigList`]: a server's ECH configurations (RFC 9849 section 4), read from the
//! wire form, base64 text or PEM and checked as OpenSSL 4.0 checks them, with an error that
//! says what is wrong. Pure Rust: it parses on every OpenSSL version.

use std::fmt;

use super::config_error::EchConfigError;
use super::encoding::{base64_decode, base64_encode, is_text, pem_body, Reader};

/// The ECHConfig version of RFC 9849, the one OpenSSL 4.0 implements
/// (`OSSL_ECH_RFC9849_VERSION`).
pub const ECH_VERSION: u16 = 0xfe0d;

/// The shortest encoded ECHConfigList OpenSSL loads (`OSSL_ECH_MIN_ECHCONFIG_LEN`).
pub(super) const MIN_LEN: usize = 32;
/// The longest encoded ECHConfigList OpenSSL loads is one byte below this
/// (`OSSL_ECH_MAX_ECHCONFIG_LEN`).
pub(super) const MAX_LEN: usize = 1500;
/// The PEM label `openssl ech` writes for the list.
pub(super) const PEM_LABEL: &str = "ECHCONFIG";

/// An HPKE key encapsulation mechanism (RFC 9180 section 7.1), by its IANA id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HpkeKem(pub u16);

impl HpkeKem {
    /// DHKEM(P-256, HKDF-SHA256).
    pub const P256: HpkeKem = HpkeKem(0x0010);
    /// DHKEM(P-384, HKDF-SHA384).
    pub const P384: HpkeKem = HpkeKem(0x0011);
    /// DHKEM(P-521, HKDF-SHA512).
    pub const P521: HpkeKem = HpkeKem(0x0012);
    /// DHKEM(X25519, HKDF-SHA256), what `openssl ech` uses by default.
    pub const X25519: HpkeKem = HpkeKem(0x0020);
    /// DHKEM(X448, HKDF-SHA512).
    pub const X448: HpkeKem = HpkeKem(0x0021);

    /// The RFC 9180 name (`"DHKEM(X25519, HKDF-SHA256)"`), `None` for an id OpenSSL does not
    /// implement.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0010 => "DHKEM(P-256, HKDF-SHA256)",
            0x0011 => "DHKEM(P-384, HKDF-SHA384)",
            0x0012 => "DHKEM(P-521, HKDF-SHA512)",
            0x0020 => "DHKEM(X25519, HKDF-SHA256)",
            0x0021 => "DHKEM(X448, HKDF-SHA512)",
            _ => return None,
        })
    }

    /// The length of its public keys (`Npk`), `None` for an id OpenSSL does not implement.
    pub fn public_key_len(self) -> Option<usize> {
        Some(match self.0 {
            0x0010 => 65,
            0x0011 => 97,
            0x0012 => 133,
            0x0020 => 32,
            0x0021 => 56,
            _ => return None,
        })
    }
}

impl fmt::Display for HpkeKem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "KEM 0x{:04x}", self.0),
        }
    }
}

/// An HPKE symmetric suite of an ECHConfig: a KDF and an AEAD (RFC 9180 sections 7.2, 7.3),
/// by their IANA ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HpkeSymmetricSuite {
    /// The KDF: 1 HKDF-SHA256, 2 HKDF-SHA384, 3 HKDF-SHA512.
    pub kdf: u16,
    /// The AEAD: 1 AES-128-GCM, 2 AES-256-GCM, 3 ChaCha20-Poly1305 (0xffff, export-only,
    /// cannot encrypt).
    pub aead: u16,
}

impl HpkeSymmetricSuite {
    /// Whether OpenSSL 4.0 can encrypt a ClientHello with it (`OSSL_HPKE_suite_check`,
    /// without the export-only AEAD).
    pub fn is_supported(self) -> bool {
        matches!(self.kdf, 1..=3) && matches!(self.aead, 1..=3)
    }
}

impl fmt::Display for HpkeSymmetricSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kdf = match self.kdf {
            1 => "HKDF-SHA256".to_string(),
            2 => "HKDF-SHA384".to_string(),
            3 => "HKDF-SHA512".to_string(),
            other => format!("KDF 0x{other:04x}"),
        };
        let aead = match self.aead {
            1 => "AES-128-GCM".to_string(),
            2 => "AES-256-GCM".to_string(),
            3 => "ChaCha20-Poly1305".to_string(),
            0xffff => "export-only".to_string(),
            other => format!("AEAD 0x{other:04x}"),
        };
        write!(f, "{kdf}/{aead}")
    }
}

/// One ECHConfig of version 0xfe0d (RFC 9849 section 4): the server's HPKE public key and
/// suites, and the public name a client sends in clear in the outer ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EchConfig {
    /// The identifier the client sends so the server finds the key.
    pub config_id: u8,
    /// The KEM of the public key.
    pub kem: HpkeKem,
    /// The HPKE public key.
    pub public_key: Vec<u8>,
    /// The symmetric suites, the server's preference first.
    pub suites: Vec<HpkeSymmetricSuite>,
    /// The longest inner name the client pads to (0: no hint).
    pub maximum_name_length: u8,
    /// The public name: the SNI of the outer ClientHello, and the name a server that
    /// rejects ECH authenticates as.
    pub public_name: String,
    /// The extensions, as (type, data).
    pub extensions: Vec<(u16, Vec<u8>)>,
}

/// A validated ECHConfigList: its wire form and its ECHConfigs of version 0xfe0d.
///
/// [`parse`](Self::parse) takes what a server operator hands out: the wire bytes, the
/// base64 text of a DNS HTTPS record's `ech=` parameter or of `openssl s_client
/// -ech_config_list`, or the PEM file `openssl ech` writes (its `ECHCONFIG` block; a private
/// key beside it is ignored). The checks are OpenSSL 4.0's
/// ([`OSSL_ECHSTORE_read_echconfiglist(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/)),
/// made here in Rust on every version so that each failure is named: configurations of an unknown version are skipped as RFC 9849 asks,
/// but a list left with none, a configuration with no HPKE suite OpenSSL implements, a
/// public key of the wrong length for its KEM, a mandatory extension, an invalid public name
/// or bytes that do not add up are refused.
///
/// ```
/// use tlshake::ech::EchConfigList;
///
/// let list: EchConfigList =
///     "AED+DQA8VwAgACAedAEuAQSKtRguiEcTRlRPLWh49cKS/KzvcE0nhe+XXgAEAAEAAQANb3RoZXIuZXhhbXBsZQAA"
///         .parse()?;
/// assert_eq!(list.configs()[0].public_name, "other.example");
/// assert_eq!(list.as_bytes().len(), 66);
/// # Ok::<(), tlshake::ech::EchConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchConfigList {
    wire: Vec<u8>,
    configs: Vec<EchConfig>,
    skipped_versions: Vec<u16>,
}

impl EchConfigList {
    /// Reads an ECHConfigList from its wire form, base64 text, or PEM text with an
    /// `ECHCONFIG` block, and checks it (see the type's documentation).
    pub fn parse(input: &[u8]) -> Result<EchConfigList, EchConfigError> {
        let trimmed = input.trim_ascii();
        if trimmed.is_empty() {
            return Err(EchConfigError::Empty);
        }
        let wire = if let Some(body) = pem_body(trimmed)? {
            base64_decode(body)?
        } else if is_text(trimmed) {
            base64_decode(trimmed)?
        } else {
            input.to_vec()
        };
        EchConfigList::from_wire(&wire)
    }

    /// Checks an ECHConfigList in its wire form only (what a server sends as retry
    /// configurations).
    pub fn from_wire(wire: &[u8]) -> Result<EchConfigList, EchConfigError> {
        if wire.is_empty() {
            return Err(EchConfigError::Empty);
        }
        if wire.len() < MIN_LEN || wire.len() >= MAX_LEN {
            // A list that says it is empty is empty, whatever else is wrong with its size.
            if wire == [0, 0] {
                return Err(EchConfigError::Empty);
            }
            return Err(EchConfigError::Size { len: wire.len() });
        }
        let mut r = Reader(wire);
        let declared = usize::from(r.u16().ok_or(EchConfigError::Empty)?);
        let body = r.0;
        if declared != body.len() {
            return Err(EchConfigError::ListLength {
                declared,
                actual: body.len(),
            });
        }
        if body.is_empty() {
            return Err(EchConfigError::Empty);
        }
        let mut configs = Vec::new();
        let mut skipped_versions = Vec::new();
        let mut rest = Reader(body);
        let mut index = 0;
        while !rest.0.is_empty() {
            let truncated = |field| EchConfigError::Truncated { index, field };
            let version = rest.u16().ok_or(truncated("version"))?;
            let contents = rest.vec16().ok_or(truncated("length"))?;
            if version == ECH_VERSION {
                configs.push(contents_of(index, contents)?);
            } else {
                skipped_versions.push(version);
            }
            index += 1;
        }
        if configs.is_empty() {
            return Err(EchConfigError::NoSupportedVersion {
                versions: skipped_versions,
            });
        }
        Ok(EchConfigList {
            wire: wire.to_vec(),
            configs,
            skipped_versions,
        })
    }

    /// The wire form (the two-byte length, then the ECHConfigs), as OpenSSL takes it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.wire
    }

    /// The ECHConfigs of version 0xfe0d, in the list's order.
    pub fn configs(&self) -> &[EchConfig] {
        &self.configs
    }

    /// The versions of the ECHConfigs skipped as unknown (a newer version beside a 0xfe0d
    /// one).
    pub fn skipped_versions(&self) -> &[u16] {
        &self.skipped_versions
    }

    /// The distinct public names, in the list's order.
    pub fn public_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for c in &self.configs {
            if !names.contains(&c.public_name.as_str()) {
                names.push(&c.public_name);
            }
        }
        names
    }

    /// The wire form in base64, as `openssl s_client -ech_config_list` and a DNS HTTPS
    /// record's `ech=` parameter take it.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.wire)
    }

    /// The PEM text `openssl ech` writes for the list (without a private key).
    pub fn to_pem(&self) -> String {
        let b64 = self.to_base64();
        let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
        pem
    }
}

/// The base64 text of the wire form.
impl fmt::Display for EchConfigList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl std::str::FromStr for EchConfigList {
    type Err = EchConfigError;

    fn from_str(text: &str) -> Result<EchConfigList, EchConfigError> {
        EchConfigList::parse(text.as_bytes())
    }
}

/// The contents of one ECHConfig of version 0xfe0d, checked.
fn contents_of(index: usize, contents: &[u8]) -> Result<EchConfig, EchConfigError> {
    let truncated = |field| EchConfigError::Truncated { index, field };
    let mut r = Reader(contents);
    let config_id = r.u8().ok_or(truncated("config id"))?;
    let kem = HpkeKem(r.u16().ok_or(truncated("KEM id"))?);
    let public_key = r.vec16().ok_or(truncated("public key"))?.to_vec();
    let suite_bytes = r.vec16().ok_or(truncated("cipher suites"))?;
    if suite_bytes.is_empty() || suite_bytes.len() % 4 != 0 {
        return Err(EchConfigError::SuiteList {
            index,
            len: suite_bytes.len(),
        });
    }
    let suites: Vec<HpkeSymmetricSuite> = suite_bytes
        .chunks_exact(4)
        .map(|c| HpkeSymmetricSuite {
            kdf: u16::from_be_bytes([c[0], c[1]]),
            aead: u16::from_be_bytes([c[2], c[3]]),
        })
        .collect();
    let maximum_name_length = r.u8().ok_or(truncated("maximum name length"))?;
    let name = r.vec8().ok_or(truncated("public name"))?;
    let ext_bytes = r.vec16().ok_or(truncated("extensions"))?;
    if !r.0.is_empty() {
        return Err(EchConfigError::TrailingBytes {
            index,
            extra: r.0.len(),
        });
    }
    let mut extensions = Vec::new();
    let mut e = Reader(ext_bytes);
    while !e.0.is_empty() {
        let ext_type = e.u16().ok_or(truncated("extensions"))?;
        let data = e.vec16().ok_or(truncated("extensions"))?;
        extensions.push((ext_type, data.to_vec()));
    }

    // OpenSSL's final checks (ech_final_config_checks), in its order, the KEM first.
    let Some(expected) = kem.public_key_len() else {
        return Err(EchConfigError::UnsupportedKem { index, kem });
    };
    if !suites.iter().any(|s| s.is_supported()) {
        return Err(EchConfigError::UnsupportedSuites { index, suites });
    }
    if let Some((ext_type, _)) = extensions.iter().find(|(t, _)| t & 0x8000 != 0) {
        return Err(EchConfigError::MandatoryExtension {
            index,
            ext_type: *ext_type,
        });
    }
    let public_name = check_public_name(name).map_err(|reason| EchConfigError::PublicName {
        index,
        name: String::from_utf8_lossy(name).into_owned(),
        reason,
    })?;
    if public_key.len() != expected {
        return Err(EchConfigError::PublicKeyLength {
            index,
            kem,
            len: public_key.len(),
            expected,
        });
    }
    Ok(EchConfig {
        config_id: config_id as u8,
        kem,
        public_key,
        suites,
        maximum_name_length: maximum_name_length as u8,
        public_name,
        extensions,
    })
}

/// RFC 9849 section 6.1.7 and OpenSSL's checks: a DNS name of labels of 1 to 63 letters,
/// digits, hyphens or underscores, at most 255 bytes, no leading or trailing dot, and a last
/// label that does not look like an IPv4 number.
fn check_public_name(name: &[u8]) -> Result<String, &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.contains(&0) {
        return Err("it contains a NUL byte");
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return Err("it is not text");
    };
    if text.starts_with('.') || text.ends_with('.') {
        return Err("it starts or ends with a dot");
    }
    for label in text.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("a label is empty or longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("it holds a character that is not a letter, digit, '-' or '_'");
        }
    }
    let last = text.rsplit('.').next().unwrap_or(text);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("its last label is a number, which reads as an IPv4 address");
    }
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .filter(|h| !h.is_empty());
    if hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err("its last label is a hex number, which reads as an IPv4 address");
    }
    Ok(text.to_string())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
