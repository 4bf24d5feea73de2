//! Unit tests of the ECHConfigList parser.

use super::*;

/// The list of `openssl ech -public_name other.example` (X25519, HKDF-SHA256/AES-128-GCM).
const B64: &str =
    "AED+DQA8VwAgACAedAEuAQSKtRguiEcTRlRPLWh49cKS/KzvcE0nhe+XXgAEAAEAAQANb3RoZXIuZXhhbXBsZQAA";

fn wire() -> Vec<u8> {
    base64_decode(B64.as_bytes()).unwrap_or_default()
}

/// The wire list with one config whose contents are `contents`, of `version`.
fn list_of(configs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (version, contents) in configs {
        body.extend_from_slice(&version.to_be_bytes());
        body.extend_from_slice(&(contents.len() as u16).to_be_bytes());
        body.extend_from_slice(contents);
    }
    let mut out = (body.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// The contents of the sample's one config.
fn contents() -> Vec<u8> {
    wire().get(6..).unwrap_or_default().to_vec()
}

#[test]
fn the_three_forms_give_the_same_list() {
    let from_b64 = EchConfigList::parse(B64.as_bytes()).expect("base64");
    let from_wire = EchConfigList::parse(&wire()).expect("wire");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n{}",
        from_b64.to_pem()
    );
    let from_pem = EchConfigList::parse(pem.as_bytes()).expect("pem");
    assert_eq!(from_b64, from_wire);
    assert_eq!(from_b64, from_pem);
    assert_eq!(from_b64.to_base64(), B64);
    let c = &from_b64.configs()[0];
    assert_eq!(
        (c.config_id, c.kem, c.public_key.len()),
        (0x57, HpkeKem::X25519, 32)
    );
    assert_eq!(c.suites, [HpkeSymmetricSuite { kdf: 1, aead: 1 }]);
    assert_eq!(from_b64.public_names(), ["other.example"]);
}

#[test]
fn each_defect_is_named() {
    let check = |input: &[u8], want: EchConfigError| {
        assert_eq!(EchConfigList::parse(input), Err(want.clone()), "{want}");
    };
    check(b"  \n", EchConfigError::Empty);
    check(&[0, 0], EchConfigError::Empty);
    check(
        b"AED+DQA8%wAg",
        EchConfigError::Base64Character {
            found: '%',
            position: 8,
        },
    );
    check(b"AED+DQA", EchConfigError::Base64Length { chars: 7 });
    check(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        EchConfigError::NoPemBlock,
    );
    let w = wire();
    check(
        w.get(..40).unwrap_or_default(),
        EchConfigError::ListLength {
            declared: 64,
            actual: 38,
        },
    );
    check(&w[..20], EchConfigError::Size { len: 20 });
    // A config whose length says more than the list holds.
    let mut long = w.clone();
    long[4..6].copy_from_slice(&0x0050u16.to_be_bytes());
    check(
        &long,
        EchConfigError::Truncated {
            index: 0,
            field: "length",
        },
    );
    let padded = |c: Vec<u8>| list_of(&[(0xfe0e, vec![0; 40]), (0xfe0d, c)]);
    check(
        &list_of(&[(0xfe0e, vec![0; 40])]),
        EchConfigError::NoSupportedVersion {
            versions: vec![0xfe0e],
        },
    );
    let mut kem = contents();
    kem[1..3].copy_from_slice(&0x0030u16.to_be_bytes());
    check(
        &padded(kem),
        EchConfigError::UnsupportedKem {
            index: 1,
            kem: HpkeKem(0x30),
        },
    );
    let mut suite = contents();
    // config id, KEM, key length and key, suite list length: the AEAD is at 41..43.
    suite[41..43].copy_from_slice(&0x0004u16.to_be_bytes());
    check(
        &padded(suite),
        EchConfigError::UnsupportedSuites {
            index: 1,
            suites: vec![HpkeSymmetricSuite { kdf: 1, aead: 4 }],
        },
    );
    let mut name = contents();
    let at = name.len() - 2 - 13;
    name[at..at + 13].copy_from_slice(b"other.example".map(|_| b'1').as_slice());
    check(
        &padded(name),
        EchConfigError::PublicName {
            index: 1,
            name: "1111111111111".into(),
            reason: "its last label is a number, which reads as an IPv4 address",
        },
    );
    let mut ext = contents();
    ext.truncate(ext.len() - 2);
    ext.extend_from_slice(&[0, 4, 0x80, 0x01, 0, 0]);
    check(
        &padded(ext),
        EchConfigError::MandatoryExtension {
            index: 1,
            ext_type: 0x8001,
        },
    );
    let mut trailing = contents();
    trailing.push(0);
    check(
        &padded(trailing),
        EchConfigError::TrailingBytes { index: 1, extra: 1 },
    );
}

#[test]
fn unknown_versions_beside_a_known_one_are_skipped() {
    let list = list_of(&[(0xfe0e, vec![1, 2, 3]), (0xfe0d, contents())]);
    let parsed = EchConfigList::parse(&list).expect("one usable config");
    assert_eq!(parsed.skipped_versions(), [0xfe0e]);
    assert_eq!(parsed.configs().len(), 1);
}

#[test]
fn base64_round_trips() {
    for len in 0..10 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let text = base64_encode(&bytes);
        assert_eq!(base64_decode(text.as_bytes()), Ok(bytes));
    }
}
