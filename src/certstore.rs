//! Server certificates: loading PEM and PKCS#12 files, and selecting one by host name or by
//! SHA-1 / SHA-256 fingerprint (what `openssl x509 -fingerprint` prints), for a server that
//! picks its certificate per name (SNI) or by thumbprint.
//!
//! - [`CertifiedKey`]: a leaf certificate, its chain and its private key, checked to belong
//!   together; from PEM files, a PKCS#12 archive or memory.
//! - [`CertStore`]: a directory of them; [`CertStore::find_by_name`],
//!   [`CertStore::find_by_fingerprint`], [`CertStore::find_by_hash_text`]. A self-signed
//!   certificate chosen by name or fingerprint is served even when it says `CA:TRUE` (as
//!   `openssl req -x509` makes them); [`CertSummary::self_signed`] says so. Files the store
//!   cannot use (unreadable, truncated, binary, FIFOs, dangling links, subdirectories) are
//!   skipped and listed with their reason by [`CertStore::skipped_files`].
//! - [`CertSummary`]: names, validity and fingerprints of any certificate (also used to report a
//!   peer's certificate).
//! - [`check_validity`]: the validity-date check, with the `allow_invalid_dates` opt-out.
//! - [`name_matches`]: RFC 6125 host name matching with whole-label wildcards.
//!
//! ```no_run
//! use std::path::Path;
//! use tlshake::certstore::CertStore;
//!
//! # fn main() -> Result<(), tlshake::certstore::CertStoreError> {
//! let store = CertStore::load_dir(Path::new("/etc/myserver/certs"), &["pfx password"])?;
//! let by_name = store.find_by_name("www.example.com")?;
//! let by_hash = store.find_by_hash_text("9d a4 4c 1e 0f 2b 77 5a 9c 31 8e 6d 44 03 bb 21 c0 de 7f 3f")?;
//! for file in store.skipped_files() {
//!     eprintln!("skipped: {file}");
//! }
//! println!("serving {}", by_name.summary().subject);
//! if by_name.summary().self_signed {
//!     println!("self-signed: clients must trust this very certificate");
//! }
//! # let _ = by_hash;
//! # Ok(())
//! # }
//! ```

mod basic_constraints;
mod candidate;
mod certified_key;
mod error;
mod files;
mod name_match;
pub(crate) mod pem;
mod select;
mod skipped;
mod store;
mod summary;
mod validity;

pub use certified_key::CertifiedKey;
pub use error::CertStoreError;
pub use name_match::name_matches;
pub use skipped::{FileSkipReason, SkipReason, SkippedCert, SkippedFile};
pub use store::CertStore;
pub use summary::{CandidateInfo, CertSummary};
pub use validity::{check_validity, check_validity_at};
