//! [`Dialogue`]: the sans-IO state of one STARTTLS dialogue, and the [`Conversation`] the
//! dialogues are written over.
//!
//! Each dialogue (`smtp.rs`, `imap.rs`, ...) is written as straight-line code over a
//! [`Conversation`]: `send` a command, `receive` a reply with a parser from
//! [`super::reply`]. The conversation does no I/O. It reads from the bytes received so far;
//! when a reply is not complete yet, `receive` suspends the dialogue. [`Dialogue`] then
//! waits for more bytes from its runner and runs the dialogue again from the start over all
//! the bytes received: the dialogues are deterministic (no clock, no randomness), so every
//! run sends the same commands and parses the same replies as the one before, and goes
//! further. The commands an earlier run queued are not queued again.
//!
//! A run costs one parse of the bytes received so far, as one `receive` of a partial reply
//! already did, and replies are capped ([`super::reply::MAX_REPLY_BYTES`]), so the cost stays
//! bounded by the size of the dialogue.

use std::collections::VecDeque;
use std::io;

use super::reply::{escape_bytes, preview, ReplyError};
use super::{StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

/// A reply parser from [`super::reply`].
pub(super) type Parser<T> = fn(&[u8]) -> Result<Option<(T, usize)>, ReplyError>;

/// A command queued by a dialogue, and what it is (for the errors).
#[derive(Debug)]
struct Outgoing {
    bytes: Vec<u8>,
    during: &'static str,
}

/// The client's side of one run of a dialogue over the bytes received so far.
#[derive(Debug)]
pub(super) struct Conversation<'a> {
    input: &'a [u8],
    pos: usize,
    sends: usize,
    queued_before: usize,
    outgoing: &'a mut VecDeque<Outgoing>,
    suspended: Option<&'static str>,
}

impl Conversation<'_> {
    /// Queues a whole command (unless an earlier run queued it already).
    pub(super) fn send(&mut self, bytes: &[u8], during: &'static str) -> Result<(), StarttlsError> {
        if let Some(waiting) = self.suspended {
            return Err(suspension(waiting));
        }
        if self.sends >= self.queued_before {
            self.outgoing.push_back(Outgoing {
                bytes: bytes.to_vec(),
                during,
            });
        }
        self.sends += 1;
        Ok(())
    }

    /// Parses one complete reply at the start of the bytes not yet parsed and returns it with
    /// the number of bytes it took. When the reply is not complete yet, the run is suspended:
    /// the error returned stands for "wait for more bytes", and every dialogue hands it up
    /// with `?` (the [`Dialogue`] looks at the suspension, not at the error).
    pub(super) fn receive<T>(
        &mut self,
        during: &'static str,
        parse: Parser<T>,
    ) -> Result<(T, usize), StarttlsError> {
        if let Some(waiting) = self.suspended {
            return Err(suspension(waiting));
        }
        let rest = self.input.get(self.pos..).unwrap_or_default();
        match parse(rest) {
            Ok(Some((reply, used))) => {
                self.pos += used.min(rest.len());
                Ok((reply, used))
            }
            Ok(None) => {
                self.suspended = Some(during);
                Err(suspension(during))
            }
            Err(e) => Err(reply_error(e, during)),
        }
    }
}

/// The placeholder a suspended `receive` returns; never reported.
fn suspension(during: &'static str) -> StarttlsError {
    StarttlsError::Timeout { during }
}

/// What a [`Dialogue`] needs from its runner next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogueStep<'a> {
    /// Write these bytes to the peer, then report how many were written with
    /// [`Dialogue::transmitted`] (a partial write is fine: the rest comes back next).
    Transmit(&'a [u8]),
    /// Read from the peer and hand over what came with [`Dialogue::received`] (the end of
    /// the stream: [`Dialogue::closed`]).
    Receive,
    /// The dialogue is over: [`Dialogue::finish`] gives the transcript or the error.
    Finished,
}

