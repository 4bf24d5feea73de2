//! The `tlshake` command-line tool: connect to a TLS server and report every fact of the
//! handshake, serve TLS for testing, walk through a self-contained demo, and benchmark
//! handshakes against the plain `openssl` crate.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod bench;
// The test certificates, compiled into the binary only: the library exposes them only to
// tests (its `test-certs` feature).
#[allow(dead_code)]
#[path = "../../bundled.rs"]
mod bundled;
mod connect;
mod demo;
mod dtls;
mod ech;
mod facts;
mod habits;
mod keylog;
mod negotiated;
mod report;
mod serve;
mod trace;
mod values;
mod version;

/// OpenSSL's TLS handshake, typed and deadline-bounded.
///
/// Exit codes: 0 done; 1 handshake failed, or --send failed after it (a peer that accepts the
/// connection and resets it at once gives 1, whether the reset comes before or after the
/// connect is seen to complete); 2 usage error or bad input; 3 peer shut down the handshake;
/// 4 timeout (name resolution, connect, STARTTLS, handshake); 5 no connection (name not
/// found, refused, unreachable, STARTTLS refused).
#[derive(Debug, Parser)]
#[command(name = "tlshake")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect to a TLS server (or a DTLS one, dtls://) by URL and report the handshake.
    Connect(Box<connect::ConnectArgs>),
    /// Accept TLS connections (or DTLS associations, --dtls) and report each handshake.
    Serve(Box<serve::ServeArgs>),
    /// Run a self-contained tour of handshakes and failures on loopback.
    Demo,
    /// Measure full handshakes on loopback, tlshake against the plain openssl crate.
    Bench(bench::BenchArgs),
    /// Show tlshake's version, the OpenSSL it was built against and the one it runs on,
    /// and whether that library offers post-quantum groups and ECH.
    Version(version::VersionArgs),
}

/// The version line: the crate version and the OpenSSL it is linked with.
fn version_text() -> String {
    format!(
        "{} (linked with {})",
        env!("CARGO_PKG_VERSION"),
        openssl::version::version()
    )
}

/// Ends the run on a command line that could not be parsed: clap's message on stderr (help
/// and version on stdout, as clap prints them), and with `--json` anywhere on the line, one
/// JSON report with `outcome: "bad_input"` on stdout.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let informational = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args_os().any(|a| a == "--json");
    if let Some(line) = habit(&e) {
        let message = report::capped(&line);
        report::fail("tlshake", &*report::AnyError::from(line));
        if json {
            connect::usage_error_json(&message);
        }
        std::process::exit(i32::from(report::Outcome::BadInput.code()))
    }
    if informational || !json {
        e.exit()
    }
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    connect::usage_error_json(&report::capped(message));
    let _ = e.print();
    std::process::exit(i32::from(report::Outcome::BadInput.code()))
}

/// An `openssl s_client` / `s_server` flag among the arguments the parser refused: the line
/// that names tlshake's flag instead of the parser's tip.
fn habit(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(invalid)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    habits::instead(&args, invalid)
}

fn main() -> ExitCode {
    let version: &'static str = Box::leak(version_text().into_boxed_str());
    let matches = match Cli::command().version(version).try_get_matches() {
        Ok(m) => m,
        Err(e) => usage_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let code = match cli.command {
        Command::Connect(args) => connect::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Demo => demo::run(),
        Command::Bench(args) => bench::run(&args),
        Command::Version(args) => version::run(&args),
    };
    code.into()
}
