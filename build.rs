//! Turns the linked OpenSSL (as `openssl-sys` found it) into `cfg` flags.
//!
//! `openssl-sys` exports `DEP_OPENSSL_VERSION_NUMBER` (hex `OPENSSL_VERSION_NUMBER`) and
//! `DEP_OPENSSL_INCLUDE` to crates that depend on it directly. From the version we emit one
//! `cfg` per release line whose API tlshake uses (`ossl300`, `ossl320`, `ossl350`, `ossl360`,
//! `ossl400`, each meaning "this version or newer"); from the build configuration header, one
//! `ossl_no_<feature>` per feature the library was built without (`no-ct`, `no-ech`, ...).
//! Anything older than 3.0, and LibreSSL, is refused with one line that says what to do.

use std::env;
use std::path::PathBuf;

/// The release lines whose new functions tlshake calls, and the cfg each one turns on.
const LINES: [(u64, &str); 5] = [
    (0x3000_0000, "ossl300"),
    (0x3020_0000, "ossl320"),
    (0x3050_0000, "ossl350"),
    (0x3060_0000, "ossl360"),
    (0x4000_0000, "ossl400"),
];

/// Features OpenSSL can be configured without (`./Configure no-ct`) whose functions tlshake
/// calls: `OPENSSL_NO_<NAME>` in `<openssl/configuration.h>` turns on `cfg(ossl_no_<name>)`.
const OPTIONAL_FEATURES: [&str; 4] = ["CT", "ECH", "DTLS", "SRTP"];

/// The lowest OpenSSL tlshake supports, as `OPENSSL_VERSION_NUMBER`.
const LOWEST: u64 = 0x3000_0000;

fn main() {
    for (_, cfg) in LINES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for name in OPTIONAL_FEATURES {
        println!(
            "cargo::rustc-check-cfg=cfg(ossl_no_{})",
            name.to_ascii_lowercase()
        );
    }
    println!("cargo::rerun-if-env-changed=DEP_OPENSSL_VERSION_NUMBER");
    println!("cargo::rerun-if-env-changed=DEP_OPENSSL_LIBRESSL_VERSION_NUMBER");
    println!("cargo::rerun-if-env-changed=DEP_OPENSSL_INCLUDE");

    if let Ok(libressl) = env::var("DEP_OPENSSL_LIBRESSL_VERSION_NUMBER") {
        panic!(
            "tlshake needs OpenSSL 3.0 or newer, but openssl-sys found LibreSSL \
             (LIBRESSL_VERSION_NUMBER 0x{libressl}): point OPENSSL_DIR at an OpenSSL 3.0+ \
             installation (scripts/openssl.sh builds one) or build with `--features vendored`"
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

    if version < LOWEST {
        panic!(
            "tlshake needs OpenSSL 3.0 or newer, but openssl-sys found 0x{version:08x}: set \
             OPENSSL_DIR to an OpenSSL 3.0+ installation (scripts/openssl.sh 3.5 builds one) \
             or build with `--features vendored`"
        );
    }
    for (first, cfg) in LINES {
        if version >= first {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    for name in disabled_features() {
        println!("cargo::rustc-cfg=ossl_no_{}", name.to_ascii_lowercase());
    }
    println!("cargo::rustc-env=TLSHAKE_OPENSSL_VERSION_NUMBER={version:08x}");
}

/// The [`OPTIONAL_FEATURES`] the linked OpenSSL was configured without, read from its
/// `<openssl/configuration.h>` (in an include directory `openssl-sys` reported, or its
/// multiarch subdirectory, as Debian installs it). A header that cannot be found disables
/// nothing: the default configuration has every one of them.
fn disabled_features() -> Vec<&'static str> {
    let includes = env::var("DEP_OPENSSL_INCLUDE").unwrap_or_default();
    let multiarch = multiarch_triple();
    let header = env::split_paths(&includes)
        .flat_map(|dir| {
            let mut candidates = vec![dir.join("openssl/configuration.h")];
            if let Some(triple) = &multiarch {
                candidates.push(dir.join(triple).join("openssl/configuration.h"));
            }
            candidates
        })
        .find(|path: &PathBuf| path.is_file());
    let Some(header) = header else {
        return Vec::new();
    };
    println!("cargo::rerun-if-changed={}", header.display());
    let text = std::fs::read_to_string(&header).unwrap_or_default();
    OPTIONAL_FEATURES
        .into_iter()
        .filter(|name| {
            let define = format!("OPENSSL_NO_{name}");
            text.lines().any(|line| {
                let mut words = line.trim_start_matches(['#', ' ']).split_whitespace();
                words.next() == Some("define") && words.next() == Some(define.as_str())
            })
        })
        .collect()
}

/// Debian's multiarch directory for the target (`x86_64-linux-gnu` for
/// `x86_64-unknown-linux-gnu`).
fn multiarch_triple() -> Option<String> {
    let target = env::var("TARGET").ok()?;
    let mut parts = target.split('-');
    let arch = parts.next()?;
    let rest: Vec<&str> = parts.filter(|p| *p != "unknown" && *p != "pc").collect();
    Some(
        std::iter::once(arch)
            .chain(rest)
            .collect::<Vec<_>>()
            .join("-"),
    )
}
