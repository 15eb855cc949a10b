//! The data of untagged IMAP responses, as pure functions over one response's text (without
//! the leading `* `): `CAPABILITY` (RFC 9051 §7.2.2) as a [`Capabilities`] set, `LIST`
//! (§7.3.1, with RFC 6154 SPECIAL-USE attributes), `SEARCH` (§7.3.4, RFC 3501 §7.2.5) and the
//! `INTERNALDATE` of a `FETCH` (§7.5.2).

use crate::proto::caps::{self, Capability, CapabilitySet};

/// What an IMAP server advertises (RFC 9051 §7.2.2), names as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    names: Vec<String>,
    sasl: Vec<String>,
}

impl Capabilities {
    pub fn new(names: Vec<String>) -> Self {
        let sasl = sasl_mechanisms(&names);
        Capabilities { names, sasl }
    }

    /// The names as the server sent them.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl CapabilitySet for Capabilities {
    fn has(&self, cap: Capability<'_>) -> bool {
        let name = match cap {
            Capability::StartTls => "STARTTLS",
            Capability::Auth(m) => return caps::names(&self.sasl, m),
            Capability::SaslIr => "SASL-IR",
            Capability::LoginDisabled => "LOGINDISABLED",
            Capability::Idle => "IDLE",
            Capability::UidPlus => "UIDPLUS",
            Capability::SpecialUse => "SPECIAL-USE",
            Capability::User | Capability::Pipelining => return false,
            Capability::Named(n) => n,
        };
        caps::names(&self.names, name)
    }
    fn sasl(&self) -> &[String] {
        &self.sasl
    }
    fn lines(&self) -> &[String] {
        &self.names
    }
}

/// Capabilities from a response code `CAPABILITY IMAP4rev1 …` (RFC 9051 §7.1), if it is one.
pub fn capabilities_from_code(code: &str) -> Option<Capabilities> {
    capabilities_from_untagged(code)
}

/// Capabilities from an untagged `CAPABILITY …` data line (without the `* `).
pub fn capabilities_from_untagged(data: &str) -> Option<Capabilities> {
    let (name, args) = data.split_once(' ').unwrap_or((data, ""));
    name.eq_ignore_ascii_case("CAPABILITY")
        .then(|| Capabilities::new(args.split_ascii_whitespace().map(str::to_string).collect()))
}

/// SASL mechanisms from `AUTH=` capabilities (RFC 9051 §7.2.2), upper-cased.
pub fn sasl_mechanisms(caps: &[String]) -> Vec<String> {
    caps.iter()
        .filter_map(|c| {
            let (k, v) = c.split_once('=')?;
            k.eq_ignore_ascii_case("AUTH")
                .then(|| v.to_ascii_uppercase())
        })
        .collect()
}

/// One mailbox of a LIST response: its attributes (`\HasNoChildren`, `\Junk`, …) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub attributes: Vec<String>,
    pub name: String,
}

/// `LIST (\HasNoChildren \Junk) "/" Junk` (RFC 9051 §7.3.1; without the `* `). Quoted names
/// are unquoted; the delimiter is `NIL` or one quoted (possibly escaped) character.
pub fn parse_list(data: &str) -> Option<ListEntry> {
    let rest = data.strip_prefix("LIST (")?;
    let (attrs, rest) = rest.split_once(')')?;
    let rest = rest.trim_start();
    let rest = if let Some(r) = rest.strip_prefix("NIL") {
        r
    } else {
        let r = rest.strip_prefix('"')?;
        let end = if r.starts_with('\\') { 2 } else { 1 };
        r.get(end..)?.strip_prefix('"')?
    };
    let name = rest.trim();
    let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(q) => q.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => name.to_string(),
    };
    Some(ListEntry {
        attributes: attrs.split_whitespace().map(str::to_string).collect(),
        name,
    })
}

/// Numbers of `SEARCH 1 2 3` responses (RFC 9051 §7.3.4; without the `* `); other lines and
/// words that are not numbers are skipped.
pub fn parse_search(untagged: &[String]) -> Vec<u32> {
    untagged
        .iter()
        .filter_map(|l| l.strip_prefix("SEARCH"))
        .flat_map(|s| s.split_whitespace().filter_map(|n| n.parse().ok()))
        .collect()
}

