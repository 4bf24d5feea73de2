//! [`http_reply`]: a minimal HTTP response describing the TLS session, like `s_server -www`.

use std::fmt::Write as _;

use crate::session::{name_to_string, Fact, SessionInfo};

/// A complete `HTTP/1.1 200 OK` response (headers and a `text/plain` body, with
/// `Content-Length` and `Connection: close`) whose body describes the session: protocol,
/// cipher, key-exchange group, ALPN, SNI, resumption, the client certificate and its verify result, and
/// Encrypted Client Hello (`ech: accepted (inner NAME, outer NAME)`). Like the page
/// `openssl s_server -www` serves; handy to check a listener with `curl` or a browser.
///
/// See the [module example](super) for a server answering every request with it.
pub fn http_reply(session: &SessionInfo) -> Vec<u8> {
    let body = describe(session);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\nServer: tlshake\r\n\r\n",
        body.len()
    );
    reply.push_str(&body);
    reply.into_bytes()
}

/// The body of [`http_reply`]: one `key: value` line per fact.
fn describe(session: &SessionInfo) -> String {
    let mut body = String::new();
    let none = "none";
    let _ = writeln!(body, "protocol: {}", session.protocol);
    let _ = writeln!(body, "cipher: {}", session.cipher);
    let group = match (&session.group, session.post_quantum()) {
        (Fact::Known(name), Some(true)) => format!("{name} (post-quantum)"),
        (Fact::Known(name), _) => name.clone(),
        (other, _) => format!("none ({})", other.missing_reason().unwrap_or_default()),
    };
    let _ = writeln!(body, "group: {group}");
    let alpn = match (&session.alpn, session.alpn_str()) {
        (None, _) => none.to_string(),
        (Some(_), Some(text)) => text.to_string(),
        (Some(raw), None) => format!("{raw:02x?}"),
    };
    let _ = writeln!(body, "alpn: {alpn}");
    let _ = writeln!(body, "sni: {}", session.sni.as_deref().unwrap_or(none));
    let _ = writeln!(
        body,
        "resumed: {}",
        if session.resumed { "yes" } else { "no" }
    );
    let client = session
        .peer_certificate
        .as_ref()
        .map(|c| name_to_string(c.subject_name()))
        .unwrap_or_else(|| none.to_string());
    let _ = writeln!(body, "client certificate: {client}");
    let verify = match &session.verify {
        None => String::from("no certificate"),
        Some(v) if v.is_ok() => format!("{} (ok)", v.code),
        Some(v) => format!("{} ({})", v.code, v.message),
    };
    let _ = writeln!(body, "verify: {verify}");
    let _ = writeln!(body, "ech: {}", session.ech);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::VerifyResult;
    use crate::version::ProtocolVersion;

    #[test]
    fn reply_has_headers_and_the_facts() {
        let session = SessionInfo {
            protocol: "TLSv1.3".to_string(),
            version: Some(ProtocolVersion::Tls1_3),
            cipher: "TLS_AES_256_GCM_SHA384".to_string(),
            alpn: Some(b"http/1.1".to_vec()),
            resumed: false,
            sni: Some("localhost".to_string()),
            verify: None,
            peer_certificate: None,
            peer_chain: Vec::new(),
            group: Fact::Known("X25519MLKEM768".to_string()),
            peer_signature: Fact::Absent,
            peer_key: Fact::Absent,
            ech: crate::ech::EchInfo::not_attempted(),
        };
        let reply = String::from_utf8(http_reply(&session)).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        assert!(body.contains("protocol: TLSv1.3\n"), "{body}");
        assert!(body.contains("alpn: http/1.1\n"), "{body}");
        assert!(
            body.contains("group: X25519MLKEM768 (post-quantum)\n"),
            "{body}"
        );
        assert!(body.contains("sni: localhost\n"), "{body}");
        assert!(body.contains("client certificate: none\n"), "{body}");
        assert!(body.contains("verify: no certificate\n"), "{body}");
        assert!(body.contains("ech: not_attempted\n"), "{body}");
        let verified = SessionInfo {
            verify: Some(VerifyResult {
                code: 0,
                message: "ok".to_string(),
            }),
            group: Fact::Resumed,
            ..session
        };
        let body = String::from_utf8(http_reply(&verified)).unwrap();
        assert!(body.contains("verify: 0 (ok)\n"), "{body}");
        assert!(body.contains("group: none (resumed)\n"), "{body}");
    }
}
