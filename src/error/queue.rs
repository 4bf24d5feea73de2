//! [`ErrorQueue`]: the entries OpenSSL left on its error queue for one failed call, in the
//! crate's own [`OpensslError`] form, the same as [`HandshakeError::queue`](crate::HandshakeError::queue).

use std::fmt;

use openssl::error::ErrorStack;

use std::error::Error as StdError;

/// What OpenSSL put on its per-thread error queue for one failed call, oldest entry first
/// ([`ERR_get_error(3)`](https://docs.openssl.org/3.0/man3/ERR_get_error/)), exactly as it
/// was: no entry added, none dropped.
///
/// Every public error of the crate that carries OpenSSL's errors carries them in this form
/// (a [`HandshakeError`](crate::HandshakeError) gives the same entries through
/// [`queue`](crate::HandshakeError::queue)).
///
/// ```
/// use tlshake::client::{ClientConfig, ConfigError};
///
/// let error = ClientConfig::builder().ciphers("NO-SUCH-CIPHER").build().unwrap_err();
/// let ConfigError::Ciphers { source, .. } = &error else { panic!("{error:?}") };
/// assert_eq!(source.reasons(), ["no cipher match"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[doc(alias = "ERR_get_error")]
pub struct ErrorQueue {
    entries: Vec<OpensslError>,
}

impl ErrorQueue {
    /// A queue with no entries, as a constant.
    pub(crate) const EMPTY: ErrorQueue = ErrorQueue {
        entries: Vec::new(),
    };

    /// The entries, oldest first.
    pub fn entries(&self) -> &[OpensslError] {
        &self.entries
    }

    /// The entries, owned.
    pub fn into_entries(self) -> Vec<OpensslError> {
        self.entries
    }

    /// The reasons of the entries (`"no cipher match"`, ...), oldest first
    /// ([`ERR_reason_error_string(3)`](https://docs.openssl.org/3.0/man3/ERR_error_string/),
    /// or the entry's whole text when the reason has no string).
    pub fn reasons(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(OpensslError::reason_or_text)
            .collect()
    }

    /// True if an entry has this `ERR_GET_REASON` code.
    pub fn has_reason_code(&self, reason_code: i32) -> bool {
        self.entries.iter().any(|e| e.reason_code == reason_code)
    }

    /// True when OpenSSL left nothing on the queue.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The entries as a slice: `queue.len()`, `queue.iter()`, `queue.first()`, `queue[0]`.
impl std::ops::Deref for ErrorQueue {
    type Target = [OpensslError];

    fn deref(&self) -> &[OpensslError] {
        &self.entries
    }
}

impl From<ErrorStack> for ErrorQueue {
    fn from(stack: ErrorStack) -> ErrorQueue {
        ErrorQueue::from(&stack)
    }
}

impl From<&ErrorStack> for ErrorQueue {
    fn from(stack: &ErrorStack) -> ErrorQueue {
        ErrorQueue {
            entries: entries_of(stack),
        }
    }
}

impl From<Vec<OpensslError>> for ErrorQueue {
    fn from(entries: Vec<OpensslError>) -> ErrorQueue {
        ErrorQueue { entries }
    }
}

impl<'a> IntoIterator for &'a ErrorQueue {
    type Item = &'a OpensslError;
    type IntoIter = std::slice::Iter<'a, OpensslError>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Each entry as OpenSSL prints it (`ERR_error_string_n`, then its data), `; ` between.
impl fmt::Display for ErrorQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("OpenSSL left no entry on its error queue");
        }
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorQueue {}

/// One entry of OpenSSL's per-thread error queue
/// ([`ERR_get_error(3)`](https://docs.openssl.org/3.0/man3/ERR_get_error/)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[doc(alias = "ERR_get_error")]
pub struct OpensslError {
    /// The packed error code (`ERR_get_error`).
    pub code: u64,
    /// The library that raised it (`"SSL routines"`), from `ERR_lib_error_string`.
    pub library: Option<String>,
    /// The library number (`ERR_GET_LIB`).
    pub library_code: i32,
    /// The reason (`"wrong version number"`), from `ERR_reason_error_string`.
    pub reason: Option<String>,
    /// The reason number (`ERR_GET_REASON`).
    pub reason_code: i32,
    /// Extra data attached by OpenSSL, if any.
    pub data: Option<String>,
    /// Source file inside OpenSSL.
    pub file: String,
    /// Source line inside OpenSSL.
    pub line: u32,
    /// The text OpenSSL itself prints for this entry (`ERR_error_string_n`).
    pub text: String,
}

impl OpensslError {
    /// The reason, or the text OpenSSL prints when the reason has no string.
    pub fn reason_or_text(&self) -> &str {
        self.reason.as_deref().unwrap_or(&self.text)
    }
}

impl fmt::Display for OpensslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if let Some(data) = &self.data {
            write!(f, " ({data})")?;
        }
        Ok(())
    }
}

impl StdError for OpensslError {}

/// Converts the entries of an [`ErrorStack`](openssl::error::ErrorStack) the `openssl` crate
/// already drained.
pub(crate) fn entries_of(stack: &openssl::error::ErrorStack) -> Vec<OpensslError> {
    stack
        .errors()
        .iter()
        .map(|e| OpensslError {
            #[allow(clippy::unnecessary_cast)]
            code: e.code() as u64,
            library: e.library().map(str::to_string),
            library_code: e.library_code(),
            reason: e.reason().map(str::to_string),
            reason_code: e.reason_code(),
            data: e.data().map(str::to_string),
            file: e.file().to_string(),
            line: e.line(),
            text: crate::sys::error_string(e.code()),
        })
        .collect()
}
