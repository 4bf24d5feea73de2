//! Transport URLs: every accepted form, every refusal with its exact error, and round trips.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use proptest::prelude::*;
use tlshake::url::{Host, HostNameReason, Scheme, TransportUrl, UrlError};
use tlshake::ProtocolVersion;

fn parse(input: &str) -> Result<TransportUrl, UrlError> {
    input.parse()
}

fn ok(input: &str) -> TransportUrl {
    match parse(input) {
        Ok(url) => url,
        Err(e) => panic!("{input:?} should parse, got {e:?}"),
    }
}

fn err(input: &str) -> UrlError {
    match parse(input) {
        Ok(url) => panic!("{input:?} should be refused, parsed as {url:?}"),
        Err(e) => e,
    }
}

fn name(n: &str) -> Host {
    Host::Name(n.to_string())
}

fn v6(addr: &str, zone: Option<&str>) -> Host {
    Host::Ipv6 {
        addr: addr.parse().unwrap(),
        zone: zone.map(str::to_string),
    }
}

// ---- accepted forms -------------------------------------------------------------------------

#[test]
fn ipv4_without_scheme_is_tcp() {
    let url = ok("192.0.2.1:443");
    assert_eq!(url.scheme(), Scheme::Tcp);
    assert_eq!(url.host(), &Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(url.port(), 443);
    assert_eq!(url.authority(), "192.0.2.1:443");
    assert_eq!(url.server_name(), None);
    assert_eq!(url.to_string(), "tcp://192.0.2.1:443");
}

#[test]
fn ipv6_in_brackets() {
    let url = ok("tcp://[fe80::1]:80");
    assert_eq!(url.host(), &v6("fe80::1", None));
    assert_eq!(url.port(), 80);
    assert_eq!(url.authority(), "[fe80::1]:80");
    assert_eq!(url.server_name(), None);

    let url = ok("[::1]:443");
    assert_eq!(url.scheme(), Scheme::Tcp);
    assert_eq!(url.host().ip(), Some(Ipv6Addr::LOCALHOST.into()));
    assert_eq!(url.to_string(), "tcp://[::1]:443");
}

#[test]
fn ipv6_is_printed_in_canonical_form() {
    let url = ok("tls://[2001:DB8:0:0:0:0:0:1]:443");
    assert_eq!(url.to_string(), "tls://[2001:db8::1]:443");
    assert_eq!(url.host(), &v6("2001:db8::1", None));
}

#[test]
fn ipv6_with_zone() {
    let url = ok("tls://[fe80::1%eth0]:443");
    assert_eq!(url.host(), &v6("fe80::1", Some("eth0")));
    assert_eq!(url.authority(), "[fe80::1%eth0]:443");
    assert!(url.host().is_ip_literal());
    assert_eq!(ok("[fe80::1%3]:443").host(), &v6("fe80::1", Some("3")));
    assert_eq!(
        ok("[fe80::1%en0.a_b-c]:443").host(),
        &v6("fe80::1", Some("en0.a_b-c"))
    );
}

#[test]
fn names_keep_their_case_and_trailing_dot() {
    let url = ok("TLS://Mail.Example.COM.:465");
    assert_eq!(url.scheme(), Scheme::Tls);
    assert_eq!(url.host(), &name("Mail.Example.COM."));
    assert!(!url.host().is_ip_literal());
    assert_eq!(url.host().ip(), None);
    assert_eq!(url.server_name(), Some("Mail.Example.COM"));
    assert_eq!(url.authority(), "Mail.Example.COM.:465");
    assert_eq!(url.to_string(), "tls://Mail.Example.COM.:465");
}

#[test]
fn name_forms() {
    assert_eq!(ok("localhost:25").host(), &name("localhost"));
    assert_eq!(ok("_srv.a-b.example:1").host(), &name("_srv.a-b.example"));
    assert_eq!(ok("1e100.net:443").host(), &name("1e100.net"));
    assert_eq!(ok("123.example:443").host(), &name("123.example"));
    assert_eq!(ok("xn--bcher-kva.de:443").host(), &name("xn--bcher-kva.de"));
    let label63 = "a".repeat(63);
    assert_eq!(
        ok(&format!("{label63}.com:1")).host(),
        &name(&format!("{label63}.com"))
    );
    // 253 characters, plus a trailing dot.
    let long = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(61));
    assert_eq!(long.len(), 253);
    assert_eq!(ok(&format!("{long}:1")).host(), &name(&long));
    assert_eq!(ok(&format!("{long}.:1")).host(), &name(&format!("{long}.")));
}

