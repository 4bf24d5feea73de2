//! The client configuration `tlshake connect` builds once from its options.

use tlshake::client::{self, ClientConfig};
use tlshake::trace::TraceSink;
use tlshake::{ProtocolSet, ProtocolVersion};

use super::args::ConnectArgs;

/// The configuration the options ask for, with `trace` recording the messages when given
/// and `ech` the ECHConfigList of `--ech-config`.
pub(super) fn build_config(
    a: &ConnectArgs,
    trace: Option<&TraceSink>,
    ech: Option<Vec<u8>>,
) -> Result<ClientConfig, client::ConfigError> {
    let mut b = ClientConfig::builder()
        .verify_peer(!a.insecure)
        .verify_peer_name(!a.no_verify_name && !a.insecure)
        .allow_self_signed(a.allow_self_signed)
        .sni(!a.no_sni)
        .allow_legacy_versions(a.legacy)
        .allow_cbc_ciphers(a.allow_cbc)
        .alpn(a.alpn.iter().filter(|p| !p.is_empty()).cloned());
    if let Some(p) = &a.cafile {
        b = b.ca_file(p);
    }
    if let Some(p) = &a.capath {
        b = b.ca_dir(p);
    }
    // clap requires --cert and --key together.
    if let (Some(cert), Some(key)) = (&a.cert, &a.key) {
        b = b.certificate_files(cert, key);
    }
    if let Some(p) = &a.pass {
        b = b.passphrase(p);
    }
    if let Some(n) = &a.servername {
        b = b.peer_name(n);
    }
    if let Some(f) = &a.fingerprint {
        b = b.peer_fingerprint(f.clone());
    }
    if let Some(depth) = a.verify_depth {
        b = b.verify_depth(depth);
    }
    if a.min_proto.is_some() || a.max_proto.is_some() {
        let set = ProtocolSet::range(
            a.min_proto.unwrap_or(ProtocolVersion::Tls1_2),
            a.max_proto.unwrap_or(ProtocolVersion::Tls1_3),
        )
        .map_err(client::ConfigError::Policy)?;
        b = b.protocols(set);
    }
    if let Some(c) = &a.ciphers {
        b = b.ciphers(c);
    }
    if let Some(c) = &a.ciphersuites {
        b = b.ciphersuites(c);
    }
    if let Some(g) = &a.groups {
        b = b.groups(g);
    }
    if let Some(n) = a.nodelay {
        b = b.nodelay(n);
    }
    if let Some(path) = crate::keylog::path(a.keylog.as_deref()) {
        b = b.key_log(path);
    }
    b = b.status_request(a.status);
    if let Some(sink) = trace {
        b = b.trace(sink.clone());
    }
    if a.sess_in.is_some() || a.sess_out.is_some() || a.reconnect > 0 {
        b = b.resume_sessions(true);
    }
    b = a.ech.apply(b, ech);
    b.build()
}
