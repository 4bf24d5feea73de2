//! The application protocols whose plain-text dialogue can upgrade to TLS.

use std::fmt;
use std::str::FromStr;

/// An application protocol with a plain-text way to ask for TLS, as named by OpenSSL's
/// [`openssl s_client -starttls`](https://docs.openssl.org/3.0/man1/openssl-s_client/).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StarttlsProtocol {
    /// SMTP (RFC 3207): `EHLO`, then `STARTTLS`, answered by `220`.
    Smtp,
    /// LMTP (RFC 2033): like SMTP, with `LHLO` instead of `EHLO`.
    Lmtp,
    /// IMAP (RFC 3501 section 6.2.1): `. CAPABILITY`, then `. STARTTLS`, answered by `. OK`.
    Imap,
    /// POP3 (RFC 2595 section 4): `STLS`, answered by `+OK`.
    Pop3,
    /// FTP (RFC 4217): `AUTH TLS`, answered by `234`.
    Ftp,
    /// PostgreSQL: the 8-byte `SSLRequest` message, answered by the single byte `S`.
    Postgres,
    /// XMPP client-to-server (RFC 6120 section 5): a `jabber:client` stream header naming the
    /// server in `to=`, then `<starttls/>`, answered by `<proceed/>`.
    Xmpp,
    /// XMPP server-to-server (RFC 6120 section 5): as [`Xmpp`](Self::Xmpp), with the
    /// `jabber:server` namespace.
    XmppServer,
    /// IRC (IRCv3 `tls` extension): `STARTTLS`, answered by numeric `670` (`691` is failure).
    Irc,
    /// MySQL and MariaDB: the server's protocol-10 greeting must offer `CLIENT_SSL`; the client
    /// answers with an SSL request packet and starts TLS at once.
    Mysql,
    /// NNTP (RFC 4642): `CAPABILITIES`, then `STARTTLS`, answered by `382`.
    Nntp,
    /// ManageSieve (RFC 5804 section 2.2): the capability list up to `OK`, then `STARTTLS`,
    /// answered by `OK`.
    Sieve,
    /// LDAP (RFC 4511 section 4.14): the StartTLS extended operation
    /// (OID `1.3.6.1.4.1.1466.20037`), answered by result code 0 (`success`).
    Ldap,
}

impl StarttlsProtocol {
    /// Every protocol, in the order of this enum.
    pub const ALL: [StarttlsProtocol; 13] = [
        StarttlsProtocol::Smtp,
        StarttlsProtocol::Lmtp,
        StarttlsProtocol::Imap,
        StarttlsProtocol::Pop3,
        StarttlsProtocol::Ftp,
        StarttlsProtocol::Postgres,
        StarttlsProtocol::Xmpp,
        StarttlsProtocol::XmppServer,
        StarttlsProtocol::Irc,
        StarttlsProtocol::Mysql,
        StarttlsProtocol::Nntp,
        StarttlsProtocol::Sieve,
        StarttlsProtocol::Ldap,
    ];

    /// The [`name`](Self::name)s of [`ALL`](Self::ALL), in order, joined by `separator`
    /// (`"smtp|lmtp|imap|pop3|ftp|postgres|xmpp|..."` for `"|"`): the one list messages quote.
    pub fn names(separator: &str) -> String {
        StarttlsProtocol::ALL
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(separator)
    }

