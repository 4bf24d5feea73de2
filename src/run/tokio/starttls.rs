//! [`negotiate_starttls`]: the STARTTLS dialogue on tokio, within a deadline.

use std::io;

use ::tokio::net::TcpStream;

use crate::deadline::Deadline;
use crate::starttls::{
    Dialogue, DialogueStep, StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript,
};

/// Runs `protocol`'s STARTTLS dialogue on `stream` up to the server's go-ahead, ended by
/// `deadline` ([`Deadline::NEVER`]: no deadline): the tokio runner of the sans-IO
/// [`Dialogue`] that [`starttls::negotiate`](crate::starttls::negotiate) runs blocking, so
/// the commands, the checks and the errors are the same.
///
/// Each write and read is [`try_write`](TcpStream::try_write) /
/// [`try_read`](TcpStream::try_read), waiting for readiness on tokio's reactor when the socket
/// is not ready, and the wait ends at `deadline` with [`StarttlsError::Timeout`] naming the
/// command or reply the dialogue was at. Dropping the future stops the dialogue at once;
/// the stream is then in the middle of it, fit only to be closed.
///
/// On success the stream is right after the go-ahead: start the TLS handshake on it
/// ([`AsyncHandshake::client`](super::AsyncHandshake::client)).
pub async fn negotiate_starttls(
    stream: &TcpStream,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
    deadline: Deadline,
) -> Result<StarttlsTranscript, StarttlsError> {
    let mut dialogue = Dialogue::new(protocol, options);
    let mut chunk = vec![0u8; crate::starttls::CHUNK];
    loop {
        if deadline.has_passed() && dialogue.step() != DialogueStep::Finished {
            dialogue.timed_out();
        }
        match dialogue.step() {
            DialogueStep::Finished => return dialogue.finish(),
            DialogueStep::Transmit(bytes) => match stream.try_write(bytes) {
                Ok(0) => dialogue.io_failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => dialogue.transmitted(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(&mut dialogue, stream.writable(), deadline).await
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => dialogue.io_failed(e),
            },
            DialogueStep::Receive => match stream.try_read(&mut chunk) {
                Ok(0) => dialogue.closed(),
                Ok(n) => dialogue.received(chunk.get(..n).unwrap_or(&chunk)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(&mut dialogue, stream.readable(), deadline).await
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => dialogue.io_failed(e),
            },
        }
    }
}

/// Waits for `ready` until `deadline`; a failed wait or the deadline ends the dialogue.
async fn wait(
    dialogue: &mut Dialogue,
    ready: impl std::future::Future<Output = io::Result<()>>,
    deadline: Deadline,
) {
    let outcome = match deadline.instant() {
        Some(at) => ::tokio::time::timeout_at(at.into(), ready).await,
        None => Ok(ready.await),
    };
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => dialogue.io_failed(e),
        Err(_elapsed) => dialogue.timed_out(),
    }
}
