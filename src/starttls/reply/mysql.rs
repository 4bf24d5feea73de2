//! MySQL and MariaDB: the server's first packet (the protocol-10 initial handshake, or an
//! error packet), and the SSL request the client answers with
//! ([MySQL client/server protocol](https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html)).

use super::text::{escape_bytes, malformed};
use super::{ReplyError, MAX_REPLY_BYTES};

/// The `CLIENT_SSL` capability flag: the server can switch to TLS.
pub const CLIENT_SSL: u32 = 0x0800;

/// The SSL request packet (`Protocol::SSLRequest`), the bytes `openssl s_client -starttls
/// mysql` sends: a 32-byte payload with sequence ID 1, capability flags `0x007fae85`
/// (`CLIENT_SSL` among them), a 16 MiB maximum packet size, character set 33 (utf8) and 23
/// zero bytes.
pub const MYSQL_SSL_REQUEST: [u8; 36] = [
    0x20, 0x00, 0x00, 0x01, // payload length 32, sequence ID 1
    0x85, 0xae, 0x7f, 0x00, // capability flags
    0x00, 0x00, 0x00, 0x01, // max packet size
    0x21, // character set
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
];

/// The server's first packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MysqlGreeting {
    /// The protocol-10 initial handshake.
    Handshake {
        /// The server's version string, escaped, e.g. `"10.11.6-MariaDB-0+deb12u1"`.
        server_version: String,
        /// The connection ID the server gave this connection.
        connection_id: u32,
        /// The capability flags (the upper 16 bits are 0 when the server did not send them).
        capabilities: u32,
    },
    /// An error packet instead of a greeting (e.g. 1130 "Host ... is not allowed to
    /// connect").
    Error {
        /// The error code, e.g. `1130`.
        code: u16,
        /// The message, escaped, with its SQL state when present (`"#HY000..."`).
        message: String,
    },
}

impl MysqlGreeting {
    /// One line for messages and transcripts.
    pub fn to_text(&self) -> String {
        match self {
            MysqlGreeting::Handshake {
                server_version,
                connection_id,
                capabilities,
            } => format!(
                "protocol 10, server {server_version}, connection {connection_id}, \
                 capabilities 0x{capabilities:08x}"
            ),
            MysqlGreeting::Error { code, message } => format!("error {code}: {message}"),
        }
    }

    /// The names of the well-known capability flags the handshake sets (`CLIENT_SSL`,
    /// `CLIENT_PROTOCOL_41`, ...); empty for an error packet.
    pub fn capability_names(&self) -> Vec<&'static str> {
        const NAMES: [(u32, &str); 8] = [
            (0x0000_0001, "CLIENT_LONG_PASSWORD"),
            (0x0000_0008, "CLIENT_CONNECT_WITH_DB"),
            (0x0000_0020, "CLIENT_COMPRESS"),
            (0x0000_0200, "CLIENT_PROTOCOL_41"),
            (CLIENT_SSL, "CLIENT_SSL"),
            (0x0000_8000, "CLIENT_SECURE_CONNECTION"),
            (0x0008_0000, "CLIENT_PLUGIN_AUTH"),
            (0x0020_0000, "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA"),
        ];
        match self {
            MysqlGreeting::Handshake { capabilities, .. } => NAMES
                .iter()
                .filter(|(bit, _)| capabilities & bit != 0)
                .map(|(_, name)| *name)
                .collect(),
            MysqlGreeting::Error { .. } => Vec::new(),
        }
    }
}

