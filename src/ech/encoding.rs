//! The text forms of an ECHConfigList (PEM, standard base64) and a checked reader of its
//! wire form.

use super::config::PEM_LABEL;
use super::config_error::EchConfigError;

/// The base64 body of the `ECHCONFIG` block, when the input is PEM text (it has a
/// `-----BEGIN` line); `Ok(None)` when it is not PEM.
pub(super) fn pem_body(input: &[u8]) -> Result<Option<&[u8]>, EchConfigError> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let Some(at) = find(input, begin.as_bytes()) else {
        return if find(input, b"-----BEGIN ").is_some() {
            Err(EchConfigError::NoPemBlock)
        } else {
            Ok(None)
        };
    };
    let after = input.get(at + begin.len()..).unwrap_or_default();
    let stop = find(after, end.as_bytes()).ok_or(EchConfigError::UnterminatedPem)?;
    Ok(after.get(..stop))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Text a base64 reading applies to: printable ASCII and white space only. The wire form
/// never is: its first byte is the high byte of a length below 1500.
pub(super) fn is_text(input: &[u8]) -> bool {
    input
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, white space ignored; every other character refused.
pub(super) fn base64_decode(text: &[u8]) -> Result<Vec<u8>, EchConfigError> {
    let mut sextets = Vec::with_capacity(text.len());
    let mut padding = 0usize;
    for (position, &b) in text.iter().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            padding += 1;
            continue;
        }
        let value = ALPHABET.iter().position(|&a| a == b);
        match value {
            // A data character after padding: the padding was not at the end.
            Some(_) if padding > 0 => {
                return Err(EchConfigError::Base64Length {
                    chars: sextets.len() + padding,
                })
            }
            Some(v) => sextets.push(v as u8),
            None => {
                return Err(EchConfigError::Base64Character {
                    found: char::from(b),
                    position,
                })
            }
        }
    }
    let chars = sextets.len() + padding;
    if chars % 4 != 0 || padding > 2 || sextets.len() % 4 == 1 {
        return Err(EchConfigError::Base64Length { chars });
    }
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for group in sextets.chunks(4) {
        let mut acc = 0u32;
        for (i, s) in group.iter().enumerate() {
            acc |= u32::from(*s) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        let take = group.len() - 1;
        out.extend_from_slice(bytes.get(1..1 + take).unwrap_or_default());
    }
    Ok(out)
}

pub(super) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut acc = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            acc |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (acc >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A cursor over wire bytes; every read is checked.
pub(super) struct Reader<'b>(pub(super) &'b [u8]);

impl<'b> Reader<'b> {
    pub(super) fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    pub(super) fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }
    pub(super) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub(super) fn vec8(&mut self) -> Option<&'b [u8]> {
        let n = self.u8()?;
        self.take(n)
    }
    pub(super) fn vec16(&mut self) -> Option<&'b [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}
