//! Server certificates: loading PEM and PKCS#12 files, and selecting one by host name or by
//! SHA-1 / SHA-256 fingerprint (what `openssl x509 -fingerprint` prints), for a server that
//! picks its certificate per name (SNI) or by thumbprint.
//!
//! - [`CertifiedKey`]: a leaf certificate, its chain and its private key, checked to belong
//!   together; from PEM files, a PKCS#12 archive or memory.
//! - [`CertStore`]: a directory of them; [`CertStore::find_by_name`],
//!   [`CertStore::find_by_fingerprint`], [`CertStore::find_by_hash_text`].
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
//! println!("serving {}", by_name.summary().subject);
//! # let _ = by_hash;
//! # Ok(())
//! # }
//! ```

mod basic_constraints;
mod certified_key;
mod error;
mod files;
mod name_match;
mod pem;
mod select;
mod skipped;
mod store;
mod summary;
mod validity;

pub use certified_key::CertifiedKey;
pub use error::CertStoreError;
pub use name_match::name_matches;
pub use skipped::{SkipReason, SkippedCert};
pub use store::CertStore;
pub use summary::{CandidateInfo, CertSummary};
pub use validity::{check_validity, check_validity_at};