    /// The name `openssl s_client -starttls` uses: `smtp`, `lmtp`, `imap`, `pop3`, `ftp`,
    /// `postgres`, `xmpp`, `xmpp-server`, `irc`, `mysql`, `nntp`, `sieve`, `ldap`.
    /// [`Display`](fmt::Display) and [`FromStr`] use it too.
    pub fn name(self) -> &'static str {
        match self {
            StarttlsProtocol::Smtp => "smtp",
            StarttlsProtocol::Lmtp => "lmtp",
            StarttlsProtocol::Imap => "imap",
            StarttlsProtocol::Pop3 => "pop3",
            StarttlsProtocol::Ftp => "ftp",
            StarttlsProtocol::Postgres => "postgres",
            StarttlsProtocol::Xmpp => "xmpp",
            StarttlsProtocol::XmppServer => "xmpp-server",
            StarttlsProtocol::Irc => "irc",
            StarttlsProtocol::Mysql => "mysql",
            StarttlsProtocol::Nntp => "nntp",
            StarttlsProtocol::Sieve => "sieve",
            StarttlsProtocol::Ldap => "ldap",
        }
    }

    /// The protocol's usual written name, for messages: `SMTP`, ..., `PostgreSQL`, `XMPP`,
    /// ..., `ManageSieve`, `LDAP`.
    pub fn label(self) -> &'static str {
        match self {
            StarttlsProtocol::Smtp => "SMTP",
            StarttlsProtocol::Lmtp => "LMTP",
            StarttlsProtocol::Imap => "IMAP",
            StarttlsProtocol::Pop3 => "POP3",
            StarttlsProtocol::Ftp => "FTP",
            StarttlsProtocol::Postgres => "PostgreSQL",
            StarttlsProtocol::Xmpp => "XMPP",
            StarttlsProtocol::XmppServer => "XMPP server-to-server",
            StarttlsProtocol::Irc => "IRC",
            StarttlsProtocol::Mysql => "MySQL",
            StarttlsProtocol::Nntp => "NNTP",
            StarttlsProtocol::Sieve => "ManageSieve",
            StarttlsProtocol::Ldap => "LDAP",
        }
    }

    /// The command that asks the server for TLS: `STARTTLS`, `STLS`, `AUTH TLS`,
    /// `SSLRequest`, `<starttls/>`, `CLIENT_SSL` (MySQL's capability flag) or `StartTLS`
    /// (LDAP's extended operation).
    pub fn upgrade_command(self) -> &'static str {
        match self {
            StarttlsProtocol::Smtp
            | StarttlsProtocol::Lmtp
            | StarttlsProtocol::Imap
            | StarttlsProtocol::Irc
            | StarttlsProtocol::Nntp
            | StarttlsProtocol::Sieve => "STARTTLS",
            StarttlsProtocol::Pop3 => "STLS",
            StarttlsProtocol::Ftp => "AUTH TLS",
            StarttlsProtocol::Postgres => "SSLRequest",
            StarttlsProtocol::Xmpp | StarttlsProtocol::XmppServer => "<starttls/>",
            StarttlsProtocol::Mysql => "CLIENT_SSL",
            StarttlsProtocol::Ldap => "StartTLS",
        }
    }

    /// The port where the protocol is served in plain text and upgraded: 25, 24, 143, 110, 21,
    /// 5432, 5222, 5269, 6667, 3306, 119, 4190, 389.
    pub fn default_port(self) -> u16 {
        match self {
            StarttlsProtocol::Smtp => 25,
            StarttlsProtocol::Lmtp => 24,
            StarttlsProtocol::Imap => 143,
            StarttlsProtocol::Pop3 => 110,
            StarttlsProtocol::Ftp => 21,
            StarttlsProtocol::Postgres => 5432,
            StarttlsProtocol::Xmpp => 5222,
            StarttlsProtocol::XmppServer => 5269,
            StarttlsProtocol::Irc => 6667,
            StarttlsProtocol::Mysql => 3306,
            StarttlsProtocol::Nntp => 119,
            StarttlsProtocol::Sieve => 4190,
            StarttlsProtocol::Ldap => 389,
        }
    }

    /// The port where the same service speaks TLS from the first byte ("implicit TLS"), if
    /// there is one: 465 (SMTP submission, RFC 8314), 993 (IMAP), 995 (POP3), 990 (FTP),
    /// 5223 (XMPP, XEP-0368), 6697 (IRC, RFC 7194), 563 (NNTP, RFC 4642), 636 (LDAP).
    pub fn implicit_tls_port(self) -> Option<u16> {
        match self {
            StarttlsProtocol::Smtp => Some(465),
            StarttlsProtocol::Imap => Some(993),
            StarttlsProtocol::Pop3 => Some(995),
            StarttlsProtocol::Ftp => Some(990),
            StarttlsProtocol::Xmpp => Some(5223),
            StarttlsProtocol::Irc => Some(6697),
            StarttlsProtocol::Nntp => Some(563),
            StarttlsProtocol::Ldap => Some(636),
            StarttlsProtocol::Lmtp
            | StarttlsProtocol::Postgres
            | StarttlsProtocol::XmppServer
            | StarttlsProtocol::Mysql
            | StarttlsProtocol::Sieve => None,
        }
    }
}

impl fmt::Display for StarttlsProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A STARTTLS protocol name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownStarttlsProtocol {
    /// The text that was given.
    pub given: String,
}
impl fmt::Display for UnknownStarttlsProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnknownStarttlsProtocol { given, .. } = self;
        write!(
            f,
            "unknown STARTTLS protocol {given:?}: use one of {}",
            StarttlsProtocol::names(", ")
        )?;
        crate::error::write_causes(self, f)
    }
}

impl FromStr for StarttlsProtocol {
    type Err = UnknownStarttlsProtocol;

    /// Accepts the names of [`StarttlsProtocol::name`], ignoring ASCII case and surrounding
    /// white space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        StarttlsProtocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownStarttlsProtocol {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in StarttlsProtocol::ALL {
            assert_eq!(p.to_string().parse::<StarttlsProtocol>(), Ok(p));
        }
        assert_eq!("  IMAP ".parse(), Ok(StarttlsProtocol::Imap));
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "telnet".parse::<StarttlsProtocol>().unwrap_err();
        assert_eq!(err.given, "telnet");
        assert_eq!(
            err.to_string(),
            "unknown STARTTLS protocol \"telnet\": use one of smtp, lmtp, imap, pop3, ftp, \
             postgres, xmpp, xmpp-server, irc, mysql, nntp, sieve, ldap"
        );
    }

    #[test]
    fn ports() {
        let ports: Vec<_> = StarttlsProtocol::ALL
            .iter()
            .map(|p| (p.default_port(), p.implicit_tls_port()))
            .collect();
        assert_eq!(
            ports,
            [
                (25, Some(465)),
                (24, None),
                (143, Some(993)),
                (110, Some(995)),
                (21, Some(990)),
                (5432, None),
                (5222, Some(5223)),
                (5269, None),
                (6667, Some(6697)),
                (3306, None),
                (119, Some(563)),
                (4190, None),
                (389, Some(636)),
            ]
        );
    }
}
