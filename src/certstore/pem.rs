//! Splits PEM text into its `-----BEGIN x----- ... -----END x-----` blocks.
//!
//! Certificates are decoded from their blocks here rather than with `PEM_read_bio_X509`, which
//! would prompt on the terminal for a block with an encryption header; keys are handed to OpenSSL
//! one block at a time, with a passphrase callback that never prompts.

use std::borrow::Cow;
use std::collections::HashSet;

/// One PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PemBlock {
    /// The label: `CERTIFICATE`, `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `EC PRIVATE KEY`, ...
    pub(crate) label: String,
    /// The block as text, BEGIN and END lines included, ready for a PEM reader.
    pub(crate) text: String,
    /// The base64 body, header lines (`Proc-Type: ...`) left out, whitespace removed.
    pub(crate) base64: String,
    /// Whether the block has RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`).
    pub(crate) has_headers: bool,
}

impl PemBlock {
    /// A certificate block (`CERTIFICATE` or the older `X509 CERTIFICATE`).
    pub(crate) fn is_certificate(&self) -> bool {
        self.label == "CERTIFICATE" || self.label == "X509 CERTIFICATE"
    }

    /// A private key block of any format (`PRIVATE KEY`, `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE
    /// KEY`, ...).
    pub(crate) fn is_private_key(&self) -> bool {
        self.label.ends_with("PRIVATE KEY")
    }
}

/// Whether `bytes` look like PEM text at all (as opposed to DER).
pub(crate) fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|window| window == b"-----BEGIN ")
}

/// Every complete block in `text`, in order. Text outside blocks (comments, `Bag Attributes`)
/// is ignored, as OpenSSL does; an unterminated block is dropped.
pub(crate) fn pem_blocks(text: &str) -> Vec<PemBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<PemBlock> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = marker(line, "-----BEGIN ") {
            current = Some(PemBlock {
                label: label.to_owned(),
                text: format!("{line}\n"),
                base64: String::new(),
                has_headers: false,
            });
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        block.text.push_str(line);
        block.text.push('\n');
        if let Some(label) = marker(line, "-----END ") {
            if label == block.label {
                blocks.extend(current.take());
            } else {
                current = None;
            }
        } else if line.contains(':') {
            block.has_headers = true;
        } else {
            block
                .base64
                .extend(line.chars().filter(|c| !c.is_whitespace()));
        }
    }
    blocks
}

/// The label of a block that starts and never ends (a file cut short), if any.
pub(crate) fn unterminated_block(text: &str) -> Option<String> {
    let mut open: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = marker(line, "-----BEGIN ") {
            open = Some(label);
        } else if marker(line, "-----END ").is_some() {
            open = None;
        }
    }
    open.map(str::to_owned)
}

fn marker<'a>(line: &'a str, start: &str) -> Option<&'a str> {
    line.strip_prefix(start)?.strip_suffix("-----")
}

/// `pem` without the certificate blocks that repeat an earlier block byte for byte, so that
/// OpenSSL decodes each certificate of a CA bundle once: decoding costs about 200 µs per
/// certificate, which made a 20 MB file of one certificate repeated take seconds, while
/// adding a duplicate to an `X509_STORE` does nothing.
///
/// Only what cannot change OpenSSL's reading of the rest is removed: a block is dropped when
/// it starts where OpenSSL's PEM reader is between blocks, and is exactly a
/// `-----BEGIN CERTIFICATE-----` line, non-empty lines of base64 and a `-----END CERTIFICATE-----` line
/// (trailing spaces and CR allowed, as OpenSSL allows them), with the same base64 lines as a
/// block kept before it. Anything else (other labels, headers, text between blocks, a broken
/// or unterminated block) is left in place for OpenSSL to judge. Text with a NUL byte or a
/// line longer than OpenSSL reads in one piece (254 bytes) is returned unchanged.
pub(crate) fn without_repeated_certificates(pem: &[u8]) -> Cow<'_, [u8]> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    /// `BIO_gets` into OpenSSL's 256-byte line buffer.
    const LONGEST_LINE: usize = 254;
    #[derive(Clone, Copy)]
    enum State {
        /// Between blocks, for OpenSSL too.
        Outside,
        /// In a canonical certificate block: where it started, where its base64 starts.
        Certificate { start: usize, body: usize },
        /// In any other block, until a line starting with `-----END `.
        Other,
    }
    if pem.contains(&0) {
        return Cow::Borrowed(pem);
    }
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    let mut state = State::Outside;
    let mut pos = 0;
    for line in pem.split_inclusive(|&b| b == b'\n') {
        let start = pos;
        pos += line.len();
        if line.len() > LONGEST_LINE + 1 {
            return Cow::Borrowed(pem);
        }
        let text = trim_line_end(line);
        state = match state {
            State::Outside if text == BEGIN => State::Certificate { start, body: pos },
            State::Outside if text.starts_with(b"-----BEGIN ") => State::Other,
            State::Outside => State::Outside,
            State::Certificate { start: first, body } if text == END => {
                if !seen.insert(&pem[body..start]) {
                    dropped.push((first, pos));
                }
                State::Outside
            }
            State::Certificate { .. } | State::Other if text.starts_with(b"-----END ") => {
                State::Outside
            }
            State::Certificate { .. } if text.is_empty() || !text.iter().all(|&b| is_base64(b)) => {
                State::Other
            }
            inside => inside,
        };
    }
    if dropped.is_empty() {
        return Cow::Borrowed(pem);
    }
    let mut kept = Vec::with_capacity(pem.len() / (dropped.len() + 1));
    let mut from = 0;
    for (start, end) in dropped {
        kept.extend_from_slice(&pem[from..start]);
        from = end;
    }
    kept.extend_from_slice(&pem[from..]);
    Cow::Owned(kept)
}

