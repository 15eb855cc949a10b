//! One autoconfig server section (`<incomingServer>` / `<outgoingServer>`): collects its
//! children, resolves placeholders (draft §"Placeholders") and validates, so that a bad section
//! is dropped alone (draft §"XML validation").

use super::{IgnoredServer, ServerEntry};
use crate::address::Address;
use crate::model::{AuthMethod, Protocol, Security};

/// Longest user name kept (RFC 5321 §4.5.3.1.3 path limit; real ones are an address).
const MAX_USERNAME: usize = 256;

type Text = Result<String, String>;

/// What a section turned into.
pub(super) enum SectionResult {
    Server(ServerEntry),
    /// A type this tool does not probe (ews, exchange, jmap, …).
    Ignored(IgnoredServer),
    /// Unusable; the reason, e.g. "port 'abc' is not a number".
    Dropped(String),
}

/// The children of one server section, as read so far.
pub(super) struct Section {
    incoming: bool,
    index: usize,
    server_type: Option<Text>,
    hostname: Option<Text>,
    port: Option<Text>,
    security: Vec<Security>,
    saw_socket_type: bool,
    auth: Vec<AuthMethod>,
    saw_auth: bool,
    username: Option<Text>,
    /// Non-fatal remarks (unknown values, repeated elements).
    notes: Vec<String>,
}

impl Section {
    pub(super) fn new(incoming: bool, index: usize, server_type: Option<Text>) -> Self {
        Section {
            incoming,
            index,
            server_type,
            hostname: None,
            port: None,
            security: Vec::new(),
            saw_socket_type: false,
            auth: Vec::new(),
            saw_auth: false,
            username: None,
            notes: Vec::new(),
        }
    }

    /// `incomingServer #2`: the n-th element of that name in the document.
    pub(super) fn label(&self) -> String {
        let el = if self.incoming {
            "incomingServer"
        } else {
            "outgoingServer"
        };
        format!("{el} #{}", self.index)
    }

    /// A direct child element ended.
    pub(super) fn child(&mut self, name: &str, attrs: &[super::xml::Attr], text: Text) {
        match name {
            "hostname" => first(&mut self.hostname, text, name, &mut self.notes),
            "port" => first(&mut self.port, text, name, &mut self.notes),
            "username" => first(&mut self.username, text, name, &mut self.notes),
            // Repeated socketType/authentication: most preferred first (draft §"Multiple
            // authentication alternatives"); unknown values are skipped.
            "socketType" => {
                self.saw_socket_type = true;
                match text {
                    Ok(v) => match security(&v) {
                        Some(s) if !self.security.contains(&s) => self.security.push(s),
                        Some(_) => {}
                        None => self.notes.push(format!("socketType '{v}' ignored")),
                    },
                    Err(e) => self.notes.push(format!("socketType ignored: {e}")),
                }
            }
            "authentication" => {
                self.saw_auth = true;
                let system = super::xml::attr(attrs, "system").and_then(|v| v.as_deref().ok());
                match text {
                    Ok(v) => match auth_method(system, &v) {
                        Some(a) if !self.auth.contains(&a) => self.auth.push(a),
                        Some(_) => {}
                        None => self.notes.push(format!("authentication '{v}' ignored")),
                    },
                    Err(e) => self.notes.push(format!("authentication ignored: {e}")),
                }
            }
            _ => {}
        }
    }

    /// Validate and resolve; non-fatal remarks go to `warnings`.
    pub(super) fn finish(self, addr: &Address, warnings: &mut Vec<String>) -> SectionResult {
        match self.resolve(addr, warnings) {
            Ok(entry) => SectionResult::Server(entry),
            Err(other) => other,
        }
    }

