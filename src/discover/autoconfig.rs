//! Thunderbird autoconfig (config-v1.1 / draft-ietf-mailmaint-autoconfig) parser: a pure
//! function from bytes to the servers the document offers, plus the candidates they make.
//!
//! Behaviour follows the draft's "XML validation" section: malformed XML rejects the whole
//! file; unknown elements, attributes and values are ignored; a server section that lacks
//! usable information (no host, bad port, no known socketType, …) is dropped alone, with a
//! warning. Server types other than imap/pop3/smtp (ews, exchange, jmap, caldav, …) are
//! recorded in [`AutoconfigDoc::ignored`] and skipped.

pub(crate) mod xml;

pub(crate) mod server;
#[cfg(test)]
mod tests;

use serde::Serialize;
use thiserror::Error;

use crate::address::Address;
use crate::model::{AuthMethod, Candidate, Protocol, Security, Source};
use xml::{Item, PrepError, Walker, attr};

/// Why a document is not a usable autoconfig file at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AutoconfigError {
    /// Not well-formed XML (the draft: "the client SHOULD ignore the entire file").
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    /// Well-formed, but the root element is not `<clientConfig>`.
    #[error("not an autoconfig document: the root element is not <clientConfig>")]
    NotAutoconfig,
    /// Larger than the 1 MiB cap.
    #[error("autoconfig document too large: {0} bytes (limit 1 MiB)")]
    TooLarge(usize),
    /// Not UTF-8 (the draft requires UTF-8); the offset of the first bad byte.
    #[error("autoconfig document is not UTF-8 (bad byte at offset {0})")]
    InvalidUtf8(usize),
}

/// A parsed autoconfig document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AutoconfigDoc {
    /// `<emailProvider id="…">`.
    pub provider_id: Option<String>,
    pub display_name: Option<String>,
    pub display_short_name: Option<String>,
    /// `<domain>` values (lowercase), in document order.
    pub domains: Vec<String>,
    /// `<domain purpose="mx">` values: MX host domains this file applies to (draft §"domain").
    pub mx_domains: Vec<String>,
    /// Usable imap/pop3/smtp sections in document order (order = provider's preference,
    /// draft §"Multiple server sections").
    pub servers: Vec<ServerEntry>,
    /// Server sections skipped because their type is not imap/pop3/smtp.
    pub ignored: Vec<IgnoredServer>,
    pub oauth2: Option<OAuth2Info>,
    /// Config-v1.1 `<enable visiturl>`: the user must switch IMAP/POP on first.
    pub enable: Option<EnableInfo>,
    pub documentation: Vec<DocLink>,
    /// Everything skipped or dropped, one readable line each.
    pub warnings: Vec<String>,
}

impl AutoconfigDoc {
    /// Whether the file offers at least one incoming and one outgoing server.
    pub fn is_complete(&self) -> bool {
        self.servers.iter().any(|s| s.incoming) && self.servers.iter().any(|s| !s.incoming)
    }
}

/// One usable server section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerEntry {
    /// `<incomingServer>` (true) or `<outgoingServer>`.
    pub incoming: bool,
    pub protocol: Protocol,
    /// Lowercase ASCII host name, placeholders resolved.
    pub host: String,
    pub port: u16,
    /// Every known `<socketType>`, in the order given (= preference), without duplicates.
    pub security: Vec<Security>,
    /// `<username>` with placeholders resolved; `None` when absent.
    pub username: Option<String>,
    /// Every known `<authentication>`, in preference order, without duplicates.
    pub auth: Vec<AuthMethod>,
}

/// A server section of a type this tool does not probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredServer {
    /// Element name, e.g. `incomingServer`, `calendar`.
    pub element: String,
    /// The `type` attribute, e.g. `ews`, `exchange`, `caldav`.
    pub server_type: String,
}

/// The provider's OAuth2 endpoints (draft §"OAuth2 requirements").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OAuth2Info {
    pub issuer: Option<String>,
    /// `<scope>` split on whitespace.
    pub scopes: Vec<String>,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
}

/// A text with its optional `lang` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalizedText {
    pub lang: Option<String>,
    pub text: String,
}

/// `<enable visiturl="…"><instruction lang="…">…</instruction></enable>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EnableInfo {
    pub visit_url: Option<String>,
    pub instructions: Vec<LocalizedText>,
}

impl EnableInfo {
    /// The English (or language-less, or first) instruction.
    pub fn instruction(&self) -> Option<&str> {
        pick_english(&self.instructions)
    }
}

/// `<documentation url="…"><descr lang="…">…</descr></documentation>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocLink {
    pub url: String,
    pub descriptions: Vec<LocalizedText>,
}

impl DocLink {
    /// The English (or language-less, or first) description.
    pub fn description(&self) -> Option<&str> {
        pick_english(&self.descriptions)
    }
}

fn pick_english(texts: &[LocalizedText]) -> Option<&str> {
    texts
        .iter()
        .find(|t| {
            t.lang
                .as_deref()
                .is_none_or(|l| l.eq_ignore_ascii_case("en"))
        })
        .or(texts.first())
        .map(|t| t.text.as_str())
}

