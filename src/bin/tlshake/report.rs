//! What the subcommands share to report: outcomes and exit codes, the one way of saying a
//! failure (with its whole chain of causes), and the flags the library's advice names.

use std::error::Error;
use std::io::Write;
use std::process::ExitCode;

use tlshake::client::ConfigError;
use tlshake::server::ServerConfigError;
use tlshake::starttls::StarttlsError;
use tlshake::HandshakeError;
use tlshake::PolicyError;
use tlshake::{Advice, Hint};

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

impl serde::Serialize for Outcome {
    /// The outcome's [name](Outcome::name).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Any error, kept whole (its type and its chain of causes) until the binary says it; a
/// `String` or `&str` converts into one that has no cause.
pub(crate) type AnyError = Box<dyn Error + Send + Sync + 'static>;

/// A failure of a step of a subcommand, with the error underneath in `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Failure {
    /// `what` could not be done, because of `source`.
    #[error("{what}")]
    Because {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: AnyError,
    },
    /// A thread of this process panicked.
    #[error("{0} panicked")]
    Panicked(&'static str),
}

impl Failure {
    /// `what` failed because of `source`: said `WHAT: SOURCE: ITS CAUSE: ...`.
    pub(crate) fn because(what: impl Into<String>, source: impl Into<AnyError>) -> Failure {
        Failure::Because {
            what: what.into(),
            source: source.into(),
        }
    }
}

/// The one way the binary says a failure: on stderr, `PREFIX: ` and the error with its whole
/// chain of causes on one line ([`chain`]; a handshake error adds its hint). `prefix` names
/// the command and what failed (`tlshake: cannot serve`, `tlshake bench: cannot set up`).
pub(crate) fn fail(prefix: &str, e: &(dyn Error + 'static)) {
    eprintln!("{prefix}: {}", chain(e));
}

/// Says that the input is bad (`tlshake: WHAT: WHY`, through [`fail`]) and returns the
/// matching outcome. `why` is an error, said with its causes, or a message.
pub(crate) fn bad_input(what: &str, why: impl Into<AnyError>) -> Outcome {
    fail(&format!("tlshake: {what}"), &*why.into());
    Outcome::BadInput
}

/// Writes the report on stdout, all at once.
///
/// A reader that went away (`| head`, `| true`: `EPIPE`) ends the output quietly, as other
/// command-line tools do; any other write error (`/dev/full`: `ENOSPC`) is said in one line
/// on stderr. Neither changes the exit code, which is the verdict on the connection.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            fail("tlshake: cannot write the report on stdout", &e);
        }
    }
}

/// The most characters of given text a report repeats.
const ECHOED_CHARS: usize = 200;

/// `text` as it is, or its first characters, `...` and its whole length when it is long:
/// a report does not echo a 100 kB argument back whole.
pub(crate) fn capped(text: &str) -> String {
    match text.char_indices().nth(ECHOED_CHARS) {
        Some((cut, _)) => format!(
            "{}... ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
        None => text.to_string(),
    }
}

/// `text` quoted (`{:?}`), cut like [`capped`].
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(ECHOED_CHARS) {
        Some((cut, _)) => format!(
            "{:?}... ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
        None => format!("{text:?}"),
    }
}

/// Milliseconds of a duration, with microsecond precision.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The p-th percentile (0..=100) of sorted samples, or 0 when there are none.
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

/// An error and its causes on one line, `outer: inner: innermost`, as the library's messages
/// read before each level stopped repeating its source. A [`tlshake::HandshakeError`] is told
/// whole (`{:#}`: every reason, the I/O error and the hint) and ends the walk. A level that
/// says the very words of the level above it (a wrapper such as `ConfigError::Policy`, whose
/// message is its cause's) is said once.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut above = String::new();
    let mut level = Some(e);
    while let Some(e) = level {
        let said = match e.downcast_ref::<HandshakeError>() {
            Some(h) => whole(h),
            None => match (e.downcast_ref::<StarttlsError>(), groups_refused(e)) {
                (Some(s), _) => flags_for(&s.to_string(), &s.advised()),
                (None, Some(said)) => said,
                (None, None) => match e.downcast_ref::<tlshake::ech::EchError>() {
                    Some(s) => flags_for(&s.to_string(), &s.advised()),
                    None => e.to_string(),
                },
            },
        };
        if said != above {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&said);
        }
        if e.is::<HandshakeError>() {
            break;
        }
        above = said;
        level = e.source();
    }
    text
}

