//! Microsoft Autodiscover "plain old XML" (POX, v1) request builder and response parser: pure
//! functions over bytes; the orchestrator does the HTTP, redirects and hop limits.
//!
//! References: "POX Autodiscover XML elements for Exchange" (learn.microsoft.com, element pages
//! `Protocol (POX)`, `SSL (POX)`, `SPA (POX)`, `UsePOPAuth (POX)`, `DomainRequired (POX)`,
//! `DomainName (POX)`, `AuthRequired (POX)`, `Action (POX)`, `Error (POX)`) and [MS-OXDSCLI]
//! §2.2.4 (response) which adds `<Encryption>` for POP3/IMAP/SMTP. The service publishes no
//! schema and servers answer with `responseschema/2006` or `2006a` namespaces, so elements are
//! matched on local names only.

#[cfg(test)]
mod tests;

use serde::Serialize;
use thiserror::Error;

use super::autoconfig::server::{check_host, parse_port};
use super::autoconfig::xml::{self, Item, PrepError, Walker};
use crate::address::Address;
use crate::model::{AuthMethod, Candidate, Protocol, Security, Source};

/// Namespace of the request (Outlook request schema 2006).
const REQUEST_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
/// The response schema asked for: the Outlook one, which lists IMAP/POP3/SMTP protocols.
const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AutodiscoverError {
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    /// Well-formed, but the root element is not `<Autodiscover>`.
    #[error("not an Autodiscover response: the root element is <{0}>")]
    NotAutodiscover(String),
    #[error("Autodiscover response too large: {0} bytes (limit 1 MiB)")]
    TooLarge(usize),
    #[error("Autodiscover response is not UTF-8 (bad byte at offset {0})")]
    InvalidUtf8(usize),
    /// An `<Autodiscover>` document with neither settings, a redirect nor an error.
    #[error("Autodiscover response has no Account and no Error")]
    Empty,
    /// `<Action>redirectAddr</Action>` / `redirectUrl` without a usable target.
    #[error("Autodiscover redirect without a usable target: {0}")]
    BadRedirect(String),
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutodiscoverResponse {
    /// `<Action>settings</Action>`: the IMAP/POP3/SMTP protocol entries, in document order.
    Settings {
        display_name: Option<String>,
        servers: Vec<AdServer>,
        /// Protocol types skipped (EXCH, EXPR, WEB, …), in document order.
        ignored: Vec<String>,
        /// Protocol entries dropped and why, e.g. "IMAP entry #1 dropped: no Server".
        warnings: Vec<String>,
    },
    /// `<Action>redirectAddr</Action>`: ask again for this address (Outlook limits hops to 10).
    RedirectAddr(String),
    /// `<Action>redirectUrl</Action>`: POST again to this URL. Returned as given; the caller
    /// must insist on `https://` (the POX docs: redirect URLs are only followed over HTTPS).
    RedirectUrl(String),
    /// `<Error><ErrorCode>…</ErrorCode><Message>…</Message></Error>`.
    Error {
        code: Option<String>,
        message: String,
    },
}

/// One IMAP, POP3 or SMTP `<Protocol>` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdServer {
    pub protocol: Protocol,
    /// Lowercase ASCII host name (`<Server>`).
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// `<LoginName>`, when given.
    pub username: Option<String>,
    /// `<SPA>on</SPA>`: Secure Password Authentication (challenge-response, NTLM in Outlook).
    pub spa: bool,
    pub auth: Vec<AuthMethod>,
    /// `<AuthRequired>` (default on).
    pub auth_required: bool,
    /// `<DomainRequired>on</DomainRequired>`: log in as `DOMAIN\user` or as the UPN.
    pub domain_required: bool,
    /// `<DomainName>`: the domain for `DOMAIN\user`.
    pub domain_name: Option<String>,
    /// `<UsePOPAuth>on</UsePOPAuth>` (SMTP only): reuse the incoming server's login.
    pub use_pop_auth: bool,
}

