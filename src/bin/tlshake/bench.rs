//! `tlshake bench`.
use crate::report::Outcome;
/// Options of `tlshake bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {}
/// Runs the benchmark.
pub(crate) fn run(_a: &BenchArgs) -> Outcome {
    Outcome::Done
}
