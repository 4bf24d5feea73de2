//! The leaf vocabulary of a handshake step: which side this end plays ([`Role`]), the named
//! [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/) codes
//! ([`SslErrorCode`]) and the retryable ones ([`Want`]). It imports nothing of the crate, so
//! `error`, `hint` and `outcome` can all use it without importing each other in a circle.

use std::fmt;

/// Which side of the handshake this end plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: the handshake function is [`SSL_connect(3)`](https://docs.openssl.org/3.0/man3/SSL_connect/).
    Client,
    /// The server: the handshake function is [`SSL_accept(3)`](https://docs.openssl.org/3.0/man3/SSL_accept/).
    Server,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Client => "client",
            Role::Server => "server",
        })
    }
}

/// What the caller must do before calling the handshake function again.
///
/// These are the retryable results of
/// [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Want {
    /// `SSL_ERROR_WANT_READ`: wait until the transport is readable (or, with memory BIOs, feed
    /// the bytes that arrived from the peer), then call again.
    Read,
    /// `SSL_ERROR_WANT_WRITE`: wait until the transport is writable, then call again.
    Write,
    /// `SSL_ERROR_WANT_CONNECT`: the underlying BIO is still connecting.
    Connect,
    /// `SSL_ERROR_WANT_ACCEPT`: the underlying BIO is still accepting.
    Accept,
    /// `SSL_ERROR_WANT_X509_LOOKUP`: a client certificate callback asked to be called again.
    X509Lookup,
    /// `SSL_ERROR_WANT_ASYNC`: an asynchronous engine job is in progress.
    Async,
    /// `SSL_ERROR_WANT_ASYNC_JOB`: no asynchronous job was available in the pool.
    AsyncJob,
    /// `SSL_ERROR_WANT_CLIENT_HELLO_CB`: the ClientHello callback asked to be called again.
    ClientHelloCallback,
    /// `SSL_ERROR_WANT_RETRY_VERIFY`: the certificate verify callback asked to be called again
    /// (OpenSSL 3.0 and newer).
    RetryVerify,
}

impl Want {
    /// The OpenSSL name of this condition (`"SSL_ERROR_WANT_READ"`, ...).
    pub fn ssl_error_name(self) -> &'static str {
        self.code().name()
    }

    /// The `SSL_get_error` code this condition corresponds to.
    pub fn code(self) -> SslErrorCode {
        match self {
            Want::Read => SslErrorCode::WantRead,
            Want::Write => SslErrorCode::WantWrite,
            Want::Connect => SslErrorCode::WantConnect,
            Want::Accept => SslErrorCode::WantAccept,
            Want::X509Lookup => SslErrorCode::WantX509Lookup,
            Want::Async => SslErrorCode::WantAsync,
            Want::AsyncJob => SslErrorCode::WantAsyncJob,
            Want::ClientHelloCallback => SslErrorCode::WantClientHelloCb,
            Want::RetryVerify => SslErrorCode::WantRetryVerify,
        }
    }
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Want::Read => "read",
            Want::Write => "write",
            Want::Connect => "connect",
            Want::Accept => "accept",
            Want::X509Lookup => "X509 lookup",
            Want::Async => "async",
            Want::AsyncJob => "async job",
            Want::ClientHelloCallback => "ClientHello callback",
            Want::RetryVerify => "retry verify",
        })
    }
}

/// The result code of [`SSL_get_error(3)`](https://docs.openssl.org/3.0/man3/SSL_get_error/),
/// named. `Other` keeps any value a newer OpenSSL may add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SslErrorCode {
    /// `SSL_ERROR_NONE` (0).
    None,
    /// `SSL_ERROR_SSL` (1): a protocol or library error; see the error queue.
    Ssl,
    /// `SSL_ERROR_WANT_READ` (2).
    WantRead,
    /// `SSL_ERROR_WANT_WRITE` (3).
    WantWrite,
    /// `SSL_ERROR_WANT_X509_LOOKUP` (4).
    WantX509Lookup,
    /// `SSL_ERROR_SYSCALL` (5): an I/O error (see errno) or, with OpenSSL 1.1.1, an EOF.
    Syscall,
    /// `SSL_ERROR_ZERO_RETURN` (6): the peer sent close_notify.
    ZeroReturn,
    /// `SSL_ERROR_WANT_CONNECT` (7).
    WantConnect,
    /// `SSL_ERROR_WANT_ACCEPT` (8).
    WantAccept,
    /// `SSL_ERROR_WANT_ASYNC` (9).
    WantAsync,
    /// `SSL_ERROR_WANT_ASYNC_JOB` (10).
    WantAsyncJob,
    /// `SSL_ERROR_WANT_CLIENT_HELLO_CB` (11).
    WantClientHelloCb,
    /// `SSL_ERROR_WANT_RETRY_VERIFY` (12).
    WantRetryVerify,
    /// A value this version of tlshake does not know.
    Other(i32),
}

