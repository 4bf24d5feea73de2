//! `tlshake connect dtls://...`: the DTLS handshake over UDP, reported as a TLS one is (the
//! same report and JSON), with the retransmissions and the SRTP profile.

use std::time::Instant;

use tlshake::client::{ClientConfig, ConnectError};
use tlshake::dtls::{self, DtlsStream};
use tlshake::url::TransportUrl;

use super::args::ConnectArgs;
use super::report::Report;
use crate::report::{AnyError, Outcome};

/// Why a DTLS connect is refused before any I/O: `(what, why)`, for the caller to say.
pub(super) type Refusal = (String, AnyError);

/// Connects to `url` over DTLS under `deadline` and fills in `r`; or the refusal of a flag
/// DTLS cannot take, or of the DTLS settings.
pub(super) fn connect(
    a: &ConnectArgs,
    url: &TransportUrl,
    config: &ClientConfig,
    deadline: Instant,
    r: &mut Report,
) -> Result<Outcome, Refusal> {
    for (given, flag) in [
        (a.starttls.is_some(), "--starttls"),
        (a.proxy.is_some(), "--proxy"),
        (
            a.sess_in.is_some() || a.sess_out.is_some() || a.reconnect > 0,
            "--sess-in, --sess-out and --reconnect",
        ),
        (a.trace, "--trace"),
    ] {
        if given {
            return Err((
                format!("{flag} cannot be used with dtls://"),
                "DTLS runs over UDP: no STARTTLS, no HTTP proxy, no session file, no trace".into(),
            ));
        }
    }
    let options = a
        .dtls
        .options()
        .map_err(|why| ("DTLS settings refused".to_string(), why.into()))?;
    match dtls::connect_with(url, config, &options, Some(deadline)) {
        Ok(mut conn) => {
            r.retransmissions = Some(conn.stream.stats().retransmissions);
            r.srtp_profile = srtp_profile(&conn.stream);
            let outcome = r.success(&mut conn, a.send.as_deref(), deadline);
            // A datagram socket has no connect step.
            r.timings_ms.connect = None;
            let _ = conn.stream.shutdown();
            Ok(outcome)
        }
        Err(e @ ConnectError::Dtls(_)) => Err(("DTLS settings refused".to_string(), e.into())),
        Err(e) => Ok(r.failure(&e)),
    }
}

/// The SRTP profile the handshake negotiated, by name.
fn srtp_profile(stream: &DtlsStream) -> Option<String> {
    stream
        .ssl()
        .selected_srtp_profile()
        .map(|p| p.name().to_string())
}
