//! XMPP stream items (RFC 6120 section 4): the XML declaration, the stream header, and the
//! complete first-level elements that follow it (`<stream:features>`, `<proceed/>`, ...).
//!
//! This is not a general XML parser: it checks the shape of tags (names, quoted attributes,
//! nesting) and reads the `xmlns` of each element, which is all a STARTTLS client needs.
//! Document type declarations, which RFC 6120 section 11.1 forbids, are refused.

use super::text::{escape_bytes, malformed};
use super::{ReplyError, MAX_REPLY_BYTES, MAX_REPLY_LINES};

/// The namespace of the STARTTLS elements (RFC 6120 section 5.4).
pub const XMPP_TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";

/// One item of an XMPP stream, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmppItem {
    /// The XML declaration, `<?xml version='1.0'?>`.
    Declaration,
    /// The stream header, `<stream:stream ...>`, left open for the rest of the stream.
    StreamOpen(XmppElement),
    /// The end of the stream, `</stream:stream>`.
    StreamClose,
    /// A complete first-level element, e.g. `<stream:features>...</stream:features>`.
    Element(XmppElement),
}

/// An element: its name, namespace, and the names of its direct children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppElement {
    /// The name as written, with its prefix (`"stream:features"`, `"proceed"`).
    pub name: String,
    /// The value of its `xmlns` attribute, if it has one.
    pub xmlns: Option<String>,
    /// Its direct children, in order.
    pub children: Vec<XmppChild>,
    /// The element's bytes as received, escaped.
    pub text: String,
}

/// A direct child of an [`XmppElement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppChild {
    /// The name as written (`"starttls"`, `"mechanisms"`).
    pub name: String,
    /// The value of its `xmlns` attribute, if it has one.
    pub xmlns: Option<String>,
}

impl XmppElement {
    /// The name without its prefix: `"features"` for `"stream:features"`.
    pub fn local_name(&self) -> &str {
        local(&self.name)
    }

    /// True when a direct child is `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>`.
    pub fn offers_starttls(&self) -> bool {
        self.children
            .iter()
            .any(|c| local(&c.name) == "starttls" && c.xmlns.as_deref() == Some(XMPP_TLS_NS))
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Parses one stream item after optional white space.
///
/// See the [module documentation](super) for the return convention.
pub fn parse_xmpp_item(buf: &[u8]) -> Result<Option<(XmppItem, usize)>, ReplyError> {
    let start = buf
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(buf.len());
    let incomplete = || {
        if buf.len() > MAX_REPLY_BYTES {
            Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES,
            })
        } else {
            Ok(None)
        }
    };
    let Some(&first) = buf.get(start) else {
        return incomplete();
    };
    if first != b'<' {
        return Err(malformed(
            "XMPP is XML: an item must start with <",
            &buf[start..],
        ));
    }
    let mut pos = start;
    // The names of the open elements below the top one, innermost last.
    let mut open: Vec<String> = Vec::new();
    let mut top: Option<XmppElement> = None;
    let mut tags = 0usize;
    loop {
        if pos > MAX_REPLY_BYTES {
            return Err(ReplyError::TooLong {
                limit: MAX_REPLY_BYTES,
            });
        }
        // Text between tags: skip to the next '<'.
        let Some(lt) = buf
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'<'))
        else {
            return incomplete();
        };
        pos += lt;
        let Some(tag) = scan_tag(buf, pos)? else {
            return incomplete();
        };
        tags += 1;
        if tags > MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines {
                limit: MAX_REPLY_LINES,
            });
        }
        let end = tag.end;
        let text = || escape_bytes(buf.get(start..end).unwrap_or_default());
        match (top.as_mut(), tag.kind) {
            (None, Kind::Declaration) => return Ok(Some((XmppItem::Declaration, end))),
            (_, Kind::Declaration | Kind::Comment) => {}
            (None, Kind::Open) if local(&tag.name) == "stream" => {
                let element = tag.element(text());
                return Ok(Some((XmppItem::StreamOpen(element), end)));
            }
            (None, Kind::Close) if local(&tag.name) == "stream" => {
                return Ok(Some((XmppItem::StreamClose, end)));
            }
            (None, Kind::Close) => {
                return Err(malformed(
                    "a closing tag without its opening tag",
                    &buf[start..],
                ));
            }
            (None, Kind::SelfClose) => {
                return Ok(Some((XmppItem::Element(tag.element(text())), end)));
            }
            (None, Kind::Open) => top = Some(tag.element(String::new())),
            (Some(element), Kind::Open | Kind::SelfClose) => {
                if open.is_empty() {
                    element.children.push(XmppChild {
                        name: tag.name.clone(),
                        xmlns: tag.xmlns.clone(),
                    });
                }
                if tag.kind == Kind::Open {
                    open.push(tag.name);
                }
            }
            (Some(element), Kind::Close) => {
                let closes_top = open.is_empty();
                let expected = open.pop().unwrap_or_else(|| element.name.clone());
                if tag.name != expected {
                    return Err(malformed("mismatched closing tag", &buf[start..end]));
                }
                if closes_top {
                    let mut element = top.take().unwrap_or_else(|| tag.element(String::new()));
                    element.text = text();
                    return Ok(Some((XmppItem::Element(element), end)));
                }
            }
        }
        pos = end;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Declaration,
    Comment,
    Open,
    Close,
    SelfClose,
}

#[derive(Debug)]
struct Tag {
    kind: Kind,
    name: String,
    xmlns: Option<String>,
    end: usize,
}

impl Tag {
    fn element(&self, text: String) -> XmppElement {
        XmppElement {
            name: self.name.clone(),
            xmlns: self.xmlns.clone(),
            children: Vec::new(),
            text,
        }
    }
}