/// A group list the policy refused (directly, or inside a client's or server's
/// configuration error), said with `--groups`: the library's text names its `groups`
/// setting.
fn groups_refused(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let policy = e
        .downcast_ref::<PolicyError>()
        .or_else(|| match e.downcast_ref::<ConfigError>() {
            Some(ConfigError::Policy(p)) => Some(p),
            _ => None,
        })
        .or_else(|| match e.downcast_ref::<ServerConfigError>() {
            Some(ServerConfigError::Policy(p)) => Some(p),
            _ => None,
        })?;
    match policy {
        PolicyError::UnknownGroup {
            group,
            needs: Some(needs),
            linked,
        } => Some(format!(
            "key-exchange group {group:?} needs OpenSSL {} or newer; this is {linked}: leave \
             out --groups for OpenSSL's own list, or name in --groups only groups this version \
             offers (such as X25519:P-256)",
            needs.line()
        )),
        PolicyError::UnknownGroup {
            group,
            needs: None,
            linked,
        } => Some(format!(
            "key-exchange group {group:?} is unknown to OpenSSL {linked}: name in --groups \
             only groups it offers (such as X25519:P-256)"
        )),
        PolicyError::GroupList { list, linked, .. } => Some(format!(
            "OpenSSL {linked} refused the key-exchange group list {list:?}: give --groups \
             names separated by ':', such as X25519:P-256"
        )),
        _ => None,
    }
}

/// The command line's name for each setting a library hint advises: the one table from the
/// library's API items ([`Advice`]) to this binary's flags (`connect`'s, and `serve`'s for the
/// server's settings).
const FLAGS: &[(Advice, &str)] = &[
    (Advice::PeerName, "--servername"),
    (Advice::SkipPeerNameCheck, "--no-verify-name"),
    (Advice::CaFile, "--cafile"),
    (Advice::PeerFingerprint, "--fingerprint"),
    (Advice::AllowSelfSigned, "--allow-self-signed"),
    (Advice::CertificateFiles, "--cert and --key"),
    (Advice::AllowCbcCiphers, "--allow-cbc"),
    (Advice::VerifyDepth, "--verify-depth"),
    (Advice::Ciphers, "--ciphers"),
    (Advice::Alpn, "--alpn"),
    (Advice::Starttls, "--starttls"),
    (Advice::XmppHost, "--xmpphost"),
    (Advice::ServerClientAuth, "serve --verify-client"),
    (Advice::ServerAllowCbcCiphers, "serve --allow-cbc"),
    (Advice::EchConfigList, "--ech-config"),
    (Advice::ServerEchKeys, "serve --ech-key or --ech-dir"),
];

/// The flag for `advice`; the API name for a setting the command line has no flag for.
pub(crate) fn flag(advice: Advice) -> &'static str {
    FLAGS
        .iter()
        .find(|(a, _)| *a == advice)
        .map_or(advice.api_name(), |(_, flag)| flag)
}

/// A hint as the command line says it: its advice named by flags.
pub(crate) fn hint_text(hint: &Hint) -> String {
    hint.display_with(flag).to_string()
}

/// The flags a hint advises, in the order its text names them.
pub(crate) fn advice_flags(hint: Option<&Hint>) -> Vec<&'static str> {
    hint.map(Hint::advice)
        .unwrap_or_default()
        .into_iter()
        .map(flag)
        .collect()
}

/// `text`, which contains `hint`'s library text (an error's `{:#}` or an event's line), with
/// that text said as the command line says it.
pub(crate) fn with_flags(text: &str, hint: Option<&Hint>) -> String {
    match hint {
        Some(h) => text.replacen(&h.to_string(), &hint_text(h), 1),
        None => text.to_string(),
    }
}

/// `text` (an error's message or advice) with each API item of `advice` said as its flag.
pub(crate) fn flags_for(text: &str, advice: &[Advice]) -> String {
    advice
        .iter()
        .fold(text.to_string(), |t, a| t.replace(a.api_name(), flag(*a)))
}

/// The whole story of a handshake error (`{:#}`), its hint's advice named by flags.
pub(crate) fn whole(e: &HandshakeError) -> String {
    with_flags(&format!("{e:#}"), e.hint())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_said_with_every_cause_below_it() {
        let os = std::io::Error::from_raw_os_error(libc::ENOENT);
        let inner = Failure::because("cannot read certs/server.pem", os);
        let outer: AnyError = Failure::because("cannot set up", inner).into();
        assert_eq!(
            chain(&*outer),
            "cannot set up: cannot read certs/server.pem: No such file or directory (os error 2)"
        );
        let said = AnyError::from("say which certificate to use");
        assert_eq!(chain(&*said), "say which certificate to use");
        // A wrapper whose message is its cause's: said once.
        let refused = tlshake::internals::check_groups("no-such-group").expect_err("refused");
        let config = ConfigError::from(refused);
        let said = chain(&config);
        assert_eq!(said.matches("no-such-group").count(), 1, "{said}");
        assert!(said.contains("--groups"), "{said}");
        assert_eq!(chain(&Failure::Panicked("a worker")), "a worker panicked");
    }

    #[test]
    fn every_flag_is_a_flag_and_each_setting_has_one() {
        for (i, (advice, flag)) in FLAGS.iter().enumerate() {
            assert!(flag.contains("--"), "{advice:?}: {flag}");
            assert!(
                FLAGS.iter().skip(i + 1).all(|(a, _)| a != advice),
                "{advice:?} twice"
            );
        }
        let hint = Hint::NameMismatch {
            expected: None,
            names: Vec::new(),
        };
        assert_eq!(
            advice_flags(Some(&hint)),
            ["--servername", "--no-verify-name"]
        );
        assert!(!hint_text(&hint).contains("ClientConfigBuilder"));
    }
}
