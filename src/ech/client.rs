//! The client's ECH settings, applied to its `SslContext` once and to each `Ssl`.

use openssl::ssl::{SslContextBuilder, SslRef};

use super::config::EchConfigList;
use super::EchError;

/// The ECH settings of a client ([`ClientOptions::ech`](crate::client::ClientOptions::ech)),
/// set through the `ech_*` methods of
/// [`ClientConfigBuilder`](crate::client::ClientConfigBuilder) and checked when the
/// configuration is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EchOptions {
    /// The server's ECHConfigList as given: wire bytes, base64 or PEM text.
    pub config_list: Option<Vec<u8>>,
    /// The SNI of the outer ClientHello, instead of the configuration's public name.
    pub outer_sni: Option<String>,
    /// The ALPN protocols of the outer ClientHello, instead of the inner ones.
    pub outer_alpn: Vec<String>,
    /// Send a GREASE ECH extension when no configuration list is given.
    pub grease: bool,
}

impl EchOptions {
    /// True when no ECH setting is given.
    pub fn is_empty(&self) -> bool {
        *self == EchOptions::default()
    }
}

/// Checks the settings and installs them on the client context being built: the
/// configuration list (`SSL_CTX_set1_echstore`), the outer ALPN and GREASE. `tls13` says
/// whether the protocol versions allow TLS 1.3.
pub(crate) fn configure_context(
    b: &mut SslContextBuilder,
    o: &EchOptions,
    tls13: bool,
) -> Result<(), EchError> {
    if o.is_empty() {
        return Ok(());
    }
    if let Some(reason) = super::unsupported_reason() {
        return Err(EchError::Unsupported { reason });
    }
    if o.config_list.is_none() {
        if o.outer_sni.is_some() {
            return Err(EchError::OuterWithoutConfig {
                setting: "ClientConfigBuilder::ech_outer_sni",
            });
        }
        if !o.outer_alpn.is_empty() {
            return Err(EchError::OuterWithoutConfig {
                setting: "ClientConfigBuilder::ech_outer_alpn",
            });
        }
    }
    let list = o
        .config_list
        .as_deref()
        .map(EchConfigList::parse)
        .transpose()
        .map_err(EchError::ConfigList)?;
    if !tls13 {
        return Err(EchError::NeedsTls13);
    }
    let outer_alpn = alpn_wire(&o.outer_alpn)?;
    #[cfg(all(ossl400, not(ossl_no_ech)))]
    {
        use crate::sys::ech::{set_grease, set_outer_alpn, EchStore};
        if let Some(list) = &list {
            let mut store = EchStore::new().map_err(super::tls("creating the ECH store"))?;
            store
                .read_config_list(list.as_bytes())
                .map_err(super::tls("loading the ECHConfigList"))?;
            store
                .install(b)
                .map_err(super::tls("installing the ECH store on the context"))?;
        }
        if !outer_alpn.is_empty() {
            set_outer_alpn(b, &outer_alpn).map_err(super::tls("setting the outer ALPN"))?;
        }
        if o.grease {
            set_grease(b);
        }
    }
    #[cfg(not(all(ossl400, not(ossl_no_ech))))]
    let _ = (b, list, outer_alpn);
    Ok(())
}

/// The per-connection settings (the outer SNI), on an `Ssl` of a context that
/// [`configure_context`] accepted. `tls13` says whether the connection may use TLS 1.3 (a
/// `tlsv1.2://` URL pins it below).
pub(crate) fn configure_ssl(ssl: &mut SslRef, o: &EchOptions, tls13: bool) -> Result<(), EchError> {
    if o.config_list.is_none() && !o.grease {
        return Ok(());
    }
    if !tls13 {
        return Err(EchError::NeedsTls13);
    }
    #[cfg(all(ossl400, not(ossl_no_ech)))]
    if let Some(name) = &o.outer_sni {
        crate::sys::ech::set_outer_server_name(ssl, name)
            .map_err(super::tls("setting the outer server name"))?;
    }
    #[cfg(not(all(ossl400, not(ossl_no_ech))))]
    let _ = ssl;
    Ok(())
}

/// The outer ALPN list in its wire form.
fn alpn_wire(protocols: &[String]) -> Result<Vec<u8>, EchError> {
    let mut wire = Vec::new();
    for p in protocols {
        let len = u8::try_from(p.len())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| EchError::OuterAlpn {
                protocol: p.clone(),
            })?;
        wire.push(len);
        wire.extend_from_slice(p.as_bytes());
    }
    Ok(wire)
}
