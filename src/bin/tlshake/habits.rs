//! `openssl s_client` and `s_server` flags typed out of habit (`-CAfile`, `-servername`,
//! `-tls1_2`): the command line names the tlshake flag that does the same, where the parser
//! alone would suggest passing `-C` after `--`.

use std::ffi::OsString;

/// One flag of `openssl s_client` / `s_server` and what tlshake says instead: `{}` stands
/// for the flag's value (the next argument, or `value` when there is none).
struct Habit {
    flag: &'static str,
    value: Option<&'static str>,
    instead: &'static str,
}

const fn habit(flag: &'static str, value: Option<&'static str>, instead: &'static str) -> Habit {
    Habit {
        flag,
        value,
        instead,
    }
}

/// `openssl s_client`'s flags, for `tlshake connect`.
const S_CLIENT: &[Habit] = &[
    habit("connect", Some("HOST:PORT"), "the URL tls://{}"),
    habit("CAfile", Some("FILE"), "--cafile {}"),
    habit("CApath", Some("DIR"), "--capath {}"),
    habit("cert", Some("FILE"), "--cert {}"),
    habit("key", Some("FILE"), "--key {}"),
    habit(
        "pass",
        Some("PASS"),
        "--pass PASSPHRASE (the passphrase itself)",
    ),
    habit("servername", Some("NAME"), "--servername {}"),
    habit("verify_hostname", Some("NAME"), "--servername {}"),
    habit("noservername", None, "--no-sni"),
    habit("verify_depth", Some("N"), "--verify-depth {}"),
    habit(
        "verify",
        Some("N"),
        "--verify-depth {} (tlshake verifies the server by default)",
    ),
    habit(
        "verify_return_error",
        None,
        "nothing: tlshake stops at a verify error by default (--insecure reports it and goes on)",
    ),
    habit("showcerts", None, "--showcerts"),
    habit("groups", Some("LIST"), "--groups {}"),
    habit("curves", Some("LIST"), "--groups {}"),
    habit("alpn", Some("LIST"), "--alpn {}"),
    habit("cipher", Some("LIST"), "--ciphers {}"),
    habit("ciphersuites", Some("LIST"), "--ciphersuites {}"),
    habit("tls1_3", None, "--min-proto tls1.3, or a tlsv1.3:// URL"),
    habit(
        "tls1_2",
        None,
        "--min-proto tls1.2 --max-proto tls1.2, or a tlsv1.2:// URL",
    ),
    habit(
        "tls1_1",
        None,
        "--legacy --min-proto tls1.1 --max-proto tls1.1",
    ),
    habit("tls1", None, "--legacy --min-proto tls1 --max-proto tls1"),
    habit("no_tls1_3", None, "--max-proto tls1.2"),
    habit(
        "min_protocol",
        Some("V"),
        "--min-proto V (tls1, tls1.1, tls1.2, tls1.3)",
    ),
    habit(
        "max_protocol",
        Some("V"),
        "--max-proto V (tls1, tls1.1, tls1.2, tls1.3)",
    ),
    habit("starttls", Some("PROTO"), "--starttls {} with a tcp:// URL"),
    habit("xmpphost", Some("NAME"), "--xmpphost {}"),
    habit("sess_in", Some("FILE"), "--sess-in {}"),
    habit("sess_out", Some("FILE"), "--sess-out {}"),
    habit("reconnect", None, "--reconnect 5"),
    habit("status", None, "--status"),
    habit("keylogfile", Some("FILE"), "--keylog {}"),
    habit("proxy", Some("HOST:PORT"), "--proxy {}"),
    habit("msg", None, "--trace"),
    habit("trace", None, "--trace"),
    habit(
        "dtls1_2",
        None,
        "a dtls:// URL (with --mtu, --dtls-timer, --srtp for its settings)",
    ),
    habit(
        "dtls",
        None,
        "a dtls:// URL (with --mtu, --dtls-timer, --srtp for its settings)",
    ),
    habit("mtu", Some("BYTES"), "--mtu {} with a dtls:// URL"),
    habit("use_srtp", Some("LIST"), "--srtp {} with a dtls:// URL"),
];

