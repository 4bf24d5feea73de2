//! Splits PEM text into its `-----BEGIN x----- ... -----END x-----` blocks.
//!
//! Certificates are decoded from their blocks here rather than with `PEM_read_bio_X509`, which
//! would prompt on the terminal for a block with an encryption header; keys are handed to OpenSSL
//! one block at a time, with a passphrase callback that never prompts.

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

fn marker<'a>(line: &'a str, start: &str) -> Option<&'a str> {
    line.strip_prefix(start)?.strip_suffix("-----")
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

    #[test]
    fn recognises_pem_versus_der() {
        assert!(is_pem(b"x\n-----BEGIN CERTIFICATE-----\n"));
        assert!(!is_pem(&[0x30, 0x82, 0x01, 0x00]));
    }
}
