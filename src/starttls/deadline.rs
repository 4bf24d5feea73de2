//! One deadline for the whole dialogue on a [`TcpStream`].

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::deadline::Deadline;

use super::{negotiate, StarttlsError, StarttlsOptions, StarttlsProtocol, StarttlsTranscript};

/// Runs [`negotiate`] on a TCP stream so that the whole dialogue ends by `deadline`.
///
/// A socket timeout bounds each read, not the dialogue: a server that sends one byte just
/// before every timeout could keep [`negotiate`] busy for a long time. This function sets the
/// stream's read and write timeouts to the time left before every read and write
/// ([`TcpStream::set_read_timeout`]), so the dialogue fails with
/// [`StarttlsError::Timeout`] at `deadline` at the latest, and puts the stream's original
/// timeouts back before it returns.
///
/// ```no_run
/// use std::net::TcpStream;
/// use std::time::{Duration, Instant};
/// use tlshake::starttls::{negotiate_with_deadline, StarttlsOptions, StarttlsProtocol};
///
/// let mut stream = TcpStream::connect(("imap.example.org", 143))?;
/// let deadline = Instant::now() + Duration::from_secs(10);
/// let transcript = negotiate_with_deadline(
///     &mut stream,
///     StarttlsProtocol::Imap,
///     &StarttlsOptions::default(),
///     deadline,
/// )?;
/// println!("{}", transcript.go_ahead);
/// // `stream` is now ready for the TLS handshake.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate_with_deadline(
    stream: &mut TcpStream,
    protocol: StarttlsProtocol,
    options: &StarttlsOptions,
    deadline: Instant,
) -> Result<StarttlsTranscript, StarttlsError> {
    let saved = (stream.read_timeout(), stream.write_timeout());
    let (Ok(read_timeout), Ok(write_timeout)) = saved else {
        let source = saved.0.err().or(saved.1.err());
        let source = source.unwrap_or_else(|| io::Error::other("cannot read socket timeouts"));
        return Err(StarttlsError::Io {
            during: "reading the socket timeouts",
            source,
        });
    };
    let outcome = negotiate(
        &mut Bounded {
            stream: &mut *stream,
            deadline,
        },
        protocol,
        options,
    );
    let restored = stream
        .set_read_timeout(read_timeout)
        .and_then(|()| stream.set_write_timeout(write_timeout));
    match (outcome, restored) {
        (Ok(_), Err(source)) => Err(StarttlsError::Io {
            during: "restoring the socket timeouts",
            source,
        }),
        (outcome, _) => outcome,
    }
}

/// A TCP stream whose every read and write waits at most until the deadline.
#[derive(Debug)]
struct Bounded<'s> {
    stream: &'s mut TcpStream,
    deadline: Instant,
}

impl Bounded<'_> {
    /// The time left ([`Deadline::time_left`]), or a `TimedOut` error once it has passed.
    fn time_left(&self) -> io::Result<Option<Duration>> {
        Deadline::at(self.deadline).time_left("STARTTLS")
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.time_left()?;
        self.stream.set_read_timeout(left)?;
        self.stream.read(buf)
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.time_left()?;
        self.stream.set_write_timeout(left)?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
