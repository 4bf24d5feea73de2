//! `tlshake serve`: a TLS listener that reports every handshake, like `openssl s_server`.

mod conn;
mod dtls;
mod store;
mod worker;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::bundled;
use clap::Args;
use openssl::pkey::PKey;
use openssl::x509::X509;
use serde_json::{json, Value};
use tlshake::certstore::CertifiedKey;
use tlshake::dtls::DtlsListener;
use tlshake::server::{
    CertificateSource, ClientAuth, ServerConfig, ServerConfigBuilder, ServerEvent, TlsListener,
};
use tlshake::ProtocolSet;

use self::conn::ReplyMode;
use crate::facts;
use crate::negotiated::Negotiated;
use crate::report::{self, AnyError, Failure, Outcome};

/// Options of `tlshake serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (default: all interfaces, IPv6 with IPv4 mapped in).
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Port to listen on; 0 picks a free port. The first line on stdout is
    /// `listening on ADDR:PORT`.
    #[arg(long, value_name = "N", default_value_t = 4433)]
    port: u16,
    /// Server certificate, PEM (chain after the leaf); needs --key. Without --cert and
    /// --store, the bundled TEST certificate for localhost is used.
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "store")]
    cert: Option<PathBuf>,
    /// Private key of --cert, PEM.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Certificate store directory (PEM and PKCS#12 files); pick one with --cert-name or
    /// --cert-hash.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Pick the store's certificate for this host name.
    #[arg(
        long,
        value_name = "NAME",
        requires = "store",
        conflicts_with = "cert_hash"
    )]
    cert_name: Option<String>,
    /// Pick the store's certificate by SHA-1 (40 hex digits) or SHA-256 (64) fingerprint.
    #[arg(long, value_name = "HEX", requires = "store")]
    cert_hash: Option<String>,
    /// Protocol versions accepted, comma-separated: tls1, tls1.1, tls1.2, tls1.3
    /// (default tls1.2,tls1.3; tls1 and tls1.1 lower the security level to 0).
    #[arg(long, value_name = "LIST")]
    protocols: Option<String>,
    /// Also accept the TLS 1.2 CBC suites (default: ECDHE with AES-GCM or ChaCha20-Poly1305).
    #[arg(long)]
    allow_cbc: bool,
    /// Key-exchange groups to accept, most preferred first, as s_server's -groups
    /// (X25519:P-256). Default: OpenSSL's own list, which on OpenSSL 3.5 and newer leads
    /// with the post-quantum hybrid X25519MLKEM768.
    #[arg(long, value_name = "LIST")]
    groups: Option<String>,
    /// Do not set SO_REUSEADDR on the listening socket.
    #[arg(long)]
    no_reuse_address: bool,
    /// Issue no session tickets, as s_server's -no_ticket (default: one TLS 1.3 ticket per
    /// connection, for clients that resume).
    #[arg(long)]
    no_tickets: bool,
    /// Ask clients for a certificate and verify it against these CAs (PEM).
    #[arg(long, value_name = "CAFILE")]
    verify_client: Option<PathBuf>,
    /// Refuse clients that send no certificate (needs --verify-client).
    #[arg(long, requires = "verify_client")]
    require_client_cert: bool,
    /// ALPN protocols accepted, comma-separated, in order of preference.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    alpn: Vec<String>,
    /// What to do after the handshake: echo, or http (a page describing the session).
    #[arg(long, value_name = "MODE", default_value = "echo")]
    reply: ReplyMode,
    /// Exit after this many handshakes, successful or not.
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
    /// Append every connection's TLS secrets to FILE in the NSS key log format, for
    /// Wireshark (default: $SSLKEYLOGFILE when set). The file holds secrets that decrypt the
    /// traffic: debugging only.
    #[arg(long, value_name = "FILE")]
    keylog: Option<std::path::PathBuf>,
    /// Encrypted Client Hello.
    #[command(flatten)]
    ech: crate::ech::ServeEchArgs,
    /// One JSON line per connection on stdout (after the `listening on` line).
    #[arg(long)]
    json: bool,
    /// No line per connection (like `s_server -quiet`, or nginx with `access_log off`):
    /// stdout says `listening on` only.
    #[arg(long, conflicts_with = "json")]
    quiet: bool,
    /// Worker threads, all accepting from one listening socket, each with one event loop
    /// for its handshakes and connections (default: the available parallelism).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: Option<u32>,
    /// Seconds from accept to the end of the handshake before the connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    handshake_timeout: f64,
    /// Seconds an established connection may stay silent before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    idle_timeout: f64,
    /// Handshakes in progress at most, per worker; when full, the connection that has sent
    /// nothing for longest is evicted.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_pending: usize,
    /// Serve DTLS 1.2 over UDP on the port instead of TLS over TCP: one socket, the
    /// stateless cookie exchange first, then a handshake per peer (--workers does not
    /// apply).
    #[arg(long)]
    dtls: bool,
    /// DTLS settings (with --dtls).
    #[command(flatten)]
    dtls_settings: crate::dtls::DtlsArgs,
}

