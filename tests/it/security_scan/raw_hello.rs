//! A hand-built TLS 1.2-style ClientHello that offers exactly the cipher suites it is given,
//! including ones the local OpenSSL no longer compiles in (EXPORT, RC4, DES, 3DES), so that
//! a server's refusal of them is seen on the wire rather than inside a client that cannot
//! offer them.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What the server answered to the ClientHello.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello that chose this version and suite.
    Hello { version: u16, suite: u16 },
    /// An alert record: (level, description), e.g. (2, 40) for a fatal handshake_failure.
    Alert { level: u8, description: u8 },
    /// The connection closed (or was reset) without either.
    Closed,
}

/// TLS alert descriptions (RFC 8446, section 6).
pub const HANDSHAKE_FAILURE: u8 = 40;
pub const PROTOCOL_VERSION: u8 = 70;

/// Sends one ClientHello with `client_version` (0x0301 TLS 1.0 ... 0x0303 TLS 1.2; no
/// supported_versions extension, so no TLS 1.3) and `suites`, and reads the first record of
/// the answer, for at most 5 s.
pub fn offer(addr: SocketAddr, client_version: u16, suites: &[u16]) -> Answer {
    let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    tcp.write_all(&client_hello(client_version, suites))
        .expect("send the ClientHello");
    let mut header = [0u8; 5];
    match tcp.read_exact(&mut header) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ) =>
        {
            return Answer::Closed;
        }
        Err(e) => panic!("no answer to the ClientHello: {e}"),
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    tcp.read_exact(&mut body).expect("the answer's record body");
    match header[0] {
        0x15 => Answer::Alert {
            level: body[0],
            description: body[1],
        },
        // type(1) length(3) version(2) random(32) session_id(1 + n) suite(2)
        0x16 if body.first() == Some(&2) => {
            let version = u16::from_be_bytes([body[4], body[5]]);
            let at = 4 + 2 + 32;
            let at = at + 1 + usize::from(body[at]);
            Answer::Hello {
                version,
                suite: u16::from_be_bytes([body[at], body[at + 1]]),
            }
        }
        other => panic!("unexpected answer: record type {other}, {body:02x?}"),
    }
}

fn client_hello(client_version: u16, suites: &[u16]) -> Vec<u8> {
    let mut extensions = Vec::new();
    // server_name: localhost
    let name = b"localhost";
    let mut sni = Vec::new();
    put_u16(&mut sni, name.len() as u16 + 3);
    sni.push(0);
    put_u16(&mut sni, name.len() as u16);
    sni.extend_from_slice(name);
    extension(&mut extensions, 0x0000, &sni);
    // supported_groups: x25519, secp256r1, secp384r1
    extension(&mut extensions, 0x000a, &list16(&[0x001d, 0x0017, 0x0018]));
    // ec_point_formats: uncompressed
    extension(&mut extensions, 0x000b, &[1, 0]);
    // signature_algorithms, SHA-1 ones included for the legacy suites
    let sigalgs = [
        0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201, 0x0203,
    ];
    extension(&mut extensions, 0x000d, &list16(&sigalgs));
    // renegotiation_info, empty
    extension(&mut extensions, 0xff01, &[0]);

    let mut hello = Vec::new();
    put_u16(&mut hello, client_version);
    hello.extend_from_slice(&[0x5a; 32]); // random
    hello.push(0); // no session id
    hello.extend_from_slice(&list16(suites));
    hello.extend_from_slice(&[1, 0]); // compression: null only
    put_u16(&mut hello, extensions.len() as u16);
    hello.extend_from_slice(&extensions);

    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);

    let mut record = vec![0x16, 0x03, 0x01];
    put_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A list of 16-bit values with its 16-bit length in bytes in front.
fn list16(values: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u16(&mut out, (values.len() * 2) as u16);
    for v in values {
        put_u16(&mut out, *v);
    }
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}