#[test]
fn a_host_named_like_a_scheme_is_a_host() {
    let url = ok("tls:443");
    assert_eq!(url.scheme(), Scheme::Tcp);
    assert_eq!(url.host(), &name("tls"));
}

#[test]
fn every_scheme_parses_in_any_case() {
    for scheme in Scheme::KNOWN {
        let lower = format!("{}://example.com:443", scheme.as_str());
        let upper = format!("{}://example.com:443", scheme.as_str().to_ascii_uppercase());
        assert_eq!(ok(&lower).scheme(), scheme);
        assert_eq!(ok(&upper).scheme(), scheme);
        assert_eq!(ok(&upper).to_string(), lower);
    }
}

#[test]
fn ports() {
    assert_eq!(ok("h:1").port(), 1);
    assert_eq!(ok("h:65535").port(), 65535);
    assert_eq!(ok("h:00443").port(), 443);
    assert_eq!(ok("h:00443").to_string(), "tcp://h:443");
}

// ---- Scheme ---------------------------------------------------------------------------------

#[test]
fn scheme_names_and_properties() {
    let names: Vec<&str> = Scheme::KNOWN.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "tcp", "udp", "ssl", "tls", "tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3", "sslv2",
            "sslv3", "dtls", "dtlsv1.2"
        ]
    );
    for s in Scheme::KNOWN {
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(s.as_str().parse::<Scheme>(), Ok(s));
        assert_eq!(Scheme::from_name(&s.as_str().to_ascii_uppercase()), Some(s));
        assert_eq!(
            s.is_tls(),
            !matches!(
                s,
                Scheme::Tcp | Scheme::Udp | Scheme::Dtls | Scheme::DtlsV1_2
            )
        );
        assert_eq!(s.is_dtls(), matches!(s, Scheme::Dtls | Scheme::DtlsV1_2));
        assert_eq!(
            s.refusal_reason().is_some(),
            matches!(s, Scheme::SslV2 | Scheme::SslV3)
        );
    }
    assert_eq!(Scheme::Tls.pinned_version(), None);
    assert_eq!(Scheme::Ssl.pinned_version(), None);
    assert_eq!(Scheme::Tcp.pinned_version(), None);
    assert_eq!(Scheme::Udp.pinned_version(), None);
    assert_eq!(
        Scheme::TlsV1_0.pinned_version(),
        Some(ProtocolVersion::Tls1_0)
    );
    assert_eq!(
        Scheme::TlsV1_1.pinned_version(),
        Some(ProtocolVersion::Tls1_1)
    );
    assert_eq!(
        Scheme::TlsV1_2.pinned_version(),
        Some(ProtocolVersion::Tls1_2)
    );
    assert_eq!(
        Scheme::TlsV1_3.pinned_version(),
        Some(ProtocolVersion::Tls1_3)
    );
    assert_eq!(Scheme::SslV2.pinned_version(), Some(ProtocolVersion::Ssl2));
    assert_eq!(Scheme::SslV3.pinned_version(), Some(ProtocolVersion::Ssl3));
}

#[test]
fn legacy_schemes_parse_and_carry_a_refusal_reason() {
    let url = ok("sslv3://example.com:443");
    assert_eq!(url.scheme(), Scheme::SslV3);
    let reason = url.scheme().refusal_reason().unwrap();
    assert!(reason.contains("RFC 7568"), "{reason}");
    assert!(reason.contains("tlsv1.2://"), "{reason}");
    let reason = Scheme::SslV2.refusal_reason().unwrap();
    assert!(reason.contains("RFC 6176"), "{reason}");
}

#[test]
fn scheme_from_str_errors() {
    assert_eq!(
        "".parse::<Scheme>(),
        Err(UrlError::EmptyScheme {
            input: String::new()
        })
    );
    assert_eq!(
        "tls1.2".parse::<Scheme>(),
        Err(UrlError::UnknownScheme {
            input: "tls1.2".into(),
            scheme: "tls1.2".into(),
            suggestion: Some(Scheme::TlsV1_2),
        })
    );
}

// ---- TransportUrl::new ----------------------------------------------------------------------

