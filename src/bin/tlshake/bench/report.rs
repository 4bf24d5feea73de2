//! The comparison of the two implementations: a table or one JSON object, the `--plot`
//! histogram, and the verdict.

use serde_json::json;
use tlshake::ProtocolVersion;

use super::args::{BenchArgs, BenchKey};
use super::stats::{Run, Stats};
use crate::report::{self, Outcome};

/// Writes the comparison (table or JSON, and the --plot histogram) and gives the verdict.
pub(super) fn write(
    a: &BenchArgs,
    t: Run,
    o: Run,
    version: ProtocolVersion,
    c: usize,
    runtime: &str,
) -> Outcome {
    let n = a.handshakes as usize;
    if let Some(path) = &a.plot {
        let series = [("tlshake", &t.lat[..]), ("openssl crate", &o.lat[..])];
        if let Err(e) = super::plot::write_latency_histogram(path, &series) {
            report::fail(
                &format!("tlshake bench: cannot write {}", path.display()),
                &e,
            );
            return Outcome::BadInput;
        }
    }
    let verify_cache = t.verify_cache;
    let (t, o) = (t.stats(), o.stats());
    let ratio = ratio(t, o);
    let proto = version.cli_name();
    let key_name = match a.key {
        BenchKey::Ecdsa => "ecdsa",
        BenchKey::Rsa => "rsa",
    };
    if a.json {
        println!(
            "{}",
            json!({
                "config": {
                    "handshakes": n, "concurrency": c, "proto": proto, "key": key_name,
                    "openssl": openssl::version::version(), "groups": a.groups,
                    "runtime": runtime,
                },
                "tlshake": t.to_json(),
                "openssl_crate": o.to_json(),
                "ratio": ratio,
                "tlshake_verify_cache": verify_cache
                    .map(|(hits, misses)| json!({"hits": hits, "misses": misses})),
            })
        );
    } else {
        println!(
            "{n} full handshakes, {proto}, {key_name} key, concurrency {c}, {runtime}, {}",
            openssl::version::version()
        );
        table(t, o, ratio);
        if let Some((hits, misses)) = verify_cache {
            println!("tlshake verification cache: {hits} hits, {misses} misses");
        }
    }
    verdict(t, o)
}

/// tlshake's handshakes per second over the plain crate's (0 when the plain crate did none).
pub(super) fn ratio(t: Stats, o: Stats) -> f64 {
    if o.per_s > 0.0 {
        t.per_s / o.per_s
    } else {
        0.0
    }
}

/// The table of the two implementations, and the ratio.
pub(super) fn table(t: Stats, o: Stats, ratio: f64) {
    println!(
        "{:<14} {:>12} {:>9} {:>9} {:>13} {:>9}",
        "", "handshakes/s", "p50 ms", "p99 ms", "CPU us/hs", "failures"
    );
    for (name, s) in [("tlshake", t), ("openssl crate", o)] {
        println!(
            "{name:<14} {:>12.1} {:>9.3} {:>9.3} {:>13.1} {:>9}",
            s.per_s, s.p50_ms, s.p99_ms, s.cpu_us, s.failures
        );
    }
    println!("ratio tlshake/openssl crate (handshakes/s): {ratio:.3}");
}

/// Done when neither implementation failed a handshake.
pub(super) fn verdict(t: Stats, o: Stats) -> Outcome {
    if t.failures + o.failures > 0 {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}
