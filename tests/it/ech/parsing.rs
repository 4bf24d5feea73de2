//! The ECHConfigList parser, on every OpenSSL: the three forms a server operator hands out
//! give one list, and each defect is named.

use tlshake::ech::{EchConfigError, EchConfigList, HpkeKem, HpkeSymmetricSuite};

use super::{LIST_B64, PUBLIC_NAME};

#[test]
fn ech_config_list_reads_base64_pem_and_wire_forms_alike() {
    let list: EchConfigList = LIST_B64.parse().expect("base64");
    assert_eq!(list.as_bytes().len(), 66);
    let from_wire = EchConfigList::parse(list.as_bytes()).expect("wire");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIPg2UnSc7g0HT3h+iI/NeLRaTCDZUsRTImhUlFugK+pe\n\
         -----END PRIVATE KEY-----\n{}",
        list.to_pem()
    );
    let from_pem = EchConfigList::parse(pem.as_bytes()).expect("PEM with a key beside it");
    assert_eq!(from_wire, list);
    assert_eq!(from_pem, list);
    assert_eq!(list.to_string(), LIST_B64);
    let [config] = list.configs() else {
        panic!("one config: {list:?}");
    };
    assert_eq!(config.config_id, 0x57);
    assert_eq!(config.kem, HpkeKem::X25519);
    assert_eq!(config.suites, [HpkeSymmetricSuite { kdf: 1, aead: 1 }]);
    assert_eq!(config.public_name, PUBLIC_NAME);
    assert_eq!(config.maximum_name_length, 0);
}

#[test]
fn ech_config_list_defects_are_named() {
    let wire = EchConfigList::parse(LIST_B64.as_bytes())
        .expect("sample")
        .as_bytes()
        .to_vec();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "the ECHConfigList is empty"),
        (b"AED+DQA8V*Ag".to_vec(), "not base64: '*' at character 9"),
        (
            wire[..50].to_vec(),
            "the list's length field says 64 bytes, but 48 follow it",
        ),
        (
            {
                // The one config, of version 0xfe0e: nothing OpenSSL implements is left.
                let mut w = wire.clone();
                w[3] = 0x0e;
                w
            },
            "no ECHConfig of version 0xfe0d (RFC 9849), which OpenSSL implements; the list has only 0xfe0e",
        ),
        (
            {
                // The AEAD of the only suite: 0x0004 is no AEAD OpenSSL implements.
                let mut w = wire.clone();
                w[6 + 41..6 + 43].copy_from_slice(&[0, 4]);
                w
            },
            "ECHConfig 0 offers only HPKE suites OpenSSL does not implement (HKDF-SHA256/AEAD 0x0004): it needs HKDF-SHA256/384/512 with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305",
        ),
    ];
    for (input, want) in cases {
        let got = EchConfigList::parse(&input).map_err(|e| e.to_string());
        assert_eq!(got, Err(want.to_string()), "{input:02x?}");
    }
    assert_eq!(
        EchConfigList::parse(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        Err(EchConfigError::NoPemBlock)
    );
}
