//! Hardened streaming XML walk shared by the autoconfig and Autodiscover parsers.
//!
//! Both documents come from the network, so the walk is defensive by construction:
//! - input is capped ([`MAX_INPUT`]) and must be UTF-8 (config-v1.1 files are UTF-8, draft
//!   §"Global elements"; Autodiscover answers declare `utf-8`);
//! - no recursion: open elements live on a heap stack capped at [`MAX_DEPTH`];
//! - entities are never expanded. quick-xml reports `&name;` as a separate event; only the five
//!   predefined entities and character references are resolved (XML 1.0 §4.6). Anything else —
//!   including entities declared in a DOCTYPE ("billion laughs") — marks the text of the
//!   enclosing element as unusable instead of failing the whole document;
//! - element text is capped at [`MAX_TEXT`] bytes.
//!
//! Names are reported as local names (prefix stripped) so callers can ignore namespaces, which
//! Autodiscover servers vary (`responseschema/2006` vs `2006a`).

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Largest document accepted (1 MiB): real files are a few KiB.
pub(crate) const MAX_INPUT: usize = 1024 * 1024;
/// Longest text content of one element, in bytes.
pub(crate) const MAX_TEXT: usize = 8 * 1024;
/// Deepest element nesting accepted; real documents nest 4–5 levels.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why bytes could not be walked as XML at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrepError {
    TooLarge(usize),
    Utf8(usize),
}

/// Check size and encoding, strip a UTF-8 byte order mark.
pub(crate) fn prepare(xml: &[u8]) -> Result<&str, PrepError> {
    if xml.len() > MAX_INPUT {
        return Err(PrepError::TooLarge(xml.len()));
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    std::str::from_utf8(xml).map_err(|e| PrepError::Utf8(e.valid_up_to()))
}

/// An attribute: local name and its value, or why the value is unusable.
pub(crate) type Attr = (String, Result<String, String>);

/// One step of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// An element starts (also emitted for `<empty/>`, followed by its `Close`).
    Open { name: String, attrs: Vec<Attr> },
    /// An element ends. `text` is its own trimmed character data (children's text excluded),
    /// or why that text is unusable (unknown entity, too long).
    Close {
        name: String,
        text: Result<String, String>,
    },
}

/// The text collected for one open element.
#[derive(Default)]
struct TextBuf {
    text: String,
    error: Option<String>,
}

