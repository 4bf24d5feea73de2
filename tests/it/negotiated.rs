//! What a handshake negotiated, as `openssl s_client` says it (the key-exchange group, the
//! peer's signature, the peer's key), `--groups` on `connect` and `serve`, `tlshake version`,
//! `--verify-depth`, and s_client flags typed out of habit. Each against the `openssl` of the
//! linked release (`TLSHAKE_OPENSSL`), with each release's answer pinned.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Output;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::cli::{ca, json_of, run, stderr_of, stdout_of, tlshake, url_of, wait_bounded};
use serde_json::{json, Value};
use tlshake::harness::{OpensslClient, OpensslServer};
use tlshake::library::{self, OpensslVersion};
use tlshake::ProtocolVersion;

/// OpenSSL 3.5 and newer: the post-quantum groups, and the signature scheme's name.
fn since_3_5() -> bool {
    library::running() >= OpensslVersion::new(3, 5, 0)
}

fn since_4_0() -> bool {
    library::running() >= OpensslVersion::new(4, 0, 0)
}

/// `openssl s_server` of the linked release with the bundled certificate, `extra` flags
/// after the harness's.
fn s_server(extra: &[&str]) -> OpensslServer {
    let mut b = OpensslServer::builder();
    for arg in extra {
        b = b.arg(*arg);
    }
    b.spawn().expect("spawn openssl s_server")
}

/// `tlshake connect URL --cafile ca.pem ARGS`, text and JSON.
fn connect(url: &str, args: &[&str]) -> (Output, Output) {
    let ca = ca();
    let mut base = vec!["connect", url, "--cafile", ca.as_str()];
    base.extend_from_slice(args);
    let text = run(&base);
    base.push("--json");
    let json = run(&base);
    (text, json)
}

/// The lines of a text report that start with `prefix` (after the indent).
fn line_of(text: &str, prefix: &str) -> String {
    text.lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{text}"))
        .to_string()
}

#[test]
fn default_groups_negotiate_the_post_quantum_hybrid_from_openssl_3_5() {
    let server = s_server(&[]);
    let (text, json) = connect(&url_of(&server), &[]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr_of(&text));
    let j = json_of(&json);
    assert_eq!(j["outcome"], "done", "{j}");
    let t = stdout_of(&text);
    if since_3_5() {
        // OpenSSL 3.5+ offers X25519MLKEM768 first, and its s_server takes it.
        assert_eq!(j["group"], "X25519MLKEM768", "{j}");
        assert_eq!(j["post_quantum"], true, "{j}");
        assert_eq!(
            line_of(&t, "group:"),
            "group:       X25519MLKEM768 (post-quantum)"
        );
    } else {
        // OpenSSL 3.0's default list has no post-quantum group; x25519 comes first.
        assert_eq!(j["group"], "x25519", "{j}");
        assert_eq!(j["post_quantum"], false, "{j}");
        assert_eq!(line_of(&t, "group:"), "group:       x25519");
    }
    assert_eq!(j["missing"].get("group"), None, "{j}");
}

#[test]
fn groups_x25519_negotiates_x25519_on_every_release() {
    let server = s_server(&[]);
    let (text, json) = connect(&url_of(&server), &["--groups", "X25519"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr_of(&text));
    let j = json_of(&json);
    assert_eq!(j["group"], "x25519", "{j}");
    assert_eq!(j["post_quantum"], false, "{j}");
    assert_eq!(line_of(&stdout_of(&text), "group:"), "group:       x25519");
}

#[test]
fn the_peers_signature_and_key_are_what_s_client_prints() {
    for (cert, key) in [
        ("server.pem", "server.key"),
        ("server-rsa.pem", "server-rsa.key"),
    ] {
        let server = OpensslServer::builder()
            .cert(common::cert(cert))
            .key(common::cert(key))
            .spawn()
            .expect("s_server");
        let j = json_of(&connect(&url_of(&server), &[]).1);
        assert_eq!(j["outcome"], "done", "{j}");
        // s_client of the same release against the same server.
        let s_client = OpensslClient::builder(server.addr())
            .servername("localhost")
            .ca_file(common::cert("ca.pem"))
            .spawn()
            .expect("s_client")
            .wait(Duration::from_secs(10))
            .expect("s_client ends");
        let said = |prefix: &str| {
            s_client
                .output()
                .lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_string))
                .unwrap_or_else(|| panic!("no {prefix:?} from s_client: {}", s_client.output()))
        };
        let sig = &j["peer_signature"];
        // 3.5+: "Peer signature type: ecdsa_secp256r1_sha256" (the scheme); before, the
        // algorithm ("ECDSA"), the digest on its own line.
        let shown = if since_3_5() {
            &sig["scheme"]
        } else {
            &sig["algorithm"]
        };
        assert_eq!(shown, said("Peer signature type: ").as_str(), "{j}");
        assert_eq!(sig["digest"], said("Peer signing digest: ").as_str(), "{j}");
        assert_eq!(
            format!("Server public key is {} bit", j["peer_key"]["bits"]),
            format!("Server public key is {}", said("Server public key is "))
        );
        // Each release's answer, whole.
        let (scheme, algorithm, key) = match cert {
            "server.pem" => (
                "ecdsa_secp256r1_sha256",
                "ECDSA",
                json!({"algorithm": "EC", "bits": 256, "group": "prime256v1"}),
            ),
            _ => (
                "rsa_pss_rsae_sha256",
                "RSA-PSS",
                json!({"algorithm": "RSA", "bits": 2048, "group": null}),
            ),
        };
        let expected_scheme = if since_3_5() {
            json!(scheme)
        } else {
            Value::Null
        };
        assert_eq!(
            *sig,
            json!({"scheme": expected_scheme, "algorithm": algorithm, "digest": "SHA256"}),
            "{j}"
        );
        assert_eq!(j["peer_key"], key, "{j}");
        let missing = if since_3_5() {
            json!({})
        } else {
            json!({"peer_signature.scheme": "needs OpenSSL 3.5"})
        };
        assert_eq!(j["missing"], missing, "{j}");
    }
}

