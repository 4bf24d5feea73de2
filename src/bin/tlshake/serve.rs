//! `tlshake serve`.
use crate::report::Outcome;
/// Options of `tlshake serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {}
/// Runs the server.
pub(crate) fn run(_a: &ServeArgs) -> Outcome {
    Outcome::Done
}
