//! The raw results of a run of one implementation, and their statistics.

use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::TimeValLike;
use serde_json::{json, Value};

use crate::report::percentile;

/// The result of one implementation.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Stats {
    pub(super) handshakes: usize,
    pub(super) per_s: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) cpu_us: f64,
    pub(super) failures: usize,
}

impl Stats {
    pub(super) fn to_json(self) -> Value {
        json!({
            "handshakes": self.handshakes,
            "handshakes_per_s": self.per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "cpu_us_per_handshake": self.cpu_us,
            "failures": self.failures,
        })
    }
}

impl Stats {
    fn rounded(self) -> Stats {
        let r = |v: f64| (v * 1000.0).round() / 1000.0;
        Stats {
            per_s: r(self.per_s),
            p50_ms: r(self.p50_ms),
            p99_ms: r(self.p99_ms),
            ..self
        }
    }
}

/// The raw results of one or more rounds of one implementation.
#[derive(Debug, Default)]
pub(super) struct Run {
    pub(super) lat: Vec<f64>,
    pub(super) wall: f64,
    pub(super) cpu: f64,
    pub(super) failures: usize,
    /// tlshake's verification cache, `(hits, misses)`, when the run used one configuration.
    pub(super) verify_cache: Option<(u64, u64)>,
}

impl Run {
    pub(super) fn merge(&mut self, other: Run) {
        self.lat.extend(other.lat);
        self.wall += other.wall;
        self.cpu += other.cpu;
        self.failures += other.failures;
        self.verify_cache = self.verify_cache.or(other.verify_cache);
    }

    pub(super) fn stats(mut self) -> Stats {
        self.lat.sort_by(f64::total_cmp);
        let ok = self.lat.len();
        Stats {
            handshakes: ok,
            per_s: if self.wall > 0.0 {
                ok as f64 / self.wall
            } else {
                0.0
            },
            p50_ms: percentile(&self.lat, 50.0),
            p99_ms: percentile(&self.lat, 99.0),
            cpu_us: if ok > 0 {
                (self.cpu / ok as f64).round()
            } else {
                0.0
            },
            failures: self.failures,
        }
        .rounded()
    }
}

/// CPU time of this process so far, in microseconds.
pub(super) fn cpu_us() -> f64 {
    getrusage(UsageWho::RUSAGE_SELF)
        .map(|u| (u.user_time().num_microseconds() + u.system_time().num_microseconds()) as f64)
        .unwrap_or(0.0)
}

/// Rounds of alternating measurement.
pub(super) const ROUNDS: usize = 10;
