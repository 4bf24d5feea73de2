//! The proof that ECH hides the server name: the loopback traffic of one connection to
//! `s_server`, captured with tcpdump, holds the inner name's bytes without ECH and not one
//! occurrence of them with it (where the public name is what shows).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use tlshake::client::{self, ClientConfig};
use tlshake::ech::EchStatus;

use super::{ech_key, ech_key_arg, s_server, PUBLIC_NAME};
use crate::common;
use crate::keylog::{capture, finish};

/// The inner name: distinctive, so that its bytes can only come from the ClientHello;
/// `certs/wildcard.pem` (`*.tlshake.test`) is valid for it.
const INNER: &str = "secret-7f3a.tlshake.test";

/// Every byte tcpdump captured of one connection to an ECH `s_server` for [`INNER`], the
/// client with ECH or without.
fn captured(dir: &Path, with_ech: bool) -> Vec<u8> {
    let key = ech_key(dir, "a");
    let server = s_server(INNER, "wildcard", &ech_key_arg(&key));
    let tcpdump = capture(dir, server.port());
    let mut b = ClientConfig::builder()
        .ca_file(common::cert("ca.pem"))
        .peer_name(INNER);
    if with_ech {
        b = b.ech_config_list(key.list.as_bytes());
    }
    let config = b.build().expect("client config");
    let url = format!("tls://127.0.0.1:{}", server.port())
        .parse()
        .expect("URL");
    let mut conn = client::connect(&url, &config).expect("handshake");
    let ech = conn.session().ech;
    let want = if with_ech {
        EchStatus::Accepted
    } else {
        EchStatus::NotAttempted
    };
    assert_eq!(ech.status, want, "{ech:?}");
    let _ = conn
        .stream
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)));
    conn.stream
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut page = Vec::new();
    let _ = conn.stream.read_to_end(&mut page);
    let page = String::from_utf8_lossy(&page);
    if with_ech {
        let line = format!("ECH success: outer sni: {PUBLIC_NAME}, inner sni: {INNER}");
        assert!(page.contains(&line), "{page}");
    }
    drop(conn);
    finish(tcpdump, dir);
    std::fs::read(dir.join("cap.pcap")).expect("capture")
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
#[ignore = "needs tcpdump (and root); run by ./scripts/test.sh"]
fn ech_keeps_the_inner_name_off_the_wire() {
    let clear_dir = crate::real_servers::test_dir();
    let clear = captured(clear_dir.path(), false);
    assert_eq!(
        occurrences(&clear, INNER.as_bytes()),
        1,
        "without ECH, the ClientHello's SNI carries the name once"
    );
    assert_eq!(occurrences(&clear, PUBLIC_NAME.as_bytes()), 0);

    let hidden_dir = crate::real_servers::test_dir();
    let hidden = captured(hidden_dir.path(), true);
    assert_eq!(
        occurrences(&hidden, INNER.as_bytes()),
        0,
        "with ECH, the inner name is in no packet"
    );
    // Nor any part of it a reader could match on.
    assert_eq!(occurrences(&hidden, b"secret-7f3a"), 0);
    assert!(
        occurrences(&hidden, PUBLIC_NAME.as_bytes()) >= 1,
        "the outer ClientHello names the public name"
    );
}