/// The line without its end of line and trailing spaces and tabs.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_blocks_and_skips_text_between() {
        let text = "Bag Attributes\n-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END \
                    CERTIFICATE-----\nnoise\n-----BEGIN EC PRIVATE KEY-----\nProc-Type: \
                    4,ENCRYPTED\n\nS0VZ\n-----END EC PRIVATE KEY-----\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[0].is_certificate());
        assert_eq!(blocks[0].base64, "QUJDREVG");
        assert!(!blocks[0].has_headers);
        assert!(blocks[1].is_private_key());
        assert!(blocks[1].has_headers);
        assert_eq!(blocks[1].base64, "S0VZ");
        assert!(blocks[1]
            .text
            .starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert!(blocks[1].text.ends_with("-----END EC PRIVATE KEY-----\n"));
    }

    #[test]
    fn unterminated_or_mismatched_blocks_are_dropped() {
        assert!(pem_blocks("-----BEGIN CERTIFICATE-----\nQUJD\n").is_empty());
        assert!(pem_blocks("-----BEGIN CERTIFICATE-----\nQUJD\n-----END KEY-----\n").is_empty());
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n";
    const OTHER: &str = "-----BEGIN CERTIFICATE-----\nR0hJ\n-----END CERTIFICATE-----\n";

    fn dedup(text: &str) -> String {
        String::from_utf8(without_repeated_certificates(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn repeated_certificate_blocks_are_dropped() {
        let text = format!("{CERT}{OTHER}{CERT}comment\n{CERT}{OTHER}");
        assert_eq!(dedup(&text), format!("{CERT}{OTHER}comment\n"));
        let crlf = CERT.replace('\n', "  \r\n");
        assert_eq!(dedup(&format!("{crlf}{crlf}")), crlf);
        assert!(matches!(
            without_repeated_certificates(format!("{CERT}{OTHER}").as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn anything_openssl_might_read_otherwise_stays() {
        // Headers, blank lines and other labels are not canonical: left to OpenSSL.
        let header = "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nQUJD\n-----END CERTIFICATE-----\n";
        assert_eq!(
            dedup(&format!("{header}{header}")),
            format!("{header}{header}")
        );
        let blank = "-----BEGIN CERTIFICATE-----\n\nQUJD\n-----END CERTIFICATE-----\n";
        assert_eq!(dedup(&format!("{blank}{blank}")), format!("{blank}{blank}"));
        let old = CERT.replace("CERTIFICATE", "X509 CERTIFICATE");
        assert_eq!(dedup(&format!("{old}{old}")), format!("{old}{old}"));
        // A repeat that starts inside an unterminated block is part of that block for OpenSSL.
        let open = "-----BEGIN CERTIFICATE-----\nQUJD\n";
        let text = format!("{CERT}{open}{CERT}");
        assert_eq!(dedup(&text), text);
        // Inside a key block too.
        let key = "-----BEGIN PRIVATE KEY-----\nS0VZ\n";
        let text = format!("{CERT}{key}{CERT}-----END PRIVATE KEY-----\n{CERT}");
        assert_eq!(
            dedup(&text),
            format!("{CERT}{key}{CERT}-----END PRIVATE KEY-----\n")
        );
        // An indented marker line is no marker for OpenSSL.
        let indented = format!(" {CERT}");
        assert_eq!(
            dedup(&format!("{CERT}{indented}")),
            format!("{CERT}{indented}")
        );
    }

    #[test]
    fn nul_bytes_and_long_lines_leave_the_text_alone() {
        let nul = format!("{CERT}\0{CERT}");
        assert_eq!(dedup(&nul), nul);
        let long = format!("{CERT}{}\n{CERT}", "x".repeat(300));
        assert_eq!(dedup(&long), long);
    }

    #[test]
    fn finds_the_block_a_file_ends_in() {
        assert_eq!(unterminated_block(CERT), None);
        assert_eq!(unterminated_block("no pem at all"), None);
        let cut = &CERT[..CERT.len() - 10];
        assert_eq!(
            unterminated_block(&format!("{OTHER}{cut}")),
            Some("CERTIFICATE".to_owned())
        );
        assert_eq!(
            unterminated_block("-----BEGIN PRIVATE KEY-----\nS0VZ"),
            Some("PRIVATE KEY".to_owned())
        );
    }

    #[test]
    fn recognises_pem_versus_der() {
        assert!(is_pem(b"x\n-----BEGIN CERTIFICATE-----\n"));
        assert!(!is_pem(&[0x30, 0x82, 0x01, 0x00]));
    }
}
