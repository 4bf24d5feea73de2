//! # tlshake
//!
//! OpenSSL's TLS handshake, typed, deadline-bounded and safe to use from systems code.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod bundled;
pub mod certstore;
pub mod fingerprint;
#[cfg(feature = "harness")]
pub mod harness;
pub mod starttls;
pub mod url;
pub mod version;

pub use version::ProtocolVersion;
