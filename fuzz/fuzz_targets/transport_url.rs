//! Fuzzes the transport URL parser: any input is refused or accepted without a panic, and an
//! accepted URL prints as text that parses back to the same URL.
//!
//! Run with `cargo +nightly fuzz run transport_url` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlshake::url::TransportUrl;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(url) = text.parse::<TransportUrl>() {
        let printed = url.to_string();
        let again = printed.parse::<TransportUrl>();
        assert_eq!(again.as_ref(), Ok(&url), "{printed:?} does not parse back");
        if let Ok(again) = again {
            assert_eq!(again.to_string(), printed);
        }
    }
});
