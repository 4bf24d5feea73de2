//! Outcomes and exit codes shared by the subcommands.

use std::process::ExitCode;

/// How a run ended, and the process exit code for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The handshake completed.
    Done,
    /// The handshake did not complete.
    Failed,
    /// Usage error or bad input (URL, flag value, file, configuration).
    BadInput,
    /// The peer closed the connection cleanly during the handshake.
    Shutdown,
    /// A deadline passed.
    Timeout,
    /// No connection (refused, unreachable, name not found, STARTTLS refused).
    ConnectFailed,
}

impl Outcome {
    /// The name used in JSON output.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::BadInput => "bad_input",
            Outcome::Shutdown => "shutdown",
            Outcome::Timeout => "timeout",
            Outcome::ConnectFailed => "connect_failed",
        }
    }

    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Failed => 1,
            Outcome::BadInput => 2,
            Outcome::Shutdown => 3,
            Outcome::Timeout => 4,
            Outcome::ConnectFailed => 5,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome.code())
    }
}

/// Prints a bad-input message on stderr and returns the matching outcome.
pub(crate) fn bad_input(what: &str, message: impl std::fmt::Display) -> Outcome {
    eprintln!("tlshake: {what}: {message}");
    Outcome::BadInput
}

/// Milliseconds of a duration, with microsecond precision.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The p-th percentile (0..=100) of sorted samples, or 0 when there are none.
#[allow(dead_code)] // used by bench
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted
        .get(rank.min(sorted.len() - 1))
        .copied()
        .unwrap_or(0.0)
}
