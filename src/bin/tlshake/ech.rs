//! Encrypted Client Hello on the command line: `connect`'s and `serve`'s flags, refused at
//! once, naming the version needed, where the linked OpenSSL has no ECH.

use std::path::{Path, PathBuf};

use clap::Args;
use tlshake::client::ClientConfigBuilder;
use tlshake::ech::{EchConfigList, EchInfo, EchKeys, EchStatus};

use crate::report::{self, AnyError, Failure, Outcome};

/// `connect`'s ECH flags.
#[derive(Debug, Args)]
pub(crate) struct ConnectEchArgs {
    /// Encrypted Client Hello (needs OpenSSL 4.0 with ECH): the server's ECHConfigList, as
    /// base64 text or a FILE of base64, PEM (ECHCONFIG, as `openssl ech` writes) or wire
    /// bytes. The server name then goes only in the encrypted inner ClientHello; a server
    /// that rejects it fails the handshake, never a fallback to the name in clear.
    #[arg(long, value_name = "BASE64|FILE")]
    ech_config: Option<String>,
    /// With --ech-config: the SNI of the outer ClientHello instead of the configuration's
    /// public name (needs OpenSSL 4.0 with ECH).
    #[arg(long, value_name = "NAME", requires = "ech_config")]
    ech_outer_sni: Option<String>,
    /// With --ech-config: the ALPN protocols of the outer ClientHello, comma-separated,
    /// instead of --alpn's (needs OpenSSL 4.0 with ECH).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "ech_config"
    )]
    ech_outer_alpn: Vec<String>,
    /// Send a GREASE ECH extension, so this connection looks like one with ECH (needs
    /// OpenSSL 4.0 with ECH).
    #[arg(long, conflicts_with = "ech_config")]
    ech_grease: bool,
}

impl ConnectEchArgs {
    /// The list of `--ech-config` (the file's bytes when the value names a file, else the
    /// value itself), or why the flags are refused: `(what, why)`.
    pub(crate) fn config_list(&self) -> Result<Option<Vec<u8>>, (String, AnyError)> {
        let given = given([
            ("--ech-config", self.ech_config.is_some()),
            ("--ech-outer-sni", self.ech_outer_sni.is_some()),
            ("--ech-outer-alpn", !self.ech_outer_alpn.is_empty()),
            ("--ech-grease", self.ech_grease),
        ]);
        if let Some(why) = unsupported(&given) {
            return Err(("Encrypted Client Hello is not available".into(), why.into()));
        }
        let Some(value) = &self.ech_config else {
            return Ok(None);
        };
        let refused = |why: Failure| Err(("--ech-config refused".to_string(), why.into()));
        let path = Path::new(value);
        if path.is_file() {
            return match std::fs::read(path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) => refused(Failure::because(
                    format!("cannot read {}", path.display()),
                    e,
                )),
            };
        }
        if let Err(e) = EchConfigList::parse(value.as_bytes()) {
            return refused(Failure::because(
                format!(
                    "{} is not a file, and not an ECHConfigList",
                    report::quoted(value)
                ),
                e,
            ));
        }
        Ok(Some(value.as_bytes().to_vec()))
    }

    /// The settings on the client's builder, with the list [`config_list`](Self::config_list)
    /// read.
    pub(crate) fn apply(
        &self,
        mut b: ClientConfigBuilder,
        list: Option<Vec<u8>>,
    ) -> ClientConfigBuilder {
        if let Some(list) = list {
            b = b.ech_config_list(list);
        }
        if let Some(name) = &self.ech_outer_sni {
            b = b.ech_outer_sni(name);
        }
        if !self.ech_outer_alpn.is_empty() {
            b = b.ech_outer_alpn(
                self.ech_outer_alpn
                    .iter()
                    .filter(|p| !p.is_empty())
                    .cloned(),
            );
        }
        b.ech_grease(self.ech_grease)
    }
}

/// `serve`'s ECH flags.
#[derive(Debug, Args)]
pub(crate) struct ServeEchArgs {
    /// Accept Encrypted Client Hello with this key (repeatable): a PEM file with a private
    /// key and its ECHCONFIG, as `openssl ech -public_name NAME -out FILE` writes it; its
    /// configuration is sent back to clients whose ECH cannot be decrypted (needs OpenSSL
    /// 4.0 with ECH).
    #[arg(long, value_name = "FILE")]
    ech_key: Vec<PathBuf>,
    /// Accept Encrypted Client Hello with every key file in DIR, as --ech-key (needs
    /// OpenSSL 4.0 with ECH).
    #[arg(long, value_name = "DIR")]
    ech_dir: Vec<PathBuf>,
    /// Keys that decrypt but whose configurations are not sent back to clients (older keys
    /// still published somewhere), every file in DIR (needs OpenSSL 4.0 with ECH).
    #[arg(long, value_name = "DIR")]
    ech_noretry_dir: Vec<PathBuf>,
}

impl ServeEchArgs {
    /// The keys of the flags; refused at once on an OpenSSL without ECH. The files are read
    /// when the listener is built.
    pub(crate) fn keys(&self) -> Result<EchKeys, Outcome> {
        let given = given([
            ("--ech-key", !self.ech_key.is_empty()),
            ("--ech-dir", !self.ech_dir.is_empty()),
            ("--ech-noretry-dir", !self.ech_noretry_dir.is_empty()),
        ]);
        if let Some(why) = unsupported(&given) {
            return Err(report::bad_input(
                "Encrypted Client Hello is not available",
                why,
            ));
        }
        let mut keys = EchKeys::new();
        for file in &self.ech_key {
            keys = keys.file(file);
        }
        for dir in &self.ech_dir {
            keys = keys.dir(dir);
        }
        for dir in &self.ech_noretry_dir {
            keys = keys.dir_no_retry(dir);
        }
        Ok(keys)
    }
}

/// The flags given, of `flags`.
fn given<const N: usize>(flags: [(&'static str, bool); N]) -> Vec<&'static str> {
    flags
        .into_iter()
        .filter_map(|(flag, on)| on.then_some(flag))
        .collect()
}

/// Why `flags` cannot be used, on an OpenSSL without ECH.
fn unsupported(flags: &[&str]) -> Option<String> {
    if flags.is_empty() || tlshake::ech::is_supported() {
        return None;
    }
    Some(format!(
        "{} need{} OpenSSL 4.0 or newer built with Encrypted Client Hello: this tlshake is \
         linked with {}",
        flags.join(", "),
        if flags.len() > 1 { "" } else { "s" },
        openssl::version::version()
    ))
}

/// The report's `ECH:` line, when ECH was attempted.
pub(crate) fn report_line(info: &EchInfo) -> Option<String> {
    (info.status != EchStatus::NotAttempted).then(|| info.to_string())
}
