//! What an `openssl s_client` run printed, and the facts read from it.

use std::process::ExitStatus;

/// The result of an `openssl s_client` run: exit status and output.
///
/// The helpers read the lines OpenSSL 1.1.1 and 3.x print, in the full report and in the
/// `-brief` summary. Only facts from a completed handshake are reported: s_client prints
/// `Protocol  : TLSv1.2` and `Verify return code: 0 (ok)` even for handshakes that failed.
#[derive(Debug, Clone)]
pub struct ClientRun {
    /// How s_client exited: non-zero after a failed handshake or connection.
    pub status: ExitStatus,
    /// Everything s_client wrote on stdout (the full report).
    pub stdout: String,
    /// Everything s_client wrote on stderr (`-state` progress, verify errors, `-brief` summary,
    /// OpenSSL error queue).
    pub stderr: String,
}

impl ClientRun {
    fn lines(&self) -> impl Iterator<Item = &str> + '_ {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .map(str::trim_end)
    }

    /// The first value of the line `prefix VALUE` (after leading spaces), if any.
    fn value(&self, prefix: &str) -> Option<&str> {
        self.lines()
            .find_map(|line| line.trim_start().strip_prefix(prefix))
            .map(str::trim)
    }

    /// Protocol and cipher from `New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384` (or
    /// `Reused, ...`), unless they are `(NONE)`.
    fn session_line(&self) -> Option<(&str, &str)> {
        self.lines().find_map(|line| {
            let rest = line
                .strip_prefix("New, ")
                .or_else(|| line.strip_prefix("Reused, "))?;
            let (protocol, cipher) = rest.split_once(", Cipher is ")?;
            (protocol != "(NONE)").then_some((protocol, cipher.trim()))
        })
    }

    /// True when s_client completed its side of the handshake.
    ///
    /// Read from `CONNECTION ESTABLISHED` (`-brief`), or from a `New, <protocol>, Cipher is`
    /// line with no `SSL_connect:error in` / `SSL_connect:failed in` line from `-state` (s_client
    /// prints the session line after a failed TLS 1.2 handshake too). In TLS 1.3 the client
    /// finishes before the server has checked the client certificate, so a server's refusal of
    /// it shows as an alert *after* a completed handshake: see [`alert`](ClientRun::alert).
    pub fn handshake_done(&self) -> bool {
        if self.lines().any(|l| l == "CONNECTION ESTABLISHED") {
            return true;
        }
        let failed = self.lines().any(|l| {
            l.starts_with("SSL_connect:error in") || l.starts_with("SSL_connect:failed in")
        });
        !failed && self.session_line().is_some()
    }

    /// The negotiated protocol as OpenSSL names it (`"TLSv1.3"`), if the handshake completed.
    pub fn protocol(&self) -> Option<String> {
        if !self.handshake_done() {
            return None;
        }
        let protocol = match self.session_line() {
            Some((protocol, _)) => protocol,
            None => self
                .value("Protocol version:")
                .or_else(|| self.value("Protocol  :"))?,
        };
        Some(protocol.to_string())
    }

    /// The negotiated cipher suite as OpenSSL names it (`"TLS_AES_256_GCM_SHA384"`,
    /// `"ECDHE-ECDSA-AES256-GCM-SHA384"`), if the handshake completed.
    pub fn cipher(&self) -> Option<String> {
        if !self.handshake_done() {
            return None;
        }
        let cipher = match self.session_line() {
            Some((_, cipher)) => cipher,
            None => self
                .value("Ciphersuite:")
                .or_else(|| self.value("Cipher    :"))?,
        };
        Some(cipher.to_string())
    }

    /// The certificate verification result: an `X509_V_ERR_*` code, `0` for success (see
    /// [X509_verify_cert_error_string(3)](https://docs.openssl.org/3.0/man3/X509_verify_cert_error_string/)).
    ///
    /// The last `verify error:num=N:` line wins (it is what `SSL_get_verify_result` returns);
    /// without one, `Verify return code: N (...)` or `Verification: OK`. `None` when no
    /// verdict was printed, or when the server sent no certificate.
    pub fn verify_code(&self) -> Option<i64> {
        let last_error = self.lines().filter_map(|line| {
            let (code, _) = line.strip_prefix("verify error:num=")?.split_once(':')?;
            code.parse::<i64>().ok()
        });
        if let Some(code) = last_error.last() {
            return Some(code);
        }
        if self.lines().any(|l| l == "no peer certificate available") {
            return None;
        }
        if let Some(value) = self.value("Verify return code:") {
            let (code, _) = value.split_once(' ').unwrap_or((value, ""));
            return code.parse().ok();
        }
        self.lines().any(|l| l == "Verification: OK").then_some(0)
    }

    /// True when the handshake completed and the server's certificate verified
    /// ([`verify_code`](ClientRun::verify_code) is `0`).
    pub fn verify_ok(&self) -> bool {
        self.handshake_done() && self.verify_code() == Some(0)
    }

    /// The text of `Verification error: ...`, such as `"unable to get local issuer
    /// certificate"`.
    pub fn verify_error(&self) -> Option<String> {
        self.value("Verification error:").map(str::to_string)
    }

    /// The protocol chosen by ALPN (`ALPN protocol: h2`); `None` if none was (or with `-brief`).
    pub fn alpn(&self) -> Option<String> {
        self.value("ALPN protocol:").map(str::to_string)
    }

    /// The description of the first fatal alert s_client received, from `-state`
    /// (`SSL3 alert read:fatal:handshake failure` gives `"handshake failure"`).
    pub fn alert(&self) -> Option<String> {
        self.value("SSL3 alert read:fatal:").map(str::to_string)
    }

    /// Stdout then stderr, for assertion messages.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn run(code: i32, stdout: &str, stderr: &str) -> ClientRun {
        ClientRun {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
        }
    }

    const TLS13_OK: &str = "CONNECTED(00000003)\n---\nSSL handshake has read 850 bytes and \
        written 377 bytes\nVerification: OK\n---\nNew, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384\n\
        ALPN protocol: h2\nEarly data was not sent\nVerify return code: 0 (ok)\n---\n";

    #[test]
    fn full_report_of_a_tls13_handshake() {
        let r = run(0, TLS13_OK, "SSL_connect:SSLv3/TLS write finished\nDONE\n");
        assert!(r.handshake_done());
        assert_eq!(r.protocol().as_deref(), Some("TLSv1.3"));
        assert_eq!(r.cipher().as_deref(), Some("TLS_AES_256_GCM_SHA384"));
        assert_eq!(r.verify_code(), Some(0));
        assert!(r.verify_ok());
        assert_eq!(r.alpn().as_deref(), Some("h2"));
        assert_eq!(r.alert(), None);
        assert!(r.status.success());
    }

    #[test]
    fn failed_tls12_handshake_is_not_done() {
        let stdout = "SSL handshake has read 1184 bytes\nVerification: OK\n---\n\
            New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384\nSSL-Session:\n    \
            Protocol  : TLSv1.2\n    Verify return code: 0 (ok)\n";
        let stderr = "SSL_connect:SSLv3/TLS write finished\n\
            SSL3 alert read:fatal:handshake failure\nSSL_connect:error in error\n";
        let r = run(1, stdout, stderr);
        assert!(!r.handshake_done());
        assert_eq!(r.protocol(), None);
        assert_eq!(r.cipher(), None);
        assert!(!r.verify_ok());
        assert_eq!(r.verify_code(), Some(0));
        assert_eq!(r.alert().as_deref(), Some("handshake failure"));
    }

    #[test]
    fn verification_failure_reports_the_last_error() {
        let stdout = "no peer certificate available\n---\nVerification error: unable to get \
            local issuer certificate\n---\nNew, (NONE), Cipher is (NONE)\n    Verify return code: 0 (ok)\n";
        let stderr = "depth=0 CN = localhost\nverify error:num=20:unable to get local issuer \
            certificate\nSSL_connect:error in SSLv3/TLS read server certificate\n";
        let r = run(1, stdout, stderr);
        assert!(!r.handshake_done());
        assert_eq!(r.verify_code(), Some(20));
        assert_eq!(
            r.verify_error().as_deref(),
            Some("unable to get local issuer certificate")
        );
        assert!(!r.verify_ok());
    }

    #[test]
    fn no_peer_certificate_means_no_verdict() {
        let stdout = "no peer certificate available\nVerification: OK\n\
            New, (NONE), Cipher is (NONE)\nVerify return code: 0 (ok)\n";
        let r = run(1, stdout, "write:errno=104\n");
        assert!(!r.handshake_done());
        assert_eq!(r.verify_code(), None);
        assert_eq!(r.protocol(), None);
    }

    #[test]
    fn brief_summary() {
        let stderr = "verify error:num=20:unable to get local issuer certificate\n\
            verify error:num=21:unable to verify the first certificate\n\
            CONNECTION ESTABLISHED\nProtocol version: TLSv1.2\n\
            Ciphersuite: ECDHE-ECDSA-AES256-GCM-SHA384\n\
            Verification error: unable to verify the first certificate\nDONE\n";
        let r = run(0, "", stderr);
        assert!(r.handshake_done());
        assert_eq!(r.protocol().as_deref(), Some("TLSv1.2"));
        assert_eq!(r.cipher().as_deref(), Some("ECDHE-ECDSA-AES256-GCM-SHA384"));
        assert_eq!(r.verify_code(), Some(21));
        assert!(!r.verify_ok());

        let ok = run(
            0,
            "",
            "CONNECTION ESTABLISHED\nProtocol version: TLSv1.3\n\
            Ciphersuite: TLS_AES_128_GCM_SHA256\nVerification: OK\n",
        );
        assert!(ok.verify_ok());
        assert_eq!(ok.cipher().as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    }

    #[test]
    fn connection_refused() {
        let stderr = "error:8000006F:system library:BIO_connect:Connection refused\n\
            connect:errno=111\n";
        let r = run(1, "", stderr);
        assert!(!r.handshake_done());
        assert_eq!(r.protocol(), None);
        assert_eq!(r.verify_code(), None);
        assert!(!r.status.success());
    }
}