#[test]
fn the_text_report_says_the_signature_and_key_and_why_a_name_is_missing() {
    let server = s_server(&[]);
    let (text, _) = connect(&url_of(&server), &[]);
    let t = stdout_of(&text);
    let expected = if since_3_5() {
        "signature:   ecdsa_secp256r1_sha256 (ECDSA, SHA256)".to_string()
    } else {
        format!(
            "signature:   ECDSA, SHA256 (scheme: not reported by OpenSSL {}; 3.5 or newer \
             reports it)",
            library::running()
        )
    };
    assert_eq!(line_of(&t, "signature:"), expected);
    assert_eq!(
        line_of(&t, "peer key:"),
        "peer key:    EC 256 bits (prime256v1)"
    );
}

/// A resumed TLS 1.2 session has no key exchange and no signature; a resumed TLS 1.3 one
/// exchanges keys again (and names the group) but signs nothing. The certificate, and so
/// its key, comes with the session.
#[test]
fn a_resumed_session_says_what_it_cannot_tell() {
    for (version, group) in [
        (ProtocolVersion::Tls1_2, Value::Null),
        (
            ProtocolVersion::Tls1_3,
            json!(if since_3_5() {
                "X25519MLKEM768"
            } else {
                "x25519"
            }),
        ),
    ] {
        let server = OpensslServer::builder()
            .version(version)
            .spawn()
            .expect("s_server");
        let (text, json) = connect(&url_of(&server), &["--reconnect", "1"]);
        let j = json_of(&json);
        let again = &j["reconnects"][0];
        assert_eq!(again["resumed"], true, "{j}");
        assert_eq!(again["group"], group, "{version:?}: {j}");
        assert_eq!(again["peer_signature"], Value::Null, "{j}");
        assert_eq!(again["peer_key"]["bits"], 256, "{j}");
        let missing = if version == ProtocolVersion::Tls1_2 {
            json!({"group": "resumed", "peer_signature": "resumed"})
        } else {
            json!({"peer_signature": "resumed"})
        };
        assert_eq!(again["missing"], missing, "{version:?}: {j}");
        let t = stdout_of(&text);
        let line = line_of(&t, "reconnect 1:");
        let shown = match version {
            ProtocolVersion::Tls1_2 => {
                "group none: the session was resumed, without a key exchange".to_string()
            }
            _ if since_3_5() => "group X25519MLKEM768 (post-quantum)".to_string(),
            _ => "group x25519".to_string(),
        };
        assert!(
            line.starts_with("reconnect 1: resumed, ") && line.ends_with(&shown),
            "{line}"
        );
    }
}

