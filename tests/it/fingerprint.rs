//! Fingerprint parsing, errors, display and matching against a real certificate.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::x509::{X509Name, X509};
use proptest::prelude::*;
use tlshake::fingerprint::{DigestKind, Fingerprint, FingerprintError};

const SHA1_HEX: &str = "4481a38cec9ff55ca64e2c54a4260c55539ac5b4";
const SHA256_HEX: &str = "703d930dad9f91d82c6fe619f7df0bf84b57bc4ff7723725b45e349aad26b03a";
const MD5_HEX: &str = "a4544ca35005b51227bdfc1c090833fd";

fn self_signed(cn: &str) -> X509 {
    let key = PKey::ec_gen("prime256v1").unwrap();
    let mut name = X509Name::builder().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    let serial = BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap();
    builder.set_serial_number(&serial).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder
        .set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    builder.build()
}

fn spaced(hex: &str, separator: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).unwrap())
        .collect::<Vec<_>>()
        .join(separator)
}

#[test]
fn plain_hex_picks_the_kind_by_length() {
    assert_eq!(Fingerprint::parse(MD5_HEX).unwrap().kind(), DigestKind::Md5);
    assert_eq!(
        Fingerprint::parse(SHA1_HEX).unwrap().kind(),
        DigestKind::Sha1
    );
    assert_eq!(
        Fingerprint::parse(SHA256_HEX).unwrap().kind(),
        DigestKind::Sha256
    );
    assert_eq!(Fingerprint::parse(SHA1_HEX).unwrap().to_hex(), SHA1_HEX);
}

#[test]
fn separators_and_case_are_ignored() {
    let expected = Fingerprint::parse(SHA1_HEX).unwrap();
    let forms = [
        spaced(SHA1_HEX, " "),
        spaced(SHA1_HEX, ":").to_uppercase(),
        spaced(SHA1_HEX, "\t"),
        format!("  {}\n", SHA1_HEX.to_uppercase()),
        "4481A38C ec9ff55c:a6:4e 2c54a426\t0c55539ac5b4".to_owned(),
        "44 81:a3 8C::EC 9f".to_owned() + &SHA1_HEX[12..],
    ];
    for form in forms {
        assert_eq!(Fingerprint::parse(&form).unwrap(), expected, "{form:?}");
    }
}

#[test]
fn windows_left_to_right_mark_is_ignored() {
    let pasted = format!("\u{200e}{}", spaced(SHA1_HEX, " "));
    let fp = Fingerprint::parse(&pasted).unwrap();
    assert_eq!(fp.kind(), DigestKind::Sha1);
    assert_eq!(fp.to_hex(), SHA1_HEX);
}

#[test]
fn prefixes_fix_the_kind() {
    let cases = [
        (format!("sha256:{SHA256_HEX}"), DigestKind::Sha256),
        (
            format!("SHA-256:{}", spaced(SHA256_HEX, ":")),
            DigestKind::Sha256,
        ),
        (format!("sha1:{SHA1_HEX}"), DigestKind::Sha1),
        (
            format!("Sha-1: {}", spaced(SHA1_HEX, " ")),
            DigestKind::Sha1,
        ),
        (format!("MD5:{MD5_HEX}"), DigestKind::Md5),
        (
            format!("SHA1 Fingerprint={}", spaced(SHA1_HEX, ":").to_uppercase()),
            DigestKind::Sha1,
        ),
        (
            format!("sha256 Fingerprint={}\n", spaced(SHA256_HEX, ":")),
            DigestKind::Sha256,
        ),
        (format!("\u{200e}sha1:{SHA1_HEX}"), DigestKind::Sha1),
    ];
    for (text, kind) in cases {
        assert_eq!(Fingerprint::parse(&text).unwrap().kind(), kind, "{text:?}");
    }
}

#[test]
fn empty_text_is_its_own_error() {
    assert_eq!(Fingerprint::parse(""), Err(FingerprintError::Empty));
    assert_eq!(Fingerprint::parse(" : \t"), Err(FingerprintError::Empty));
    assert_eq!(Fingerprint::parse("sha256:"), Err(FingerprintError::Empty));
    assert_eq!(Fingerprint::parse("\u{200e}"), Err(FingerprintError::Empty));
}

