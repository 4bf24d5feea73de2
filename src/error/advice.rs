//! [`Advice`]: the settings a hint or an error advises changing, named as API items. A leaf:
//! it imports nothing of the crate, so `hint` and `starttls` can both use it.

use std::fmt;

/// One setting a [`Hint`](crate::Hint) (or a
/// [`StarttlsError`](crate::starttls::StarttlsError)) advises changing, as the API item that changes it. `Display` (and
/// [`api_name`](Self::api_name)) gives the item's path, `ClientConfigBuilder::peer_name`; a
/// program with its own names for these settings maps each variant to them and renders the
/// hint with [`Hint::display_with`](crate::Hint::display_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Advice {
    /// [`ClientConfigBuilder::peer_name`](crate::client::ClientConfigBuilder::peer_name): the
    /// name the certificate is checked against (and sent as SNI).
    PeerName,
    /// [`ClientConfigBuilder::verify_peer_name(false)`](crate::client::ClientConfigBuilder::verify_peer_name):
    /// no host-name check.
    SkipPeerNameCheck,
    /// [`ClientConfigBuilder::ca_file`](crate::client::ClientConfigBuilder::ca_file): the CAs
    /// the client trusts.
    CaFile,
    /// [`ClientConfigBuilder::peer_fingerprint`](crate::client::ClientConfigBuilder::peer_fingerprint):
    /// the pinned certificate digest.
    PeerFingerprint,
    /// [`ClientConfigBuilder::allow_self_signed`](crate::client::ClientConfigBuilder::allow_self_signed).
    AllowSelfSigned,
    /// [`ClientConfigBuilder::certificate_files`](crate::client::ClientConfigBuilder::certificate_files):
    /// the client certificate and its key.
    CertificateFiles,
    /// [`ClientConfigBuilder::allow_cbc_ciphers(true)`](crate::client::ClientConfigBuilder::allow_cbc_ciphers).
    AllowCbcCiphers,
    /// [`ClientConfigBuilder::verify_depth`](crate::client::ClientConfigBuilder::verify_depth):
    /// how many intermediate CAs a chain may have.
    VerifyDepth,
    /// [`ClientConfigBuilder::ciphers`](crate::client::ClientConfigBuilder::ciphers): the TLS
    /// 1.2 cipher list.
    Ciphers,
    /// [`ClientConfigBuilder::alpn`](crate::client::ClientConfigBuilder::alpn): the ALPN
    /// protocols offered.
    Alpn,
    /// [`ConnectOptions::starttls`](crate::client::ConnectOptions::starttls): a STARTTLS
    /// dialogue on a `tcp://` connection before the handshake.
    Starttls,
    /// `StarttlsOptions::xmpp_host` (a field of
    /// [`StarttlsOptions`](crate::starttls::StarttlsOptions)): the XMPP domain of the stream
    /// header.
    XmppHost,
    /// [`ServerConfigBuilder::client_auth`](crate::server::ServerConfigBuilder::client_auth): the server's
    /// client-CA file.
    ServerClientAuth,
    /// [`ServerConfigBuilder::allow_cbc_ciphers(true)`](crate::server::ServerConfigBuilder::allow_cbc_ciphers).
    ServerAllowCbcCiphers,
    /// [`ClientConfigBuilder::ech_config_list`](crate::client::ClientConfigBuilder::ech_config_list):
    /// the server's ECH configurations.
    EchConfigList,
    /// [`ServerConfigBuilder::ech_keys`](crate::server::ServerConfigBuilder::ech_keys): the server's ECH
    /// key files.
    ServerEchKeys,
}

impl Advice {
    /// The API item's path, as the library's own hint text names it
    /// (`"ClientConfigBuilder::peer_name"`).
    pub fn api_name(self) -> &'static str {
        match self {
            Advice::PeerName => "ClientConfigBuilder::peer_name",
            Advice::SkipPeerNameCheck => "ClientConfigBuilder::verify_peer_name(false)",
            Advice::CaFile => "ClientConfigBuilder::ca_file",
            Advice::PeerFingerprint => "ClientConfigBuilder::peer_fingerprint",
            Advice::AllowSelfSigned => "ClientConfigBuilder::allow_self_signed",
            Advice::CertificateFiles => "ClientConfigBuilder::certificate_files",
            Advice::AllowCbcCiphers => "ClientConfigBuilder::allow_cbc_ciphers(true)",
            Advice::VerifyDepth => "ClientConfigBuilder::verify_depth",
            Advice::Ciphers => "ClientConfigBuilder::ciphers",
            Advice::Alpn => "ClientConfigBuilder::alpn",
            Advice::Starttls => "ConnectOptions::starttls",
            Advice::XmppHost => "StarttlsOptions::xmpp_host",
            Advice::ServerClientAuth => "ServerConfigBuilder::client_auth",
            Advice::ServerAllowCbcCiphers => "ServerConfigBuilder::allow_cbc_ciphers(true)",
            Advice::EchConfigList => "ClientConfigBuilder::ech_config_list",
            Advice::ServerEchKeys => "ServerConfigBuilder::ech_keys",
        }
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}