/// `openssl s_server`'s flags, for `tlshake serve`.
const S_SERVER: &[Habit] = &[
    habit("accept", Some("PORT"), "--port PORT (and --bind ADDR)"),
    habit("port", Some("PORT"), "--port {}"),
    habit("cert", Some("FILE"), "--cert {}"),
    habit("key", Some("FILE"), "--key {}"),
    habit("CAfile", Some("FILE"), "--verify-client {}"),
    habit("verify", Some("N"), "--verify-client CAFILE"),
    habit(
        "Verify",
        Some("N"),
        "--verify-client CAFILE --require-client-cert",
    ),
    habit("alpn", Some("LIST"), "--alpn {}"),
    habit("groups", Some("LIST"), "--groups {}"),
    habit("curves", Some("LIST"), "--groups {}"),
    habit("www", None, "--reply http"),
    habit("WWW", None, "--reply http"),
    habit("HTTP", None, "--reply http"),
    habit("naccept", Some("N"), "--max-connections {}"),
    habit("no_ticket", None, "--no-tickets"),
    habit("keylogfile", Some("FILE"), "--keylog {}"),
    habit("tls1_3", None, "--protocols tls1.3"),
    habit("tls1_2", None, "--protocols tls1.2"),
    habit("no_tls1_3", None, "--protocols tls1.2"),
    habit("dtls1_2", None, "--dtls"),
    habit("dtls", None, "--dtls"),
    habit(
        "listen",
        None,
        "nothing: --dtls always answers a new peer with the cookie exchange first",
    ),
    habit("mtu", Some("BYTES"), "--mtu {} with --dtls"),
    habit("use_srtp", Some("LIST"), "--srtp {} with --dtls"),
];

/// When the parser refused `invalid` (the argument as it reported it: `-C` for `-CAfile`),
/// and `args` hold an `openssl` flag that begins with it: the line that names tlshake's own.
pub(crate) fn instead(args: &[OsString], invalid: &str) -> Option<String> {
    let args: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let command = args
        .iter()
        .position(|a| matches!(*a, "connect" | "serve"))?;
    let (program, table) = match args[command] {
        "connect" => ("s_client", S_CLIENT),
        _ => ("s_server", S_SERVER),
    };
    args.iter()
        .enumerate()
        .skip(command + 1)
        .filter(|(_, a)| a.starts_with(invalid) && !a.starts_with("--"))
        .find_map(|(i, arg)| {
            let word = arg.strip_prefix('-')?;
            let h = table.iter().find(|h| h.flag == word)?;
            let value = h.value.map(|placeholder| {
                args.get(i + 1)
                    .filter(|v| !v.starts_with('-'))
                    .copied()
                    .unwrap_or(placeholder)
            });
            let said = h.instead.replace("{}", value.unwrap_or_default());
            Some(format!(
                "{arg} is openssl {program}'s flag; tlshake {} says {said}",
                args[command]
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str], invalid: &str) -> Option<String> {
        let args: Vec<OsString> = std::iter::once("tlshake")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        instead(&args, invalid)
    }

    #[test]
    fn names_the_flag_with_its_value() {
        assert_eq!(
            line(&["connect", "tls://a:1", "-CAfile", "ca.pem"], "-C").as_deref(),
            Some("-CAfile is openssl s_client's flag; tlshake connect says --cafile ca.pem")
        );
        assert_eq!(
            line(&["connect", "-connect", "localhost:443"], "-c").as_deref(),
            Some("-connect is openssl s_client's flag; tlshake connect says the URL tls://localhost:443")
        );
        assert_eq!(
            line(&["connect", "tls://a:1", "-groups"], "-g").as_deref(),
            Some("-groups is openssl s_client's flag; tlshake connect says --groups LIST")
        );
        assert_eq!(
            line(&["serve", "-www"], "-w").as_deref(),
            Some("-www is openssl s_server's flag; tlshake serve says --reply http")
        );
        assert_eq!(
            line(&["serve", "-dtls1_2", "-listen"], "-d").as_deref(),
            Some("-dtls1_2 is openssl s_server's flag; tlshake serve says --dtls")
        );
        assert_eq!(
            line(&["connect", "dtls://a:1", "-use_srtp", "SRTP_AES128_CM_SHA1_80"], "-u").as_deref(),
            Some("-use_srtp is openssl s_client's flag; tlshake connect says --srtp SRTP_AES128_CM_SHA1_80 with a dtls:// URL")
        );
        // Not an openssl flag, or not the argument the parser refused.
        assert_eq!(line(&["connect", "tls://a:1", "-x"], "-x"), None);
        assert_eq!(line(&["connect", "-showcerts", "-x"], "-x"), None);
        assert_eq!(line(&["bench", "-showcerts"], "-s"), None);
    }

    #[test]
    fn every_flag_once_per_program() {
        for table in [S_CLIENT, S_SERVER] {
            for (i, h) in table.iter().enumerate() {
                assert!(
                    table.iter().skip(i + 1).all(|o| o.flag != h.flag),
                    "{} twice",
                    h.flag
                );
                assert!(
                    h.instead.contains("--")
                        || h.instead.starts_with("nothing")
                        || h.flag == "connect",
                    "{}",
                    h.flag
                );
            }
        }
    }
}
