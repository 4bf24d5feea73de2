//! The one mapping from what a handshake wants to what its runner waits for.

use crate::outcome::Want;
use crate::wait;

/// What a runner does for a handshake that returned [`Want`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Wait until the socket is readable (or writable), then step again.
    Socket(wait::Interest),
    /// Not caused by the peer: an application callback asked to be called again
    /// (`SSL_ERROR_WANT_X509_LOOKUP`, `SSL_ERROR_WANT_ASYNC`, `SSL_ERROR_WANT_ASYNC_JOB`,
    /// `SSL_ERROR_WANT_CLIENT_HELLO_CB`, `SSL_ERROR_WANT_RETRY_VERIFY`). Waiting on the socket
    /// would idle until the deadline: the want goes back to the caller, who resumes the
    /// handshake once the callback's condition is met
    /// ([`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/)).
    Caller(Want),
}

/// The interest for `want`: the only place where a want becomes a wait.
///
/// `WANT_READ` and `WANT_ACCEPT` wait for readable, `WANT_WRITE` and `WANT_CONNECT` for
/// writable (a nonblocking connect completes when the socket is writable); every
/// callback-driven want goes to the caller.
pub fn interest(want: Want) -> Interest {
    match want {
        Want::Read | Want::Accept => Interest::Socket(wait::Interest::Readable),
        Want::Write | Want::Connect => Interest::Socket(wait::Interest::Writable),
        other => Interest::Caller(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_wants_go_to_the_caller() {
        for want in [
            Want::X509Lookup,
            Want::Async,
            Want::AsyncJob,
            Want::ClientHelloCallback,
            Want::RetryVerify,
        ] {
            assert_eq!(interest(want), Interest::Caller(want));
        }
        assert_eq!(
            interest(Want::Read),
            Interest::Socket(wait::Interest::Readable)
        );
        assert_eq!(
            interest(Want::Write),
            Interest::Socket(wait::Interest::Writable)
        );
    }
}
