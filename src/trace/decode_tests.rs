//! The decoder's tests: any bytes decode without a panic, and a ClientHello names its
//! groups and signature schemes.

use super::*;
use openssl::ssl::{Ssl, SslContext, SslMethod};

#[test]
fn any_bytes_decode_without_panic() {
    let ctx = SslContext::builder(SslMethod::tls_client())
        .unwrap()
        .build();
    let ssl = Ssl::new(&ctx).unwrap();
    // A small xorshift: every length up to 300, every content type and message type.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..300usize {
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for kind in [1u8, 2, 4, 8, 11, 12, 15, 24, 99] {
            if let Some(first) = bytes.first_mut() {
                *first = kind;
            }
            for content_type in [20, 21, 22, 23, 256] {
                let _ = describe(&ssl, content_type, &bytes);
            }
        }
    }
    assert_eq!(
        describe(&ssl, 21, &[2, 40]).map(|d| d.1),
        Some(vec!["fatal handshake_failure".to_string()])
    );
    assert_eq!(describe(&ssl, 256, &[22, 3, 3, 0, 5]), None);
}

/// A ClientHello offering what OpenSSL 4.0 offers by default, and more: every group and
/// signature scheme is named, none is left as a number.
#[test]
fn client_hello_names_the_groups_and_schemes_of_openssl_4() {
    let ctx = SslContext::builder(SslMethod::tls_client())
        .unwrap()
        .build();
    let ssl = Ssl::new(&ctx).unwrap();
    let groups: [u16; 9] = [
        0x11ec, 0x001d, 0x11eb, 0x11ed, 0x11ee, 0x0029, 0x0200, 0x001f, 0x0100,
    ];
    let schemes: [u16; 8] = [
        0x0905, 0x0904, 0x0906, 0x0403, 0x0807, 0x081a, 0x0809, 0x0708,
    ];
    let be = |v: &[u16]| v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    let vec16 = |b: &[u8]| {
        let mut out = u16::try_from(b.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(b);
        out
    };
    let mut exts = Vec::new();
    for (kind, list) in [(10u16, be(&groups)), (13, be(&schemes))] {
        exts.extend_from_slice(&kind.to_be_bytes());
        exts.extend_from_slice(&vec16(&vec16(&list)));
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0; 32]);
    body.push(0); // session id
    body.extend_from_slice(&vec16(&[0x13, 0x01]));
    body.extend_from_slice(&[1, 0]); // compression: null
    body.extend_from_slice(&vec16(&exts));
    let mut msg = vec![1, 0, 0, 0];
    msg.extend_from_slice(&body);
    let (name, facts) = describe(&ssl, 22, &msg).expect("a message");
    assert_eq!(name, "ClientHello");
    assert_eq!(
        facts,
        [
            "1 cipher suites",
            "groups offered: X25519MLKEM768, x25519, SecP256r1MLKEM768, \
             SecP384r1MLKEM1024, curveSM2MLKEM768, curveSM2, MLKEM512, \
             brainpoolP256r1tls13, ffdhe2048",
            "signature algorithms offered: mldsa65, mldsa44, mldsa87, \
             ecdsa_secp256r1_sha256, ed25519, ecdsa_brainpoolP256r1tls13_sha256, \
             rsa_pss_pss_sha256, sm2sig_sm3",
        ]
    );
}
