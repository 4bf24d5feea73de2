//! `--keylog FILE`, or the `SSLKEYLOGFILE` environment variable that curl, Firefox and
//! rustls honour.

use std::path::{Path, PathBuf};

/// The key log to write: `--keylog` when given, else `$SSLKEYLOGFILE` when set and not
/// empty.
pub(crate) fn path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("SSLKEYLOGFILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}
