//! Turns the linked OpenSSL version (from `openssl-sys`) into `cfg` flags.
//!
//! `openssl-sys` exports `DEP_OPENSSL_VERSION_NUMBER` (hex `OPENSSL_VERSION_NUMBER`) to crates
//! that depend on it directly. We emit `cfg(ossl111)` for 1.1.1 and newer and `cfg(ossl300)` for
//! 3.0 and newer, and refuse anything older than 1.1.1 with a message that says what to do.

use std::env;

const OSSL111: u64 = 0x1010_1000;
const OSSL300: u64 = 0x3000_0000;
const OSSL320: u64 = 0x3020_0000;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ossl111)");
    println!("cargo::rustc-check-cfg=cfg(ossl300)");
    println!("cargo::rustc-check-cfg=cfg(ossl320)");
    println!("cargo::rerun-if-env-changed=DEP_OPENSSL_VERSION_NUMBER");
    println!("cargo::rerun-if-env-changed=DEP_OPENSSL_LIBRESSL_VERSION_NUMBER");

    if let Ok(libressl) = env::var("DEP_OPENSSL_LIBRESSL_VERSION_NUMBER") {
        panic!(
            "tlshake needs OpenSSL 1.1.1 or newer, but openssl-sys found LibreSSL \
             (LIBRESSL_VERSION_NUMBER 0x{libressl}); tlshake promises OpenSSL parity, so \
             point OPENSSL_DIR at an OpenSSL installation or build with `--features vendored`"
        );
    }

    let raw = env::var("DEP_OPENSSL_VERSION_NUMBER").unwrap_or_else(|_| {
        panic!(
            "DEP_OPENSSL_VERSION_NUMBER is not set: openssl-sys must be a direct dependency of \
             tlshake so that its build script reports the OpenSSL version it links"
        )
    });
    let version = u64::from_str_radix(raw.trim(), 16).unwrap_or_else(|e| {
        panic!("DEP_OPENSSL_VERSION_NUMBER={raw:?} is not a hex OpenSSL version number: {e}")
    });

    if version < OSSL111 {
        panic!(
            "tlshake needs OpenSSL 1.1.1 or newer, but the OpenSSL found is 0x{version:08x} \
             (older than 0x{OSSL111:08x}); install libssl-dev from OpenSSL 1.1.1+ / 3.x, set \
             OPENSSL_DIR to a newer installation, or build with `--features vendored`"
        );
    }
    println!("cargo::rustc-cfg=ossl111");
    if version >= OSSL300 {
        println!("cargo::rustc-cfg=ossl300");
    }
    if version >= OSSL320 {
        println!("cargo::rustc-cfg=ossl320");
    }
    println!("cargo::rustc-env=TLSHAKE_OPENSSL_VERSION_NUMBER={version:08x}");
}
