//! The `tlshake` command-line tool: connect to a TLS server and report every fact of the
//! handshake, serve TLS for testing, walk through a self-contained demo, and benchmark
//! handshakes against the plain `openssl` crate.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod bench;
mod connect;
mod demo;
mod json;
mod report;
mod serve;

/// OpenSSL's TLS handshake, typed and deadline-bounded.
///
/// Exit codes: 0 done, 1 handshake failed, 2 usage error or bad input, 3 peer shut down the
/// handshake, 4 timeout, 5 connection failed before the handshake.
#[derive(Debug, Parser)]
#[command(name = "tlshake")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect to a TLS server by URL and report the handshake.
    Connect(Box<connect::ConnectArgs>),
    /// Accept TLS connections and report each handshake.
    Serve(Box<serve::ServeArgs>),
    /// Run a self-contained tour of handshakes and failures on loopback.
    Demo,
    /// Measure full handshakes on loopback, tlshake against the plain openssl crate.
    Bench(bench::BenchArgs),
}

/// The version line: the crate version and the OpenSSL it is linked with.
fn version_text() -> String {
    format!(
        "{} (linked with {})",
        env!("CARGO_PKG_VERSION"),
        openssl::version::version()
    )
}

fn main() -> ExitCode {
    let version: &'static str = Box::leak(version_text().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let code = match cli.command {
        Command::Connect(args) => connect::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Demo => demo::run(),
        Command::Bench(args) => bench::run(&args),
    };
    code.into()
}
