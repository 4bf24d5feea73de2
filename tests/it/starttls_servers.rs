//! Every STARTTLS dialogue against its real server (prosody, slapd, inn2's nnrpd,
//! dovecot's imap, pop3 and managesieve, postgres, mariadb, inspircd), each checked against `openssl s_client
//! -starttls` on the same server: both connect and agree on the protocol version.
//!
//! The servers need root and Debian packages, so these tests are ignored by a plain
//! `cargo test`; `./scripts/test.sh` installs the packages and runs them, and there a missing
//! server is a failure.

use crate::real_servers;

use std::fs;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use real_servers::*;
use tlshake::client::ClientConfig;
use tlshake::starttls::{self, StarttlsProtocol, StarttlsTranscript};

/// Connects with both clients and checks that they agree; returns the version.
fn compare(port: u16, proto: &str, extra: &[&str], ca: &Path, logs: &str) -> String {
    let theirs = s_client(port, proto, extra, ca)
        .unwrap_or_else(|out| panic!("s_client -starttls {proto} failed:\n{out}\n{logs}"));
    let ours_extra: Vec<&str> = extra
        .iter()
        .map(|a| if *a == "-xmpphost" { "--xmpphost" } else { a })
        .collect();
    let ours = tlshake(port, proto, &ours_extra, ca);
    assert_eq!(ours["outcome"], "done", "{ours}\n{logs}");
    assert_eq!(ours["verify"]["ok"], true, "{ours}");
    assert_eq!(ours["protocol"].as_str(), Some(theirs.as_str()), "{ours}");
    assert!(ours["timings_ms"]["starttls"].is_f64(), "{ours}");
    theirs
}

/// The library's upgrade on a fresh connection: the dialogue's transcript.
fn library(port: u16, protocol: StarttlsProtocol, ca: &Path) -> StarttlsTranscript {
    let config = ClientConfig::builder().ca_file(ca).build().expect("config");
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let options = tlshake::client::ConnectOptions::new()
        .starttls(protocol)
        .deadline(deadline);
    let conn = tlshake::client::upgrade(tcp, "localhost", &config, &options)
        .unwrap_or_else(|e| panic!("{protocol}: {e:#}"));
    let (tls, transcript) = (conn.stream, conn.starttls.expect("a transcript"));
    assert!(tls.protocol().starts_with("TLSv1."), "{}", tls.protocol());
    #[cfg(feature = "tokio")]
    same_through_connect_async(port, protocol, &config, &transcript, tls.protocol());
    transcript
}

/// Built with the feature `tokio`: `connect_async_with` on a fresh connection runs the same
/// dialogue to the same go-ahead and the same TLS version as the blocking upgrade.
#[cfg(feature = "tokio")]
fn same_through_connect_async(
    port: u16,
    protocol: StarttlsProtocol,
    config: &ClientConfig,
    blocking: &StarttlsTranscript,
    version: &str,
) {
    let url: tlshake::url::TransportUrl = format!("tcp://localhost:{port}").parse().expect("url");
    let options = tlshake::client::ConnectOptions::new()
        .starttls(protocol)
        .deadline(Instant::now() + Duration::from_secs(10));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let conn = runtime
        .block_on(tlshake::client::connect_async_with(&url, config, &options))
        .unwrap_or_else(|e| panic!("{protocol} async: {e:#}"));
    let transcript = conn.starttls.as_ref().expect("a transcript");
    assert_eq!(transcript.protocol, protocol);
    // Greetings carry per-connection ids (XMPP stream, MySQL connection): not compared.
    assert_eq!(transcript.capabilities, blocking.capabilities, "{protocol}");
    assert_eq!(transcript.go_ahead, blocking.go_ahead, "{protocol}");
    assert_eq!(conn.stream.get_ref().protocol(), version, "{protocol}");
}

/// Built with the feature `tokio`: the tokio runner of the dialogue, on a fresh connection,
/// ends with the same error as the blocking one. MySQL's refusal carries the connection id,
/// so only the variant and the server's words up to it are compared there.
#[cfg(feature = "tokio")]
fn same_error_on_tokio(
    port: u16,
    protocol: StarttlsProtocol,
    options: &starttls::StarttlsOptions,
    blocking: &starttls::StarttlsError,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let err = runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let deadline = tlshake::internals::Deadline::after(Duration::from_secs(10));
        tlshake::tokio::negotiate_starttls(&tcp, protocol, options, deadline)
            .await
            .expect_err("the same refusal")
    });
    let words = |e: &starttls::StarttlsError| {
        let text = format!("{e:?}");
        match text.find("connection ") {
            Some(at) => text[..at].to_string(),
            None => text,
        }
    };
    assert_eq!(words(&err), words(blocking), "{protocol}");
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