/// A positive, finite number of seconds.
fn seconds(flag: &str, secs: f64) -> Result<Duration, Outcome> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| report::bad_input(flag, "expected a positive number of seconds"))
}

/// The bundled test certificate and key, loaded from the PEM embedded in the binary.
pub(crate) fn bundled_certificate() -> Result<CertifiedKey, AnyError> {
    let cert = X509::from_pem(bundled::SERVER_PEM.as_bytes())?;
    let key = PKey::private_key_from_pem(bundled::SERVER_KEY.as_bytes())?;
    Ok(CertifiedKey::from_parts(cert, Vec::new(), key)?)
}

fn config(a: &ServeArgs) -> Result<ServerConfigBuilder, Outcome> {
    let mut c = ServerConfig::builder()
        .port(a.port)
        .reuse_address(!a.no_reuse_address)
        .allow_cbc_ciphers(a.allow_cbc)
        .session_tickets(!a.no_tickets)
        .handshake_timeout(seconds("--handshake-timeout", a.handshake_timeout)?)
        .max_pending(a.max_pending)
        // A deep accept queue (the kernel caps it at net.core.somaxconn): thousands of
        // clients connecting at once are not dropped and retried a second later.
        .backlog(4096);
    if let Some(addr) = &a.bind {
        c = c.address(addr);
    }
    if let Some(path) = crate::keylog::path(a.keylog.as_deref()) {
        c = c.key_log(path);
    }
    c = match (&a.cert, &a.key, &a.store) {
        (Some(cert), Some(key), _) => c.certificate(CertificateSource::pem_files(cert, key)),
        (_, _, Some(dir)) => {
            let choice = match (&a.cert_name, &a.cert_hash) {
                (Some(name), _) => store::Choice::Name(name),
                (_, Some(hash)) => store::Choice::Hash(hash),
                _ => {
                    return Err(report::bad_input(
                        "--store",
                        "say which certificate to use with --cert-name NAME or --cert-hash HEX",
                    ))
                }
            };
            c.certificate(store::chosen_certificate(dir, &choice)?)
        }
        _ => {
            eprintln!("tlshake: using the bundled TEST certificate for localhost");
            let key =
                bundled_certificate().map_err(|e| report::bad_input("bundled certificate", e))?;
            c.certificate(key)
        }
    };
    if let Some(list) = &a.protocols {
        let set: ProtocolSet = list
            .replace(',', " ")
            .parse()
            .map_err(|e| report::bad_input("--protocols", e))?;
        let legacy = set.contains(tlshake::ProtocolVersion::Tls1_0)
            || set.contains(tlshake::ProtocolVersion::Tls1_1);
        c = c.protocols(set).allow_legacy_versions(legacy);
    }
    if let Some(ca) = &a.verify_client {
        c = c.client_auth(if a.require_client_cert {
            ClientAuth::Required {
                ca_file: ca.clone(),
            }
        } else {
            ClientAuth::Optional {
                ca_file: ca.clone(),
            }
        });
    }
    if !a.alpn.is_empty() {
        c = c.alpn(a.alpn.iter().filter(|p| !p.is_empty()).cloned());
    }
    if let Some(list) = &a.groups {
        c = c.groups(list);
    }
    Ok(c.ech_keys(a.ech.keys()?))
}