#[test]
fn new_accepts_valid_parts() {
    let url = TransportUrl::new(Scheme::TlsV1_3, name("example.com"), 443).unwrap();
    assert_eq!(url.to_string(), "tlsv1.3://example.com:443");
    assert_eq!(ok("tlsv1.3://example.com:443"), url);
    let url = TransportUrl::new(Scheme::Udp, v6("fe80::1", Some("eth0")), 53).unwrap();
    assert_eq!(url.to_string(), "udp://[fe80::1%eth0]:53");
}

#[test]
fn new_refuses_invalid_parts() {
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, Host::Ipv4(Ipv4Addr::LOCALHOST), 0),
        Err(UrlError::PortZero {
            input: "tcp://127.0.0.1:0".into()
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, name("1.2.3.4"), 80),
        Err(UrlError::InvalidHostName {
            input: "tcp://1.2.3.4:80".into(),
            host: "1.2.3.4".into(),
            reason: HostNameReason::IpAddress,
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, name("127.1"), 80),
        Err(UrlError::InvalidIpv4 {
            input: "tcp://127.1:80".into(),
            text: "127.1".into(),
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, name("a b"), 80),
        Err(UrlError::InvalidHostName {
            input: "tcp://a b:80".into(),
            host: "a b".into(),
            reason: HostNameReason::InvalidCharacter {
                ch: ' ',
                position: 1
            },
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, name("::1"), 80),
        Err(UrlError::InvalidHostName {
            input: "tcp://::1:80".into(),
            host: "::1".into(),
            reason: HostNameReason::InvalidCharacter {
                ch: ':',
                position: 0
            },
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tcp, name(""), 80),
        Err(UrlError::EmptyHost {
            input: "tcp://:80".into()
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tls, v6("fe80::1", Some("")), 443),
        Err(UrlError::InvalidZone {
            input: "tls://[fe80::1%]:443".into(),
            zone: String::new(),
        })
    );
    assert_eq!(
        TransportUrl::new(Scheme::Tls, v6("fe80::1", Some("a]:1/")), 443),
        Err(UrlError::InvalidZone {
            input: "tls://[fe80::1%a]:1/]:443".into(),
            zone: "a]:1/".into(),
        })
    );
}

// ---- every refusal, with its exact error ----------------------------------------------------

#[test]
fn empty() {
    assert_eq!(err(""), UrlError::Empty);
}

#[test]
fn whitespace() {
    assert_eq!(
        err("tcp://host :80"),
        UrlError::Whitespace {
            input: "tcp://host :80".into(),
            position: 10
        }
    );
    assert_eq!(
        err(" host:80"),
        UrlError::Whitespace {
            input: " host:80".into(),
            position: 0
        }
    );
    assert_eq!(
        err("host:80\n"),
        UrlError::Whitespace {
            input: "host:80\n".into(),
            position: 7
        }
    );
    // U+3000 IDEOGRAPHIC SPACE after a two-byte character.
    assert_eq!(
        err("é\u{3000}:1"),
        UrlError::Whitespace {
            input: "é\u{3000}:1".into(),
            position: 2
        }
    );
}

#[test]
fn control_character() {
    assert_eq!(
        err("host:80\0"),
        UrlError::ControlCharacter {
            input: "host:80\0".into(),
            ch: '\0',
            position: 7
        }
    );
    assert_eq!(
        err("\u{1b}[31mhost:80"),
        UrlError::ControlCharacter {
            input: "\u{1b}[31mhost:80".into(),
            ch: '\u{1b}',
            position: 0
        }
    );
}

#[test]
fn empty_scheme() {
    assert_eq!(
        err("://host:1"),
        UrlError::EmptyScheme {
            input: "://host:1".into()
        }
    );
}

#[test]
fn unknown_scheme() {
    assert_eq!(
        err("gopher://host:70"),
        UrlError::UnknownScheme {
            input: "gopher://host:70".into(),
            scheme: "gopher".into(),
            suggestion: None
        }
    );
    assert_eq!(
        err("tlsv1://host:443"),
        UrlError::UnknownScheme {
            input: "tlsv1://host:443".into(),
            scheme: "tlsv1".into(),
            suggestion: Some(Scheme::TlsV1_0)
        }
    );
    assert_eq!(
        err("ü://x:1"),
        UrlError::UnknownScheme {
            input: "ü://x:1".into(),
            scheme: "ü".into(),
            suggestion: None
        }
    );
}

#[test]
fn scheme_without_slashes() {
    for input in [
        "tls:example.com:443",
        "tls:/example.com:443",
        "TLS:[::1]:443",
    ] {
        assert_eq!(
            err(input),
            UrlError::SchemeWithoutSlashes {
                input: input.into(),
                scheme: Scheme::Tls
            }
        );
    }
}

#[test]
fn empty_host() {
    for input in [":443", "tcp://", "tcp://:443", "[]:443", "tls:///x"] {
        assert_eq!(
            err(input),
            UrlError::EmptyHost {
                input: input.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn missing_port() {
    for input in [
        "example.com",
        "example.com:",
        "tls://example.com",
        "[::1]",
        "[::1]:",
        "[::1]/x",
        "host/x:80",
    ] {
        assert_eq!(
            err(input),
            UrlError::MissingPort {
                input: input.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn port_zero() {
    for input in ["example.com:0", "[::1]:000"] {
        assert_eq!(
            err(input),
            UrlError::PortZero {
                input: input.into()
            }
        );
    }
}

#[test]
fn port_out_of_range() {
    assert_eq!(
        err("example.com:65536"),
        UrlError::PortOutOfRange {
            input: "example.com:65536".into(),
            value: "65536".into()
        }
    );
    let huge = format!("h:{}", "9".repeat(40));
    assert_eq!(
        err(&huge),
        UrlError::PortOutOfRange {
            input: huge.clone(),
            value: "9".repeat(40)
        }
    );
}

#[test]
fn port_not_numeric() {
    for (input, text) in [
        ("example.com:https", "https"),
        ("h:+80", "+80"),
        ("h:-1", "-1"),
        ("h:٣", "٣"),
        ("[::1]:8o", "8o"),
    ] {
        assert_eq!(
            err(input),
            UrlError::PortNotNumeric {
                input: input.into(),
                text: text.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn unclosed_bracket() {
    assert_eq!(
        err("[::1:443"),
        UrlError::UnclosedBracket {
            input: "[::1:443".into(),
            position: 0
        }
    );
    assert_eq!(
        err("tls://[::1"),
        UrlError::UnclosedBracket {
            input: "tls://[::1".into(),
            position: 6
        }
    );
}

#[test]
fn stray_bracket() {
    for (input, ch, position) in [
        ("host]:80", ']', 4),
        ("[[::1]]:80", '[', 1),
        ("[::1]]:80", ']', 5),
        ("[::1][:80", '[', 5),
        ("[::1]:80]", ']', 8),
        ("tcp://a[b]:1", '[', 7),
        ("é]:1", ']', 2),
    ] {
        assert_eq!(
            err(input),
            UrlError::StrayBracket {
                input: input.into(),
                ch,
                position
            },
            "{input:?}"
        );
    }
}

#[test]
fn unexpected_after_bracket() {
    assert_eq!(
        err("[::1]x:80"),
        UrlError::UnexpectedAfterBracket {
            input: "[::1]x:80".into(),
            position: 5
        }
    );
    assert_eq!(
        err("tcp://[::1]é:80"),
        UrlError::UnexpectedAfterBracket {
            input: "tcp://[::1]é:80".into(),
            position: 11
        }
    );
}

#[test]
fn ipv6_without_brackets() {
    for (input, suggestion) in [
        ("::1:443", "[::1]:443"),
        ("fe80::1:80", "[fe80::1]:80"),
        ("tls://fe80::1%eth0:443", "[fe80::1%eth0]:443"),
        ("::1", "[::1]:PORT"),
        ("2001:db8::1", "[2001:db8::1]:PORT"),
        ("fe80::1:http", "[fe80::1]:PORT"),
    ] {
        assert_eq!(
            err(input),
            UrlError::Ipv6WithoutBrackets {
                input: input.into(),
                suggestion: suggestion.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn too_many_colons() {
    assert_eq!(
        err("host:80:90"),
        UrlError::TooManyColons {
            input: "host:80:90".into(),
            position: 7
        }
    );
    assert_eq!(
        err("tcp://a:b:c:1"),
        UrlError::TooManyColons {
            input: "tcp://a:b:c:1".into(),
            position: 9
        }
    );
}

#[test]
fn invalid_ipv6() {
    for (input, text) in [
        ("[1.2.3.4]:80", "1.2.3.4"),
        ("[example.com]:80", "example.com"),
        ("tls://[fe80::zz%eth0]:443", "fe80::zz"),
        ("[::1::2]:1", "::1::2"),
        ("[%eth0]:1", ""),
    ] {
        assert_eq!(
            err(input),
            UrlError::InvalidIpv6 {
                input: input.into(),
                text: text.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn invalid_ipv4() {
    for (input, text) in [
        ("127.1:80", "127.1"),
        ("256.0.0.1:80", "256.0.0.1"),
        ("01.2.3.4:80", "01.2.3.4"),
        ("0x7f.0.0.1:80", "0x7f.0.0.1"),
        ("2130706433:80", "2130706433"),
        ("1.2.3.4.:80", "1.2.3.4."),
    ] {
        assert_eq!(
            err(input),
            UrlError::InvalidIpv4 {
                input: input.into(),
                text: text.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn invalid_zone() {
    for (input, zone) in [
        ("[fe80::1%]:80", ""),
        ("[fe80::1%eth/0]:80", "eth/0"),
        ("[fe80::1%eth0%1]:80", "eth0%1"),
        ("[fe80::1%é]:80", "é"),
    ] {
        assert_eq!(
            err(input),
            UrlError::InvalidZone {
                input: input.into(),
                zone: zone.into()
            },
            "{input:?}"
        );
    }
}

#[test]
fn invalid_host_name() {
    let label64 = "a".repeat(64);
    let too_long = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(62));
    assert_eq!(too_long.len(), 254);
    let cases = [
        (
            "exa$mple.com:80".to_string(),
            "exa$mple.com".to_string(),
            HostNameReason::InvalidCharacter {
                ch: '$',
                position: 3,
            },
        ),
        (
            "user@host:80".into(),
            "user@host".into(),
            HostNameReason::InvalidCharacter {
                ch: '@',
                position: 4,
            },
        ),
        (
            "bücher.de:443".into(),
            "bücher.de".into(),
            HostNameReason::NonAscii {
                ch: 'ü',
                position: 1,
            },
        ),
        (
            "a..b:80".into(),
            "a..b".into(),
            HostNameReason::EmptyLabel { position: 2 },
        ),
        (
            ".a:80".into(),
            ".a".into(),
            HostNameReason::EmptyLabel { position: 0 },
        ),
        (
            ".:80".into(),
            ".".into(),
            HostNameReason::EmptyLabel { position: 0 },
        ),
        (
            "-a.com:80".into(),
            "-a.com".into(),
            HostNameReason::LeadingHyphen { label: "-a".into() },
        ),
        (
            "a-.com:80".into(),
            "a-.com".into(),
            HostNameReason::TrailingHyphen { label: "a-".into() },
        ),
        (
            format!("{label64}.com:80"),
            format!("{label64}.com"),
            HostNameReason::LabelTooLong {
                label: label64.clone(),
                len: 64,
            },
        ),
        (
            format!("{too_long}:80"),
            too_long.clone(),
            HostNameReason::TooLong { len: 254 },
        ),
    ];
    for (input, host, reason) in cases {
        assert_eq!(
            err(&input),
            UrlError::InvalidHostName {
                input: input.clone(),
                host,
                reason
            },
            "{input:?}"
        );
    }
}

#[test]
fn trailing_path() {
    for (input, rest) in [
        ("host:443/index.html", "/index.html"),
        ("tls://host:443/", "/"),
        ("host:443?a=1", "?a=1"),
        ("[::1]:443#frag", "#frag"),
        ("[::1]:443/[x]", "/[x]"),
    ] {
        assert_eq!(
            err(input),
            UrlError::TrailingPath {
                input: input.into(),
                rest: rest.into()
            },
            "{input:?}"
        );
    }
}

// ---- messages -------------------------------------------------------------------------------

#[test]
fn messages_say_what_to_do() {
    let msg = err("tlsv1://host:443").to_string();
    assert!(msg.contains("did you mean tlsv1.0://?"), "{msg}");
    for s in Scheme::KNOWN {
        assert!(msg.contains(s.as_str()), "{msg} lacks {s}");
    }
    let msg = err("::1:443").to_string();
    assert!(msg.contains("write [::1]:443"), "{msg}");
    let msg = err("tcp://host :80").to_string();
    assert!(msg.contains("byte 10"), "{msg}");
    let msg = err("a-.com:80").to_string();
    assert!(msg.contains("\"a-\" ends with '-'"), "{msg}");
    assert!(UrlError::Empty.to_string().contains("host:port"));
}

// ---- seed corpus of the fuzz target ---------------------------------------------------------

/// The fuzz target's seeds: `ok-*` files parse and round-trip, `bad-*` files are refused.
#[test]
fn fuzz_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/transport_url");
    let mut seen = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        if file.starts_with("ok-") {
            let url = ok(&text);
            assert_eq!(parse(&url.to_string()), Ok(url), "{file}");
            seen.0 += 1;
        } else if file.starts_with("bad-") {
            err(&text);
            seen.1 += 1;
        } else {
            panic!("seed {file} should be named ok-* or bad-*");
        }
    }
    assert!(seen.0 >= 5 && seen.1 >= 8, "seeds seen: {seen:?}");
}

// ---- properties -----------------------------------------------------------------------------

/// Whatever the input: an accepted URL prints as text that parses back to it, and a refusal
/// quotes the input (every variant but `Empty` does).
fn check_any(input: &str) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(url) => {
            let printed = url.to_string();
            prop_assert_eq!(parse(&printed), Ok(url.clone()));
            prop_assert_eq!(printed.parse::<TransportUrl>()?.to_string(), printed);
        }
        Err(UrlError::Empty) => prop_assert!(input.is_empty()),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(
                msg.contains(&format!("{input:?}")),
                "{} lacks the input",
                msg
            );
        }
    }
    Ok(())
}

fn scheme_strategy() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(Scheme::KNOWN.to_vec())
}

fn label_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
}

fn name_strategy() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(label_strategy(), 0..4),
        // The last label starts with a letter, so the name never reads as an IPv4 address.
        "[A-Za-z]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?",
        any::<bool>(),
    )
        .prop_map(|(mut labels, last, dot)| {
            labels.push(last);
            let mut n = labels.join(".");
            if dot {
                n.push('.');
            }
            n
        })
        .prop_filter("at most 253 characters", |n| {
            n.strip_suffix('.').unwrap_or(n).len() <= 253
        })
}

fn host_strategy() -> impl Strategy<Value = Host> {
    prop_oneof![
        any::<u32>().prop_map(|a| Host::Ipv4(Ipv4Addr::from(a))),
        (any::<u128>(), proptest::option::of("[A-Za-z0-9._-]{1,16}")).prop_map(|(a, zone)| {
            Host::Ipv6 {
                addr: Ipv6Addr::from(a),
                zone,
            }
        }),
        // Addresses with long runs of zeros, which print compressed.
        (any::<u16>(), 0..8usize).prop_map(|(g, i)| {
            let mut groups = [0u16; 8];
            groups[i] = g;
            Host::Ipv6 {
                addr: Ipv6Addr::from(groups),
                zone: None,
            }
        }),
        name_strategy().prop_map(Host::Name),
    ]
}

/// Text near the grammar's edges: brackets, colons, percent signs, digits, dots, slashes.
fn edgy_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("[".to_string()),
            Just("]".to_string()),
            Just(":".to_string()),
            Just("%".to_string()),
            Just("://".to_string()),
            Just(".".to_string()),
            Just("/".to_string()),
            Just("é".to_string()),
            Just("tls".to_string()),
            Just("::1".to_string()),
            Just("fe80".to_string()),
            "[0-9]{1,6}",
            "[a-z]{1,4}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn never_panics_on_printable_text(input in "\\PC*") {
        check_any(&input)?;
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        check_any(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn never_panics_near_brackets_and_colons(input in edgy_strategy()) {
        check_any(&input)?;
    }

    #[test]
    fn valid_urls_round_trip(scheme in scheme_strategy(), host in host_strategy(), port in 1..=u16::MAX) {
        let url = TransportUrl::new(scheme, host.clone(), port)?;
        prop_assert_eq!(url.scheme(), scheme);
        prop_assert_eq!(url.host(), &host);
        prop_assert_eq!(url.port(), port);
        let printed = url.to_string();
        prop_assert_eq!(parse(&printed), Ok(url.clone()));
        // The scheme's case does not matter, and tcp may be left out.
        let shouted = format!("{}://{}", scheme.as_str().to_ascii_uppercase(), url.authority());
        prop_assert_eq!(parse(&shouted), Ok(url.clone()));
        if scheme == Scheme::Tcp {
            prop_assert_eq!(parse(&url.authority()), Ok(url.clone()));
        }
        prop_assert_eq!(url.server_name().is_none(), host.is_ip_literal());
    }
}
