//! The options of `tlshake connect` and how their values are read.

use std::path::PathBuf;

use clap::Args;
use tlshake::fingerprint::Fingerprint;
use tlshake::starttls::StarttlsProtocol;
use tlshake::{NodelayPolicy, ProtocolVersion};

/// Options of `tlshake connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// Where to connect: tls://host:port, ssl://, tlsv1.2://, tlsv1.3://, tcp://host:port
    /// with --starttls, or dtls://host:port (DTLS 1.2 over UDP). IPv6 literals in brackets:
    /// tls://[::1]:443.
    pub(super) url: String,
    /// Trusted CA certificates, one PEM file (default: the system trust store).
    #[arg(long, value_name = "FILE")]
    pub(super) cafile: Option<PathBuf>,
    /// Directory of hashed CA certificates (c_rehash layout).
    #[arg(long, value_name = "DIR")]
    pub(super) capath: Option<PathBuf>,
    /// Client certificate, PEM (chain after the leaf); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(super) cert: Option<PathBuf>,
    /// Private key of --cert, PEM.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(super) key: Option<PathBuf>,
    /// Passphrase of an encrypted --key.
    #[arg(long, value_name = "PASS")]
    pub(super) pass: Option<String>,
    /// Name to send as SNI and to verify, instead of the URL's host.
    #[arg(long, value_name = "NAME")]
    pub(super) servername: Option<String>,
    /// Send no SNI extension.
    #[arg(long)]
    pub(super) no_sni: bool,
    /// Do not verify the certificate chain (the result is still reported).
    #[arg(long)]
    pub(super) insecure: bool,
    /// Do not verify the host name or IP address against the certificate.
    #[arg(long)]
    pub(super) no_verify_name: bool,
    /// Accept a self-signed server certificate.
    #[arg(long)]
    pub(super) allow_self_signed: bool,
    /// How many intermediate CAs the server's chain may have, as s_client's -verify_depth
    /// (default: OpenSSL's, 100). A longer chain fails with verify code 22.
    #[arg(long, value_name = "N")]
    pub(super) verify_depth: Option<u32>,
    /// Pin the server certificate's digest (hex, 32/40/64 digits, colons allowed,
    /// optional md5:/sha1:/sha256: prefix).
    #[arg(long, value_name = "HEX", value_parser = parse_fingerprint)]
    pub(super) fingerprint: Option<Fingerprint>,
    /// ALPN protocols to offer, comma-separated, most preferred first (h2,http/1.1).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(super) alpn: Vec<String>,
    /// Lowest protocol version: tls1, tls1.1, tls1.2 (default), tls1.3.
    #[arg(long, value_name = "V")]
    pub(super) min_proto: Option<ProtocolVersion>,
    /// Highest protocol version: tls1, tls1.1, tls1.2, tls1.3 (default).
    #[arg(long, value_name = "V")]
    pub(super) max_proto: Option<ProtocolVersion>,
    /// Allow TLS 1.0 and 1.1 (lowers OpenSSL's security level to 0).
    #[arg(long)]
    pub(super) legacy: bool,
    /// Also offer the TLS 1.2 CBC suites (default: ECDHE with AES-GCM or ChaCha20-Poly1305).
    #[arg(long)]
    pub(super) allow_cbc: bool,
    /// TLS 1.2 cipher list (OpenSSL syntax).
    #[arg(long, value_name = "S")]
    pub(super) ciphers: Option<String>,
    /// TLS 1.3 ciphersuites (OpenSSL syntax).
    #[arg(long, value_name = "S")]
    pub(super) ciphersuites: Option<String>,
    /// Key-exchange groups to offer, most preferred first, as s_client's -groups
    /// (X25519:P-256). Default: OpenSSL's own list, which on OpenSSL 3.5 and newer leads
    /// with the post-quantum hybrid X25519MLKEM768.
    #[arg(long, value_name = "LIST")]
    pub(super) groups: Option<String>,
    /// Run this plain-text dialogue before the handshake (use a tcp:// URL).
    #[arg(long, value_name = "PROTO", help = starttls_help())]
    pub(super) starttls: Option<StarttlsProtocol>,
    /// The XMPP domain for the stream header's to= with --starttls xmpp or xmpp-server
    /// (default: the URL's host), as s_client's -xmpphost.
    #[arg(long, value_name = "NAME")]
    pub(super) xmpphost: Option<String>,
    /// One deadline in seconds for connect + STARTTLS + handshake (and for reading the
    /// answer to --send).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = crate::values::parse_secs)]
    pub(super) timeout: f64,
    /// When to set TCP_NODELAY: leave, always (default), after.
    #[arg(long, value_name = "POLICY")]
    pub(super) nodelay: Option<NodelayPolicy>,
    /// Write TEXT after the handshake, then print what comes back until EOF or the timeout.
    #[arg(long, value_name = "TEXT")]
    pub(super) send: Option<String>,
    /// Print the whole certificate chain the server sent, as PEM.
    #[arg(long)]
    pub(super) showcerts: bool,
    /// Offer the TLS session saved in FILE (PEM, as s_client -sess_out writes it) for
    /// resumption; "resumed" says whether the server took it.
    #[arg(long, value_name = "FILE")]
    pub(super) sess_in: Option<PathBuf>,
    /// Save the TLS session to FILE (PEM, as s_client -sess_in reads it; mode 0600: it holds
    /// the session's secrets). Under TLS 1.3, waits up to 2 s for the server's ticket.
    #[arg(long, value_name = "FILE")]
    pub(super) sess_out: Option<PathBuf>,
    /// After the first connection, make N more that offer its session, reporting for each
    /// whether it was resumed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(super) reconnect: u32,
    /// Tunnel through this HTTP proxy (HOST:PORT) with CONNECT first, within --timeout.
    #[arg(long, value_name = "HOST:PORT")]
    pub(super) proxy: Option<String>,
    /// Show every TLS message sent and received, with its size, its time since the start of
    /// the connection and what it says (groups, signature, ALPN, certificates, alerts).
    #[arg(long)]
    pub(super) trace: bool,
    /// Ask the server to staple its certificate's OCSP status and report it (none, good,
    /// revoked, unknown, with its times and whether its signature verified).
    #[arg(long)]
    pub(super) status: bool,
    /// Append the connection's TLS secrets to FILE in the NSS key log format, for
    /// Wireshark (default: $SSLKEYLOGFILE when set). The file holds secrets that decrypt the
    /// traffic: debugging only.
    #[arg(long, value_name = "FILE")]
    pub(super) keylog: Option<PathBuf>,
    /// Encrypted Client Hello.
    #[command(flatten)]
    pub(super) ech: crate::ech::ConnectEchArgs,
    /// DTLS settings (dtls:// URLs only).
    #[command(flatten)]
    pub(super) dtls: crate::dtls::DtlsArgs,
    /// Print exactly one JSON object on stdout instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

fn parse_fingerprint(text: &str) -> Result<Fingerprint, String> {
    Fingerprint::parse(text).map_err(|e| e.to_string())
}

/// The --starttls help, listing every protocol from the one table.
fn starttls_help() -> String {
    format!(
        "Run this plain-text dialogue before the handshake: {} (use a tcp:// URL)",
        StarttlsProtocol::names(", ")
    )
}