/// Where a dialogue stands.
#[derive(Debug)]
enum State {
    /// Suspended at a `receive`: waiting for more bytes of this reply.
    Waiting {
        during: &'static str,
        /// Where the reply it waits for starts in the input.
        pos: usize,
    },
    Done(Result<StarttlsTranscript, StarttlsError>),
}

/// One STARTTLS dialogue as a sans-IO state machine: no socket, no clock.
///
/// The runner loops on [`step`](Self::step): it writes what
/// [`DialogueStep::Transmit`] gives, reads when the step is [`DialogueStep::Receive`], and
/// stops at [`DialogueStep::Finished`]. It owns the time: a deadline that passes is reported
/// with [`timed_out`](Self::timed_out), a failed read or write with
/// [`io_failed`](Self::io_failed), and each becomes the [`StarttlsError`] that names the
/// command or reply the dialogue was at. The blocking [`negotiate`](super::negotiate) and the
/// tokio runner (`tlshake::tokio::negotiate_starttls`, feature `tokio`) are both such loops,
/// so every runner speaks the same dialogue.
///
/// ```
/// use tlshake::starttls::{Dialogue, DialogueStep, StarttlsOptions, StarttlsProtocol};
///
/// let mut dialogue = Dialogue::new(StarttlsProtocol::Pop3, &StarttlsOptions::default());
/// assert_eq!(dialogue.step(), DialogueStep::Receive);
/// dialogue.received(b"+OK POP3 ready\r\n");
/// assert_eq!(dialogue.step(), DialogueStep::Transmit(b"STLS\r\n"));
/// dialogue.transmitted(6);
/// dialogue.received(b"+OK begin TLS\r\n");
/// assert_eq!(dialogue.step(), DialogueStep::Finished);
/// assert_eq!(dialogue.finish().unwrap().go_ahead, "+OK begin TLS");
/// ```
#[derive(Debug)]
pub struct Dialogue {
    protocol: StarttlsProtocol,
    options: StarttlsOptions,
    input: Vec<u8>,
    outgoing: VecDeque<Outgoing>,
    /// Bytes of the first outgoing command already written.
    written: usize,
    /// Commands queued so far, over all runs.
    queued: usize,
    state: State,
}

impl Dialogue {
    /// The dialogue of `protocol` with `options`, before any byte is exchanged. Options that
    /// could add a command of their own ([`StarttlsError::InvalidClientName`],
    /// [`StarttlsError::InvalidXmppHost`]) end it at once.
    pub fn new(protocol: StarttlsProtocol, options: &StarttlsOptions) -> Dialogue {
        let mut dialogue = Dialogue {
            protocol,
            options: options.clone(),
            input: Vec::new(),
            outgoing: VecDeque::new(),
            written: 0,
            queued: 0,
            state: State::Waiting {
                during: "greeting",
                pos: 0,
            },
        };
        match options.check() {
            Ok(()) => dialogue.run(),
            Err(e) => dialogue.state = State::Done(Err(e)),
        }
        dialogue
    }

    /// The protocol spoken.
    pub fn protocol(&self) -> StarttlsProtocol {
        self.protocol
    }

