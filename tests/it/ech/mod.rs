//! Encrypted Client Hello. With OpenSSL 4.0 built with ECH, against its own programs in both
//! directions (`client`: tlshake's client and `openssl s_client` side by side against one
//! `s_server -ech_key`; `server`: `openssl s_client -ech_config_list` against tlshake's
//! listener and `tlshake serve`), the loopback capture that proves the inner name never
//! crosses the network in clear (`capture`), and bad input (`refusals`). On every other
//! OpenSSL, the refusal of every ECH setting (`unsupported`). The ECHConfigList parser is the
//! same everywhere (`parsing`).

mod parsing;

#[cfg(all(ossl400, not(ossl_no_ech)))]
mod capture;
#[cfg(all(ossl400, not(ossl_no_ech)))]
mod cli;
#[cfg(all(ossl400, not(ossl_no_ech)))]
mod client;
#[cfg(all(ossl400, not(ossl_no_ech)))]
mod refusals;
#[cfg(all(ossl400, not(ossl_no_ech)))]
mod server;
#[cfg(not(all(ossl400, not(ossl_no_ech))))]
mod unsupported;

/// The ECHConfigList `openssl ech -public_name other.example` wrote once (X25519,
/// HKDF-SHA256/AES-128-GCM, config id 0x57): public values only.
pub(crate) const LIST_B64: &str =
    "AED+DQA8VwAgACAedAEuAQSKtRguiEcTRlRPLWh49cKS/KzvcE0nhe+XXgAEAAEAAQANb3RoZXIuZXhhbXBsZQAA";

/// The public name of every ECH key of these tests; `certs/other-host.pem` is valid for it.
#[cfg_attr(not(all(ossl400, not(ossl_no_ech))), allow(dead_code))]
pub(crate) const PUBLIC_NAME: &str = "other.example";

#[cfg(all(ossl400, not(ossl_no_ech)))]
pub(crate) use peers::*;

/// The peers and keys the OpenSSL 4.0 tests share.
#[cfg(all(ossl400, not(ossl_no_ech)))]
mod peers {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::Duration;

    use tlshake::ech::EchConfigList;
    use tlshake::harness::{OpensslClient, OpensslServer, ServerMode};

    use super::PUBLIC_NAME;
    use crate::common;
    use crate::real_servers::run_bounded;

    /// `$TLSHAKE_OPENSSL`, or `openssl`: the program whose version the library links.
    pub(crate) fn openssl() -> OsString {
        std::env::var_os("TLSHAKE_OPENSSL").unwrap_or_else(|| "openssl".into())
    }

    /// A key file `openssl ech` wrote, and its ECHConfigList.
    #[derive(Debug, Clone)]
    pub(crate) struct EchKey {
        /// The PEM file (private key and ECHCONFIG).
        pub(crate) path: PathBuf,
        /// Its list, as tlshake reads it.
        pub(crate) list: EchConfigList,
    }

    /// A fresh key for [`PUBLIC_NAME`] in `dir/NAME.pem`, made by `openssl ech`.
    pub(crate) fn ech_key(dir: &Path, name: &str) -> EchKey {
        let path = dir.join(format!("{name}.pem"));
        let mut cmd = Command::new(openssl());
        cmd.args(["ech", "-public_name", PUBLIC_NAME, "-out"])
            .arg(&path);
        let out = run_bounded(cmd, Duration::from_secs(20));
        assert!(
            out.status.success(),
            "openssl ech: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read(&path).expect("the key file openssl ech wrote");
        let list = EchConfigList::parse(&text).expect("openssl ech's ECHCONFIG");
        EchKey { path, list }
    }

    /// `s_server -www` whose default certificate is the public name's
    /// (`certs/other-host.pem`) and whose second one, for SNI `inner` (`-servername`), is
    /// `inner_cert` (`certs/NAME.pem` and `.key`), with `extra` arguments (the ECH keys).
    pub(crate) fn s_server(inner: &str, inner_cert: &str, extra: &[OsString]) -> OpensslServer {
        let mut b = OpensslServer::builder()
            .cert(common::cert("other-host.pem"))
            .key(common::cert("other-host.key"))
            .mode(ServerMode::Www)
            .arg("-servername")
            .arg(inner)
            .arg("-cert2")
            .arg(common::cert(&format!("{inner_cert}.pem")))
            .arg("-key2")
            .arg(common::cert(&format!("{inner_cert}.key")));
        for a in extra {
            b = b.arg(a.clone());
        }
        b.spawn().expect("s_server")
    }

    /// `["-ech_key", FILE]`.
    pub(crate) fn ech_key_arg(key: &EchKey) -> Vec<OsString> {
        vec!["-ech_key".into(), key.path.clone().into_os_string()]
    }

    /// What `s_client` printed about ECH: the status line (`success: 1`,
    /// `failed+retry-configs: -105`, ...), the names, and the retry configurations it got.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub(crate) struct SClientEch {
        pub(crate) status: Option<String>,
        pub(crate) inner: Option<String>,
        pub(crate) outer: Option<String>,
        /// `Got N retry-configs`.
        pub(crate) retry_count: Option<usize>,
        /// The public names of `ECH: entry: N public_name: NAME age: ...`.
        pub(crate) retry_public_names: Vec<String>,
        /// Whether it completed the handshake.
        pub(crate) done: bool,
        /// The subject of the server's certificate (`subject=...`).
        pub(crate) subject: Option<String>,
    }

    /// Runs `s_client -servername localhost -CAfile ca.pem` against `addr` with `args` (the
    /// ECH flags) to its end, and reads its ECH lines.
    pub(crate) fn s_client(addr: std::net::SocketAddr, args: &[&str]) -> (SClientEch, String) {
        let mut b = OpensslClient::builder(addr)
            .servername("localhost")
            .ca_file(common::cert("ca.pem"));
        for a in args {
            b = b.arg(*a);
        }
        let run = b
            .spawn()
            .expect("s_client")
            .wait(Duration::from_secs(20))
            .expect("s_client ends");
        let text = format!("{}{}", run.stdout, run.stderr);
        let mut seen = SClientEch {
            done: run.handshake_done(),
            ..SClientEch::default()
        };
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("ECH: inner: ") {
                seen.inner = Some(rest.to_string());
            } else if let Some(rest) = line.strip_prefix("ECH: outer: ") {
                seen.outer = Some(rest.to_string());
            } else if let Some(rest) = line.strip_prefix("ECH: Got ") {
                seen.retry_count = rest
                    .strip_suffix(" retry-configs")
                    .and_then(|n| n.parse().ok());
            } else if let Some(rest) = line.strip_prefix("ECH: entry: ") {
                let name = rest.split(" public_name: ").nth(1).unwrap_or_default();
                let name = name.split(" age:").next().unwrap_or_default();
                seen.retry_public_names.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("subject=") {
                seen.subject = Some(rest.to_string());
            } else if let Some(rest) = line.strip_prefix("ECH: ") {
                if !rest.starts_with('\t') && !rest.starts_with('[') {
                    seen.status = Some(rest.to_string());
                }
            }
        }
        (seen, text)
    }
}