impl TextBuf {
    fn push(&mut self, s: &str) {
        if self.error.is_some() {
            return;
        }
        if self.text.len() + s.len() > MAX_TEXT {
            self.error = Some(format!("text longer than {MAX_TEXT} bytes"));
            self.text.clear();
        } else {
            self.text.push_str(s);
        }
    }
    fn fail(&mut self, why: String) {
        if self.error.is_none() {
            self.error = Some(why);
            self.text.clear();
        }
    }
    fn finish(self) -> Result<String, String> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.text.trim_matches(is_xml_space).to_string()),
        }
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Pull parser over a prepared document.
pub(crate) struct Walker<'a> {
    reader: Reader<&'a [u8]>,
    open: Vec<TextBuf>,
    names: Vec<String>,
    pending_close: Option<String>,
    done: bool,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(xml: &'a str) -> Self {
        let mut reader = Reader::from_str(xml);
        // Mismatched end tags are a syntax error (XML 1.0 §3 WFC: Element Type Match).
        reader.config_mut().check_end_names = true;
        Walker {
            reader,
            open: Vec::new(),
            names: Vec::new(),
            pending_close: None,
            done: false,
        }
    }

    /// Next item; `Ok(None)` at the end of a well-formed document; `Err` with a readable
    /// reason (and byte offset) when the document is not well-formed XML.
    pub(crate) fn next_item(&mut self) -> Result<Option<Item>, String> {
        if let Some(name) = self.pending_close.take() {
            return Ok(Some(Item::Close {
                name,
                text: Ok(String::new()),
            }));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            let event = self
                .reader
                .read_event()
                .map_err(|e| format!("{e} (at byte {})", self.reader.error_position()))?;
            match event {
                Event::Start(e) => {
                    let (name, attrs) = self.open_tag(&e)?;
                    if self.names.len() >= MAX_DEPTH {
                        return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
                    }
                    self.names.push(name.clone());
                    self.open.push(TextBuf::default());
                    return Ok(Some(Item::Open { name, attrs }));
                }
                Event::Empty(e) => {
                    let (name, attrs) = self.open_tag(&e)?;
                    self.pending_close = Some(name.clone());
                    return Ok(Some(Item::Open { name, attrs }));
                }
                Event::End(_) => {
                    let name = self.names.pop().unwrap_or_default();
                    let text = self.open.pop().unwrap_or_default().finish();
                    return Ok(Some(Item::Close { name, text }));
                }
                Event::Text(t) => {
                    if let Some(buf) = self.open.last_mut() {
                        buf.push(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(buf) = self.open.last_mut() {
                        buf.push(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let Some(buf) = self.open.last_mut() else {
                        continue;
                    };
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => buf.push(c.encode_utf8(&mut [0; 4])),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                            Some(s) => buf.push(s),
                            // Declared in a DOCTYPE or not at all: never expanded.
                            None => buf.fail(format!("unknown entity '&{};'", &*r)),
                        },
                        Err(_) => buf.fail(format!("invalid character reference '&{};'", &*r)),
                    }
                }
                // The DOCTYPE (and any entity declarations in it) is skipped, not interpreted.
                Event::DocType(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => {
                    self.done = true;
                    if let Some(name) = self.names.last() {
                        return Err(format!("document ends inside <{name}>"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn open_tag(&self, e: &BytesStart<'_>) -> Result<(String, Vec<Attr>), String> {
        let name = e.local_name().as_ref().to_string();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| {
                format!(
                    "bad attribute in <{name}>: {err} (at byte {})",
                    self.reader.buffer_position()
                )
            })?;
            let key = a.key.local_name().as_ref().to_string();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.trim_matches(is_xml_space).to_string())
                .map_err(|err| format!("attribute '{key}': {err}"));
            attrs.push((key, value));
        }
        Ok((name, attrs))
    }
}

/// The value of attribute `name`, if present and usable.
pub(crate) fn attr<'x>(attrs: &'x [Attr], name: &str) -> Option<&'x Result<String, String>> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(xml: &str) -> Result<Vec<Item>, String> {
        let mut w = Walker::new(xml);
        let mut out = Vec::new();
        while let Some(item) = w.next_item()? {
            out.push(item);
        }
        Ok(out)
    }

    fn close(name: &str, text: Result<&str, &str>) -> Item {
        Item::Close {
            name: name.into(),
            text: text.map(String::from).map_err(String::from),
        }
    }

    #[test]
    fn text_entities_and_cdata() {
        let items = walk("<a>x &amp; &#65;&#x42; <![CDATA[<c>]]> </a>").unwrap();
        assert_eq!(items[1], close("a", Ok("x & AB <c>")));
    }

    #[test]
    fn unknown_entity_poisons_only_its_element() {
        let xml = "<!DOCTYPE r [<!ENTITY e \"x\">]><r><a>&e;</a><b>ok</b></r>";
        let items = walk(xml).unwrap();
        assert_eq!(items[2], close("a", Err("unknown entity '&e;'")));
        assert_eq!(items[4], close("b", Ok("ok")));
    }

    #[test]
    fn empty_element_and_prefixes() {
        let items = walk(r#"<p:r xmlns:p="urn:x"><p:e k=" v &lt; "/></p:r>"#).unwrap();
        assert_eq!(
            items[1],
            Item::Open {
                name: "e".into(),
                attrs: vec![("k".into(), Ok("v <".into()))]
            }
        );
        assert_eq!(items[2], close("e", Ok("")));
    }

    #[test]
    fn limits_and_syntax_errors() {
        assert!(walk("<a><b></a>").is_err());
        assert!(walk("<a><b>").unwrap_err().contains("ends inside"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(walk(&deep).unwrap_err().contains("nested deeper"));
        let long = format!("<a>{}</a>", "x".repeat(MAX_TEXT + 1));
        assert!(walk(&long).unwrap()[1] == close("a", Err("text longer than 8192 bytes")));
        assert_eq!(
            prepare(&[b'<'; MAX_INPUT + 1]),
            Err(PrepError::TooLarge(MAX_INPUT + 1))
        );
        assert_eq!(prepare(b"<a>\xff</a>"), Err(PrepError::Utf8(3)));
        assert_eq!(prepare(b"\xEF\xBB\xBF<a/>"), Ok("<a/>"));
    }
}