    /// What to do next. Commands are written before anything else happens, so the peer
    /// sees every command the dialogue sent even when it then fails on a reply.
    pub fn step(&self) -> DialogueStep<'_> {
        if let Some(front) = self.outgoing.front() {
            return DialogueStep::Transmit(front.bytes.get(self.written..).unwrap_or_default());
        }
        match self.state {
            State::Waiting { .. } => DialogueStep::Receive,
            State::Done(_) => DialogueStep::Finished,
        }
    }

    /// What the dialogue is at: the command being written, or the reply awaited
    /// (`"greeting"`, `"EHLO reply"`, ...), as the errors name it.
    pub fn during(&self) -> &'static str {
        match (&self.outgoing.front(), &self.state) {
            (Some(front), _) => front.during,
            (None, State::Waiting { during, .. }) => during,
            (None, State::Done(_)) => "STARTTLS",
        }
    }

    /// `n` bytes of the [`DialogueStep::Transmit`] were written.
    pub fn transmitted(&mut self, n: usize) {
        let Some(front) = self.outgoing.front() else {
            return;
        };
        self.written += n;
        if self.written >= front.bytes.len() {
            self.outgoing.pop_front();
            self.written = 0;
        }
    }

    /// Bytes read from the peer. The dialogue goes as far as they let it.
    pub fn received(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Done(_)) || bytes.is_empty() {
            return;
        }
        self.input.extend_from_slice(bytes);
        self.run();
    }

    /// The peer closed the connection (a read returned 0):
    /// [`StarttlsError::Closed`] with what had come of the awaited reply.
    pub fn closed(&mut self) {
        if let State::Waiting { during, pos } = self.state {
            let rest = self.input.get(pos..).unwrap_or_default();
            self.end(StarttlsError::Closed {
                during,
                received: escape_bytes(rest.get(..256).unwrap_or(rest)),
            });
        }
    }

    /// The deadline passed: [`StarttlsError::Timeout`].
    pub fn timed_out(&mut self) {
        let during = self.during();
        self.end(StarttlsError::Timeout { during });
    }

    /// A read or write failed: [`StarttlsError::Io`], or [`StarttlsError::Timeout`] for
    /// `WouldBlock` / `TimedOut` (a socket timeout of the blocking runner).
    pub fn io_failed(&mut self, error: io::Error) {
        let during = self.during();
        self.end(io_error(error, during));
    }

    /// The transcript of a dialogue that reached its go-ahead, or its error. Bytes the server
    /// sent after its go-ahead are [`StarttlsError::InjectedBytes`]. Before
    /// [`DialogueStep::Finished`], the dialogue is ended as by [`timed_out`](Self::timed_out).
    pub fn finish(mut self) -> Result<StarttlsTranscript, StarttlsError> {
        if !matches!(self.step(), DialogueStep::Finished) {
            self.timed_out();
        }
        match self.state {
            State::Done(result) => result,
            State::Waiting { during, .. } => Err(StarttlsError::Timeout { during }),
        }
    }

    /// Ends the dialogue with `error` (nothing more is written or read).
    fn end(&mut self, error: StarttlsError) {
        if !matches!(self.state, State::Done(_)) || !self.outgoing.is_empty() {
            self.outgoing.clear();
            self.written = 0;
            self.state = State::Done(Err(error));
        }
    }

    /// Runs the dialogue from the start over every byte received.
    fn run(&mut self) {
        let mut conv = Conversation {
            input: &self.input,
            pos: 0,
            sends: 0,
            queued_before: self.queued,
            outgoing: &mut self.outgoing,
            suspended: None,
        };
        let result = super::dispatch(&mut conv, self.protocol, &self.options);
        self.queued = self.queued.max(conv.sends);
        let pos = conv.pos;
        self.state = match conv.suspended {
            Some(during) => State::Waiting { during, pos },
            None => State::Done(result.and_then(|transcript| {
                // Any byte after the go-ahead arrived after it: refused, never handed on.
                let rest = self.input.get(pos..).unwrap_or_default();
                if rest.is_empty() {
                    Ok(transcript)
                } else {
                    Err(StarttlsError::InjectedBytes {
                        count: rest.len(),
                        preview: preview(rest),
                    })
                }
            })),
        };
    }
}

fn io_error(e: io::Error, during: &'static str) -> StarttlsError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => StarttlsError::Timeout { during },
        _ => StarttlsError::Io { during, source: e },
    }
}

