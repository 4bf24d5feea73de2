//! Bad ECH input is refused when the configuration is built, with what is wrong: a
//! malformed ECHConfigList never becomes a handshake that goes out without ECH, and a key
//! file that cannot be used stops the server (and `tlshake serve`) at start-up with the file
//! and the cause.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tlshake::client::{ClientConfig, ConfigError};
use tlshake::ech::{EchConfigError, EchError, EchKeyError, EchKeys};
use tlshake::server::ServerConfig;
use tlshake::server::ServerConfigError;
use tlshake::ProtocolSet;

use super::{ech_key, LIST_B64};
use crate::common;
use crate::real_servers::run_bounded;

fn client_error(list: &[u8]) -> ConfigError {
    ClientConfig::builder()
        .ech_config_list(list)
        .build()
        .expect_err("refused")
}

#[test]
fn ech_config_list_defects_are_refused_when_the_client_config_is_built() {
    let wire = LIST_B64
        .parse::<tlshake::ech::EchConfigList>()
        .expect("sample");
    let wire = wire.as_bytes();
    let mut unknown_version = wire.to_vec();
    unknown_version[3] = 0x0e;
    let mut unknown_kem = wire.to_vec();
    unknown_kem[6 + 1..6 + 3].copy_from_slice(&[0, 0x30]);
    let cases: Vec<(&[u8], EchConfigError)> = vec![
        (b"", EchConfigError::Empty),
        (&[0, 0], EchConfigError::Empty),
        (
            b"AED+DQA8VwAg!!",
            EchConfigError::Base64Character {
                found: '!',
                position: 12,
            },
        ),
        (
            &wire[..40],
            EchConfigError::ListLength {
                declared: 64,
                actual: 38,
            },
        ),
        (
            &unknown_version,
            EchConfigError::NoSupportedVersion {
                versions: vec![0xfe0e],
            },
        ),
        (
            &unknown_kem,
            EchConfigError::UnsupportedKem {
                index: 0,
                kem: tlshake::ech::HpkeKem(0x30),
            },
        ),
    ];
    for (input, want) in cases {
        let err = client_error(input);
        let ConfigError::Ech(EchError::ConfigList(got)) = &err else {
            panic!("{input:02x?}: {err:?}");
        };
        assert_eq!(got, &want, "{input:02x?}");
        // The chain tells what was given and what is wrong, each once.
        assert_eq!(err.to_string(), "Encrypted Client Hello cannot be set up");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            cause.as_deref().is_some_and(|c| c.starts_with(
                "the ECHConfigList given to ClientConfigBuilder::ech_config_list is refused"
            )),
            "{cause:?}"
        );
    }
}

#[test]
fn ech_settings_that_cannot_apply_are_refused_when_built() {
    let tls12 = ClientConfig::builder()
        .ech_config_list(LIST_B64)
        .protocols(ProtocolSet::TLS1_2)
        .build()
        .expect_err("TLS 1.2 only");
    assert!(
        matches!(tls12, ConfigError::Ech(EchError::NeedsTls13)),
        "{tls12:?}"
    );
    let outer = ClientConfig::builder()
        .ech_outer_sni("cover.example")
        .build()
        .expect_err("an outer name without a configuration");
    assert!(
        matches!(
            outer,
            ConfigError::Ech(EchError::OuterWithoutConfig {
                setting: "ClientConfigBuilder::ech_outer_sni"
            })
        ),
        "{outer:?}"
    );
    // A URL pinned to TLS 1.2 cannot carry ECH either.
    let config = ClientConfig::builder()
        .ech_config_list(LIST_B64)
        .build()
        .expect("config");
    let pinned = config.new_ssl_pinned("localhost", Some(tlshake::ProtocolVersion::Tls1_2));
    assert!(
        matches!(pinned, Err(ConfigError::Ech(EchError::NeedsTls13))),
        "{pinned:?}"
    );
}