/// Reads the tag starting at `buf[pos] == b'<'`. `None` when it is not complete yet.
fn scan_tag(buf: &[u8], pos: usize) -> Result<Option<Tag>, ReplyError> {
    let rest = buf.get(pos..).unwrap_or_default();
    let simple = |kind, close: &[u8]| {
        Ok(find(rest, close).map(|at| Tag {
            kind,
            name: String::new(),
            xmlns: None,
            end: pos + at + close.len(),
        }))
    };
    if rest.starts_with(b"<?") {
        return simple(Kind::Declaration, b"?>");
    }
    if rest.starts_with(b"<!--") {
        return simple(Kind::Comment, b"-->");
    }
    if rest.starts_with(b"<!") {
        return Err(malformed("XMPP forbids <! declarations", rest));
    }
    if rest.len() < 3 {
        return Ok(None);
    }
    let closing = rest.get(1) == Some(&b'/');
    let name_start = if closing { 2 } else { 1 };
    let name_len = rest
        .iter()
        .skip(name_start)
        .position(|&b| !is_name_byte(b))
        .unwrap_or(rest.len() - name_start);
    let name_end = name_start + name_len;
    let Some(&after) = rest.get(name_end) else {
        return Ok(None);
    };
    if name_len == 0 || !(after.is_ascii_whitespace() || after == b'>' || after == b'/') {
        return Err(malformed("a tag must start with a name", rest));
    }
    let name = String::from_utf8_lossy(&rest[name_start..name_end]).into_owned();
    // Attributes up to '>' or '/>'.
    let mut i = name_end;
    let mut xmlns = None;
    loop {
        while rest.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&b) = rest.get(i) else {
            return Ok(None);
        };
        match b {
            b'>' => {
                let kind = if closing { Kind::Close } else { Kind::Open };
                return Ok(Some(Tag {
                    kind,
                    name,
                    xmlns,
                    end: pos + i + 1,
                }));
            }
            b'/' if !closing => {
                return match rest.get(i + 1) {
                    None => Ok(None),
                    Some(b'>') => Ok(Some(Tag {
                        kind: Kind::SelfClose,
                        name,
                        xmlns,
                        end: pos + i + 2,
                    })),
                    Some(_) => Err(malformed("'/' inside a tag", rest)),
                };
            }
            _ if closing => return Err(malformed("a closing tag has no attributes", rest)),
            _ => {}
        }
        let attr_len = rest
            .iter()
            .skip(i)
            .position(|&b| !is_name_byte(b))
            .unwrap_or(rest.len() - i);
        if attr_len == 0 {
            if i + 1 > rest.len() {
                return Ok(None);
            }
            return Err(malformed("an attribute must start with a name", rest));
        }
        let attr = &rest[i..i + attr_len];
        i += attr_len;
        while rest.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match rest.get(i) {
            None => return Ok(None),
            Some(b'=') => i += 1,
            Some(_) => return Err(malformed("an attribute needs =\"value\"", rest)),
        }
        while rest.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let quote = match rest.get(i) {
            None => return Ok(None),
            Some(&q @ (b'"' | b'\'')) => q,
            Some(_) => return Err(malformed("an attribute value must be quoted", rest)),
        };
        let Some(len) = rest
            .get(i + 1..)
            .and_then(|r| r.iter().position(|&b| b == quote))
        else {
            return Ok(None);
        };
        let value = &rest[i + 1..i + 1 + len];
        if value.contains(&b'<') {
            return Err(malformed("'<' inside an attribute value", rest));
        }
        if attr == b"xmlns" {
            xmlns = Some(escape_bytes(value));
        }
        i += len + 2;
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.') || b >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_features() {
        let buf = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='1'>\
                    <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
                    <required/></starttls><mechanisms xmlns='x'/></stream:features>";
        let (item, used) = parse_xmpp_item(buf).unwrap().unwrap();
        assert_eq!((item, used), (XmppItem::Declaration, 21));
        let rest = &buf[21..];
        let (item, used) = parse_xmpp_item(rest).unwrap().unwrap();
        assert!(
            matches!(item, XmppItem::StreamOpen(ref e) if e.xmlns.as_deref() == Some("jabber:client"))
        );
        let (item, used2) = parse_xmpp_item(&rest[used..]).unwrap().unwrap();
        let XmppItem::Element(features) = item else {
            panic!("{item:?}")
        };
        assert_eq!(used + used2, rest.len());
        assert_eq!(features.local_name(), "features");
        assert!(features.offers_starttls());
        assert_eq!(features.children.len(), 2);
    }

    #[test]
    fn incomplete_and_malformed() {
        assert_eq!(parse_xmpp_item(b"<stream:features><starttls"), Ok(None));
        assert_eq!(parse_xmpp_item(b"  "), Ok(None));
        assert!(parse_xmpp_item(b"\x16\x03\x01").is_err());
        assert!(parse_xmpp_item(b"220 mx ESMTP\r\n").is_err());
        assert!(parse_xmpp_item(b"<a></b>").is_err());
        assert!(parse_xmpp_item(b"<!DOCTYPE x>").is_err());
        assert!(parse_xmpp_item(b"<a b=c>").is_err());
    }

    #[test]
    fn self_closed_proceed() {
        let (item, used) = parse_xmpp_item(b"<proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>")
            .unwrap()
            .unwrap();
        assert_eq!(used, 50);
        assert!(matches!(item, XmppItem::Element(e) if e.name == "proceed"
            && e.xmlns.as_deref() == Some(XMPP_TLS_NS)));
    }
}