// ---- XMPP: prosody -------------------------------------------------------------------------

fn prosody(dir: &Path, c2s: u16, s2s: Option<u16>) -> Daemon {
    require("prosody", "prosody");
    let u = user("prosody");
    let (cert, key, _) = install_certs(dir, u);
    let d = dir.display();
    let (s2s_ports, disabled) = match s2s {
        Some(p) => (format!("{{ {p} }}"), r#""offline""#),
        None => ("{}".to_string(), r#""s2s"; "offline""#),
    };
    fs::create_dir_all(dir.join("data")).expect("mkdir");
    write(
        &dir.join("prosody.cfg.lua"),
        &format!(
            r#"pidfile = "{d}/prosody.pid"; data_path = "{d}/data"; daemonize = false
log = {{ info = "{d}/prosody.log"; error = "{d}/prosody.err" }}
interfaces = {{ "127.0.0.1" }}; local_interfaces = {{ "127.0.0.1" }}; c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{}}; legacy_ssl_ports = {{}}; s2s_ports = {s2s_ports}
s2s_direct_tls_ports = {{}}; http_ports = {{}}; https_ports = {{}}
modules_enabled = {{ "tls"; "saslauth"; "disco" }}; modules_disabled = {{ {disabled} }}
c2s_require_encryption = true; s2s_require_encryption = true; s2s_secure_auth = false
authentication = "internal_plain"; certificates = "{d}"
VirtualHost "localhost"
  ssl = {{ certificate = "{cert}"; key = "{key}" }}
"#,
            cert = cert.display(),
            key = key.display()
        ),
    );
    chown_tree(dir, u);
    let mut cmd = Command::new("prosody");
    cmd.arg("-F")
        .arg("--config")
        .arg(dir.join("prosody.cfg.lua"));
    let mut daemon = Daemon::spawn("prosody", cmd, dir, Some(u));
    let logs = [dir.join("prosody.log"), dir.join("prosody.err")];
    let logs: Vec<&Path> = logs.iter().map(|p| p.as_path()).collect();
    daemon.wait_ready(c2s, READY, None, &logs);
    if let Some(p) = s2s {
        daemon.wait_ready(p, READY, None, &logs);
    }
    daemon
}

#[test]
#[ignore = "needs prosody; run by ./scripts/test.sh"]
fn xmpp_against_prosody() {
    let dir = test_dir();
    let port = free_port();
    let daemon = prosody(dir.path(), port, None);
    let logs = daemon.tail(&[&dir.path().join("prosody.log")]);
    let ca = dir.path().join("ca.pem");
    compare(port, "xmpp", &["-xmpphost", "localhost"], &ca, &logs);
    let t = library(port, StarttlsProtocol::Xmpp, &ca);
    assert!(t.greeting.contains("jabber:client"), "{t:?}");
    assert!(
        t.capabilities.iter().any(|c| c.starts_with("starttls")),
        "{t:?}"
    );
    assert!(t.go_ahead.starts_with("<proceed"), "{t:?}");
}

#[test]
#[ignore = "needs prosody; run by ./scripts/test.sh"]
fn xmpp_server_against_prosody() {
    let dir = test_dir();
    let (c2s, s2s) = (free_port(), free_port());
    let daemon = prosody(dir.path(), c2s, Some(s2s));
    let logs = daemon.tail(&[&dir.path().join("prosody.log")]);
    let ca = dir.path().join("ca.pem");
    compare(s2s, "xmpp-server", &["-xmpphost", "localhost"], &ca, &logs);
    let t = library(s2s, StarttlsProtocol::XmppServer, &ca);
    assert!(t.greeting.contains("jabber:server"), "{t:?}");
}

#[test]
#[ignore = "needs prosody; run by ./scripts/test.sh"]
fn xmpp_unknown_host_is_refused_by_prosody() {
    let dir = test_dir();
    let port = free_port();
    let _daemon = prosody(dir.path(), port, None);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let options = starttls::StarttlsOptions::default().with_xmpp_host("nowhere.invalid");
    let deadline = Instant::now() + Duration::from_secs(10);
    let err =
        starttls::negotiate_with_deadline(&mut tcp, StarttlsProtocol::Xmpp, &options, deadline)
            .expect_err("an unknown host gets a stream error");
    assert!(
        matches!(&err, starttls::StarttlsError::Refused { reply, .. } if reply.contains("host-unknown")),
        "{err:?}"
    );
    #[cfg(feature = "tokio")]
    same_error_on_tokio(port, StarttlsProtocol::Xmpp, &options, &err);
}

// ---- LDAP: slapd ---------------------------------------------------------------------------

#[test]
#[ignore = "needs slapd; run by ./scripts/test.sh"]
fn ldap_against_slapd() {
    require("slapd", "slapd");
    let dir = test_dir();
    let d = dir.path();
    let root = User { uid: 0, gid: 0 };
    let (cert, key, ca) = install_certs(d, root);
    write(
        &d.join("slapd.conf"),
        &format!(
            "include /etc/ldap/schema/core.schema\npidfile {0}/slapd.pid\nargsfile {0}/slapd.args\n\
             TLSCACertificateFile {1}\nTLSCertificateFile {2}\nTLSCertificateKeyFile {3}\n",
            d.display(),
            ca.display(),
            cert.display(),
            key.display()
        ),
    );
    let port = free_port();
    let mut cmd = Command::new("slapd");
    cmd.args(["-d", "256", "-f"])
        .arg(d.join("slapd.conf"))
        .arg("-h")
        .arg(format!("ldap://127.0.0.1:{port}/"));
    let mut daemon = Daemon::spawn("slapd", cmd, d, None);
    daemon.wait_ready(port, READY, None, &[]);
    compare(port, "ldap", &[], &ca, &daemon.tail(&[]));
    let t = library(port, StarttlsProtocol::Ldap, &ca);
    assert_eq!(t.go_ahead, "extendedResp resultCode 0 (success)");
}

#[test]
#[ignore = "needs slapd; run by ./scripts/test.sh"]
fn ldap_without_tls_is_not_offered_by_slapd() {
    require("slapd", "slapd");
    let dir = test_dir();
    let d = dir.path();
    write(
        &d.join("slapd.conf"),
        &format!(
            "include /etc/ldap/schema/core.schema\npidfile {0}/slapd.pid\nargsfile {0}/slapd.args\n",
            d.display()
        ),
    );
    let port = free_port();
    let mut cmd = Command::new("slapd");
    cmd.args(["-d", "256", "-f"])
        .arg(d.join("slapd.conf"))
        .arg("-h")
        .arg(format!("ldap://127.0.0.1:{port}/"));
    let mut daemon = Daemon::spawn("slapd", cmd, d, None);
    daemon.wait_ready(port, READY, None, &[]);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let options = starttls::StarttlsOptions::default();
    let err =
        starttls::negotiate_with_deadline(&mut tcp, StarttlsProtocol::Ldap, &options, deadline)
            .expect_err("no StartTLS without a certificate");
    assert!(
        matches!(&err, starttls::StarttlsError::NotOffered { reply, .. }
            if reply == "extendedResp resultCode 2 (protocolError): unsupported extended operation"),
        "{err:?}"
    );
    #[cfg(feature = "tokio")]
    same_error_on_tokio(port, StarttlsProtocol::Ldap, &options, &err);
}

// ---- NNTP: inn2's nnrpd --------------------------------------------------------------------

#[test]
#[ignore = "needs inn2; run by ./scripts/test.sh"]
fn nntp_against_nnrpd() {
    let nnrpd = require("/usr/lib/news/bin/nnrpd", "inn2");
    let tdx = require("/usr/lib/news/bin/tdx-util", "inn2");
    let u = user("news");
    let dir = test_dir();
    let d = dir.path();
    let (cert, key, ca) = install_certs(d, u);
    let etc = d.join("etc");
    let db = d.join("db");
    for sub in ["etc", "db", "run", "log", "overview", "tmp"] {
        fs::create_dir_all(d.join(sub)).expect("mkdir");
    }
    for entry in fs::read_dir("/etc/news").expect("/etc/news") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            fs::copy(&path, etc.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    for name in ["active", "newsgroups"] {
        fs::copy(Path::new("/var/lib/news").join(name), db.join(name)).expect("copy db");
    }
    write(&db.join("active.times"), "");
    let ours = [
        "pathetc",
        "pathrun",
        "pathlog",
        "pathdb",
        "pathoverview",
        "pathtmp",
        "domain",
        "tlscafile",
        "tlscertfile",
        "tlskeyfile",
    ];
    let stock = fs::read_to_string(etc.join("inn.conf")).expect("inn.conf");
    let mut conf: String = stock
        .lines()
        .filter(|l| {
            !ours
                .iter()
                .any(|k| l.trim_start().starts_with(&format!("{k}:")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    for (k, v) in [
        ("pathetc", etc.clone()),
        ("pathrun", d.join("run")),
        ("pathlog", d.join("log")),
        ("pathdb", db.clone()),
        ("pathoverview", d.join("overview")),
        ("pathtmp", d.join("tmp")),
        ("tlscafile", ca.clone()),
        ("tlscertfile", cert.clone()),
        ("tlskeyfile", key.clone()),
    ] {
        conf.push_str(&format!("{k}: {}\n", v.display()));
    }
    conf.push_str("domain: localdomain\n");
    write(&etc.join("inn.conf"), &conf);
    chown_tree(d, u);
    let inn_conf = etc.join("inn.conf");
    let mut index = Command::new(&tdx);
    index
        .arg("-F")
        .env("INNCONF", &inn_conf)
        .uid(u.uid)
        .gid(u.gid);
    let out = run_bounded(index, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "tdx-util -F: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = free_port();
    let mut cmd = Command::new(&nnrpd);
    cmd.args(["-D", "-f", "-n", "-b", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .env("INNCONF", &inn_conf);
    let mut daemon = Daemon::spawn("nnrpd", cmd, d, Some(u));
    let greets: fn(&[u8]) -> bool = |g| g.starts_with(b"200") || g.starts_with(b"201");
    let log = d.join("log/news.notice");
    daemon.wait_ready(port, READY, Some(greets), &[&log]);
    compare(port, "nntp", &[], &ca, &daemon.tail(&[&log]));
    let t = library(port, StarttlsProtocol::Nntp, &ca);
    assert!(t.greeting.starts_with("20"), "{t:?}");
    assert!(t.capabilities.iter().any(|c| c == "STARTTLS"), "{t:?}");
    assert!(t.go_ahead.starts_with("382"), "{t:?}");
}

use std::os::unix::process::CommandExt;

// ---- ManageSieve: dovecot ------------------------------------------------------------------

#[test]
#[ignore = "needs dovecot-managesieved; run by ./scripts/test.sh"]
fn sieve_against_dovecot() {
    require("dovecot", "dovecot-core");
    require("/usr/lib/dovecot/managesieve-login", "dovecot-managesieved");
    let dir = test_dir();
    let d = dir.path();
    let root = User { uid: 0, gid: 0 };
    let (cert, key, ca) = install_certs(d, root);
    let port = free_port();
    let log = d.join("dovecot.log");
    write(
        &d.join("dovecot.conf"),
        &format!(
            "base_dir = {0}/run\nstate_dir = {0}/state\nlog_path = {1}\nprotocols = sieve\n\
             listen = 127.0.0.1\nssl = yes\nssl_cert = <{2}\nssl_key = <{3}\n\
             passdb {{\n  driver = static\n  args = password=unused\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={0}/home/%u\n}}\n\
             service managesieve-login {{\n  inet_listener sieve {{\n    port = {4}\n  }}\n}}\n",
            d.display(),
            log.display(),
            cert.display(),
            key.display(),
            port
        ),
    );
    let mut cmd = Command::new("dovecot");
    cmd.arg("-F").arg("-c").arg(d.join("dovecot.conf"));
    let mut daemon = Daemon::spawn("dovecot", cmd, d, None);
    let greets: fn(&[u8]) -> bool = |g| g.starts_with(b"\"");
    daemon.wait_ready(port, READY, Some(greets), &[&log]);
    compare(port, "sieve", &[], &ca, &daemon.tail(&[&log]));
    let t = library(port, StarttlsProtocol::Sieve, &ca);
    assert!(t.capabilities.iter().any(|c| c == "STARTTLS"), "{t:?}");
    assert!(t.go_ahead.starts_with("OK"), "{t:?}");
}

// ---- IMAP and POP3: dovecot ----------------------------------------------------------------

#[test]
#[ignore = "needs dovecot-imapd and dovecot-pop3d; run by ./scripts/test.sh"]
fn imap_and_pop3_against_dovecot() {
    require("dovecot", "dovecot-core");
    require("/usr/lib/dovecot/imap-login", "dovecot-imapd");
    require("/usr/lib/dovecot/pop3-login", "dovecot-pop3d");
    let dir = test_dir();
    let d = dir.path();
    let root = User { uid: 0, gid: 0 };
    let (cert, key, ca) = install_certs(d, root);
    let (imap, pop3) = (free_port(), free_port());
    let log = d.join("dovecot.log");
    write(
        &d.join("dovecot.conf"),
        &format!(
            "base_dir = {0}/run\nstate_dir = {0}/state\nlog_path = {1}\nprotocols = imap pop3\n\
             listen = 127.0.0.1\nssl = yes\nssl_cert = <{2}\nssl_key = <{3}\n\
             passdb {{\n  driver = static\n  args = password=unused\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={0}/home/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {4}\n  }}\n\
             inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = {5}\n  }}\n\
             inet_listener pop3s {{\n    port = 0\n  }}\n}}\n",
            d.display(),
            log.display(),
            cert.display(),
            key.display(),
            imap,
            pop3
        ),
    );
    let mut cmd = Command::new("dovecot");
    cmd.arg("-F").arg("-c").arg(d.join("dovecot.conf"));
    let mut daemon = Daemon::spawn("dovecot", cmd, d, None);
    let imap_greets: fn(&[u8]) -> bool = |g| g.starts_with(b"* OK");
    let pop3_greets: fn(&[u8]) -> bool = |g| g.starts_with(b"+OK");
    daemon.wait_ready(imap, READY, Some(imap_greets), &[&log]);
    daemon.wait_ready(pop3, READY, Some(pop3_greets), &[&log]);
    compare(imap, "imap", &[], &ca, &daemon.tail(&[&log]));
    compare(pop3, "pop3", &[], &ca, &daemon.tail(&[&log]));
    let t = library(imap, StarttlsProtocol::Imap, &ca);
    assert!(t.greeting.starts_with("* OK"), "{t:?}");
    assert!(t.capabilities.iter().any(|c| c == "STARTTLS"), "{t:?}");
    assert!(t.go_ahead.starts_with(". OK"), "{t:?}");
    let t = library(pop3, StarttlsProtocol::Pop3, &ca);
    assert!(t.greeting.starts_with("+OK"), "{t:?}");
    assert!(t.go_ahead.starts_with("+OK"), "{t:?}");
}

// ---- PostgreSQL: postgres ------------------------------------------------------------------

/// The newest `/usr/lib/postgresql/N/bin` of Debian's `postgresql` package.
fn postgres_bin() -> std::path::PathBuf {
    let mut versions: Vec<(u32, std::path::PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| {
                    let n = e.file_name().to_str()?.parse().ok()?;
                    Some((n, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    let bin = versions.pop().map(|(_, bin)| bin).unwrap_or_default();
    require(&bin.join("postgres").display().to_string(), "postgresql");
    bin
}

#[test]
#[ignore = "needs postgresql; run by ./scripts/test.sh"]
fn postgres_against_postgres() {
    let bin = postgres_bin();
    let dir = test_dir();
    let d = dir.path();
    let u = user("postgres");
    let (cert, key, ca) = install_certs(d, u);
    let data = d.join("data");
    fs::create_dir_all(&data).expect("mkdir");
    chown_tree(d, u);
    let mut init = Command::new(bin.join("initdb"));
    init.arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync"])
        .uid(u.uid)
        .gid(u.gid);
    let out = run_bounded(init, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "initdb: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(d)
        .args(["-h", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .args(["-c", "ssl=on", "-c"])
        .arg(format!("ssl_cert_file={}", cert.display()))
        .arg("-c")
        .arg(format!("ssl_key_file={}", key.display()));
    let mut daemon = Daemon::spawn("postgres", cmd, d, Some(u));
    daemon.wait_ready(port, READY, None, &[]);
    compare(port, "postgres", &[], &ca, &daemon.tail(&[]));
    let t = library(port, StarttlsProtocol::Postgres, &ca);
    assert_eq!(t.greeting, "");
    assert_eq!(t.go_ahead, "S");
}

// ---- MySQL: mariadb ------------------------------------------------------------------------

/// Two `mariadb-install-db` runs at the same time fail ("Installation of system tables
/// failed"): the MySQL tests take turns.
fn one_mariadb_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static MARIADB: std::sync::Mutex<()> = std::sync::Mutex::new(());
    MARIADB
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn mariadb(dir: &Path, with_tls: bool) -> (Daemon, u16) {
    require("mariadbd", "mariadb-server");
    let install = require("mariadb-install-db", "mariadb-server");
    let u = user("mysql");
    let (cert, key, ca) = install_certs(dir, u);
    chown_tree(dir, u);
    let data = dir.join("data");
    let mut init = Command::new(install);
    init.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--user=mysql",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ]);
    let out = run_bounded(init, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "mariadb-install-db: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    chown_tree(dir, u);
    let port = free_port();
    let log = dir.join("error.log");
    let mut cmd = Command::new("mariadbd");
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg("--user=mysql")
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}/mysqld.sock", dir.display()))
        .arg(format!("--pid-file={}/mysqld.pid", dir.display()))
        .arg(format!("--log-error={}", log.display()))
        .arg("--skip-log-bin");
    if with_tls {
        cmd.arg(format!("--ssl-cert={}", cert.display()))
            .arg(format!("--ssl-key={}", key.display()))
            .arg(format!("--ssl-ca={}", ca.display()));
    }
    let mut daemon = Daemon::spawn("mariadbd", cmd, dir, None);
    let greets: fn(&[u8]) -> bool = |g| g.get(4) == Some(&0x0a);
    daemon.wait_ready(port, Duration::from_secs(25), Some(greets), &[&log]);
    (daemon, port)
}

#[test]
#[ignore = "needs mariadb-server; run by ./scripts/test.sh"]
fn mysql_against_mariadb() {
    let _turn = one_mariadb_at_a_time();
    let dir = test_dir();
    let (daemon, port) = mariadb(dir.path(), true);
    let ca = dir.path().join("ca.pem");
    compare(
        port,
        "mysql",
        &[],
        &ca,
        &daemon.tail(&[&dir.path().join("error.log")]),
    );
    let t = library(port, StarttlsProtocol::Mysql, &ca);
    assert!(t.greeting.contains("MariaDB"), "{t:?}");
    assert!(t.capabilities.iter().any(|c| c == "CLIENT_SSL"), "{t:?}");
}

#[test]
#[ignore = "needs mariadb-server; run by ./scripts/test.sh"]
fn mysql_without_a_certificate_is_not_offered_by_mariadb() {
    let _turn = one_mariadb_at_a_time();
    let dir = test_dir();
    let (_daemon, port) = mariadb(dir.path(), false);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let options = starttls::StarttlsOptions::default();
    let err =
        starttls::negotiate_with_deadline(&mut tcp, StarttlsProtocol::Mysql, &options, deadline)
            .expect_err("no CLIENT_SSL without a certificate");
    assert!(
        matches!(&err, starttls::StarttlsError::NotOffered { reply, .. } if reply.contains("MariaDB")),
        "{err:?}"
    );
    assert!(err.to_string().contains("certificate"), "{err}");
    #[cfg(feature = "tokio")]
    same_error_on_tokio(port, StarttlsProtocol::Mysql, &options, &err);
}

// ---- IRC: inspircd -------------------------------------------------------------------------

#[test]
#[ignore = "needs inspircd; run by ./scripts/test.sh"]
fn irc_against_inspircd() {
    require("inspircd", "inspircd");
    let u = user("irc");
    let dir = test_dir();
    let d = dir.path();
    let (cert, key, ca) = install_certs(d, u);
    let port = free_port();
    write(&d.join("motd.txt"), "test\n");
    write(
        &d.join("inspircd.conf"),
        &format!(
            r#"<config format="xml">
<server name="irc.localhost" description="test" network="Test">
<admin name="Admin" nick="admin" email="admin@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect allow="*" resolvehostnames="no" timeout="60" localmax="100" globalmax="100">
<dns server="127.0.0.1" timeout="1">
<files motd="{d}/motd.txt">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{d}/ircd.log">
<module name="ssl_gnutls"> <module name="cap"> <module name="starttls">
<sslprofile name="tls" provider="gnutls" certfile="{cert}" keyfile="{key}" hash="sha256">
<starttls provider="tls">
"#,
            d = d.display(),
            cert = cert.display(),
            key = key.display()
        ),
    );
    chown_tree(d, u);
    let mut cmd = Command::new("inspircd");
    cmd.args(["--nofork", "--nopid", "--config"])
        .arg(d.join("inspircd.conf"));
    let mut daemon = Daemon::spawn("inspircd", cmd, d, Some(u));
    let log = d.join("ircd.log");
    daemon.wait_ready(port, READY, None, &[&log]);
    compare(port, "irc", &[], &ca, &daemon.tail(&[&log]));
    let t = library(port, StarttlsProtocol::Irc, &ca);
    assert!(t.go_ahead.contains(" 670 "), "{t:?}");
}
