//! How the command line's values are read, for every subcommand that takes them.

use crate::report;

/// A number of seconds: positive, finite, below a million (`--timeout`, `--dtls-timer`).
pub(crate) fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e6 => Ok(s),
        _ => Err(format!(
            "{} is not a number of seconds: give a positive number such as 0.5 or 10",
            report::quoted(text)
        )),
    }
}