#[test]
fn invalid_character_reports_its_position() {
    let text = "9d a4 g4 4c";
    let err = Fingerprint::parse(text).unwrap_err();
    assert_eq!(
        err,
        FingerprintError::InvalidCharacter {
            position: 6,
            character: 'g',
            text: text.to_owned(),
        }
    );
    let message = err.to_string();
    assert!(
        message.starts_with(
            "invalid character 'g' at position 6 in fingerprint \"9d a4 g4 4c\": fingerprints \
             are hex digits, optionally separated by spaces or colons"
        ),
        "{message}"
    );
    assert!(message.ends_with("  9d a4 g4 4c\n        ^"), "{message}");
}

#[test]
fn invalid_character_positions_count_characters_not_bytes() {
    // The mark is three bytes in UTF-8 but one character.
    let text = "\u{200e}ab-cd";
    assert_eq!(
        Fingerprint::parse(text),
        Err(FingerprintError::InvalidCharacter {
            position: 3,
            character: '-',
            text: text.to_owned(),
        })
    );
    let text = "sha1:ab cd zz";
    assert!(matches!(
        Fingerprint::parse(text),
        Err(FingerprintError::InvalidCharacter {
            position: 11,
            character: 'z',
            ..
        })
    ));
}

#[test]
fn short_colon_heads_are_typos_not_prefixes() {
    assert!(matches!(
        Fingerprint::parse("zz:44:81"),
        Err(FingerprintError::InvalidCharacter {
            position: 0,
            character: 'z',
            ..
        })
    ));
    assert!(matches!(
        Fingerprint::parse("ab cd eg:44"),
        Err(FingerprintError::InvalidCharacter {
            position: 7,
            character: 'g',
            ..
        })
    ));
}

#[test]
fn wrong_length_lists_the_valid_lengths() {
    let err = Fingerprint::parse(&SHA1_HEX[..38]).unwrap_err();
    assert_eq!(
        err,
        FingerprintError::WrongLength {
            digits: 38,
            expected: None
        }
    );
    assert_eq!(
        err.to_string(),
        "fingerprint has 38 hex digits; expected 32 (MD5), 40 (SHA-1 thumbprint) or 64 (SHA-256)"
    );
}

#[test]
fn wrong_length_with_prefix_names_the_expected_kind() {
    let err = Fingerprint::parse(&format!("sha256:{SHA1_HEX}")).unwrap_err();
    assert_eq!(
        err,
        FingerprintError::WrongLength {
            digits: 40,
            expected: Some(DigestKind::Sha256)
        }
    );
    assert_eq!(
        err.to_string(),
        "fingerprint has 40 hex digits; a SHA-256 fingerprint has 64 hex digits"
    );
}

#[test]
fn odd_digit_count_is_its_own_error() {
    let err = Fingerprint::parse(&SHA1_HEX[..39]).unwrap_err();
    assert_eq!(
        err,
        FingerprintError::OddDigits {
            digits: 39,
            expected: None
        }
    );
    assert!(err.to_string().contains("one is missing or extra"), "{err}");
}

#[test]
fn unknown_prefix_is_named() {
    let err = Fingerprint::parse(&format!("sha512:{SHA256_HEX}")).unwrap_err();
    assert_eq!(
        err,
        FingerprintError::UnknownPrefix {
            prefix: "sha512".to_owned()
        }
    );
    assert!(err.to_string().contains("\"sha512\""), "{err}");
}

#[test]
fn parse_with_forces_the_kind() {
    let fp = Fingerprint::parse_with(DigestKind::Sha1, SHA1_HEX).unwrap();
    assert_eq!(fp.kind(), DigestKind::Sha1);
    assert_eq!(
        Fingerprint::parse_with(DigestKind::Sha256, SHA1_HEX),
        Err(FingerprintError::WrongLength {
            digits: 40,
            expected: Some(DigestKind::Sha256)
        })
    );
    assert_eq!(
        Fingerprint::parse_with(DigestKind::Sha256, &format!("sha1:{SHA1_HEX}")),
        Err(FingerprintError::PrefixMismatch {
            prefix: "sha1".to_owned(),
            found: DigestKind::Sha1,
            expected: DigestKind::Sha256,
        })
    );
}

