//! What a DTLS server looks at in a datagram before any `SSL` sees it: the record headers.
//! A pure function of the bytes, so that junk is dropped and counted without state.

/// A DTLS record header: content type, version (2), epoch (2), sequence number (6),
/// length (2).
pub(crate) const RECORD_HEADER_LEN: usize = 13;

/// The longest datagram a DTLS 1.2 peer sends: one record of 2^14 bytes of plaintext plus
/// the most expansion a cipher may add (2048), and its header. A longer one is dropped.
pub(crate) const MAX_DATAGRAM: usize = RECORD_HEADER_LEN + (1 << 14) + 2048;

/// The first record of a datagram that looks like DTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FirstRecord {
    /// Content type: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data,
    /// 24 heartbeat, 25 tls12_cid.
    pub(crate) content_type: u8,
    /// The record's epoch: 0 until the first ChangeCipherSpec.
    pub(crate) epoch: u16,
    /// For a ClientHello (a handshake record of epoch 0 whose message is of type 1): its
    /// message sequence number, 0 for a client's first hello, 1 after a HelloVerifyRequest.
    pub(crate) client_hello: Option<u16>,
}

/// Why a datagram was dropped before reaching any connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Junk {
    /// Not a DTLS record: too short for a record header, an unknown content type, or a
    /// version that is not DTLS (major 0xFE).
    NotDtls,
    /// A record header announces more bytes than the datagram holds.
    Truncated,
    /// Longer than any DTLS record.
    Oversized,
}

/// Checks every record header of `datagram` (a datagram may carry several records).
pub(crate) fn inspect(datagram: &[u8]) -> Result<FirstRecord, Junk> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(Junk::Oversized);
    }
    let mut first = None;
    let mut rest = datagram;
    loop {
        let Some(&[content_type, major, _minor, e0, e1, _, _, _, _, _, _, l0, l1]) =
            rest.get(..RECORD_HEADER_LEN)
        else {
            // Fewer bytes than a header: junk at the start, a cut record after it.
            return Err(if first.is_none() {
                Junk::NotDtls
            } else {
                Junk::Truncated
            });
        };
        if !(20..=25).contains(&content_type) || major != 0xFE {
            return Err(Junk::NotDtls);
        }
        let epoch = u16::from_be_bytes([e0, e1]);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let body_end = RECORD_HEADER_LEN + len;
        if rest.len() < body_end {
            return Err(Junk::Truncated);
        }
        let client_hello = match rest.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + 6) {
            Some(&[1, _, _, _, s0, s1]) if content_type == 22 && epoch == 0 => {
                Some(u16::from_be_bytes([s0, s1]))
            }
            _ => None,
        };
        first.get_or_insert(FirstRecord {
            content_type,
            epoch,
            client_hello,
        });
        rest = rest.get(body_end..).unwrap_or_default();
        if rest.is_empty() {
            return first.ok_or(Junk::NotDtls);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content_type: u8, epoch: u16, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 0xFE, 0xFD];
        r.extend_from_slice(&epoch.to_be_bytes());
        r.extend_from_slice(&[0; 6]);
        r.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn records_are_checked_one_by_one() {
        let hello = record(22, 0, &[1; 40]);
        assert_eq!(
            inspect(&hello),
            Ok(FirstRecord {
                content_type: 22,
                epoch: 0,
                client_hello: Some(0x0101),
            })
        );
        let mut second = vec![1, 0, 0, 30, 0, 1];
        second.extend_from_slice(&[0; 30]);
        assert_eq!(
            inspect(&record(22, 0, &second)).unwrap().client_hello,
            Some(1)
        );
        assert_eq!(inspect(&record(22, 1, &second)).unwrap().client_hello, None);
        assert_eq!(inspect(&record(23, 0, &second)).unwrap().client_hello, None);
        let mut two = hello.clone();
        two.extend(record(23, 1, &[2; 10]));
        assert_eq!(inspect(&two).map(|r| r.content_type), Ok(22));
        assert_eq!(inspect(&hello[..hello.len() - 1]), Err(Junk::Truncated));
        assert_eq!(inspect(&two[..two.len() - 3]), Err(Junk::Truncated));
        assert_eq!(inspect(&hello[..12]), Err(Junk::NotDtls));
        assert_eq!(
            inspect(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(Junk::NotDtls)
        );
        assert_eq!(
            inspect(&[0x16, 0x03, 0x01, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(Junk::NotDtls)
        );
        assert_eq!(inspect(&record(99, 0, &[])), Err(Junk::NotDtls));
        assert_eq!(inspect(&vec![22u8; MAX_DATAGRAM + 1]), Err(Junk::Oversized));
        assert_eq!(inspect(&record(22, 3, &[0; 4])).map(|r| r.epoch), Ok(3));
    }
}