    /// The checks in document terms: type, then hostname, port, socketType, authentication and
    /// username; the first that fails names why the section is dropped.
    fn resolve(
        self,
        addr: &Address,
        warnings: &mut Vec<String>,
    ) -> Result<ServerEntry, SectionResult> {
        let label = self.label();
        let protocol = self.protocol()?;
        for n in &self.notes {
            warnings.push(format!("{label}: {n}"));
        }
        let host = resolved_host(self.hostname, addr).map_err(SectionResult::Dropped)?;
        let port = port_of(self.port).map_err(SectionResult::Dropped)?;
        if self.security.is_empty() {
            let why = if self.saw_socket_type {
                "no known socketType"
            } else {
                "no socketType"
            };
            return Err(SectionResult::Dropped(why.into()));
        }
        // Draft §"Multiple authentication alternatives": none supported → ignore the section.
        if self.saw_auth && self.auth.is_empty() {
            return Err(SectionResult::Dropped(
                "no known authentication method".into(),
            ));
        }
        let username = resolved_username(self.username, addr, &label, warnings)
            .map_err(SectionResult::Dropped)?;
        Ok(ServerEntry {
            incoming: self.incoming,
            protocol,
            host,
            port,
            security: self.security,
            username,
            auth: self.auth,
        })
    }

    /// The `type` attribute as a protocol this tool probes, in the element it belongs to; a
    /// type it does not probe (ews, jmap, …) is ignored rather than dropped.
    fn protocol(&self) -> Result<Protocol, SectionResult> {
        let element = if self.incoming {
            "incomingServer"
        } else {
            "outgoingServer"
        };
        let ty = match &self.server_type {
            None => return Err(SectionResult::Dropped("no type attribute".into())),
            Some(Err(e)) => return Err(SectionResult::Dropped(format!("type attribute: {e}"))),
            Some(Ok(t)) => t.as_str(),
        };
        match (self.incoming, ty.to_ascii_lowercase().as_str()) {
            (true, "imap") => Ok(Protocol::Imap),
            (true, "pop3") => Ok(Protocol::Pop3),
            (false, "smtp") => Ok(Protocol::Smtp),
            (_, "imap" | "pop3" | "smtp") => Err(SectionResult::Dropped(format!(
                "type '{ty}' does not belong in <{element}>"
            ))),
            _ => Err(SectionResult::Ignored(IgnoredServer {
                element: element.into(),
                server_type: ty.into(),
            })),
        }
    }
}

/// `<hostname>` with its placeholders resolved, if it is a valid host name.
fn resolved_host(hostname: Option<Text>, addr: &Address) -> Result<String, String> {
    match hostname {
        None => Err("no hostname".into()),
        Some(Err(e)) => Err(format!("hostname: {e}")),
        Some(Ok(raw)) => check_host(&substitute(&raw, addr))
            .map_err(|e| format!("hostname '{raw}' is not a valid host name: {e}")),
    }
}

/// `<port>` as a number.
fn port_of(port: Option<Text>) -> Result<u16, String> {
    match port {
        None => Err("no port".into()),
        Some(Err(e)) => Err(format!("port: {e}")),
        Some(Ok(p)) => parse_port(&p),
    }
}

/// `<username>` with its placeholders resolved (none when absent or empty); refused when too
/// long or when it holds control characters.
fn resolved_username(
    username: Option<Text>,
    addr: &Address,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let u = match username {
        None => return Ok(None),
        Some(Err(e)) => return Err(format!("username: {e}")),
        Some(Ok(u)) if u.is_empty() => return Ok(None),
        Some(Ok(u)) => u,
    };
    let resolved = substitute(&u, addr);
    if resolved.len() > MAX_USERNAME {
        return Err(format!("username longer than {MAX_USERNAME} bytes"));
    }
    // A CR/LF (from `&#13;&#10;`) would let the file inject protocol commands into an IMAP
    // LOGIN or SMTP AUTH line.
    if resolved.chars().any(char::is_control) {
        return Err("username contains control characters".into());
    }
    if has_placeholder(&u) {
        warnings.push(format!(
            "{label}: username '{u}' has an unknown placeholder"
        ));
    }
    Ok(Some(resolved))
}

fn first(slot: &mut Option<Text>, text: Text, name: &str, notes: &mut Vec<String>) {
    if slot.is_none() {
        *slot = Some(text);
    } else {
        notes.push(format!("repeated <{name}> ignored"));
    }
}

