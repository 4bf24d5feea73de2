//! `tlshake bench`: full handshakes on loopback, tlshake against the plain `openssl` crate;
//! with `--first-response`, the latency of a first request and reply per TCP_NODELAY policy.

mod args;
mod certificate;
mod dtls;
mod events;
mod first_response;
mod in_flight;
mod load;
mod plot;
mod report;
mod stats;
mod threads;
#[cfg(feature = "bench-tokio")]
mod tokio_rt;

use std::io::IsTerminal;

use tlshake::ProtocolVersion;

pub(crate) use self::args::BenchArgs;
use self::args::{BenchProto, BenchRuntime};
use self::stats::ROUNDS;
use crate::report::Outcome;

/// Runs `tlshake bench`.
pub(crate) fn run(a: &BenchArgs) -> Outcome {
    // One check for every mode, the plain contexts of `--runtime tokio` included.
    if let Some(Err(e)) = a.groups.as_deref().map(tlshake::internals::check_groups) {
        crate::report::fail("tlshake bench: cannot set up", &e);
        return Outcome::Failed;
    }
    if a.first_response {
        return first_response::run(a);
    }
    if let Some(url) = &a.connect {
        return load::from_args(a, url);
    }
    if a.dtls {
        return dtls::run(a);
    }
    let (pem, key) = certificate::bundled_pem(a.key);
    let version = match a.proto {
        BenchProto::Tls12 => ProtocolVersion::Tls1_2,
        BenchProto::Tls13 => ProtocolVersion::Tls1_3,
    };
    if a.runtime == BenchRuntime::Tokio {
        return run_tokio(a, pem, key, version);
    }
    let n = a.handshakes as usize;
    let c = a.threads.unwrap_or(a.concurrency) as usize;
    let runs = if a.threads.is_some() {
        let progress = std::io::stderr().is_terminal() && !a.json;
        threads::runs(pem, key, version, a.groups.as_deref(), n, c, progress)
    } else {
        // Each round keeps C in flight: fewer rounds when C is a large part of N.
        let rounds = (n / c).clamp(1, ROUNDS);
        in_flight::runs(a, version, n, c, rounds)
    };
    match runs {
        Ok((t, o)) => report::write(a, t, o, version, c, "native"),
        Err(e) => {
            crate::report::fail("tlshake bench: cannot set up", &*e);
            Outcome::Failed
        }
    }
}

/// The tokio comparison (`--runtime tokio`).
#[cfg(feature = "bench-tokio")]
fn run_tokio(a: &BenchArgs, pem: &str, key: &str, version: ProtocolVersion) -> Outcome {
    let n = a.handshakes as usize;
    let c = a.concurrency as usize;
    let rounds = (n / c).clamp(1, ROUNDS);
    match tokio_rt::runs(pem, key, version, a.groups.as_deref(), n, c, rounds) {
        Ok((t, o)) => report::write(a, t, o, version, c, "tokio"),
        Err(e) => {
            crate::report::fail("tlshake bench: cannot set up", &*e);
            Outcome::Failed
        }
    }
}

/// `--runtime tokio` in a tlshake built without the tokio comparison: a usage error.
#[cfg(not(feature = "bench-tokio"))]
fn run_tokio(_: &BenchArgs, _: &str, _: &str, _: ProtocolVersion) -> Outcome {
    crate::report::bad_input(
        "--runtime tokio",
        "this tlshake was built without the tokio comparison (tokio-openssl is its anchor); \
         build it with `--features bench-tokio`",
    )
}
