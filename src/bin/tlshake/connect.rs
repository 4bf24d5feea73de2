//! `tlshake connect URL`: one client handshake, reported in full.

mod args;
mod config;
mod dtls;
mod ocsp;
mod on_failure;
mod on_success;
mod report;
mod report_text;
mod send;
mod sessions;

use std::time::{Duration, Instant};

use tlshake::client::{self, ConnectOptions};
use tlshake::starttls::StarttlsOptions;
use tlshake::trace::TraceSink;
use tlshake::url::{Scheme, TransportUrl};

pub(crate) use self::args::ConnectArgs;
use self::report::Report;
use crate::facts;
use crate::report::{chain, AnyError, Outcome};

/// Runs `tlshake connect`.
pub(crate) fn run(a: &ConnectArgs) -> Outcome {
    let url: TransportUrl = match a.url.parse() {
        Ok(u) => u,
        Err(e) => return refuse(a, "bad URL", e),
    };
    if let Some(protocol) = a.starttls {
        if url.scheme() != Scheme::Tcp {
            let reason = format!(
                "{}:// starts TLS at the first byte, but --starttls {protocol} first runs the \
                 plain-text {} dialogue and then starts TLS: write tcp://{}",
                url.scheme().as_str(),
                protocol.label(),
                url.authority()
            );
            return refuse(a, "--starttls needs a tcp:// URL", reason);
        }
    }
    if let Some(p) = &a.cafile {
        if let Err(e) = std::fs::metadata(p) {
            return refuse(a, &format!("cannot read --cafile {}", p.display()), e);
        }
    }
    let ech = match a.ech.config_list() {
        Ok(list) => list,
        Err((what, why)) => return refuse(a, &what, why),
    };
    let sink = a.trace.then(TraceSink::new);
    let config = match config::build_config(a, sink.as_ref(), ech) {
        Ok(c) => c,
        Err(e) => return refuse(a, "configuration refused", e),
    };
    let deadline = Instant::now() + Duration::from_secs_f64(a.timeout);
    if url.scheme().is_dtls() {
        let mut r = Report::new(Some(&a.url), a.showcerts);
        return match dtls::connect(a, &url, &config, deadline, &mut r) {
            Ok(outcome) => finish(a, r, outcome),
            Err((what, why)) => refuse(a, &what, why),
        };
    }
    if let Some(flag) = a.dtls.given() {
        return refuse(a, &format!("{flag} needs a dtls:// URL"), url.to_string());
    }
    let host = url.host().to_string();
    if let Some(path) = &a.sess_in {
        if let Err(e) = sessions::import(&config, &host, path) {
            return refuse(a, "--sess-in refused", e);
        }
    }
    let xmpp_host = a.xmpphost.clone().unwrap_or_else(|| host.clone());
    let options = |deadline: Instant| {
        let mut options = ConnectOptions::new()
            .starttls_options(StarttlsOptions::default().with_xmpp_host(xmpp_host.clone()))
            .deadline(deadline);
        if let Some(protocol) = a.starttls {
            options = options.starttls(protocol);
        }
        if let Some(proxy) = &a.proxy {
            options = options.proxy(proxy.clone());
        }
        options
    };
    let mut r = Report::new(Some(&a.url), a.showcerts);
    let outcome = match client::connect_with(&url, &config, &options(deadline)) {
        Ok(mut conn) => {
            let wants_session = a.sess_out.is_some() || a.reconnect > 0;
            let kept =
                wants_session.then(|| sessions::keep(&mut conn, a.sess_out.as_deref(), deadline));
            r.ocsp = client::ocsp::stapled(conn.stream.ssl(), a.status);

            let mut outcome = r.success(&mut conn, a.send.as_deref(), deadline);
            let _ = conn.stream.shutdown();
            match kept {
                Some(Ok(saved)) => r.session_saved = Some(saved),
                Some(Err(e)) => {
                    let message = chain(&*e);
                    r.error = Some(facts::other_error("session_file", &message));
                    r.error_text = Some(message);
                    outcome = Outcome::Failed;
                }
                None => {}
            }
            // The first connection's messages, up to its close_notify (after the ticket).
            r.trace = sink.as_ref().map(TraceSink::take);
            if outcome == Outcome::Done && a.reconnect > 0 {
                let timeout = Duration::from_secs_f64(a.timeout);
                r.reconnects = sessions::reconnect(&url, &config, options, a.reconnect, timeout);
            }
            outcome
        }
        Err(e) => {
            r.trace = sink.as_ref().map(TraceSink::take);
            r.failure(&e)
        }
    };
    finish(a, r, outcome)
}

/// Writes the report of a connection that ended in `outcome` (unless it was refused as bad
/// input without `--json`: that was said on stderr) and gives the outcome.
fn finish(a: &ConnectArgs, mut r: Report, outcome: Outcome) -> Outcome {
    if outcome == Outcome::BadInput && !a.json {
        return outcome;
    }
    r.outcome = outcome;
    r.emit(a.json);
    outcome
}

/// Refuses the run as bad input: the message on stderr, and with `--json` the report with
/// `outcome: "bad_input"` on stdout.
fn refuse(a: &ConnectArgs, what: &str, why: impl Into<AnyError>) -> Outcome {
    let why = why.into();
    let message = format!("{what}: {}", chain(&*why));
    let outcome = crate::report::bad_input(what, why);
    if a.json {
        let mut r = Report::new(Some(&a.url), a.showcerts);
        r.outcome = outcome;
        r.error = Some(facts::other_error("bad_input", &message));
        r.emit(true);
    }
    outcome
}

/// With `--json`, a command line that could not be parsed: the report with
/// `outcome: "bad_input"` and the parser's message, written on stdout.
pub(crate) fn usage_error_json(message: &str) {
    let mut r = Report::new(None, false);
    r.outcome = Outcome::BadInput;
    r.error = Some(facts::other_error("usage", message));
    r.emit(true);
}
