//! Fuzz target `starttls_replies`: feeds arbitrary bytes to every STARTTLS reply parser.
//!
//! Depends on `libfuzzer-sys` and `tlshake`; declared as a `[[bin]]` named `starttls_replies`
//! in `fuzz/Cargo.toml`. Run with `cargo fuzz run starttls_replies fuzz/corpus/starttls_replies`.
//!
//! Beyond "no panic", it checks the parsers' contract: a complete reply uses at least one and at
//! most all of the input bytes, and cutting the input right after the reply gives the same
//! answer (a parser never looks past its reply, which the injected-bytes check relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlshake::starttls::reply::{
    parse_ftp_reply, parse_imap_response, parse_irc_message, parse_ldap_message,
    parse_mysql_greeting, parse_nntp_reply, parse_pop3_reply, parse_postgres_response,
    parse_sieve_response, parse_smtp_reply, parse_xmpp_item, ReplyError,
};

fuzz_target!(|data: &[u8]| {
    check(data, parse_smtp_reply);
    check(data, parse_ftp_reply);
    check(data, parse_imap_response);
    check(data, parse_pop3_reply);
    check(data, parse_postgres_response);
    check(data, parse_xmpp_item);
    check(data, parse_ldap_message);
    check(data, parse_nntp_reply);
    check(data, parse_sieve_response);
    check(data, parse_mysql_greeting);
    check(data, parse_irc_message);
});

fn check<T: PartialEq + std::fmt::Debug>(
    data: &[u8],
    parse: fn(&[u8]) -> Result<Option<(T, usize)>, ReplyError>,
) {
    if let Ok(Some((reply, used))) = parse(data) {
        assert!(used >= 1 && used <= data.len(), "used {used} of {}", data.len());
        let again = parse(&data[..used]);
        assert_eq!(again, Ok(Some((reply, used))));
    }
}