impl SslErrorCode {
    /// Names the raw `SSL_get_error` value.
    pub fn from_raw(code: i32) -> SslErrorCode {
        match code {
            0 => SslErrorCode::None,
            1 => SslErrorCode::Ssl,
            2 => SslErrorCode::WantRead,
            3 => SslErrorCode::WantWrite,
            4 => SslErrorCode::WantX509Lookup,
            5 => SslErrorCode::Syscall,
            6 => SslErrorCode::ZeroReturn,
            7 => SslErrorCode::WantConnect,
            8 => SslErrorCode::WantAccept,
            9 => SslErrorCode::WantAsync,
            10 => SslErrorCode::WantAsyncJob,
            11 => SslErrorCode::WantClientHelloCb,
            12 => SslErrorCode::WantRetryVerify,
            other => SslErrorCode::Other(other),
        }
    }

    /// The raw `SSL_get_error` value.
    pub fn raw(self) -> i32 {
        match self {
            SslErrorCode::None => 0,
            SslErrorCode::Ssl => 1,
            SslErrorCode::WantRead => 2,
            SslErrorCode::WantWrite => 3,
            SslErrorCode::WantX509Lookup => 4,
            SslErrorCode::Syscall => 5,
            SslErrorCode::ZeroReturn => 6,
            SslErrorCode::WantConnect => 7,
            SslErrorCode::WantAccept => 8,
            SslErrorCode::WantAsync => 9,
            SslErrorCode::WantAsyncJob => 10,
            SslErrorCode::WantClientHelloCb => 11,
            SslErrorCode::WantRetryVerify => 12,
            SslErrorCode::Other(code) => code,
        }
    }

    /// The name of the constant in `<openssl/ssl.h>` (`"SSL_ERROR_SSL"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SslErrorCode::None => "SSL_ERROR_NONE",
            SslErrorCode::Ssl => "SSL_ERROR_SSL",
            SslErrorCode::WantRead => "SSL_ERROR_WANT_READ",
            SslErrorCode::WantWrite => "SSL_ERROR_WANT_WRITE",
            SslErrorCode::WantX509Lookup => "SSL_ERROR_WANT_X509_LOOKUP",
            SslErrorCode::Syscall => "SSL_ERROR_SYSCALL",
            SslErrorCode::ZeroReturn => "SSL_ERROR_ZERO_RETURN",
            SslErrorCode::WantConnect => "SSL_ERROR_WANT_CONNECT",
            SslErrorCode::WantAccept => "SSL_ERROR_WANT_ACCEPT",
            SslErrorCode::WantAsync => "SSL_ERROR_WANT_ASYNC",
            SslErrorCode::WantAsyncJob => "SSL_ERROR_WANT_ASYNC_JOB",
            SslErrorCode::WantClientHelloCb => "SSL_ERROR_WANT_CLIENT_HELLO_CB",
            SslErrorCode::WantRetryVerify => "SSL_ERROR_WANT_RETRY_VERIFY",
            SslErrorCode::Other(_) => "SSL_ERROR_UNKNOWN",
        }
    }

    /// The retry condition this code asks for, if it is one of the `SSL_ERROR_WANT_*` codes.
    pub fn want(self) -> Option<Want> {
        Some(match self {
            SslErrorCode::WantRead => Want::Read,
            SslErrorCode::WantWrite => Want::Write,
            SslErrorCode::WantConnect => Want::Connect,
            SslErrorCode::WantAccept => Want::Accept,
            SslErrorCode::WantX509Lookup => Want::X509Lookup,
            SslErrorCode::WantAsync => Want::Async,
            SslErrorCode::WantAsyncJob => Want::AsyncJob,
            SslErrorCode::WantClientHelloCb => Want::ClientHelloCallback,
            SslErrorCode::WantRetryVerify => Want::RetryVerify,
            _ => return None,
        })
    }
}

impl fmt::Display for SslErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SslErrorCode::Other(code) => write!(f, "SSL_get_error code {code}"),
            known => f.write_str(known.name()),
        }
    }
}
