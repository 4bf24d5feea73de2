//! Which OpenSSL release line the tests run on, for the few answers that differ between
//! lines (a renamed error string, a record the library now reports, the sticky error of
//! OpenSSL 4.0). A test that pins such an answer pins one per line with [`line`]:
//!
//! ```ignore
//! let expected = match line() {
//!     Line::V3_0 => "sslv3 alert handshake failure",
//!     Line::V3_5 | Line::V3_6 => "ssl/tls alert handshake failure",
//!     Line::V4_0 => "tls alert handshake failure",
//! };
//! ```
//!
//! The line is the linked library's (`OpenSSL_version_num`). The peers the tests run
//! (`openssl` from `PATH`, and `$TLSHAKE_OPENSSL`) must be the same line, or the answers
//! would mix two versions: [`line`] checks that once and fails with how to run a version's
//! suite (`scripts/test-openssl.sh VERSION`).

use std::process::Command;
use std::sync::OnceLock;

/// A release line the test suite knows the answers of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Line {
    /// 3.0, the system's (Debian 12).
    V3_0,
    /// 3.5 LTS.
    V3_5,
    /// 3.6.
    V3_6,
    /// 4.0.
    V4_0,
}

impl Line {
    fn of(major: u64, minor: u64) -> Option<Line> {
        match (major, minor) {
            (3, 0) => Some(Line::V3_0),
            (3, 5) => Some(Line::V3_5),
            (3, 6) => Some(Line::V3_6),
            (4, 0) => Some(Line::V4_0),
            _ => None,
        }
    }
}

/// The `major.minor` of an `openssl version` line (`OpenSSL 3.5.5 27 Jan 2026 (Library: ...)`).
fn program_line(program: &str) -> (u64, u64) {
    let out = Command::new(program)
        .arg("version")
        .output()
        .unwrap_or_else(|e| panic!("could not run `{program} version`: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("`{program} version` printed {text:?}"));
    let mut parts = version.split('.').map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => panic!("`{program} version` printed {text:?}"),
    }
}

/// The release line of the linked library, checked against the peers' (once per process).
pub fn line() -> Line {
    static LINE: OnceLock<Line> = OnceLock::new();
    *LINE.get_or_init(|| {
        let number = u64::try_from(openssl::version::number()).expect("a positive version");
        let (major, minor) = (number >> 28, (number >> 20) & 0xff);
        let line = Line::of(major, minor).unwrap_or_else(|| {
            panic!(
                "the tests pin answers for OpenSSL 3.0, 3.5, 3.6 and 4.0; the library is {}",
                openssl::version::version()
            )
        });
        let mut programs = vec!["openssl".to_string()];
        programs.extend(std::env::var(tlshake::harness::OPENSSL_PROGRAM_ENV).ok());
        for program in programs {
            let peer = program_line(&program);
            assert_eq!(
                peer,
                (major, minor),
                "the library is {} but the peer `{program}` is OpenSSL {}.{}: run \
                 scripts/test-openssl.sh {major}.{minor}, which puts that version's programs \
                 first on PATH and in ${}",
                openssl::version::version(),
                peer.0,
                peer.1,
                tlshake::harness::OPENSSL_PROGRAM_ENV,
            );
        }
        line
    })
}
