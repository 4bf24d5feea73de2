//! [`SrtpKeys`]: the SRTP master keys and salts of a DTLS-SRTP connection (RFC 5764).

use std::fmt;

use openssl::ssl::SslRef;

use crate::outcome::Role;

use super::error::DtlsError;

/// The exporter label of RFC 5764 section 4.2.
const LABEL: &str = "EXTRACTOR-dtls_srtp";

/// The master keys and salts both directions of SRTP use, derived from a finished DTLS
/// handshake that negotiated an SRTP protection profile
/// ([`DtlsOptions::srtp_profiles`](super::DtlsOptions::srtp_profiles)): RFC 5764 section
/// 4.2, `SSL_export_keying_material` with the label `EXTRACTOR-dtls_srtp` and no context,
/// split into client key, server key, client salt, server salt. `Debug` shows the profile
/// and the lengths, never the keys.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    profile: &'static str,
    profile_id: u64,
    client_key: Vec<u8>,
    server_key: Vec<u8>,
    client_salt: Vec<u8>,
    server_salt: Vec<u8>,
}

impl SrtpKeys {
    /// The keys of the SRTP profile `ssl` negotiated
    /// ([`SSL_get_selected_srtp_profile(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_tlsext_use_srtp/),
    /// [`SSL_export_keying_material(3)`](https://docs.openssl.org/3.0/man3/SSL_export_keying_material/)).
    /// Refused when no profile was negotiated, or one whose key lengths are not known here
    /// (the AES-CM and AES-GCM profiles are).
    pub fn export(ssl: &SslRef) -> Result<SrtpKeys, DtlsError> {
        let (profile, profile_id) = selected(ssl)?;
        let (key_len, salt_len) = lengths(profile_id).ok_or(DtlsError::SrtpProfileUnknown {
            profile: profile.to_string(),
        })?;
        let mut material = vec![0u8; 2 * (key_len + salt_len)];
        ssl.export_keying_material(&mut material, LABEL, None)
            .map_err(|e| DtlsError::Export(e.into()))?;
        let mut parts =
            [key_len, key_len, salt_len, salt_len]
                .into_iter()
                .scan(0usize, |at, len| {
                    let part = material.get(*at..*at + len).unwrap_or_default().to_vec();
                    *at += len;
                    Some(part)
                });
        let mut next = || parts.next().unwrap_or_default();
        Ok(SrtpKeys {
            profile,
            profile_id,
            client_key: next(),
            server_key: next(),
            client_salt: next(),
            server_salt: next(),
        })
    }

    /// The negotiated profile's name (`SRTP_AEAD_AES_128_GCM`).
    pub fn profile(&self) -> &'static str {
        self.profile
    }

    /// The profile's number in the `use_srtp` extension (RFC 5764, 0x0007 for
    /// `SRTP_AEAD_AES_128_GCM`).
    pub fn profile_id(&self) -> u64 {
        self.profile_id
    }

    /// The client's master key (what the client encrypts with).
    pub fn client_key(&self) -> &[u8] {
        &self.client_key
    }

    /// The server's master key.
    pub fn server_key(&self) -> &[u8] {
        &self.server_key
    }

    /// The client's master salt.
    pub fn client_salt(&self) -> &[u8] {
        &self.client_salt
    }

    /// The server's master salt.
    pub fn server_salt(&self) -> &[u8] {
        &self.server_salt
    }

    /// The key and salt this end encrypts with, as `role`.
    pub fn local(&self, role: Role) -> (&[u8], &[u8]) {
        match role {
            Role::Client => (&self.client_key, &self.client_salt),
            Role::Server => (&self.server_key, &self.server_salt),
        }
    }

    /// The key and salt the peer encrypts with, when this end is `role`.
    pub fn remote(&self, role: Role) -> (&[u8], &[u8]) {
        match role {
            Role::Client => self.local(Role::Server),
            Role::Server => self.local(Role::Client),
        }
    }
}

impl fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("profile", &self.profile)
            .field("key_len", &self.client_key.len())
            .field("salt_len", &self.client_salt.len())
            .finish_non_exhaustive()
    }
}

/// Key and salt lengths of the profiles of RFC 5764 and RFC 7714.
fn lengths(id: u64) -> Option<(usize, usize)> {
    match id {
        // SRTP_AES128_CM_HMAC_SHA1_80, _32
        0x0001 | 0x0002 => Some((16, 14)),
        // SRTP_AEAD_AES_128_GCM
        0x0007 => Some((16, 12)),
        // SRTP_AEAD_AES_256_GCM
        0x0008 => Some((32, 12)),
        _ => None,
    }
}

#[cfg(not(ossl_no_srtp))]
fn selected(ssl: &SslRef) -> Result<(&'static str, u64), DtlsError> {
    let profile = ssl
        .selected_srtp_profile()
        .ok_or(DtlsError::SrtpNotNegotiated)?;
    // c_ulong is u32 on some targets.
    #[allow(clippy::useless_conversion)]
    let id = u64::from(profile.id().as_raw());
    Ok((profile.name(), id))
}

#[cfg(ossl_no_srtp)]
fn selected(_: &SslRef) -> Result<(&'static str, u64), DtlsError> {
    Err(DtlsError::SrtpNotNegotiated)
}