/// `<socketType>` (draft §"socketType"). `TLS` appears in the draft's chatServer example.
fn security(v: &str) -> Option<Security> {
    match v.to_ascii_lowercase().as_str() {
        "ssl" | "tls" => Some(Security::Tls),
        "starttls" => Some(Security::Starttls),
        "plain" => Some(Security::Plain),
        _ => None,
    }
}

/// `<authentication>` (draft §"authentication"), plus SASL mechanism names for
/// `system="sasl"` (draft §"Recommending specific SASL schemes"). `system="http"` values
/// (Basic, Digest) are for URL-based protocols and do not apply to IMAP/POP3/SMTP.
fn auth_method(system: Option<&str>, v: &str) -> Option<AuthMethod> {
    if system.is_some_and(|s| s.eq_ignore_ascii_case("http")) {
        return None;
    }
    let v = v.to_ascii_lowercase();
    Some(match v.as_str() {
        // "plain" is Thunderbird's pre-1.1 spelling of password-cleartext.
        "password-cleartext" | "plain" | "login" => AuthMethod::PasswordCleartext,
        // "secure" is Thunderbird's pre-1.1 spelling of password-encrypted.
        "password-encrypted" | "secure" | "cram-md5" | "digest-md5" => {
            AuthMethod::PasswordEncrypted
        }
        s if s.starts_with("scram-") => AuthMethod::PasswordEncrypted,
        // The draft's prose says "OAuth", its examples and the ISPDB "OAuth2".
        "oauth2" | "oauth" | "xoauth2" | "oauthbearer" => AuthMethod::OAuth2,
        "ntlm" => AuthMethod::Ntlm,
        "gssapi" => AuthMethod::Gssapi,
        "client-ip-address" => AuthMethod::ClientIpAddress,
        "tls-client-cert" | "external" => AuthMethod::TlsClientCert,
        "none" => AuthMethod::None,
        _ => return None,
    })
}

/// TCP port, 1–65535 (draft §"port": `xsd:positiveInteger`).
pub(crate) fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{p}' is not a number"));
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("port '{p}' is out of range 1-65535")),
    }
}

/// Replace the draft's placeholders (`%EMAILADDRESS%`, `%EMAILLOCALPART%`, `%EMAILDOMAIN%`) in
/// one pass, so a local part containing `%…%` is never substituted again. The draft names
/// no others (`%EMAILHOSTNAME%` and `%REALNAME%` are not in it); they are left as they are.
pub(super) fn substitute(s: &str, addr: &Address) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let value = [
            ("%EMAILADDRESS%", addr.ascii()),
            ("%EMAILLOCALPART%", addr.local.clone()),
            ("%EMAILDOMAIN%", addr.domain.clone()),
        ]
        .into_iter()
        .find(|(p, _)| rest.starts_with(p));
        match value {
            Some((p, v)) => {
                out.push_str(&v);
                rest = &rest[p.len()..];
            }
            None => {
                out.push('%');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `s` holds a `%NAME%` placeholder the draft does not define.
fn has_placeholder(s: &str) -> bool {
    let known = ["EMAILADDRESS", "EMAILLOCALPART", "EMAILDOMAIN"];
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('%') else {
            return false;
        };
        let name = &after[..j];
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            if !known.contains(&name) {
                return true;
            }
            rest = &after[j + 1..];
        } else {
            rest = &after[j..];
        }
    }
    false
}

/// A host name as a resolver takes it: lowercase ASCII (IDNA for Unicode), LDH labels of at
/// most 63 octets, at most 253 in all (RFC 1035 §2.3.4, RFC 1123 §2.1); or an IP address.
pub(crate) fn check_host(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err("empty".into());
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ip.to_string());
    }
    let ascii = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(s).map_err(|_| "not a valid internationalised name".to_string())?
    };
    if ascii.len() > 253 {
        return Err("longer than 253 octets".into());
    }
    for label in ascii.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("a label is empty or longer than 63 octets".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!("'{c}' is not allowed"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with '-'".into());
        }
    }
    Ok(ascii)
}
