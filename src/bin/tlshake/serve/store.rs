//! `serve --store DIR`: the certificate chosen by `--cert-name` or `--cert-hash`, with what
//! the store skipped and what is served said on stderr.

use std::path::Path;

use tlshake::certstore::{CertStore, CertifiedKey};

use crate::report::{self, Outcome};

/// What `--cert-name` or `--cert-hash` asked for.
pub(crate) enum Choice<'a> {
    /// A host name.
    Name(&'a str),
    /// A SHA-1 or SHA-256 fingerprint, as text.
    Hash(&'a str),
}

/// Loads the store, says on stderr which files and certificates it skipped and why, selects
/// the certificate asked for and says which one is served (and whether it is self-signed). A
/// choice that fails is said with its whole chain of causes, which names the file.
pub(crate) fn chosen_certificate(dir: &Path, choice: &Choice<'_>) -> Result<CertifiedKey, Outcome> {
    let store = CertStore::load_dir(dir, &[]).map_err(|e| report::bad_input("cannot serve", e))?;
    for file in store.skipped_files() {
        match file.error() {
            Some(error) => report::fail("tlshake: skipped", error),
            None => eprintln!("tlshake: skipped: {file}"),
        }
    }
    for cert in store.skipped() {
        eprintln!("tlshake: not a candidate: {cert}");
    }
    let chosen = match choice {
        Choice::Name(name) => store.find_by_name(name),
        Choice::Hash(hash) => store.find_by_hash_text(hash),
    }
    .map_err(|e| report::bad_input("cannot serve", e))?;
    let summary = chosen.summary();
    let from = chosen
        .source()
        .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
    eprintln!(
        "tlshake: serving {} (SHA-256 {}) from {from}",
        summary.subject, summary.sha256
    );
    if summary.self_signed {
        let ca = if summary.is_ca {
            " (basicConstraints CA:TRUE, as `openssl req -x509` makes it)"
        } else {
            ""
        };
        eprintln!(
            "tlshake: {} is self-signed{ca}: clients verify it only if they trust this very \
             certificate (s_client -CAfile {from})",
            summary.subject
        );
    }
    Ok(chosen.clone())
}
