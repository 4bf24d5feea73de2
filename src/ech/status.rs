//! [`EchInfo`]: what became of Encrypted Client Hello on one connection, read with
//! `SSL_ech_get1_status` and `SSL_ech_get1_retry_config`.

use std::fmt;

use openssl::ssl::SslRef;

use super::config::EchConfigList;
use super::config_error::EchConfigError;

/// What became of ECH on a connection, from
/// [`SSL_ech_get1_status(3)`](https://docs.openssl.org/master/man3/SSL_set1_echstore/).
/// The raw code is kept in [`EchInfo::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EchStatus {
    /// No ECH on this connection: none configured (`SSL_ECH_STATUS_NOT_CONFIGURED`), or,
    /// on a server with ECH keys, a client that sent no ECH (`SSL_ECH_STATUS_NOT_TRIED`).
    /// Always this on an OpenSSL without ECH.
    NotAttempted,
    /// The server decrypted the inner ClientHello: the handshake was made with the inner
    /// name, which never crossed the network in clear (`SSL_ECH_STATUS_SUCCESS`; also
    /// `SSL_ECH_STATUS_BAD_NAME`, accepted but the certificate did not verify, which
    /// [`SessionInfo::verify`](crate::SessionInfo::verify) reports).
    Accepted,
    /// Client: GREASE was sent, a random ECH extension that hides whether ECH is in use
    /// (`SSL_ECH_STATUS_GREASE`, or `SSL_ECH_STATUS_GREASE_ECH` when the server answered
    /// with its configurations, in [`EchInfo::retry_configs`]). Server: the client's ECH
    /// extension could not be decrypted, GREASE or a configuration whose key this server
    /// does not hold; the handshake went on with the outer ClientHello.
    Grease,
    /// Client: the server could not use our configuration and sent retry configurations
    /// (`SSL_ECH_STATUS_FAILED_ECH`, or `SSL_ECH_STATUS_FAILED_ECH_BAD_NAME` when it could
    /// not prove it is the public name). The handshake fails: a client that asked for ECH
    /// never completes without it.
    Rejected,
    /// Client: ECH was sent and not accepted, and the server sent no retry configurations
    /// (`SSL_ECH_STATUS_FAILED`): a server without ECH, or one that keeps the key of our
    /// configuration out of its retry set. The handshake fails.
    Failed,
    /// Server: the ClientHello was an inner one already decrypted by a front end
    /// (`SSL_ECH_STATUS_BACKEND`, split mode).
    Backend,
    /// A code this version of tlshake does not know (see [`EchInfo::code`]).
    Other,
}

impl EchStatus {
    /// A short lower-case name, stable for JSON: `not_attempted`, `accepted`, `grease`,
    /// `rejected`, `failed`, `backend`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            EchStatus::NotAttempted => "not_attempted",
            EchStatus::Accepted => "accepted",
            EchStatus::Grease => "grease",
            EchStatus::Rejected => "rejected",
            EchStatus::Failed => "failed",
            EchStatus::Backend => "backend",
            EchStatus::Other => "other",
        }
    }

    /// The status of an `SSL_ECH_STATUS_*` code (from `<openssl/ech.h>`).
    pub fn from_code(code: i32) -> EchStatus {
        match code {
            1 | -102 => EchStatus::Accepted,
            2 | 3 => EchStatus::Grease,
            -105 | -106 => EchStatus::Rejected,
            0 => EchStatus::Failed,
            4 => EchStatus::Backend,
            -101 | -103 => EchStatus::NotAttempted,
            _ => EchStatus::Other,
        }
    }
}

impl fmt::Display for EchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The ECH facts of one connection: the status, the names, and the retry configurations
/// a server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EchInfo {
    /// What became of ECH.
    pub status: EchStatus,
    /// The raw `SSL_ech_get1_status` code (`SSL_ECH_STATUS_NOT_CONFIGURED`, -103, on an
    /// OpenSSL without ECH).
    pub code: i32,
    /// The inner name: the server name the client encrypted (client), or the one the
    /// server decrypted (server, when [`Accepted`](EchStatus::Accepted)).
    pub inner_name: Option<String>,
    /// The outer name: the public name sent in clear in the outer ClientHello.
    pub outer_name: Option<String>,
    /// Client: the ECHConfigList the server sent back in its EncryptedExtensions (retry
    /// configurations), in the wire form, as `SSL_ech_get1_retry_config` gave it. Read it
    /// with [`retry_config_list`](Self::retry_config_list).
    pub retry_configs: Option<Vec<u8>>,
}

impl EchInfo {
    /// The facts of a connection without ECH.
    #[cfg_attr(all(ossl400, not(ossl_no_ech), not(test)), allow(dead_code))]
    pub(crate) fn not_attempted() -> EchInfo {
        EchInfo {
            status: EchStatus::NotAttempted,
            code: -103,
            inner_name: None,
            outer_name: None,
            retry_configs: None,
        }
    }

    /// Reads the facts from a connection (after its handshake, or after it failed).
    pub(crate) fn read(ssl: &SslRef) -> EchInfo {
        #[cfg(all(ossl400, not(ossl_no_ech)))]
        {
            let (code, inner_name, outer_name) = crate::sys::ech::ech_status(ssl);
            EchInfo {
                status: EchStatus::from_code(code),
                code,
                inner_name,
                outer_name,
                retry_configs: crate::sys::ech::ech_retry_configs(ssl),
            }
        }
        #[cfg(not(all(ossl400, not(ossl_no_ech))))]
        {
            let _ = ssl;
            EchInfo::not_attempted()
        }
    }

    /// The facts of a connection that had ECH configured (a status other than
    /// [`NotAttempted`](EchStatus::NotAttempted)), for a handshake error.
    pub(crate) fn attempted(ssl: &SslRef) -> Option<EchInfo> {
        Some(EchInfo::read(ssl)).filter(|e| e.status != EchStatus::NotAttempted)
    }

    /// The retry configurations, checked as
    /// [`ClientConfigBuilder::ech_config_list`](crate::client::ClientConfigBuilder::ech_config_list)
    /// checks a list: `None` when the server sent none.
    pub fn retry_config_list(&self) -> Option<Result<EchConfigList, EchConfigError>> {
        self.retry_configs.as_deref().map(EchConfigList::from_wire)
    }
}

/// `accepted (inner localhost, outer public.example)`, `rejected (1 retry config for
/// public.example)`, `not_attempted`.
impl fmt::Display for EchInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        let mut parts = Vec::new();
        if let Some(inner) = &self.inner_name {
            parts.push(format!("inner {inner}"));
        }
        if let Some(outer) = &self.outer_name {
            parts.push(format!("outer {outer}"));
        }
        match self.retry_config_list() {
            Some(Ok(list)) => parts.push(format!(
                "{} retry config{} for {}",
                list.configs().len(),
                if list.configs().len() == 1 { "" } else { "s" },
                list.public_names().join(", ")
            )),
            Some(Err(e)) => parts.push(format!("unusable retry configs: {e}")),
            None => {}
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}
