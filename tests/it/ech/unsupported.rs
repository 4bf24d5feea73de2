//! On an OpenSSL without ECH (3.x), every ECH setting exists and is refused when the
//! configuration is built, naming the version needed; so are the command line's flags.

use std::process::Command;
use std::time::Duration;

use tlshake::client::{ClientConfig, ConfigError};
use tlshake::ech::{EchError, EchKeys};
use tlshake::server::ServerConfig;
use tlshake::server::ServerConfigError;

use super::LIST_B64;
use crate::common;
use crate::real_servers::run_bounded;

/// `Encrypted Client Hello needs OpenSSL 4.0 or newer with ECH: this program is linked with
/// OpenSSL 3.x.y ...`, the version the program runs with (or, for a 4.0 configured with
/// `no-ech`, that it was).
fn assert_unsupported(e: &EchError) {
    let EchError::Unsupported { reason } = e else {
        panic!("{e:?}");
    };
    let linked = openssl::version::version();
    let want = if cfg!(ossl400) {
        format!("{linked} was configured without it (no-ech)")
    } else {
        format!("this program is linked with {linked}")
    };
    assert_eq!(reason, &want);
    assert!(
        e.to_string()
            .starts_with("Encrypted Client Hello needs OpenSSL 4.0 or newer with ECH: "),
        "{e}"
    );
}

#[test]
fn ech_client_settings_are_refused_naming_openssl_4() {
    assert!(!tlshake::ech::is_supported());
    let builders = [
        ClientConfig::builder().ech_config_list(LIST_B64),
        ClientConfig::builder().ech_grease(true),
        ClientConfig::builder()
            .ech_config_list(LIST_B64)
            .ech_outer_sni("cover.example")
            .ech_outer_alpn(["h2"]),
    ];
    for b in builders {
        match b.build() {
            Err(ConfigError::Ech(e)) => assert_unsupported(&e),
            other => panic!("{other:?}"),
        }
    }
    // Without ECH settings, nothing changes.
    let config = ClientConfig::builder().build().expect("config");
    let ssl = config.new_ssl("localhost").expect("ssl");
    assert_eq!(
        tlshake::SessionInfo::from_ssl(&ssl).ech.status,
        tlshake::ech::EchStatus::NotAttempted
    );
}

#[test]
fn ech_server_keys_are_refused_naming_openssl_4() {
    let err = ServerConfig::builder()
        .certificate_files(common::cert("server.pem"), common::cert("server.key"))
        .ech_keys(EchKeys::new().file("ech.pem"))
        .build()
        .map(|c| c.context().clone())
        .expect_err("refused");
    match err {
        ServerConfigError::Ech(e) => assert_unsupported(&e),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ech_flags_of_the_command_line_say_openssl_4_is_needed() {
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
        cmd.args(args);
        let out = run_bounded(cmd, Duration::from_secs(20));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let linked = openssl::version::version();
    let (code, stderr) = run(&["connect", "tls://127.0.0.1:1", "--ech-config", LIST_B64]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "tlshake: Encrypted Client Hello is not available: --ech-config needs OpenSSL 4.0 \
             or newer built with Encrypted Client Hello: this tlshake is linked with {linked}"
        )
    );
    let (code, stderr) = run(&["connect", "tls://127.0.0.1:1", "--ech-grease"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--ech-grease needs OpenSSL 4.0"),
        "{stderr}"
    );
    let (code, stderr) = run(&["serve", "--port", "0", "--ech-key", "ech.pem"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "tlshake: Encrypted Client Hello is not available: --ech-key needs OpenSSL 4.0 or \
             newer built with Encrypted Client Hello: this tlshake is linked with {linked}"
        )),
        "{stderr}"
    );
}
