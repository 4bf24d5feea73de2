//! Reading a file that must be a regular file, without ever blocking: a FIFO or a device
//! given where a certificate, a CA bundle or a key is expected would block a read for as long
//! as no one writes to it.
//!
//! The file is opened with `O_NONBLOCK` (which makes
//! [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html) of a FIFO return at once)
//! and `O_NOCTTY`, and checked with [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
//! on the open descriptor, so that the check and the read concern the same file.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why [`read`] gave no bytes.
#[derive(Debug)]
pub(crate) enum RegularFileError {
    /// The file could not be opened, inspected or read.
    Io(io::Error),
    /// It is not a regular file (after symbolic links): what it is, in words.
    NotRegular(&'static str),
    /// It is larger than the limit given.
    TooLarge {
        /// Its size, or the bytes read once it passed the limit.
        size: u64,
    },
}

/// The whole regular file at `path`, of at most `limit` bytes when given.
pub(crate) fn read(path: &Path, limit: Option<u64>) -> Result<Vec<u8>, RegularFileError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(RegularFileError::Io)?;
    let meta = file.metadata().map_err(RegularFileError::Io)?;
    if !meta.is_file() {
        return Err(RegularFileError::NotRegular(kind(&meta.file_type())));
    }
    let max = limit.unwrap_or(u64::MAX);
    if meta.len() > max {
        return Err(RegularFileError::TooLarge { size: meta.len() });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte past the limit tells a file that grew since fstat.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(RegularFileError::Io)?;
    if bytes.len() as u64 > max {
        return Err(RegularFileError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, in words.
pub(crate) fn kind(kind: &fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_dir() {
        "directory"
    } else if kind.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}