/// Parse an autoconfig document for `addr` (placeholders are resolved against it).
pub fn parse(xml: &[u8], addr: &Address) -> Result<AutoconfigDoc, AutoconfigError> {
    let text = xml::prepare(xml).map_err(|e| match e {
        PrepError::TooLarge(n) => AutoconfigError::TooLarge(n),
        PrepError::Utf8(at) => AutoconfigError::InvalidUtf8(at),
    })?;
    let mut p = Parser {
        addr,
        doc: AutoconfigDoc::default(),
        path: Vec::new(),
        section: None,
        counts: [0; 2],
        doc_link: None,
        descrs: Vec::new(),
        enable: None,
        seen_root: false,
    };
    let mut walker = Walker::new(text);
    while let Some(item) = walker.next_item().map_err(AutoconfigError::NotXml)? {
        match item {
            Item::Open { name, attrs } => p.open(name, attrs)?,
            Item::Close { name, text } => p.close(&name, text),
        }
    }
    if !p.seen_root {
        return Err(AutoconfigError::NotXml("no root element".into()));
    }
    if p.doc.servers.is_empty() {
        p.doc
            .warnings
            .push("no usable imap, pop3 or smtp server".into());
    }
    Ok(p.doc)
}

/// One candidate per (server, socketType), in document order, duplicates removed; usernames
/// are already resolved by [`parse`].
pub fn candidates(doc: &AutoconfigDoc, source: Source) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for s in &doc.servers {
        for &security in &s.security {
            let dup = out.iter().any(|c| {
                c.protocol == s.protocol
                    && c.host == s.host
                    && c.port == s.port
                    && c.security == security
            });
            if !dup {
                out.push(Candidate {
                    protocol: s.protocol,
                    host: s.host.clone(),
                    port: s.port,
                    security,
                    username: s.username.clone(),
                    auth: s.auth.clone(),
                    sources: vec![source],
                });
            }
        }
    }
    out
}

/// An open element: its name and attributes.
struct Frame {
    name: String,
    attrs: Vec<xml::Attr>,
}

/// Streaming state; every element is interpreted from its name and its parent's name.
struct Parser<'a> {
    addr: &'a Address,
    doc: AutoconfigDoc,
    path: Vec<Frame>,
    /// The server section being read and the depth of its element.
    section: Option<(server::Section, usize)>,
    /// Sections seen so far: incomingServer, outgoingServer (for "#n" in warnings).
    counts: [usize; 2],
    doc_link: Option<Result<String, String>>,
    descrs: Vec<LocalizedText>,
    enable: Option<EnableInfo>,
    seen_root: bool,
}

const OTHER_SECTIONS: [&str; 6] = [
    "calendar",
    "addressbook",
    "fileShare",
    "chatServer",
    "videoConference",
    "setupServer",
];

