//! Fuzzes the certificate fingerprint parser (`Fingerprint::parse`, used for `--fingerprint`
//! and `--cert-hash`): any input is accepted or refused without a panic, an error's position
//! points inside the input, and an accepted fingerprint prints as text that parses back to it.
//!
//! Run with `cargo +nightly fuzz run fingerprint` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlshake::fingerprint::{Fingerprint, FingerprintError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Fingerprint::parse(&text) {
        Ok(fp) => {
            let again = Fingerprint::parse(&fp.to_string()).expect("printed form parses");
            assert_eq!(again, fp);
        }
        Err(FingerprintError::InvalidCharacter { position, .. }) => {
            assert!(position < text.chars().count());
        }
        Err(_) => {}
    }
});