#[test]
fn display_is_upper_case_colon_separated_and_round_trips() {
    let fp = Fingerprint::parse(SHA256_HEX).unwrap();
    let shown = fp.to_string();
    assert_eq!(shown, spaced(SHA256_HEX, ":").to_uppercase());
    assert_eq!(shown.parse::<Fingerprint>().unwrap(), fp);
}

#[test]
fn from_bytes_checks_the_length() {
    assert_eq!(
        Fingerprint::from_bytes(DigestKind::Md5, vec![0; 16])
            .unwrap()
            .as_bytes(),
        &[0u8; 16]
    );
    assert_eq!(
        Fingerprint::from_bytes(DigestKind::Sha1, vec![0; 16]),
        Err(FingerprintError::WrongLength {
            digits: 32,
            expected: Some(DigestKind::Sha1)
        })
    );
}

#[test]
fn of_and_matches_use_the_certificate_digest() {
    let cert = self_signed("fingerprint.test");
    let other = self_signed("other.test");
    for kind in DigestKind::ALL {
        let fp = Fingerprint::of(&cert, kind).unwrap();
        assert_eq!(fp.kind(), kind);
        assert_eq!(
            fp.as_bytes(),
            &cert.digest(kind.message_digest()).unwrap()[..]
        );
        assert_eq!(fp.as_bytes().len(), kind.len());
        assert!(fp.matches(&cert));
        assert!(!fp.matches(&other));
        let reparsed = Fingerprint::parse(&fp.to_string()).unwrap();
        assert!(reparsed.matches(&cert));
    }
}

#[test]
fn matches_compares_kinds_too() {
    let cert = self_signed("kind.test");
    let sha1 = Fingerprint::of(&cert, DigestKind::Sha1).unwrap();
    let truncated_sha256 = Fingerprint::from_bytes(
        DigestKind::Sha1,
        Fingerprint::of(&cert, DigestKind::Sha256)
            .unwrap()
            .as_bytes()[..20]
            .to_vec(),
    )
    .unwrap();
    assert!(sha1.matches(&cert));
    assert!(!truncated_sha256.matches(&cert));
}

#[test]
fn serializes_as_display_text() {
    let fp = Fingerprint::parse(MD5_HEX).unwrap();
    assert_eq!(
        serde_json::to_string(&fp).unwrap(),
        format!("\"{}\"", spaced(MD5_HEX, ":").to_uppercase())
    );
}

proptest! {
    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = Fingerprint::parse(&text);
        let _ = Fingerprint::parse_with(DigestKind::Sha1, &text);
    }

    #[test]
    fn parse_never_panics_on_fingerprint_like_text(text in "[0-9a-fA-Fg: \t\u{200e}=shaSHA-]{0,80}") {
        if let Err(FingerprintError::InvalidCharacter { position, character, text: echoed }) =
            Fingerprint::parse(&text)
        {
            prop_assert_eq!(echoed.chars().nth(position), Some(character));
        }
    }

    #[test]
    fn display_round_trips(kind_index in 0usize..3, seed in proptest::collection::vec(any::<u8>(), 32)) {
        let kind = DigestKind::ALL[kind_index];
        let fp = Fingerprint::from_bytes(kind, seed[..kind.len()].to_vec()).unwrap();
        prop_assert_eq!(Fingerprint::parse(&fp.to_string()).unwrap(), fp.clone());
        prop_assert_eq!(Fingerprint::parse(&fp.to_hex()).unwrap(), fp.clone());
        let prefixed = format!("{}:{}", kind.prefix(), fp.to_hex());
        prop_assert_eq!(Fingerprint::parse(&prefixed).unwrap(), fp);
    }
}

#[test]
fn caret_line_shows_invisible_characters_as_question_marks() {
    let err = Fingerprint::parse("\u{200e}9d\u{200b}").unwrap_err();
    assert!(matches!(
        err,
        FingerprintError::InvalidCharacter {
            position: 3,
            character: '\u{200b}',
            ..
        }
    ));
    assert!(err.to_string().ends_with("\n  ?9d?\n     ^"), "{err}");
}

#[test]
fn debug_shows_kind_and_hex() {
    let fp = Fingerprint::parse(MD5_HEX).unwrap();
    assert_eq!(
        format!("{fp:?}"),
        format!("Fingerprint(MD5 {})", spaced(MD5_HEX, ":").to_uppercase())
    );
}