impl Parser<'_> {
    fn parent(&self) -> &str {
        self.path.last().map_or("", |f| f.name.as_str())
    }

    fn open(&mut self, name: String, attrs: Vec<xml::Attr>) -> Result<(), AutoconfigError> {
        if self.path.is_empty() {
            if self.seen_root {
                self.doc
                    .warnings
                    .push(format!("<{name}> after the root element ignored"));
            } else if name != "clientConfig" {
                return Err(AutoconfigError::NotAutoconfig);
            }
            self.seen_root = true;
        }
        let parent = self.parent();
        let in_config = parent == "clientConfig" || parent == "emailProvider";
        let depth = self.path.len();
        match name.as_str() {
            "emailProvider" if parent == "clientConfig" && self.doc.provider_id.is_none() => {
                self.doc.provider_id = attr(&attrs, "id").and_then(|v| v.clone().ok());
            }
            "incomingServer" | "outgoingServer" if in_config && self.section.is_none() => {
                let incoming = name == "incomingServer";
                let n = &mut self.counts[usize::from(!incoming)];
                *n += 1;
                let sec = server::Section::new(incoming, *n, attr(&attrs, "type").cloned());
                self.section = Some((sec, depth));
            }
            other if parent == "clientConfig" && OTHER_SECTIONS.contains(&other) => {
                let ty = attr(&attrs, "type").and_then(|v| v.clone().ok());
                let server_type = ty.unwrap_or_default();
                self.doc
                    .warnings
                    .push(format!("<{name}> (type '{server_type}') ignored"));
                self.doc.ignored.push(IgnoredServer {
                    element: name.clone(),
                    server_type,
                });
            }
            "documentation" if in_config => {
                self.doc_link = Some(match attr(&attrs, "url") {
                    Some(v) => v.clone(),
                    None => Err("no url attribute".into()),
                });
                self.descrs.clear();
            }
            "enable" if in_config && self.enable.is_none() => {
                let visit_url = attr(&attrs, "visiturl").and_then(|v| v.clone().ok());
                self.enable = Some(EnableInfo {
                    visit_url,
                    instructions: Vec::new(),
                });
            }
            "oAuth2" if in_config && self.doc.oauth2.is_none() => {
                self.doc.oauth2 = Some(OAuth2Info::default());
            }
            _ => {}
        }
        self.path.push(Frame { name, attrs });
        Ok(())
    }

    fn close(&mut self, name: &str, text: Result<String, String>) {
        let Some(frame) = self.path.pop() else { return };
        let parent = self.parent().to_string();
        let depth = self.path.len();
        // Children of the open server section, and the section's own end.
        if let Some((sec, at)) = &mut self.section {
            if depth == *at + 1 {
                sec.child(name, &frame.attrs, text);
            } else if depth == *at
                && let Some((sec, _)) = self.section.take()
            {
                self.finish_section(sec);
            }
            return;
        }
        // Draft §"Placeholders": clients MAY resolve them in displayName, displayShortName,
        // issuer, authURL and tokenURL too; a hoster's shared file may name `%EMAILDOMAIN%`
        // as its domain.
        let text = text.map(|t| server::substitute(&t, self.addr));
        let warn = |what: &str, e: &str| format!("<{what}> ignored: {e}");
        match (parent.as_str(), name) {
            ("emailProvider", "domain") => match text.map(|t| server::check_host(&t)) {
                Ok(Ok(d)) => {
                    let mx = attr(&frame.attrs, "purpose")
                        .is_some_and(|p| p.as_deref().is_ok_and(|p| p.eq_ignore_ascii_case("mx")));
                    if mx {
                        self.doc.mx_domains.push(d);
                    } else if !self.doc.domains.contains(&d) {
                        self.doc.domains.push(d);
                    }
                }
                Ok(Err(e)) | Err(e) => self.doc.warnings.push(warn(name, &e)),
            },
            ("emailProvider", "displayName") => keep_first(
                &mut self.doc.display_name,
                text,
                name,
                &mut self.doc.warnings,
            ),
            ("emailProvider", "displayShortName") => keep_first(
                &mut self.doc.display_short_name,
                text,
                name,
                &mut self.doc.warnings,
            ),
            ("documentation", "descr") => match text {
                Ok(t) if !t.is_empty() => self.descrs.push(localized(&frame.attrs, t)),
                Ok(_) => {}
                Err(e) => self.doc.warnings.push(warn(name, &e)),
            },
            (_, "documentation") => match self.doc_link.take() {
                Some(Ok(url)) if !url.is_empty() => self.doc.documentation.push(DocLink {
                    url,
                    descriptions: std::mem::take(&mut self.descrs),
                }),
                Some(Ok(_)) => self.doc.warnings.push(warn(name, "empty url")),
                Some(Err(e)) => self.doc.warnings.push(warn(name, &e)),
                None => {}
            },
            ("enable", "instruction") => match (text, self.enable.as_mut()) {
                (Ok(t), Some(en)) if !t.is_empty() => {
                    en.instructions.push(localized(&frame.attrs, t))
                }
                (Err(e), _) => self.doc.warnings.push(warn(name, &e)),
                _ => {}
            },
            (_, "enable") if self.enable.is_some() && self.doc.enable.is_none() => {
                self.doc.enable = self.enable.take();
            }
            ("oAuth2", child) => self.oauth2_child(child, text),
            _ => {}
        }
    }

    fn oauth2_child(&mut self, child: &str, text: Result<String, String>) {
        let Some(o) = self.doc.oauth2.as_mut() else {
            return;
        };
        let text = match text {
            Ok(t) if t.is_empty() => return,
            Ok(t) => t,
            Err(e) => {
                if ["issuer", "scope", "authURL", "tokenURL"].contains(&child) {
                    self.doc.warnings.push(format!("<{child}> ignored: {e}"));
                }
                return;
            }
        };
        match child {
            "issuer" => o.issuer = Some(text),
            "scope" => o.scopes = text.split_whitespace().map(String::from).collect(),
            "authURL" => o.auth_url = Some(text),
            "tokenURL" => o.token_url = Some(text),
            _ => {}
        }
    }

    fn finish_section(&mut self, sec: server::Section) {
        let label = sec.label();
        match sec.finish(self.addr, &mut self.doc.warnings) {
            server::SectionResult::Server(s) => self.doc.servers.push(s),
            server::SectionResult::Ignored(ignored) => {
                self.doc.warnings.push(format!(
                    "{label} ignored: type '{}' is not imap, pop3 or smtp",
                    ignored.server_type
                ));
                self.doc.ignored.push(ignored);
            }
            server::SectionResult::Dropped(why) => {
                self.doc.warnings.push(format!("{label} dropped: {why}"));
            }
        }
    }
}

fn keep_first(
    slot: &mut Option<String>,
    text: Result<String, String>,
    name: &str,
    warnings: &mut Vec<String>,
) {
    match text {
        Ok(t) if slot.is_none() && !t.is_empty() => *slot = Some(t),
        Ok(_) => {}
        Err(e) => warnings.push(format!("<{name}> ignored: {e}")),
    }
}

fn localized(attrs: &[xml::Attr], text: String) -> LocalizedText {
    LocalizedText {
        lang: attr(attrs, "lang")
            .and_then(|v| v.clone().ok())
            .filter(|l| !l.is_empty()),
        text,
    }
}