#[test]
fn a_group_newer_than_the_library_is_refused_with_the_release_it_needs() {
    let linked = library::running();
    // A closed port: a list the policy takes goes on to connect, and finds nobody (exit 5).
    let closed = "tls://127.0.0.1:1";
    for (list, since) in [
        ("X25519MLKEM768", OpensslVersion::new(3, 5, 0)),
        ("X25519:curveSM2MLKEM768", OpensslVersion::new(4, 0, 0)),
    ] {
        let out = run(&["connect", closed, "--groups", list, "--timeout", "5"]);
        if linked >= since {
            assert_eq!(out.status.code(), Some(5), "{list}: {}", stderr_of(&out));
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{list}: {}", stderr_of(&out));
        let group = list.rsplit(':').next().unwrap_or_default();
        assert_eq!(
            stderr_of(&out),
            format!(
                "tlshake: configuration refused: key-exchange group \"{group}\" needs OpenSSL \
                 {} or newer; this is {linked}: leave out --groups for OpenSSL's own list, or \
                 name in --groups only groups this version offers (such as X25519:P-256)\n",
                since.line()
            )
        );
    }
    let out = run(&["connect", closed, "--groups", "X25519:P-257", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        json_of(&out)["error"]["message"],
        format!(
            "configuration refused: key-exchange group \"P-257\" is unknown to OpenSSL \
             {linked}: name in --groups only groups it offers (such as X25519:P-256)"
        )
    );
    // serve and bench are checked by the same policy, and say it the same way.
    let serve = run(&["serve", "--port", "0", "--groups", "P-257"]);
    assert_eq!(serve.status.code(), Some(2));
    assert!(
        stderr_of(&serve).ends_with(&format!(
            "tlshake: cannot serve: key-exchange group \"P-257\" is unknown to OpenSSL \
             {linked}: name in --groups only groups it offers (such as X25519:P-256)\n"
        )),
        "{}",
        stderr_of(&serve)
    );
}

/// `tlshake serve`'s JSON lines, the first (`listening on ADDR`) parsed; the rest come on
/// the channel as the server writes them.
fn serve(args: &[&str]) -> (std::process::Child, SocketAddr, mpsc::Receiver<String>) {
    let mut child = tlshake()
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(args)
        .spawn()
        .expect("spawn tlshake serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("tlshake serve's first line");
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("first line {first:?}"));
    (child, addr, rx)
}

#[test]
fn serve_groups_is_the_servers_setting() {
    for (args, group) in [
        (
            vec![],
            if since_3_5() {
                "X25519MLKEM768"
            } else {
                "x25519"
            },
        ),
        (vec!["--groups", "P-256"], "secp256r1"),
    ] {
        let mut all = vec!["--max-connections", "1", "--json"];
        all.extend(args.iter().copied());
        let (child, addr, lines) = serve(&all);
        // s_client of the same release, with its default groups.
        let client = OpensslClient::builder(addr)
            .servername("localhost")
            .ca_file(common::cert("ca.pem"))
            .spawn()
            .expect("s_client")
            .wait(Duration::from_secs(10))
            .expect("s_client ends");
        assert!(client.handshake_done(), "{}", client.output());
        let out = wait_bounded(child, Duration::from_secs(10));
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("one JSON line per connection");
        let j: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(j["outcome"], "done", "{j}");
        assert_eq!(j["group"], group, "{args:?}: {j}");
        // The client sent no certificate: no signature and no key of the peer.
        assert_eq!(
            j["missing"],
            json!({"peer_signature": "absent", "peer_key": "absent"}),
            "{j}"
        );
    }
}

#[test]
fn verify_depth_0_refuses_a_chain_with_an_intermediate_as_s_client_does() {
    let server = common::intermediate_chain_server();
    let url = format!("tls://localhost:{}", server.port());
    // s_client -verify_depth 0 of the same release: code 22 (with -verify_return_error it
    // stops there, as tlshake does: without it, s_client goes on to report code 20).
    let s_client = OpensslClient::builder(server.addr())
        .servername("localhost")
        .ca_file(common::cert("ca.pem"))
        .verify_return_error()
        .arg("-verify_depth")
        .arg("0")
        .spawn()
        .expect("s_client")
        .wait(Duration::from_secs(10))
        .expect("s_client ends");
    assert!(
        s_client
            .output()
            .contains("Verify return code: 22 (certificate chain too long)"),
        "{}",
        s_client.output()
    );
    let (text, json) = connect(&url, &["--verify-depth", "0"]);
    assert_eq!(text.status.code(), Some(1), "{}", stdout_of(&text));
    let j = json_of(&json);
    assert_eq!(
        j["verify"],
        json!({"ok": false, "code": 22, "message": "certificate chain too long"}),
        "{j}"
    );
    assert_eq!(j["error"]["advice"], json!(["--verify-depth"]), "{j}");
    assert_eq!(
        j["error"]["hint"],
        "the peer's certificate chain has more intermediate CAs than the verify depth allows: \
         raise the depth (--verify-depth), or leave it unset for OpenSSL's default of 100"
    );
    assert!(
        stdout_of(&text).contains("verify:      22 (certificate chain too long)"),
        "{}",
        stdout_of(&text)
    );
    // One intermediate is what depth 1 allows.
    let (text, _) = connect(&url, &["--verify-depth", "1"]);
    assert_eq!(text.status.code(), Some(0), "{}", stdout_of(&text));
}

#[test]
fn s_client_flags_are_answered_with_their_tlshake_names() {
    let url = "tls://127.0.0.1:1";
    for (args, says) in [
        (vec!["-CAfile", "ca.pem"], "-CAfile is openssl s_client's flag; tlshake connect says --cafile ca.pem"),
        (vec!["-servername", "example.com"], "-servername is openssl s_client's flag; tlshake connect says --servername example.com"),
        (vec!["-tls1_2"], "-tls1_2 is openssl s_client's flag; tlshake connect says --min-proto tls1.2 --max-proto tls1.2, or a tlsv1.2:// URL"),
        (vec!["-tls1_3"], "-tls1_3 is openssl s_client's flag; tlshake connect says --min-proto tls1.3, or a tlsv1.3:// URL"),
        (vec!["-showcerts"], "-showcerts is openssl s_client's flag; tlshake connect says --showcerts"),
        (vec!["-groups", "X25519"], "-groups is openssl s_client's flag; tlshake connect says --groups X25519"),
        (vec!["-verify_depth", "2"], "-verify_depth is openssl s_client's flag; tlshake connect says --verify-depth 2"),
        (vec!["-alpn", "h2"], "-alpn is openssl s_client's flag; tlshake connect says --alpn h2"),
        (vec!["-cert", "c.pem"], "-cert is openssl s_client's flag; tlshake connect says --cert c.pem"),
        (vec!["-key", "c.key"], "-key is openssl s_client's flag; tlshake connect says --key c.key"),
        (vec!["-starttls", "smtp"], "-starttls is openssl s_client's flag; tlshake connect says --starttls smtp with a tcp:// URL"),
    ] {
        let mut line = vec!["connect", url];
        line.extend(args.iter().copied());
        let out = run(&line);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr_of(&out), format!("tlshake: {says}\n"), "{args:?}");
        assert!(out.stdout.is_empty());
        line.push("--json");
        let out = run(&line);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let j = json_of(&out);
        assert_eq!(j["outcome"], "bad_input");
        assert_eq!(j["error"]["message"], says);
    }
    // -connect, and without a URL.
    let out = run(&["connect", "-connect", "localhost:443"]);
    assert_eq!(
        stderr_of(&out),
        "tlshake: -connect is openssl s_client's flag; tlshake connect says the URL \
         tls://localhost:443\n"
    );
    // s_server's, for serve.
    let out = run(&["serve", "-www"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        "tlshake: -www is openssl s_server's flag; tlshake serve says --reply http\n"
    );
    // Anything else keeps the parser's own message.
    let out = run(&["connect", url, "-bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("unexpected argument"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn version_json_names_both_libraries_and_what_they_offer() {
    let out = run(&["version", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let j = json_of(&out);
    let running = library::running();
    assert_eq!(j["tlshake"], env!("CARGO_PKG_VERSION"));
    assert_eq!(j["openssl"]["running"]["version"], running.to_string());
    assert_eq!(
        j["openssl"]["running"]["number"],
        format!("0x{:08x}", running.number())
    );
    assert_eq!(
        j["openssl"]["running"]["text"],
        openssl::version::version(),
        "{j}"
    );
    // The headers' release, as the build script read it: with a shared library the running
    // one may be a newer patch release of the same line (a distribution's update).
    let built = library::built_against();
    assert_eq!(
        j["openssl"]["built_against"],
        json!({
            "version": built.to_string(),
            "number": format!("0x{:08x}", built.number()),
        })
    );
    assert_eq!(
        built.number() & 0xfff0_0000,
        running.number() & 0xfff0_0000,
        "the same release line"
    );
    let groups: Value = if since_4_0() {
        json!([
            "MLKEM512",
            "MLKEM768",
            "MLKEM1024",
            "SecP256r1MLKEM768",
            "X25519MLKEM768",
            "SecP384r1MLKEM1024",
            "curveSM2MLKEM768"
        ])
    } else if since_3_5() {
        json!([
            "MLKEM512",
            "MLKEM768",
            "MLKEM1024",
            "SecP256r1MLKEM768",
            "X25519MLKEM768",
            "SecP384r1MLKEM1024"
        ])
    } else {
        json!([])
    };
    assert_eq!(
        j["post_quantum"],
        json!({"offered": since_3_5(), "groups": groups}),
        "{j}"
    );
    // The releases tested are built with ECH where it exists (4.0, without no-ech).
    assert_eq!(j["ech"], since_4_0(), "{j}");
    // The text says the same, and `--version` still names the library.
    let text = stdout_of(&run(&["version"]));
    assert!(
        text.contains(&format!(
            "OpenSSL running:       {}",
            openssl::version::version()
        )),
        "{text}"
    );
    let short = stdout_of(&run(&["--version"]));
    assert!(short.contains(openssl::version::version()), "{short}");
}
