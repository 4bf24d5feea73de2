//! `tlshake demo`.
use crate::report::Outcome;
/// Runs the demo.
pub(crate) fn run() -> Outcome {
    Outcome::Done
}