/// The POX request body for `email` (Outlook request schema 2006, asking for response schema
/// 2006a). The address is XML-escaped. It carries no credentials.
pub fn request_body(email: &str) -> String {
    let email = quick_xml::escape::escape(email);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{REQUEST_NS}\"><Request>\
         <EMailAddress>{email}</EMailAddress>\
         <AcceptableResponseSchema>{RESPONSE_NS}</AcceptableResponseSchema>\
         </Request></Autodiscover>\n"
    )
}

/// Parse a POX response to a request for `addr` (a `redirectAddr` back to `addr` itself is
/// refused as a loop; login names are resolved in [`candidates`]).
pub fn parse(xml: &[u8], addr: &Address) -> Result<AutodiscoverResponse, AutodiscoverError> {
    let text = xml::prepare(xml).map_err(|e| match e {
        PrepError::TooLarge(n) => AutodiscoverError::TooLarge(n),
        PrepError::Utf8(at) => AutodiscoverError::InvalidUtf8(at),
    })?;
    let mut walker = Walker::new(text);
    let mut path: Vec<String> = Vec::new();
    let mut st = State::default();
    while let Some(item) = walker.next_item().map_err(AutodiscoverError::NotXml)? {
        match item {
            Item::Open { name, attrs } => {
                if path.is_empty() && st.root.is_none() {
                    if name != "Autodiscover" {
                        return Err(AutodiscoverError::NotAutodiscover(name));
                    }
                    st.root = Some(name.clone());
                }
                match (path.last().map(String::as_str), name.as_str()) {
                    (Some("Account"), "Protocol") => {
                        st.account = true;
                        let ty = xml::attr(&attrs, "Type").and_then(|v| v.clone().ok());
                        st.proto = Some(ProtocolBlock {
                            ty,
                            ..ProtocolBlock::default()
                        });
                    }
                    (Some("Response"), "Account") => st.account = true,
                    (_, "Error") => st.error = Some((None, None)),
                    _ => {}
                }
                path.push(name);
            }
            Item::Close { name, text } => {
                path.pop();
                let text = text.ok().filter(|t| !t.is_empty());
                match (path.last().map(String::as_str), name.as_str()) {
                    (Some("Protocol"), child) if path.len() >= 2 => {
                        if let Some(p) = st.proto.as_mut() {
                            p.child(child, text);
                        }
                    }
                    (Some("Account"), "Protocol") => {
                        if let Some(p) = st.proto.take() {
                            st.finish_proto(p);
                        }
                    }
                    (Some("User"), "DisplayName") => {
                        st.display_name = st.display_name.take().or(text)
                    }
                    (Some("Account"), "Action") => st.action = text,
                    (Some("Account"), "RedirectAddr") => st.redirect_addr = text,
                    (Some("Account"), "RedirectUrl") => st.redirect_url = text,
                    (Some("Error"), "ErrorCode") => {
                        if let Some(e) = st.error.as_mut() {
                            e.0 = text;
                        }
                    }
                    (Some("Error"), "Message") => {
                        if let Some(e) = st.error.as_mut() {
                            e.1 = text;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if st.root.is_none() {
        return Err(AutodiscoverError::NotXml("no root element".into()));
    }
    st.into_response(addr)
}

/// One candidate per server, sources `[Autodiscover]`, duplicates removed. Login names: the
/// `<LoginName>`; else with `<DomainRequired>on` `DomainName\local` or, without `<DomainName>`,
/// the address (the DomainName page: "the default value is the e-mail address in UPN
/// format"); else for SMTP with `<UsePOPAuth>on` the incoming server's login; else none.
pub fn candidates(servers: &[AdServer], addr: &Address) -> Vec<Candidate> {
    let login = |s: &AdServer| -> Option<String> {
        if let Some(u) = &s.username {
            return Some(u.clone());
        }
        if s.domain_required {
            return Some(match &s.domain_name {
                Some(d) => format!("{d}\\{}", addr.local),
                None => addr.ascii(),
            });
        }
        None
    };
    let incoming_login = servers
        .iter()
        .filter(|s| s.protocol.is_incoming())
        .find_map(login);
    let mut out: Vec<Candidate> = Vec::new();
    for s in servers {
        let dup = out.iter().any(|c| {
            c.protocol == s.protocol
                && c.host == s.host
                && c.port == s.port
                && c.security == s.security
        });
        if dup {
            continue;
        }
        let username = login(s).or_else(|| {
            (s.protocol == Protocol::Smtp && s.use_pop_auth)
                .then(|| incoming_login.clone())
                .flatten()
        });
        out.push(Candidate {
            protocol: s.protocol,
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            username,
            auth: s.auth.clone(),
            sources: vec![Source::Autodiscover],
        });
    }
    out
}

#[derive(Default)]
struct State {
    root: Option<String>,
    account: bool,
    display_name: Option<String>,
    action: Option<String>,
    redirect_addr: Option<String>,
    redirect_url: Option<String>,
    error: Option<(Option<String>, Option<String>)>,
    proto: Option<ProtocolBlock>,
    servers: Vec<AdServer>,
    ignored: Vec<String>,
    warnings: Vec<String>,
    entries: usize,
}

impl State {
    fn finish_proto(&mut self, p: ProtocolBlock) {
        self.entries += 1;
        let ty = p.ty.clone().unwrap_or_default();
        match p.finish() {
            Ok(Some(s)) => self.servers.push(s),
            Ok(None) => self.ignored.push(if ty.is_empty() {
                "(no Type)".into()
            } else {
                ty
            }),
            Err(why) => self
                .warnings
                .push(format!("Protocol #{} ({ty}) dropped: {why}", self.entries)),
        }
    }

    fn into_response(self, asked: &Address) -> Result<AutodiscoverResponse, AutodiscoverError> {
        let action = self.action.as_deref().map(str::to_ascii_lowercase);
        // Action (POX): "redirectAddr", "redirectUrl" or "settings".
        let wants_addr = action.as_deref() == Some("redirectaddr")
            || (action.is_none() && self.redirect_addr.is_some() && self.servers.is_empty());
        let wants_url = action.as_deref() == Some("redirecturl")
            || (action.is_none() && self.redirect_url.is_some() && self.servers.is_empty());
        if wants_addr {
            return match self.redirect_addr {
                Some(a) if a.eq_ignore_ascii_case(&asked.ascii()) => Err(
                    AutodiscoverError::BadRedirect(format!("'{a}' is the address asked for")),
                ),
                Some(a) if a.contains('@') && !a.chars().any(unsafe_char) => {
                    Ok(AutodiscoverResponse::RedirectAddr(a))
                }
                Some(a) => Err(AutodiscoverError::BadRedirect(format!(
                    "'{a}' is not an address"
                ))),
                None => Err(AutodiscoverError::BadRedirect("no RedirectAddr".into())),
            };
        }
        if wants_url {
            return match self.redirect_url {
                Some(u) if !u.chars().any(unsafe_char) => Ok(AutodiscoverResponse::RedirectUrl(u)),
                Some(u) => Err(AutodiscoverError::BadRedirect(format!(
                    "'{u}' is not a URL"
                ))),
                None => Err(AutodiscoverError::BadRedirect("no RedirectUrl".into())),
            };
        }
        // An <Account> holding only an <Error> is an error answer, not empty settings.
        let only_error = self.error.is_some() && self.servers.is_empty() && self.ignored.is_empty();
        if self.account && !only_error {
            return Ok(AutodiscoverResponse::Settings {
                display_name: self.display_name,
                servers: self.servers,
                ignored: self.ignored,
                warnings: self.warnings,
            });
        }
        match self.error {
            Some((code, message)) => Ok(AutodiscoverResponse::Error {
                code,
                message: message.unwrap_or_default(),
            }),
            None => Err(AutodiscoverError::Empty),
        }
    }
}

/// The children of one `<Protocol>` entry.
#[derive(Default)]
struct ProtocolBlock {
    ty: Option<String>,
    server: Option<String>,
    port: Option<String>,
    ssl: Option<bool>,
    encryption: Option<String>,
    login: Option<String>,
    spa: Option<bool>,
    auth_required: Option<bool>,
    domain_required: Option<bool>,
    domain_name: Option<String>,
    use_pop_auth: Option<bool>,
}

/// `on`/`off` values of the POX boolean elements; anything else counts as absent.
fn on_off(v: Option<String>) -> Option<bool> {
    match v?.to_ascii_lowercase().as_str() {
        "on" | "true" => Some(true),
        "off" | "false" => Some(false),
        _ => None,
    }
}

impl ProtocolBlock {
    fn child(&mut self, name: &str, text: Option<String>) {
        match name {
            "Type" => self.ty = self.ty.take().or(text),
            "Server" => self.server = text,
            "Port" => self.port = text,
            "SSL" => self.ssl = on_off(text),
            "Encryption" => self.encryption = text,
            "LoginName" => self.login = text,
            "SPA" => self.spa = on_off(text),
            "AuthRequired" => self.auth_required = on_off(text),
            "DomainRequired" => self.domain_required = on_off(text),
            "DomainName" => self.domain_name = text,
            "UsePOPAuth" => self.use_pop_auth = on_off(text),
            _ => {}
        }
    }

    /// `Ok(None)`: a type this tool does not probe (EXCH, EXPR, WEB, mapiHttp, …).
    fn finish(self) -> Result<Option<AdServer>, String> {
        let protocol = match self.ty.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("IMAP") => Protocol::Imap,
            Some("POP3") => Protocol::Pop3,
            Some("SMTP") => Protocol::Smtp,
            _ => return Ok(None),
        };
        let raw = self.server.ok_or("no Server")?;
        let host = check_host(&raw)
            .map_err(|e| format!("Server '{raw}' is not a valid host name: {e}"))?;
        let port = parse_port(self.port.as_deref().ok_or("no Port")?)?;
        let security = match self
            .encryption
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            // [MS-OXDSCLI]: Encryption, when present, takes precedence over SSL.
            Some("ssl") => Security::Tls,
            Some("tls") => Security::Starttls,
            Some("none") => Security::Plain,
            Some("auto") => by_port(port),
            Some(other) => return Err(format!("unknown Encryption '{other}'")),
            // SSL (POX): "whether secure logon is required", default on. It does not say
            // implicit TLS or STARTTLS; Outlook applies it to the given port, so the port
            // decides, as for Encryption=Auto.
            None if self.ssl.unwrap_or(true) => by_port(port),
            None => Security::Plain,
        };
        // CR/LF (from `&#13;&#10;`) in a login could inject commands into LOGIN / AUTH lines.
        let control = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|t| t.chars().any(char::is_control))
        };
        if control(&self.login) || control(&self.domain_name) {
            return Err("LoginName or DomainName contains control characters".into());
        }
        let spa = self.spa.unwrap_or(false);
        let auth_required = self.auth_required.unwrap_or(true);
        let auth = if !auth_required {
            vec![AuthMethod::None]
        } else if spa {
            vec![AuthMethod::PasswordEncrypted]
        } else {
            vec![AuthMethod::PasswordCleartext]
        };
        Ok(Some(AdServer {
            protocol,
            host,
            port,
            security,
            username: self.login,
            spa,
            auth,
            auth_required,
            domain_required: self.domain_required.unwrap_or(false),
            domain_name: self.domain_name,
            use_pop_auth: protocol == Protocol::Smtp && self.use_pop_auth.unwrap_or(false),
        }))
    }
}

/// Whitespace or control characters: never part of an address, URL or login name.
fn unsafe_char(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// Implicit-TLS ports (RFC 8314 §7.3: 993 IMAPS, 995 POP3S, 465 submissions); else STARTTLS.
fn by_port(port: u16) -> Security {
    match port {
        993 | 995 | 465 => Security::Tls,
        _ => Security::Starttls,
    }
}