/// Runs `tlshake serve`: `--workers` threads, each with its own event loop serving its
/// handshakes and established connections, all accepting from one listening socket
/// (`TlsListener::try_clone`: no hand-over between threads, and unlike `SO_REUSEPORT` no
/// other process can bind the same port beside it).
pub(crate) fn run(a: &ServeArgs) -> Outcome {
    let workers = a.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    // The idle timeout of established connections is the command's own (the library's
    // listener hands connections over once their handshake is done).
    let idle = match seconds("--idle-timeout", a.idle_timeout) {
        Ok(idle) => idle,
        Err(outcome) => return outcome,
    };
    if let (false, Some(flag)) = (a.dtls, a.dtls_settings.given()) {
        return report::bad_input(flag, "needs --dtls");
    }
    let config = match config(a).map(ServerConfigBuilder::build) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return report::bad_input("cannot serve", e),
        Err(outcome) => return outcome,
    };
    if a.dtls {
        return run_dtls(a, &config, idle);
    }
    let first = match TlsListener::bind(&config) {
        Ok(l) => l,
        Err(e) => return report::bad_input("cannot serve", e),
    };
    let addr = first.local_addr();
    let mut listeners = Vec::with_capacity(workers);
    while listeners.len() + 1 < workers {
        match first.try_clone() {
            Ok(l) => listeners.push(l),
            Err(e) => return report::bad_input("cannot serve", e),
        }
    }
    listeners.push(first);
    say(&format!("listening on {addr}"));
    let (stop_tx, stop_rx) = match UnixStream::pair() {
        Ok(pair) => pair,
        Err(e) => return report::bad_input("cannot serve", e),
    };
    let shared = Arc::new(worker::Shared {
        handshakes: AtomicU64::new(0),
        max: a.max_connections,
        stop_tx,
        stop_rx,
        reply: a.reply,
        idle,
        report: reporter(a),
    });
    let threads: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("serve-{i}"))
                .spawn(move || worker::run(listener, &shared))
        })
        .collect();
    let mut outcome = Outcome::Done;
    for t in threads {
        let result = match t {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(Failure::Panicked("a worker").into())),
            Err(e) => Err(Failure::because("cannot start a worker", e).into()),
        };
        if let Err(e) = result {
            report::fail("tlshake", &*e);
            outcome = Outcome::Failed;
        }
    }
    outcome
}

/// `tlshake serve --dtls`: a [`DtlsListener`] on the port, every event reported as TCP's
/// are, each association answered on a thread of its own.
fn run_dtls(a: &ServeArgs, config: &ServerConfig, idle: Duration) -> Outcome {
    let options = match a.dtls_settings.options() {
        Ok(o) => o,
        Err(message) => return report::bad_input("DTLS settings refused", message),
    };
    let listener = match DtlsListener::bind(config, options) {
        Ok(l) => l,
        Err(e) => return report::bad_input("cannot serve", e),
    };
    say(&format!("listening on {}", listener.local_addr()));
    let settings = dtls::Settings {
        reply: a.reply,
        idle,
        max: a.max_connections,
        report: reporter(a),
    };
    dtls::run(listener, &settings)
}

/// How each connection is told on stdout: `--quiet`, `--json` or a line of text.
fn reporter<S>(a: &ServeArgs) -> fn(&ServerEvent<S>) {
    if a.quiet {
        |_| {}
    } else if a.json {
        print_json
    } else {
        print_text
    }
}

fn print_json<S>(event: &ServerEvent<S>) {
    print_event(event, true);
}

fn print_text<S>(event: &ServerEvent<S>) {
    print_event(event, false);
}

fn print_event<S>(event: &ServerEvent<S>, as_json: bool) {
    if as_json {
        let mut v = json!({
            "peer": event.peer().to_string(),
            "outcome": event_outcome(event),
            "protocol": null,
            "cipher": null,
            "error": null,
        });
        match event {
            ServerEvent::Established(a) => {
                v["protocol"] = Value::from(a.session.protocol.clone());
                v["cipher"] = Value::from(a.session.cipher.clone());
                v["alpn"] = a.session.alpn_str().map(Value::from).unwrap_or(Value::Null);
                v["sni"] = a
                    .session
                    .sni
                    .clone()
                    .map(Value::from)
                    .unwrap_or(Value::Null);
                v["handshake_ms"] = Value::from(report::ms(a.handshake_time));
                if let Some(cert) = &a.session.peer_certificate {
                    v["client_certificate"] = json!(facts::certificate(cert));
                }
                Negotiated::put_json(Some(&Negotiated::of(&a.session)), &mut v);
                v["ech"] = json!(facts::ech(&a.session.ech));
            }
            ServerEvent::Rejected { reason, .. } => {
                v["error"] = json!(facts::other_error("rejected", &report::chain(reason)));
            }
            _ => {
                if let Some(e) = event.error() {
                    v["error"] = json!(facts::handshake_error(e));
                    v["ech"] = json!(e.ech().map(facts::ech));
                }
            }
        }
        say(&v.to_string());
    } else if let ServerEvent::Established(a) = event {
        say(&format!(
            "{event}, group {}",
            Negotiated::of(&a.session).group_text()
        ));
    } else {
        // The event's text carries the error and its hint, said with flags.
        say(&crate::report::with_flags(
            &event.to_string(),
            event.error().and_then(tlshake::HandshakeError::hint),
        ));
    }
}

/// One line on stdout, flushed; a closed stdout does not stop the server.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

fn event_outcome<S>(event: &ServerEvent<S>) -> &'static str {
    match event {
        ServerEvent::Established(_) => "done",
        ServerEvent::TimedOut { .. } => "timeout",
        ServerEvent::Rejected { .. } => "rejected",
        ServerEvent::Shutdown { .. } => "shutdown",
        _ => "failed",
    }
}