fn reply_error(e: ReplyError, during: &'static str) -> StarttlsError {
    match e {
        ReplyError::Malformed { preview, .. } => StarttlsError::UnexpectedReply {
            during,
            reply: preview,
        },
        ReplyError::MismatchedCode { first, line } => StarttlsError::UnexpectedReply {
            during,
            reply: format!("{first}-... then {line}"),
        },
        ReplyError::TooLong { .. } | ReplyError::TooManyLines { .. } => {
            StarttlsError::TooLong { during }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a dialogue against `replies` (each sent once the client's command before it is
    /// written), handing them over `chunk` bytes at a time; gives what the client wrote and
    /// the result.
    fn run(
        protocol: StarttlsProtocol,
        replies: &[&str],
        chunk: usize,
    ) -> (String, Result<StarttlsTranscript, StarttlsError>) {
        let mut dialogue = Dialogue::new(protocol, &StarttlsOptions::default());
        let mut written = String::new();
        let mut replies = replies.iter();
        loop {
            match dialogue.step() {
                DialogueStep::Finished => return (written, dialogue.finish()),
                DialogueStep::Transmit(bytes) => {
                    // One byte at a time: partial writes.
                    written.push(char::from(bytes[0]));
                    dialogue.transmitted(1);
                }
                DialogueStep::Receive => match replies.next() {
                    Some(reply) => {
                        for piece in reply.as_bytes().chunks(chunk) {
                            dialogue.received(piece);
                        }
                    }
                    None => dialogue.closed(),
                },
            }
        }
    }

    const SMTP: &[&str] = &[
        "220 mx ESMTP\r\n",
        "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        "220 go ahead\r\n",
    ];
    const IMAP: &[&str] = &[
        "* OK ready\r\n",
        "* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n",
        ". OK begin TLS\r\n",
    ];

    #[test]
    fn byte_by_byte_and_whole_replies_give_the_same_commands_and_transcript() {
        for (protocol, replies, commands) in [
            (
                StarttlsProtocol::Smtp,
                SMTP,
                "EHLO mail.example.com\r\nSTARTTLS\r\n",
            ),
            (
                StarttlsProtocol::Imap,
                IMAP,
                ". CAPABILITY\r\n. STARTTLS\r\n",
            ),
        ] {
            let (whole_written, whole) = run(protocol, replies, usize::MAX);
            let (drip_written, drip) = run(protocol, replies, 1);
            assert_eq!(whole_written, commands, "{protocol}");
            assert_eq!(drip_written, commands, "{protocol}: each command once");
            let whole = whole.unwrap();
            assert_eq!(drip.unwrap(), whole);
            assert_eq!(whole.protocol, protocol);
        }
    }

    #[test]
    fn a_close_mid_reply_shows_what_came_and_names_the_reply() {
        let (_, result) = run(
            StarttlsProtocol::Smtp,
            &["220 mx ESMTP\r\n", "250-mx\r\n"],
            1,
        );
        match result {
            Err(StarttlsError::Closed { during, received }) => {
                assert_eq!(during, "EHLO reply");
                assert_eq!(received, "250-mx\\r\\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bytes_after_the_go_ahead_are_injected_and_a_timeout_names_the_step() {
        // What came with the go-ahead, in the same read, is refused; the dialogue reads no
        // further once it is over.
        for (chunk, count) in [(usize::MAX, 6), (3, 1)] {
            let replies = ["+OK\r\n", "+OK go\r\nQUIT\r\n"];
            let (_, result) = run(StarttlsProtocol::Pop3, &replies, chunk);
            assert!(
                matches!(&result, Err(StarttlsError::InjectedBytes { count: c, .. }) if *c == count),
                "{result:?}"
            );
        }

        let mut dialogue = Dialogue::new(StarttlsProtocol::Pop3, &StarttlsOptions::default());
        dialogue.received(b"+OK\r\n");
        assert_eq!(dialogue.during(), "STLS command");
        dialogue.transmitted(6);
        assert_eq!(dialogue.during(), "STLS reply");
        dialogue.timed_out();
        assert!(matches!(
            dialogue.finish(),
            Err(StarttlsError::Timeout {
                during: "STLS reply"
            })
        ));
    }
}