/// Parses the server's first packet: a 4-byte header (3-byte little-endian length, sequence
/// ID 0), then a payload starting with `0x0a` (protocol 10) or `0xff` (error). A wrong
/// sequence ID or first payload byte is refused as soon as it arrives, so a text banner or a
/// TLS record does not wait for a length that never comes.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_mysql_greeting(buf: &[u8]) -> Result<Option<(MysqlGreeting, usize)>, ReplyError> {
    if buf.len() >= 4 && buf[3] != 0 {
        return Err(malformed(
            "the first MySQL packet must have sequence ID 0",
            buf,
        ));
    }
    if let Some(&kind) = buf.get(4) {
        if kind != 0x0a && kind != 0xff {
            return Err(malformed(
                "the first MySQL packet must be a protocol-10 handshake (0x0a) or an error (0xff)",
                buf,
            ));
        }
    }
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    if len > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong {
            limit: MAX_REPLY_BYTES,
        });
    }
    let Some(payload) = buf.get(4..4 + len) else {
        return Ok(None);
    };
    let whole = &buf[..4 + len];
    let greeting = match payload.split_first() {
        Some((0xff, rest)) => {
            let code = rest
                .get(..2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .ok_or_else(|| malformed("a truncated MySQL error packet", whole))?;
            MysqlGreeting::Error {
                code,
                message: escape_bytes(rest.get(2..).unwrap_or_default()),
            }
        }
        Some((_, rest)) => handshake(rest)
            .ok_or_else(|| malformed("a truncated or broken MySQL protocol-10 handshake", whole))?,
        None => return Err(malformed("an empty MySQL packet", whole)),
    };
    Ok(Some((greeting, 4 + len)))
}

/// The fields after the protocol version byte.
fn handshake(rest: &[u8]) -> Option<MysqlGreeting> {
    let nul = rest.iter().position(|&b| b == 0)?;
    let server_version = escape_bytes(&rest[..nul]);
    let after = rest.get(nul + 1..)?;
    // connection id [4], auth-plugin-data-part-1 [8], filler [1] = 0, capabilities [2]
    let id = after.get(..4)?;
    if *after.get(12)? != 0 {
        return None;
    }
    let lower = after.get(13..15)?;
    let mut capabilities = u32::from(u16::from_le_bytes([lower[0], lower[1]]));
    // charset [1], status [2], capabilities upper [2]
    if let Some(upper) = after.get(18..20) {
        capabilities |= u32::from(u16::from_le_bytes([upper[0], upper[1]])) << 16;
    }
    Some(MysqlGreeting::Handshake {
        server_version,
        connection_id: u32::from_le_bytes([id[0], id[1], id[2], id[3]]),
        capabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A greeting with the given lower capability flags.
    fn greeting(lower_caps: u16) -> Vec<u8> {
        let mut p = vec![0x0a];
        p.extend_from_slice(b"10.11.6-MariaDB\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(b"12345678\0");
        p.extend_from_slice(&lower_caps.to_le_bytes());
        p.extend_from_slice(&[0x21, 0x02, 0x00, 0xff, 0x81]);
        let mut packet = vec![p.len() as u8, 0, 0, 0];
        packet.extend_from_slice(&p);
        packet
    }

    #[test]
    fn handshake_with_ssl() {
        let g = greeting(0xfffe);
        let (parsed, used) = parse_mysql_greeting(&g).unwrap().unwrap();
        assert_eq!(used, g.len());
        assert!(
            matches!(parsed, MysqlGreeting::Handshake { connection_id: 7, capabilities, .. }
            if capabilities & CLIENT_SSL != 0 && capabilities >> 16 == 0x81ff)
        );
        assert!(parsed.capability_names().contains(&"CLIENT_SSL"));
        assert_eq!(parse_mysql_greeting(&g[..g.len() - 1]), Ok(None));
    }

    #[test]
    fn error_packet_and_garbage() {
        let e = b"\x17\x00\x00\x00\xff\x6a\x04Host '::1' is not allowed";
        let (parsed, _) = parse_mysql_greeting(&e[..]).unwrap().unwrap();
        assert!(matches!(parsed, MysqlGreeting::Error { code: 1130, .. }));
        assert!(parse_mysql_greeting(b"220 mx ESMTP\r\n").is_err());
        assert!(parse_mysql_greeting(b"\x16\x03\x03\x00\x31\x02").is_err());
        assert_eq!(
            MYSQL_SSL_REQUEST.len(),
            4 + usize::from(MYSQL_SSL_REQUEST[0])
        );
    }
}