/// The UID a FETCH response is about (`1 FETCH (UID 7 BODY[…] {N}`, RFC 9051 §7.5.2): the
/// number after the `UID` item inside the parenthesised list; None without one.
pub fn fetch_uid(data: &str) -> Option<u32> {
    let (head, items) = data.split_once('(')?;
    if !head.trim_end().to_ascii_uppercase().ends_with("FETCH") {
        return None;
    }
    let mut words = items.split([' ', '(', ')']).filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("UID") {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// `INTERNALDATE "27-Nov-2026 16:00:03 +0000"` inside a FETCH response (RFC 9051 §7.5.2).
pub fn parse_internaldate(line: &str) -> Option<String> {
    let i = line.find("INTERNALDATE \"")?;
    let rest = &line[i + 14..];
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uid_of_a_fetch_response() {
        let cases: &[(&str, Option<u32>)] = &[
            (
                "1 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID)] {42}",
                Some(7),
            ),
            ("3 FETCH (BODY[HEADER] {10} UID 12)", Some(12)),
            ("1 fetch (uid 9 FLAGS (\\Seen))", Some(9)),
            ("1 FETCH (BODY[HEADER] {10}", None),
            ("1 EXISTS", None),
            ("SEARCH (UID 7)", None),
            ("1 FETCH (UID x)", None),
        ];
        for (line, want) in cases {
            assert_eq!(fetch_uid(line), *want, "{line}");
        }
    }

    #[test]
    fn capabilities_and_sasl() {
        let caps =
            capabilities_from_untagged("CAPABILITY IMAP4rev1 AUTH=PLAIN auth=login LOGINDISABLED")
                .unwrap();
        assert!(caps.has(Capability::LoginDisabled));
        assert!(caps.has(Capability::Named("imap4REV1")));
        assert_eq!(caps.sasl(), ["PLAIN", "LOGIN"]);
        assert!(capabilities_from_untagged("3 EXISTS").is_none());
        assert!(capabilities_from_code("ALERT").is_none());
        assert!(
            capabilities_from_code("CAPABILITY")
                .unwrap()
                .names()
                .is_empty()
        );
    }

    #[test]
    fn list_lines() {
        let lines = [
            r#"LIST (\HasNoChildren) "/" INBOX"#,
            r#"LIST (\HasNoChildren \Junk) "/" Junk"#,
            r#"LIST (\HasNoChildren) "." "INBOX.Spam Folder""#,
            r#"LIST (\Noselect) NIL Archive"#,
            r#"LIST () "\\" "a\"b""#,
        ];
        let l: Vec<_> = lines.iter().filter_map(|s| parse_list(s)).collect();
        assert_eq!(l.len(), 5);
        assert_eq!(l[1].attributes, ["\\HasNoChildren", "\\Junk"]);
        assert_eq!(l[2].name, "INBOX.Spam Folder");
        assert_eq!(l[3].name, "Archive");
        assert_eq!(l[4].name, "a\"b");
        for bad in [
            "LIST (",
            "LIST () \"",
            "LIST () \"\\",
            "SEARCH 1",
            "LIST (é) \"/",
        ] {
            assert_eq!(parse_list(bad), None, "{bad}");
        }
    }

    #[test]
    fn search_and_fetch() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_search(&v(&["SEARCH 3 17", "OK x"])), [3, 17]);
        assert!(parse_search(&v(&["SEARCH"])).is_empty());
        assert_eq!(parse_search(&v(&["SEARCH 1 x 99999999999"])), [1]);
        let l = r#"2 FETCH (UID 17 INTERNALDATE "27-Nov-2026 16:00:03 +0000" BODY[HEADER] {812}"#;
        assert_eq!(
            parse_internaldate(l).as_deref(),
            Some("27-Nov-2026 16:00:03 +0000")
        );
        assert_eq!(parse_internaldate("INTERNALDATE \""), None);
    }

    proptest! {
        /// Any text: no panic, and nothing longer comes out than went in.
        #[test]
        fn data_parsers_are_total(s in any::<String>()) {
            if let Some(e) = parse_list(&s) {
                prop_assert!(e.name.len() <= s.len());
                prop_assert!(e.attributes.iter().map(String::len).sum::<usize>() <= s.len());
            }
            prop_assert!(parse_search(std::slice::from_ref(&s)).len() <= s.len());
            prop_assert!(parse_internaldate(&s).is_none_or(|d| d.len() <= s.len()));
            if let Some(c) = capabilities_from_untagged(&s) {
                prop_assert!(c.names().len() <= s.len());
                prop_assert!(c.sasl().len() <= c.names().len());
            }
        }
    }
}