/// The server's refusal of `keys`: the file it names and the cause.
fn key_error(keys: EchKeys) -> (std::path::PathBuf, EchKeyError) {
    let err = ServerConfig::builder()
        .certificate_files(
            common::cert("other-host.pem"),
            common::cert("other-host.key"),
        )
        .ech_keys(keys)
        .build()
        .map(|c| c.context().clone())
        .expect_err("refused");
    match err {
        ServerConfigError::Ech(EchError::KeyFile { path, source }) => (path, source),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ech_key_files_that_cannot_be_used_stop_the_server_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = ech_key(dir.path(), "a");
    let b = ech_key(dir.path(), "b");
    let path = |name: &str| dir.path().join(name);

    let missing = path("missing.pem");
    let (file, cause) = key_error(EchKeys::new().file(&missing));
    assert_eq!(file, missing);
    assert!(
        matches!(&cause, EchKeyError::Unreadable(e) if e.kind() == std::io::ErrorKind::NotFound),
        "{cause:?}"
    );

    std::fs::write(path("junk.pem"), "not a key\n").expect("write");
    let (file, cause) = key_error(EchKeys::new().file(path("junk.pem")));
    assert_eq!(file, path("junk.pem"));
    assert!(matches!(cause, EchKeyError::NoPrivateKey), "{cause:?}");

    // A's key with B's configuration.
    let text_a = std::fs::read_to_string(&a.path).expect("a");
    let key_a = text_a
        .split("-----BEGIN ECHCONFIG-----")
        .next()
        .unwrap_or_default();
    std::fs::write(path("mixed.pem"), format!("{key_a}{}", b.list.to_pem())).expect("write");
    let (_, cause) = key_error(EchKeys::new().file(path("mixed.pem")));
    assert!(matches!(cause, EchKeyError::KeyMismatch), "{cause:?}");

    // A truncated ECHCONFIG block.
    let cut = text_a.replacen("-----END ECHCONFIG-----", "", 1);
    std::fs::write(path("cut.pem"), cut).expect("write");
    let (_, cause) = key_error(EchKeys::new().file(path("cut.pem")));
    assert!(
        matches!(cause, EchKeyError::Config(EchConfigError::UnterminatedPem)),
        "{cause:?}"
    );

    // A FIFO is refused before a read that would block.
    let fifo = path("fifo.pem");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let (_, cause) = key_error(EchKeys::new().file(&fifo));
    assert!(
        matches!(cause, EchKeyError::NotRegular { kind: "FIFO" }),
        "{cause:?}"
    );

    // In a directory, the bad file is named among good ones.
    let keys = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&a.path, keys.path().join("a.pem")).expect("copy");
    std::fs::write(keys.path().join("b.pem"), "junk").expect("write");
    let (file, _) = key_error(EchKeys::new().dir(keys.path()));
    assert_eq!(file, keys.path().join("b.pem"));
}

/// `tlshake serve` with `args`: its exit status and stderr.
fn serve(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
    cmd.args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(args);
    let out = run_bounded(cmd, Duration::from_secs(20));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_stops_at_start_up_on_a_bad_ech_key_naming_the_file_and_the_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    let (code, stderr) = serve(&["--ech-key".as_ref(), junk.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "tlshake: cannot serve: Encrypted Client Hello cannot be set up: ECH key file {}: \
             cannot be used: give a PEM file with a private key and its ECHCONFIG, as `openssl \
             ech` writes it (serve --ech-key or --ech-dir): its ECHConfigList is refused: the \
             PEM text has no -----BEGIN ECHCONFIG----- block",
            junk.display()
        )),
        "{stderr}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let (code, stderr) = serve(&["--ech-dir".as_ref(), empty.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ECH key directory {} holds no key file",
            empty.display()
        )),
        "{stderr}"
    );
    let missing = Path::new("/nonexistent/ech.pem");
    let (code, stderr) = serve(&["--ech-key".as_ref(), missing.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("ECH key file /nonexistent/ech.pem: cannot be used")
            && stderr.contains("it cannot be read: No such file or directory (os error 2)"),
        "{stderr}"
    );
}

#[test]
fn connect_refuses_a_bad_ech_config_before_connecting() {
    let run = |value: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlshake"));
        // Port 1 on loopback: nothing listens; a refusal must come before any connect.
        cmd.args([
            "connect",
            "tls://127.0.0.1:1",
            "--ech-config",
            value,
            "--json",
        ]);
        run_bounded(cmd, Duration::from_secs(20))
    };
    let out = run("AED+DQA8VwAg!!");
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(report["outcome"], "bad_input");
    assert_eq!(
        report["error"]["message"],
        "--ech-config refused: \"AED+DQA8VwAg!!\" is not a file, and not an ECHConfigList: \
         not base64: '!' at character 12"
    );
    assert_eq!(
        report["peer"],
        serde_json::Value::Null,
        "no connection was made"
    );
}
